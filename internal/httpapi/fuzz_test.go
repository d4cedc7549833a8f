package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/httpapi"
	"github.com/parley-dev/parley/internal/store/sqlite"
)

const (
	acct  = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	token = "authtoken123"
)

func newAPI(tb testing.TB) (http.Handler, string) {
	tb.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "fuzz.db"), sqlite.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	svc := conv.NewService(st, conv.Options{})
	if _, err := svc.EnsureAccount(context.Background(), acct, token); err != nil {
		tb.Fatal(err)
	}
	c, err := svc.CreateConversation(context.Background(), conv.Scope{AccountSid: acct}, conv.ConversationParams{}, conv.WriteOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	api := httpapi.New(svc, slog.New(slog.NewTextHandler(io.Discard, nil)), httpapi.Options{MaxBodyBytes: 8 << 10})
	return api.FrontDoor([]httpapi.Mount{{Path: "/v1/", Handler: api}}), c.Sid
}

func send(h http.Handler, method, path, body string, header http.Header) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.SetBasicAuth(acct, token)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, vs := range header {
		req.Header[k] = vs
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// checkTwilioShape fails unless the response is a success or a Twilio error body whose status
// matches, and never a 5xx.
func checkTwilioShape(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code >= 500 {
		t.Fatalf("server error %d: %s", rec.Code, rec.Body)
	}
	if rec.Code >= 400 {
		var e struct {
			Code     int    `json:"code"`
			Message  string `json:"message"`
			MoreInfo string `json:"more_info"`
			Status   int    `json:"status"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Status != rec.Code || e.Code == 0 || e.Message == "" || e.MoreInfo == "" {
			t.Fatalf("error body for %d is not Twilio's shape: %s", rec.Code, rec.Body)
		}
	}
}

// FuzzParticipantCreateForm posts arbitrary bodies and headers to participant create: the
// server must answer 201 or a Twilio-style 4xx, never a 5xx or a panic.
func FuzzParticipantCreateForm(f *testing.F) {
	h, ch := newAPI(f)
	for _, seed := range []string{
		"Identity=alice", "MessagingBinding.Address=%2B15558675310&MessagingBinding.ProxyAddress=%2B15017122661",
		"Identity=a&MessagingBinding.ProjectedAddress=%2B15017122661", "Attributes=%7B%7D&Identity=b&RoleSid=RLxx",
		"Identity=%zz", "Identity=" + strings.Repeat("x", 300), "DateCreated=2019-05-15T13:37:35Z&Identity=c",
		"MessagingBinding.Address=whatsapp%3A%2B1555&MessagingBinding.ProxyAddress=%2B1555", "a=1&a=2&&&==",
		"Identity=%F0%9F%98%80", "Identity=US00000000000000000000000000000000",
	} {
		f.Add(seed, "true")
	}
	f.Fuzz(func(t *testing.T, body, hook string) {
		rec := send(h, "POST", "/v1/Conversations/"+ch+"/Participants", body, http.Header{"X-Twilio-Webhook-Enabled": {hook}})
		checkTwilioShape(t, rec)
		if rec.Code == 201 {
			var p map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || !json.Valid([]byte(p["attributes"].(string))) {
				t.Fatalf("created participant with bad attributes: %s", rec.Body)
			}
		}
	})
}

// FuzzListQuery sends arbitrary paging queries: 200 or a Twilio-style 400, never a 5xx.
func FuzzListQuery(f *testing.F) {
	h, ch := newAPI(f)
	for _, seed := range []string{"PageSize=2", "PageSize=2&Page=1&PageToken=PA1", "PageToken=PB99", "PageSize=-1",
		"PageSize=99999999999999999999", "PageToken=PA", "PageToken=PA0", "Page=x", "%%"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, q string) {
		req := httptest.NewRequest("GET", "/v1/Conversations/"+ch+"/Participants", nil)
		req.URL.RawQuery = q
		req.SetBasicAuth(acct, token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		checkTwilioShape(t, rec)
	})
}

// FuzzDecodePageToken checks the token decoder accepts exactly "PA<n>"/"PB<n>", n > 0.
func FuzzDecodePageToken(f *testing.F) {
	for _, s := range []string{"PA1", "PB42", "PA0", "PA-1", "PAx", "PA01", "P", "", "PC5", "PA9223372036854775807", "PA99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		after, before, ok := httpapi.DecodePageToken(s)
		if !ok {
			return
		}
		if (after > 0) == (before > 0) {
			t.Fatalf("%q: after=%d before=%d", s, after, before)
		}
		n := after + before
		kind := "PA"
		if before > 0 {
			kind = "PB"
		}
		if re := kind + itoa(n); re != s {
			t.Fatalf("%q decodes to %d but re-encodes as %q", s, n, re)
		}
	})
}

func itoa(n int64) string {
	return strings.TrimSpace(strings.Replace(string(appendDigits(nil, n)), " ", "", -1))
}

func appendDigits(b []byte, n int64) []byte {
	if n >= 10 {
		b = appendDigits(b, n/10)
	}
	return append(b, byte('0'+n%10))
}
