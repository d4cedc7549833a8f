package console_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parley-dev/parley/internal/console"
	"github.com/parley-dev/parley/internal/testserver"
)

// fakePlane is a stand-in for the control-plane endpoints (/parley/v1/Clock, Faults,
// Requests, Snapshot, Reset, Inbound) that follows their published contract, so that the
// console's views of them are exercised before the real ones are part of this build. It
// moves the test server's clock, so conversation timers really fire.
type fakePlane struct {
	srv *testserver.Server

	mu       sync.Mutex
	offset   time.Duration
	faults   []map[string]any
	restored string
	resets   int
}

func (f *fakePlane) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if u, p, ok := r.BasicAuth(); !ok || u != testserver.AccountSid || p != testserver.AuthToken {
		w.WriteHeader(401)
		_, _ = io.WriteString(w, `{"code":20003,"message":"Authentication Error - invalid password","more_info":"","status":401}`)
		return
	}
	_ = r.ParseForm()
	f.mu.Lock()
	defer f.mu.Unlock()
	reply := func(code int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(v)
	}
	meta := func(key string) map[string]any {
		return map[string]any{"page": 0, "page_size": 50, "key": key, "next_page_url": nil, "previous_page_url": nil}
	}
	notify := func(typ string) { f.srv.Changes.Notify(console.Change{Type: typ, AccountSid: testserver.AccountSid}) }
	switch p := r.URL.Path; {
	case p == "/parley/v1/Clock" && r.Method == "POST":
		d, err := time.ParseDuration(strings.ToLower(strings.TrimPrefix(r.PostForm.Get("Advance"), "PT")))
		if err != nil {
			reply(400, map[string]any{"code": 20001, "message": "bad Advance", "status": 400})
			return
		}
		f.srv.Clock.Advance(d)
		f.offset += d
		notify("clock")
		fallthrough
	case p == "/parley/v1/Clock":
		reply(200, map[string]any{"now": f.srv.Clock.Now().Format(time.RFC3339), "offset": "PT" + strings.ToUpper(f.offset.String())})
	case p == "/parley/v1/Faults" && r.Method == "POST":
		x := map[string]any{"sid": "FI00000000000000000000000000000001", "method": r.PostForm.Get("Method"), "path": r.PostForm.Get("Path"),
			"status": r.PostForm.Get("Status"), "code": r.PostForm.Get("Code"), "count": r.PostForm.Get("Count")}
		f.faults = append(f.faults, x)
		reply(201, x)
	case p == "/parley/v1/Faults":
		reply(200, map[string]any{"faults": f.faults, "meta": meta("faults")})
	case strings.HasPrefix(p, "/parley/v1/Faults/") && r.Method == "DELETE":
		f.faults = nil
		w.WriteHeader(204)
	case p == "/parley/v1/Requests":
		reply(200, map[string]any{"requests": []map[string]any{
			{"sid": "RQ1", "time": "2015-12-16T22:18:37Z", "method": "POST", "path": "/v1/Conversations", "params": map[string]string{"FriendlyName": "<i>x</i>"}, "status": 201, "error_code": nil, "duration_ms": 3},
			{"sid": "RQ2", "time": "2015-12-16T22:18:38Z", "method": "GET", "path": "/v1/Conversations/CHnope", "params": map[string]string{}, "status": 404, "error_code": 20404, "duration_ms": 1},
		}, "meta": meta("requests")})
	case p == "/parley/v1/Snapshot" && r.Method == "POST":
		b, _ := io.ReadAll(r.Body)
		f.restored = string(b)
		notify("snapshot")
		w.WriteHeader(204)
	case p == "/parley/v1/Snapshot":
		reply(200, map[string]any{"version": 1, "accounts": []string{testserver.AccountSid}})
	case p == "/parley/v1/Reset" && r.Method == "POST":
		f.resets++
		notify("reset")
		w.WriteHeader(204)
	default:
		reply(404, map[string]any{"code": 20404, "message": "not found", "status": 404})
	}
}

// TestBrowserControlPlaneViews drives the clock, faults, request log and reset/snapshot
// views against fakePlane (the real endpoints are tested by TestBrowserClock and
// TestBrowserSnapshot once they exist).
func TestBrowserControlPlaneViews(t *testing.T) {
	b := newTab(t)
	fake := &fakePlane{srv: b.srv}
	target, _ := url.Parse(b.srv.URL)
	mux := http.NewServeMux()
	mux.Handle("/", httputil.NewSingleHostReverseProxy(target))
	for _, p := range []string{"/parley/v1/Clock", "/parley/v1/Faults", "/parley/v1/Faults/", "/parley/v1/Requests", "/parley/v1/Snapshot", "/parley/v1/Reset"} {
		mux.Handle(p, fake)
	}
	front := httptest.NewServer(mux)
	t.Cleanup(func() { front.CloseClientConnections(); front.Close() }) // the console's event stream stays open

	var conv struct{ Sid string }
	b.rest("POST", "/v1/Conversations", map[string]string{"FriendlyName": "Timed", "Timers.Inactive": "PT1H", "Timers.Closed": "P1D"}, 201, &conv)
	b.do("open the clock", chromedp.Navigate(front.URL+"/#/clock"))
	b.signIn(testserver.AccountSid, testserver.AuthToken)
	b.wait("the clock", `document.getElementById('clock-now') && document.getElementById('clock-now').textContent === '2015-12-16 22:18:37Z'`)
	b.wait("the timed conversation", `[...document.querySelectorAll('#view td a')].some(a => a.textContent === `+jsString(conv.Sid)+`)`)
	b.do("advance two hours",
		set(`form[aria-label="Advance the clock"] select`, "PT2H"),
		chromedp.Click(chromedp.CSS(`form[aria-label="Advance the clock"] button[type=submit]`)))
	b.wait("the clock to move", `document.getElementById('clock-now').textContent === '2015-12-17 00:18:37Z'`)
	b.wait("the conversation to turn inactive", `[...document.querySelectorAll('#view tbody tr')].some(tr => tr.textContent.includes(`+jsString(conv.Sid)+`) && tr.querySelector('.badge.inactive'))`)
	b.shot("clock")

	b.do("open the faults", chromedp.Navigate(front.URL+"/#/faults"))
	b.wait("no faults", `[...document.querySelectorAll('#view p.note')].some(p => p.textContent === 'No faults armed.')`)
	b.do("arm a fault",
		set(`form[aria-label="Fail API requests"] input[name=Method]`, "POST"),
		set(`form[aria-label="Fail API requests"] input[name=Path]`, "/v1/Conversations"),
		set(`form[aria-label="Fail API requests"] input[name=Status]`, "503"),
		set(`form[aria-label="Fail API requests"] input[name=Code]`, "20503"),
		set(`form[aria-label="Fail API requests"] input[name=Count]`, "2"),
		chromedp.Click(chromedp.CSS(`form[aria-label="Fail API requests"] button[type=submit]`)))
	b.wait("the fault", `document.querySelector('button[aria-label="Delete fault FI00000000000000000000000000000001"]')`)
	b.shot("faults")
	b.do("delete it", chromedp.Click(chromedp.CSS(`button[aria-label="Delete fault FI00000000000000000000000000000001"]`)))
	b.wait("no faults", `[...document.querySelectorAll('#view p.note')].some(p => p.textContent === 'No faults armed.')`)

	b.do("open the request log", chromedp.Navigate(front.URL+"/#/requests"))
	b.wait("the requests", `document.querySelectorAll('#view tbody tr').length === 2`)
	if n := evalAs[int](b, `document.querySelectorAll('#view i').length`); n != 0 {
		t.Error("request parameters rendered as HTML")
	}
	b.shot("requests")

	b.do("open the admin view", chromedp.Navigate(front.URL+"/#/admin"))
	b.wait("the download button", `document.getElementById('snapshot-download')`)
	b.shot("admin")
	data := b.download("#snapshot-download")
	if !strings.Contains(data, `"version":1`) {
		t.Fatalf("snapshot %q", data)
	}
	file := filepath.Join(t.TempDir(), "snapshot.json")
	if err := os.WriteFile(file, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	b.do("restore it",
		chromedp.SetUploadFiles(chromedp.CSS(`input[type=file]`), []string{file}),
		chromedp.Click(chromedp.CSS(`form[aria-label="Restore a snapshot"] button[type=submit]`)))
	b.wait("the restore", `[...document.querySelectorAll('#view .flash')].some(e => e.textContent === 'Snapshot restored.')`)
	// Reset needs the confirmation box.
	b.do("reset without confirming", chromedp.Click(chromedp.CSS(`form[aria-label="Reset"] button[type=submit]`)))
	b.wait("the refusal", `[...document.querySelectorAll('#view .flash.bad')].some(e => e.textContent.includes('Tick the box'))`)
	b.do("reset", chromedp.Click(chromedp.CSS(`form[aria-label="Reset"] input[type=checkbox]`)),
		chromedp.Click(chromedp.CSS(`form[aria-label="Reset"] button[type=submit]`)))
	b.wait("the reset", `[...document.querySelectorAll('#view .flash')].some(e => e.textContent === 'The account was reset.')`)
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if fake.restored != data || fake.resets != 1 {
		t.Errorf("restored %q, resets %d", fake.restored, fake.resets)
	}
	b.noDialogs()
}
