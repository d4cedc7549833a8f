package httpapi_test

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzParticipantRef fetches, updates and deletes participants by arbitrary references (a
// MB SID or an identity, URL-escaped): the answer is 200/204 for the participant that exists
// and a Twilio-style 4xx for anything else, never a 5xx; only "alice" ever resolves.
func FuzzParticipantRef(f *testing.F) {
	h, ch := newAPI(f)
	rec := send(h, "POST", "/v1/Conversations/"+ch+"/Participants", "Identity=alice", nil)
	if rec.Code != 201 {
		f.Fatalf("create alice: %d %s", rec.Code, rec.Body)
	}
	for _, s := range []string{"alice", "Alice", "MBffffffffffffffffffffffffffffffff", "MB", "al%ice", "../alice", "alice/x", " ", "\x00", "ali ce", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ref string) {
		if ref == "" {
			return
		}
		path := "/v1/Conversations/" + ch + "/Participants/" + url.PathEscape(ref)
		req := httptest.NewRequest("GET", "/", nil)
		req.URL.Path, req.URL.RawPath = "/v1/Conversations/"+ch+"/Participants/"+ref, path
		req.SetBasicAuth(acct, token)
		rr := httptest.NewRecorder()
		h.ServeHTTP(rr, req)
		checkTwilioShape(t, rr)
		if rr.Code == 200 && ref != "alice" && !strings.HasPrefix(ref, "MB") {
			t.Fatalf("%q resolved to %s", ref, rr.Body)
		}
		// An update that changes nothing and a delete of something else must not succeed.
		if ref != "alice" {
			req = httptest.NewRequest("DELETE", "/", nil)
			req.URL.Path, req.URL.RawPath = "/v1/Conversations/"+ch+"/Participants/"+ref, path
			req.SetBasicAuth(acct, token)
			rr = httptest.NewRecorder()
			h.ServeHTTP(rr, req)
			checkTwilioShape(t, rr)
			if rr.Code == 204 && !strings.HasPrefix(ref, "MB") {
				t.Fatalf("DELETE %q succeeded", ref)
			}
		}
	})
}
