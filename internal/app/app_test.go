package app_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/parley-dev/parley/internal/app"
	"github.com/parley-dev/parley/internal/conv"
)

const (
	acct  = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	token = "authtoken123"
)

// newServer builds a server with app.New over a fresh SQLite file, as "parley serve" does,
// runs its workers and serves it until the test ends.
func newServer(t *testing.T, cfg app.Config, opts app.Options) (*app.App, *httptest.Server) {
	t.Helper()
	cfg.DB = filepath.Join(t.TempDir(), "parley.db")
	if cfg.Accounts == nil {
		cfg.Accounts = []app.Account{{Sid: acct, AuthToken: token}}
	}
	a, err := app.New(context.Background(), cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(a.Handler())
	t.Cleanup(hs.Close)
	t.Cleanup(func() {
		if err := a.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	a.Start(context.Background())
	return a, hs
}

type response struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, hs *httptest.Server, method, path, body string, auth bool) response {
	t.Helper()
	req, err := http.NewRequest(method, hs.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if auth {
		req.SetBasicAuth(acct, token)
	}
	resp, err := hs.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, string(b)}
}

// TestUnknownPathsAreTwilio404 checks every path no route serves, inside /v1 or not, answers
// Twilio's JSON 404 rather than Go's plain-text one.
func TestUnknownPathsAreTwilio404(t *testing.T) {
	_, hs := newServer(t, app.Config{}, app.Options{})
	for _, tc := range []struct {
		path, resource string
		auth           bool
	}{
		{"/foo", "/foo", false},
		{"/index.html", "/index.html", false},
		{"/console/nope.js", "/console/nope.js", false},
		{"/foo/bar?x=1", "/foo/bar", false},
		{"/healthz/", "/healthz/", false},
		{"/v1x", "/v1x", false},
		{"/parley/nope", "/parley/nope", true},
		{"/parley/v1/Nope", "/parley/v1/Nope", true},
		{"/v1/Nope", "/Nope", true},
		{"/v1", "/v1", true},
	} {
		r := do(t, hs, "GET", tc.path, "", tc.auth)
		want := `{"code":20404,"message":"The requested resource ` + tc.resource +
			` was not found","more_info":"https://www.twilio.com/docs/errors/20404","status":404}`
		if r.status != http.StatusNotFound || r.header.Get("Content-Type") != "application/json" || r.body != want {
			t.Errorf("GET %s: %d %q %s, want 404 application/json %s", tc.path, r.status, r.header.Get("Content-Type"), r.body, want)
		}
	}
}

// TestConsoleMounts checks the web console is served at exactly "/" and under /console/, and
// that its live stream /parley/v1/Events is the console's, not a /parley/ 404.
func TestConsoleMounts(t *testing.T) {
	a, hs := newServer(t, app.Config{}, app.Options{})
	if r := do(t, hs, "GET", "/", "", false); r.status != http.StatusOK || r.header.Get("Content-Type") != "text/html; charset=utf-8" ||
		!strings.Contains(r.body, "/console/app.js") {
		t.Errorf("GET /: %d %q %.200s", r.status, r.header.Get("Content-Type"), r.body)
	}
	if r := do(t, hs, "GET", "/console/app.js", "", false); r.status != http.StatusOK || r.header.Get("Content-Type") != "text/javascript; charset=utf-8" {
		t.Errorf("GET /console/app.js: %d %q", r.status, r.header.Get("Content-Type"))
	}
	if r := do(t, hs, "GET", "/parley/v1/Events", "", false); r.status != http.StatusUnauthorized || !strings.Contains(r.body, `"code":20003`) {
		t.Errorf("GET /parley/v1/Events without credentials: %d %s", r.status, r.body)
	}
	req, _ := http.NewRequest("GET", hs.URL+"/parley/v1/Events", nil)
	req.SetBasicAuth(acct, token)
	resp, err := hs.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() && sc.Text() != "event: ready" {
	}
	if resp.StatusCode != http.StatusOK || sc.Text() != "event: ready" {
		t.Fatalf("GET /parley/v1/Events: %d, no ready event: %v", resp.StatusCode, sc.Err())
	}
	sc.Scan() // the ready event's data
	// A control-plane change reaches the stream.
	if r := do(t, hs, "POST", "/parley/v1/Reset", "", true); r.status != http.StatusNoContent {
		t.Fatalf("POST /parley/v1/Reset: %d %s", r.status, r.body)
	}
	for sc.Scan() && !strings.HasPrefix(sc.Text(), "data: ") {
	}
	if !strings.Contains(sc.Text(), `"type":"parley.reset"`) || !strings.Contains(sc.Text(), acct) {
		t.Fatalf("change after reset: %q %v", sc.Text(), sc.Err())
	}
	// Close ends the stream (it would hold a server's Shutdown).
	_ = a.Close()
	for sc.Scan() {
	}
}

// TestMethodNotAllowed checks 405 answers are as they were: Twilio's 20004 with Allow on the
// /v1 and /parley/v1 routes, Go's on /healthz.
func TestMethodNotAllowed(t *testing.T) {
	_, hs := newServer(t, app.Config{}, app.Options{})
	for _, tc := range []struct{ method, path, allow string }{
		{"PUT", "/v1/Conversations", "GET, POST"},
		{"POST", "/parley/v1/Outbox", "GET"},
	} {
		r := do(t, hs, tc.method, tc.path, "", true)
		if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != tc.allow || !strings.Contains(r.body, `"code":20004`) {
			t.Errorf("%s %s: %d Allow=%q %s", tc.method, tc.path, r.status, r.header.Get("Allow"), r.body)
		}
	}
	if r := do(t, hs, "POST", "/healthz", "", false); r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /healthz: %d Allow=%q", r.status, r.header.Get("Allow"))
	}
}

// TestHealthz checks /healthz answers without credentials.
func TestHealthz(t *testing.T) {
	_, hs := newServer(t, app.Config{}, app.Options{})
	r := do(t, hs, "GET", "/healthz", "", false)
	if r.status != http.StatusOK || r.body != `{"status":"ok"}` || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /healthz: %d %q %s", r.status, r.header.Get("Content-Type"), r.body)
	}
}

// TestMaxBodyBytesEveryRoute checks Config.MaxBodyBytes (-max-body-bytes) limits the body
// every mount reads, /parley/* and /healthz included, and that /v1 answers a larger form 413.
func TestMaxBodyBytesEveryRoute(t *testing.T) {
	const limit = 100
	var mu sync.Mutex
	seen := map[string]error{} // per mount: what reading a body past the limit returned
	wrap := func(path string, h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("X-Read-Body") != "" {
				_, err := io.ReadAll(r.Body)
				mu.Lock()
				seen[path] = err
				mu.Unlock()
				w.WriteHeader(http.StatusNoContent)
				return
			}
			h.ServeHTTP(w, r)
		})
	}
	_, hs := newServer(t, app.Config{MaxBodyBytes: limit}, app.Options{Wrap: wrap})
	big := "FriendlyName=" + strings.Repeat("x", 2*limit)
	mounts := map[string]string{"/v1/": "/v1/Conversations", "/parley/": "/parley/v1/Outbox", "/healthz": "/healthz"}
	for mount, path := range mounts {
		req, _ := http.NewRequest("POST", hs.URL+path, strings.NewReader(big))
		req.Header.Set("X-Read-Body", "1")
		resp, err := hs.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		mu.Lock()
		err = seen[mount]
		mu.Unlock()
		var mbe *http.MaxBytesError
		if !errors.As(err, &mbe) || mbe.Limit != limit {
			t.Errorf("POST %s: reading a %d-byte body gave %v, want the %d-byte limit", path, len(big), err, limit)
		}
	}
	r := do(t, hs, "POST", "/v1/Conversations", big, true)
	if r.status != http.StatusRequestEntityTooLarge || !strings.Contains(r.body, `"code":20413`) {
		t.Errorf("POST /v1/Conversations over the limit: %d %s", r.status, r.body)
	}
	if r := do(t, hs, "POST", "/v1/Conversations", "FriendlyName=small", true); r.status != http.StatusCreated {
		t.Errorf("POST /v1/Conversations under the limit: %d %s", r.status, r.body)
	}
}

// TestOneFrontDoor checks /parley/v1 shares /v1's configuration: credentials and PublicURL.
func TestOneFrontDoor(t *testing.T) {
	_, hs := newServer(t, app.Config{PublicURL: "https://parley.example.com"}, app.Options{})
	if r := do(t, hs, "GET", "/parley/v1/Outbox", "", false); r.status != http.StatusUnauthorized || !strings.Contains(r.body, `"code":20003`) {
		t.Errorf("outbox without credentials: %d %s", r.status, r.body)
	}
	r := do(t, hs, "GET", "/parley/v1/Outbox", "", true)
	var page struct {
		Meta struct {
			URL string `json:"url"`
		} `json:"meta"`
	}
	if err := json.Unmarshal([]byte(r.body), &page); err != nil || r.status != http.StatusOK ||
		!strings.HasPrefix(page.Meta.URL, "https://parley.example.com/parley/v1/Outbox") {
		t.Errorf("outbox: %d %s (%v), want its url on the public URL", r.status, r.body, err)
	}
}

// TestDevelopmentAccount checks a server without configured accounts makes the development
// account, keeps it across restarts, and that Close may be called twice.
func TestDevelopmentAccount(t *testing.T) {
	db := filepath.Join(t.TempDir(), "parley.db")
	var sids [2]string
	for i := range sids {
		a, err := app.New(context.Background(), app.Config{DB: db}, app.Options{})
		if err != nil {
			t.Fatal(err)
		}
		a.Start(context.Background())
		if len(a.Accounts) != 1 || !strings.HasPrefix(a.Accounts[0].Sid, "AC") {
			t.Fatalf("accounts: %+v", a.Accounts)
		}
		sids[i] = a.Accounts[0].Sid
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if sids[0] != sids[1] {
		t.Errorf("development account changed across restarts: %s then %s", sids[0], sids[1])
	}
}

// TestResetKeepsSyncedCredentials checks the control plane's Reset keeps what the credential
// sync wrote: after a reset the development account (and a configured one) still
// authenticate, and a restart finds the same development account rather than making another.
func TestResetKeepsSyncedCredentials(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "parley.db")
	a, err := app.New(ctx, app.Config{DB: db}, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dev := *a.Accounts[0]
	if err := a.Service.Reset(ctx, dev.Sid); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Service.Authenticate(ctx, dev.Sid, dev.AuthToken); err != nil {
		t.Errorf("development account after a reset: %v", err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	a, err = app.New(ctx, app.Config{DB: db}, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := a.Accounts[0]; got.Sid != dev.Sid || got.AuthToken != dev.AuthToken {
		t.Errorf("development account after a reset and a restart: %s:%s, want %s:%s", got.Sid, got.AuthToken, dev.Sid, dev.AuthToken)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}

	cfg := app.Config{DB: db, Accounts: []app.Account{{Sid: acct, AuthToken: token}},
		APIKeys: []app.APIKey{{Sid: "SK" + strings.Repeat("e", 32), Secret: "keysecret"}}}
	a, err = app.New(ctx, cfg, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := a.Service.Reset(ctx, acct); err != nil {
		t.Fatal(err)
	}
	for user, pass := range map[string]string{acct: token, "SK" + strings.Repeat("e", 32): "keysecret"} {
		if _, err := a.Service.Authenticate(ctx, user, pass); err != nil {
			t.Errorf("%s after a reset: %v", user, err)
		}
	}
	if _, err := a.Service.Authenticate(ctx, dev.Sid, dev.AuthToken); err == nil {
		t.Errorf("the development account still authenticates with an account configured")
	}
}

// TestBadCarrierURL checks New refuses a carrier URL that is not absolute http(s).
func TestBadCarrierURL(t *testing.T) {
	_, err := app.New(context.Background(), app.Config{DB: filepath.Join(t.TempDir(), "p.db"), CarrierURL: "ftp://x"}, app.Options{})
	if err == nil || !strings.Contains(err.Error(), "-carrier-url") {
		t.Fatalf("err = %v", err)
	}
}

// lockedBuffer is a log destination safe for concurrent writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestRequestLog checks the front door logs requests at debug level, and that live streams
// still flush through it.
func TestRequestLog(t *testing.T) {
	var buf lockedBuffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	_, hs := newServer(t, app.Config{}, app.Options{Log: log})
	if r := do(t, hs, "GET", "/foo", "", false); r.status != http.StatusNotFound {
		t.Fatalf("GET /foo: %d", r.status)
	}
	if want := "msg=request method=GET path=/foo status=404"; !strings.Contains(buf.String(), want) {
		t.Errorf("log %q lacks %q", buf.String(), want)
	}
	req, _ := http.NewRequest("GET", hs.URL+"/parley/v1/Users/alice/Stream", nil)
	req.SetBasicAuth(acct, token)
	resp, err := hs.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() && sc.Text() != ": live" {
	}
	if sc.Text() != ": live" {
		t.Fatalf("stream %d ended before its live mark: %v", resp.StatusCode, sc.Err())
	}
}

// TestControlPlaneMounts checks /metrics is served without credentials when
// Config.Control.Metrics is on and is Twilio's 404 when off, and that a live stream still
// flushes through the control plane's middlewares.
func TestControlPlaneMounts(t *testing.T) {
	for _, on := range []bool{true, false} {
		_, hs := newServer(t, app.Config{Control: app.ControlConfig{Metrics: on}}, app.Options{})
		do(t, hs, "GET", "/v1/Conversations", "", true)
		r := do(t, hs, "GET", "/metrics", "", false)
		if on && (r.status != http.StatusOK || !strings.Contains(r.body, "parley_http_requests_total")) {
			t.Errorf("metrics on: GET /metrics: %d %.200s", r.status, r.body)
		}
		if !on && (r.status != http.StatusNotFound || !strings.Contains(r.body, `"code":20404`)) {
			t.Errorf("metrics off: GET /metrics: %d %s", r.status, r.body)
		}
		req, _ := http.NewRequest("GET", hs.URL+"/parley/v1/Users/alice/Stream", nil)
		req.SetBasicAuth(acct, token)
		resp, err := hs.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() && sc.Text() != ": live" {
		}
		if sc.Text() != ": live" {
			t.Errorf("metrics %v: stream %d ended before its live mark: %v", on, resp.StatusCode, sc.Err())
		}
		resp.Body.Close()
	}
}

// TestBadSIDSeed checks New refuses a SID seed that is not an unsigned integer.
func TestBadSIDSeed(t *testing.T) {
	_, err := app.New(context.Background(), app.Config{DB: filepath.Join(t.TempDir(), "p.db"),
		Control: app.ControlConfig{SIDSeed: "x"}}, app.Options{})
	if err == nil || !strings.Contains(err.Error(), "-sid-seed") {
		t.Fatalf("err = %v", err)
	}
}

// TestMaxMediaBytes: -max-media-bytes bounds media uploads (declared or streamed) and not the
// other routes' bodies; media uploads are not bound by -max-body-bytes.
func TestMaxMediaBytes(t *testing.T) {
	a, hs := newServer(t, app.Config{MaxMediaBytes: 4096, MaxBodyBytes: 1024}, app.Options{})
	svc, err := a.Service.ResolveService(context.Background(), conv.Scope{AccountSid: acct})
	if err != nil {
		t.Fatal(err)
	}
	post := func(body io.Reader, n int64) response {
		req, _ := http.NewRequest("POST", hs.URL+"/v1/Services/"+svc.Sid+"/Media", body)
		req.ContentLength = n
		req.Header.Set("Content-Type", "application/octet-stream")
		req.SetBasicAuth(acct, token)
		resp, err := hs.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return response{resp.StatusCode, resp.Header, string(b)}
	}
	if r := post(strings.NewReader(strings.Repeat("x", 4096)), 4096); r.status != 201 {
		t.Errorf("upload at the limit (over -max-body-bytes): %d %s", r.status, r.body)
	}
	if r := post(strings.NewReader(strings.Repeat("x", 4097)), 4097); r.status != 413 || !strings.Contains(r.body, `"code":50512`) {
		t.Errorf("declared oversize: %d %s", r.status, r.body)
	}
	// Chunked (no declared length): cut off once past the limit.
	if r := post(io.MultiReader(strings.NewReader(strings.Repeat("x", 5000))), -1); r.status != 413 || !strings.Contains(r.body, `"code":50512`) {
		t.Errorf("streamed oversize: %d %s", r.status, r.body)
	}
}
