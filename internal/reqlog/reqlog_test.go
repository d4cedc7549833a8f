package reqlog

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestIsSecret(t *testing.T) {
	for name, want := range map[string]bool{
		"AuthToken": true, "Token": true, "Secret": true, "Password": true, "Authorization": true, "ApiKey": true,
		"PrivateKey": true, "Certificate": true, "X-Twilio-Token": true, "private_key": true,
		"FriendlyName": false, "Body": false, "Identity": false, "Attributes": false,
	} {
		if IsSecret(name) != want {
			t.Errorf("IsSecret(%q) = %v", name, !want)
		}
	}
	m := Mask(url.Values{"Secret": {"a", "b"}, "Body": {"hi"}})
	if m["Secret"][0] != Masked || m["Secret"][1] != Masked || m["Body"][0] != "hi" {
		t.Errorf("Mask: %v", m)
	}
}

func TestRingAndFilters(t *testing.T) {
	n := 0
	l := New(3, time.Now, func() string { n++; return fmt.Sprintf("RQ%d", n) })
	h := l.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" {
			_ = r.ParseForm()
			if r.PostForm.Get("Body") != "kept" {
				t.Errorf("the handler did not get the body: %v", r.PostForm)
			}
			w.WriteHeader(201)
			return
		}
		w.WriteHeader(404)
		_, _ = w.Write([]byte(`{"code":20404,"message":"nope","more_info":"x","status":404}`))
	}), func(r *http.Request) (string, bool) {
		u, _, ok := r.BasicAuth()
		return u, ok
	})
	send := func(acct, method, path string) {
		var req *http.Request
		if method == "POST" {
			req = httptest.NewRequest(method, path, strings.NewReader("Body=kept&AuthToken=xyz"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			req = httptest.NewRequest(method, path, nil)
		}
		if acct != "" {
			req.SetBasicAuth(acct, "pw")
		}
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	for i := 0; i < 4; i++ {
		send("AC1", "POST", fmt.Sprintf("/v1/Conversations/%d", i))
	}
	send("AC1", "GET", "/v1/Users")
	send("AC2", "GET", "/v1/Users")
	send("", "GET", "/v1/Users")     // unauthenticated: not logged
	send("AC1", "GET", "/elsewhere") // not the API: not logged
	got := l.List("AC1", Filter{})
	if len(got) != 3 || got[0].Path != "/v1/Users" || got[0].ErrorCode != 20404 || got[2].Path != "/v1/Conversations/2" {
		t.Fatalf("ring: %+v", got)
	}
	if p := got[1].Params; p["AuthToken"][0] != Masked || p["Body"][0] != "kept" {
		t.Errorf("params: %v", p)
	}
	if f := l.List("AC1", Filter{Method: "post", Status: 201, PathPrefix: "/v1/Conversations/3"}); len(f) != 1 {
		t.Errorf("filter: %+v", f)
	}
	if f := l.List("AC2", Filter{}); len(f) != 1 {
		t.Errorf("account 2: %+v", f)
	}
}
