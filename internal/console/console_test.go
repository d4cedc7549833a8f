package console_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/parley-dev/parley/internal/console"
	"github.com/parley-dev/parley/internal/store/storetest"
	"github.com/parley-dev/parley/internal/testserver"
)

func get(t *testing.T, url, user, pass string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// TestPageAndAssets: the page and its assets are served with a strict policy; nothing else is.
func TestPageAndAssets(t *testing.T) {
	srv := testserver.New(t, storetest.SQLite)
	for _, c := range []struct{ path, ctype, contains string }{
		{"/", "text/html; charset=utf-8", `<script src="/console/app.js" defer></script>`},
		{"/console/app.js", "text/javascript; charset=utf-8", "'use strict'"},
		{"/console/app.css", "text/css; charset=utf-8", ":focus-visible"},
		{"/console/icon.svg", "image/svg+xml", "<svg"},
	} {
		res, body := get(t, srv.URL+c.path, "", "")
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != c.ctype || !strings.Contains(body, c.contains) {
			t.Errorf("GET %s: %d %q, body has %q: %v", c.path, res.StatusCode, res.Header.Get("Content-Type"), c.contains, strings.Contains(body, c.contains))
		}
		h := res.Header
		if h.Get("Content-Security-Policy") != console.ContentSecurityPolicy || h.Get("X-Content-Type-Options") != "nosniff" ||
			h.Get("Referrer-Policy") != "no-referrer" || h.Get("Set-Cookie") != "" {
			t.Errorf("GET %s: headers %v", c.path, h)
		}
	}
	if !strings.Contains(console.ContentSecurityPolicy, "frame-ancestors 'none'") || strings.Contains(console.ContentSecurityPolicy, "unsafe") {
		t.Errorf("policy %q", console.ContentSecurityPolicy)
	}
	for _, p := range []string{"/console/index.html", "/console/", "/console/../go.mod", "/console/nope.js"} {
		if res, body := get(t, srv.URL+p, "", ""); res.StatusCode != 404 || !strings.Contains(body, `"code":20404`) {
			t.Errorf("GET %s: %d %s", p, res.StatusCode, body)
		}
	}
	// The index page itself holds no inline script or style (the policy would block them).
	_, page := get(t, srv.URL+"/", "", "")
	if strings.Contains(page, "<script>") || strings.Contains(page, "style=") || strings.Contains(page, " on") && strings.Contains(page, "onclick") {
		t.Error("index.html has inline script or style")
	}
}

// TestEventsAuth: the stream answers a missing or wrong credential as the API does.
func TestEventsAuth(t *testing.T) {
	srv := testserver.New(t, storetest.SQLite)
	_, apiBody := get(t, srv.URL+"/v1/Conversations", testserver.AccountSid, "wrong")
	for _, c := range []struct{ user, pass, msg string }{
		{"", "", "Authentication Error - No credentials provided"},
		{testserver.AccountSid, "wrong", ""},
	} {
		res, body := get(t, srv.URL+"/parley/v1/Events", c.user, c.pass)
		var e struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
			Status  int    `json:"status"`
		}
		if err := json.Unmarshal([]byte(body), &e); err != nil || res.StatusCode != 401 || e.Code != 20003 || e.Status != 401 {
			t.Errorf("%q: %d %s", c.user, res.StatusCode, body)
		}
		if c.msg == "" && body != apiBody {
			t.Errorf("wrong token: events says %s, the API %s", body, apiBody)
		}
		if res.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("no WWW-Authenticate")
		}
	}
	req, _ := http.NewRequest("POST", srv.URL+"/parley/v1/Events", nil)
	req.SetBasicAuth(testserver.AccountSid, testserver.AuthToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 405 || res.Header.Get("Allow") != "GET" {
		t.Errorf("POST: %d allow %q", res.StatusCode, res.Header.Get("Allow"))
	}
}

// sse reads one Server-Sent Event (event name and data), skipping comments.
func sse(t *testing.T, r *bufio.Reader) (event, data string) {
	t.Helper()
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("stream ended: %v", err)
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "":
			if event != "" || data != "" {
				return event, data
			}
		case strings.HasPrefix(line, "event: "):
			event = line[7:]
		case strings.HasPrefix(line, "data: "):
			data = line[6:]
		}
	}
}

// TestEventsStream: committed changes of the account reach its stream, in order, and those of
// another account do not; an API key sees its account's changes.
func TestEventsStream(t *testing.T) {
	srv := testserver.New(t, storetest.SQLite)
	open := func(user, pass string) *bufio.Reader {
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/parley/v1/Events", nil)
		req.SetBasicAuth(user, pass)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { res.Body.Close() })
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("events: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
		}
		r := bufio.NewReader(res.Body)
		if ev, data := sse(t, r); ev != "ready" || !strings.Contains(data, testserver.AccountSid) && !strings.Contains(data, testserver.Account2Sid) {
			t.Fatalf("first event %q %s", ev, data)
		}
		return r
	}
	mine := open(testserver.APIKeySid, testserver.APIKeySecret)
	theirs := open(testserver.Account2Sid, testserver.Auth2Token)

	if code, body := srv.Do(t, "POST", "/v1/Conversations", map[string]string{"FriendlyName": "x"}); code != 201 {
		t.Fatalf("create: %d %s", code, body)
	}
	code, body := srv.DoAs(t, testserver.Account2Sid, testserver.Auth2Token, "POST", "/v1/Conversations", map[string]string{}, nil)
	if code != 201 {
		t.Fatalf("create 2: %d %s", code, body)
	}
	var c2 struct{ Sid string }
	_ = json.Unmarshal(body, &c2)
	ev, data := sse(t, mine)
	var c console.Change
	if err := json.Unmarshal([]byte(data), &c); err != nil || ev != "change" || c.Type != "onConversationAdded" ||
		c.AccountSid != testserver.AccountSid || c.State != "active" || c.ConversationSid == "" {
		t.Fatalf("mine: %q %s", ev, data)
	}
	var cv struct{ Sid string }
	_, b := srv.Do(t, "GET", "/v1/Conversations/"+c.ConversationSid, nil)
	_ = json.Unmarshal(b, &cv)
	if cv.Sid != c.ConversationSid {
		t.Fatalf("change names %s", c.ConversationSid)
	}
	if code, body := srv.Do(t, "POST", "/v1/Conversations/"+c.ConversationSid+"/Messages", map[string]string{"Author": "a", "Body": "hi"}); code != 201 {
		t.Fatalf("message: %d %s", code, body)
	}
	if ev, data := sse(t, mine); !strings.Contains(data, `"type":"onMessageAdded"`) || !strings.Contains(data, `"message_sid":"IM`) {
		t.Fatalf("mine second: %q %s", ev, data)
	}
	// The other account's stream saw only its own conversation.
	if _, data := sse(t, theirs); !strings.Contains(data, c2.Sid) {
		t.Fatalf("theirs: %s (want %s)", data, c2.Sid)
	}
}
