package httpapi

import (
	"errors"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/parley-dev/parley/internal/conv"
)

// FuzzReadForm feeds the form decoder arbitrary bodies and content types under a small body
// limit: it decodes exactly what url.ParseQuery decodes, or refuses with 20422 (malformed,
// too many parameters), 20413 (too large) or 20001 (a JSON body), and never panics.
func FuzzReadForm(f *testing.F) {
	for _, s := range []struct{ body, ctype string }{
		{"Identity=alice", "application/x-www-form-urlencoded"},
		{"Identity=alice&Identity=bob&Attributes=%7B%7D", "application/x-www-form-urlencoded; charset=utf-8"},
		{"a=%zz", "application/x-www-form-urlencoded"},
		{strings.Repeat("k=v&", 300), "application/x-www-form-urlencoded"},
		{`{"Identity":"json"}`, "application/json"},
		{"Identity=x", ""},
		{"Identity=x", "bad/;;type"},
		{"=&&=;", "application/x-www-form-urlencoded"},
		{strings.Repeat("x", 600), "application/x-www-form-urlencoded"},
	} {
		f.Add(s.body, s.ctype)
	}
	const limit = 512
	f.Fuzz(func(t *testing.T, body, ctype string) {
		r := httptest.NewRequest("POST", "/v1/Conversations", strings.NewReader(body))
		if ctype != "" {
			r.Header.Set("Content-Type", ctype)
		}
		r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, limit)
		got, err := readForm(r)
		if err != nil {
			e, ok := conv.AsError(err)
			switch {
			case !ok:
				t.Fatalf("not a Twilio error: %v", err)
			case e.Code == 20413 && len(body) > limit:
			case e.Code == 20422 && len(body) <= limit:
			case e.Code == 20001 && len(body) > 0 && len(body) <= limit && isJSONType(ctype):
			default:
				t.Fatalf("body of %d bytes: error %d %s", len(body), e.Code, e.Message)
			}
			return
		}
		if len(body) > limit {
			t.Fatalf("a body of %d bytes was read under a limit of %d", len(body), limit)
		}
		if len(got) > MaxFormKeys {
			t.Fatalf("%d parameters accepted", len(got))
		}
		want, perr := url.ParseQuery(body)
		if len(got) == 0 {
			return // not form-encoded (or empty): no parameters
		}
		if perr != nil {
			t.Fatalf("malformed body accepted: %v", perr)
		}
		if len(want) != len(got) {
			t.Fatalf("decoded %v, url.ParseQuery %v", got, want)
		}
		for k, vs := range want {
			if g := got.str(k); g == nil || *g != vs[0] {
				t.Fatalf("%q = %v, want %q", k, g, vs[0])
			}
		}
	})
}

// isJSONType reports whether a Content-Type names JSON (application/json or a +json type).
func isJSONType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// FuzzWebhookEnabled checks X-Twilio-Webhook-Enabled: true/false in any case (and spacing)
// or a 20422.
func FuzzWebhookEnabled(f *testing.F) {
	for _, s := range []string{"true", "false", "TRUE", " False ", "", "yes", "1", "tru\x00e"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		r := httptest.NewRequest("POST", "/", nil)
		r.Header["X-Twilio-Webhook-Enabled"] = []string{v}
		on, err := webhookEnabled(r)
		norm := strings.ToLower(strings.TrimSpace(v))
		switch {
		case err == nil && (norm == "true") != on:
			t.Fatalf("%q -> %v", v, on)
		case err == nil && norm != "true" && norm != "false":
			t.Fatalf("%q accepted", v)
		case err != nil:
			var e *conv.Error
			if !errors.As(err, &e) || e.Code != 20422 || norm == "true" || norm == "false" {
				t.Fatalf("%q refused: %v", v, err)
			}
		}
	})
}
