package console_test

// Browser tests of the console: they drive a headless Chromium over the DevTools protocol
// (chromedp) against the real test server. They skip when Chromium is missing, unless
// PARLEY_REQUIRE_BROWSER=1 (CI), which makes that a failure. PARLEY_CHROMIUM names another
// browser binary; PARLEY_SCREENSHOTS=dir writes screenshots of the main views there.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/parley-dev/parley/internal/browsertest"
	"github.com/parley-dev/parley/internal/store/storetest"
	"github.com/parley-dev/parley/internal/testserver"
)

// tab is one browser tab on a test server.
type tab struct {
	t   *testing.T
	ctx context.Context
	srv *testserver.Server

	mu         sync.Mutex
	dialogs    []string // JavaScript dialogs (alert, confirm, prompt) the page opened
	exceptions []string // uncaught JavaScript exceptions
}

func newTab(t *testing.T) *tab {
	t.Helper()
	path := browsertest.Chromium(t, "the browser tests")
	srv := testserver.New(t, storetest.SQLite)
	dir, err := os.MkdirTemp("", "parley-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		append(browsertest.Options(path, dir), chromedp.WindowSize(1366, 900))...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		_ = chromedp.Cancel(ctx) // closes the browser and waits for it
		cancel()
		cancelAlloc()
		_ = os.RemoveAll(dir) // best effort: a child process may still write for a moment
	})
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("start %s: %v", path, err)
	}
	// A bound on the whole test, so that a broken page fails instead of hanging; no step
	// depends on how fast anything is.
	tctx, tcancel := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(tcancel)
	tb := &tab{t: t, ctx: tctx, srv: srv}
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			tb.mu.Lock()
			tb.dialogs = append(tb.dialogs, ev.Message)
			tb.mu.Unlock()
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}()
	exceptions := chromedp.Events(ctx, runtime.ExceptionThrown)
	go func() {
		for ev, err := range exceptions {
			if err != nil {
				return
			}
			d := ev.ExceptionDetails
			msg := fmt.Sprintf("%s at %s:%d:%d", d.Text, d.URL, d.LineNumber+1, d.ColumnNumber+1)
			if d.Exception != nil {
				msg += ": " + d.Exception.Description
			}
			tb.mu.Lock()
			tb.exceptions = append(tb.exceptions, msg)
			tb.mu.Unlock()
		}
	}()
	return tb
}

func (b *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// wait waits until the JavaScript expression is truthy, re-evaluating it on every DOM change.
func (b *tab) wait(what, expr string) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingMutation(), chromedp.WithPollingTimeout(0))); err != nil {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.t.Fatalf("waiting for %s (%s): %v; JavaScript exceptions: %q", what, expr, err, b.exceptions)
	}
}

func evalAs[T any](b *tab, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// shot writes a screenshot of the page as name.png into $PARLEY_SCREENSHOTS, when set.
func (b *tab) shot(name string) {
	b.t.Helper()
	dir := os.Getenv("PARLEY_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func (b *tab) noDialogs() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.dialogs) > 0 {
		b.t.Fatalf("the page opened JavaScript dialogs: %q", b.dialogs)
	}
	if len(b.exceptions) > 0 {
		b.t.Fatalf("uncaught JavaScript exceptions: %q", b.exceptions)
	}
}

// rest sends one API request with the first account and decodes a JSON answer into out.
func (b *tab) rest(method, path string, form map[string]string, want int, out any) {
	b.t.Helper()
	code, body := b.srv.Do(b.t, method, path, form)
	if code != want {
		b.t.Fatalf("%s %s: %d %s", method, path, code, body)
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			b.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

// set sets the value of the form control sel, as typing would: it fires input and change.
func set(sel, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](`(e => { e.value = ` + jsString(value) + `; e.dispatchEvent(new Event('input', {bubbles: true}));` +
		` e.dispatchEvent(new Event('change', {bubbles: true})); })(document.querySelector(` + jsString(sel) + `)); undefined`)
}

// jsString quotes s for a JavaScript expression.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func (b *tab) signIn(user, pass string) {
	b.t.Helper()
	b.do("fill the sign-in form",
		chromedp.WaitVisible(chromedp.CSS("#signin-user")),
		set("#signin-user", user),
		set("#signin-pass", pass),
		chromedp.Click(chromedp.CSS("#signin-form button[type=submit]")))
}

// TestBrowserSignIn: a wrong token is refused with the API's message and shows nothing; the
// right one opens the console, which sets no cookie and goes live.
func TestBrowserSignIn(t *testing.T) {
	b := newTab(t)
	b.do("open the console", chromedp.Navigate(b.srv.URL+"/"))
	b.shot("signin")
	b.signIn(testserver.AccountSid, "wrong-token")
	b.wait("the sign-in error", `document.getElementById('signin-error').textContent !== ''`)
	if msg := evalAs[string](b, `document.getElementById('signin-error').textContent`); msg != "Authentication Error - invalid password" {
		t.Errorf("error shown: %q", msg)
	}
	if hidden := evalAs[bool](b, `document.getElementById('nav').hidden && document.getElementById('view').hidden && !sessionStorage.length`); !hidden {
		t.Error("a refused sign-in shows the console or keeps the credentials")
	}
	b.signIn(testserver.AccountSid, testserver.AuthToken)
	b.wait("the live stream", `document.querySelector('#live.on')`)
	b.wait("the conversation list", `document.querySelector('#view h2') && document.querySelector('#view h2').textContent === 'Conversations'`)
	if c := evalAs[string](b, `document.cookie`); c != "" {
		t.Errorf("cookies: %q", c)
	}
	// Keyboard: a view link activated with Enter opens the view and moves focus to its heading.
	b.do("press Enter on a view link", chromedp.SendKeys(chromedp.CSS(`nav a[href="#/outbox"]`), "\r"))
	b.wait("the outbox view", `document.activeElement && document.activeElement.tagName === 'H2' && document.activeElement.textContent === 'SMS/WhatsApp outbox'`)
	if cur := evalAs[string](b, `document.querySelector('nav a[aria-current=page]').textContent`); cur != "SMS/WhatsApp outbox" {
		t.Errorf("current view link %q", cur)
	}
	// Signing out forgets the credentials.
	b.do("sign out", chromedp.Click(chromedp.CSS("#signout")))
	b.wait("the sign-in form", `!document.getElementById('signin').hidden`)
	if n := evalAs[int](b, `sessionStorage.length`); n != 0 {
		t.Errorf("sessionStorage has %d items after sign-out", n)
	}
	// An API key signs in too.
	b.signIn(testserver.APIKeySid, testserver.APIKeySecret)
	b.wait("the live stream", `document.querySelector('#live.on')`)
	b.noDialogs()
}

// TestBrowserConversation: a conversation created over REST appears without a reload; the
// console opens it, sends a message as a participant (found over REST), removes a
// participant, and shows a hostile message body as text.
func TestBrowserConversation(t *testing.T) {
	b := newTab(t)
	b.do("open the console", chromedp.Navigate(b.srv.URL+"/"))
	b.signIn(testserver.AccountSid, testserver.AuthToken)
	b.wait("the live stream", `document.querySelector('#live.on')`)
	b.wait("the empty list", `document.querySelector('#view .card p.note')`)
	b.do("mark the page", chromedp.Evaluate[chromedp.Void](`window.parleyMarker = 1; undefined`))

	var conv struct{ Sid string }
	b.rest("POST", "/v1/Conversations", map[string]string{"FriendlyName": "Support <b>bold</b>", "UniqueName": "support-1"}, 201, &conv)
	row := `document.querySelector('tr[data-sid=` + jsString(conv.Sid) + `]')`
	b.wait("the new conversation in the list", row)
	if !evalAs[bool](b, `window.parleyMarker === 1`) {
		t.Fatal("the page reloaded")
	}
	if txt := evalAs[string](b, row+`.textContent`); !strings.Contains(txt, "Support <b>bold</b>") {
		t.Errorf("row text %q", txt)
	}
	// Search by participant identity (server side) and by unique name (client side).
	b.rest("POST", "/v1/Conversations/"+conv.Sid+"/Participants", map[string]string{"Identity": "alice", "Attributes": `{"tier":"gold"}`}, 201, nil)
	b.rest("POST", "/v1/Conversations/"+conv.Sid+"/Participants", map[string]string{"Identity": "bob"}, 201, nil)
	b.rest("POST", "/v1/Conversations/"+conv.Sid+"/Participants", map[string]string{"MessagingBinding.Address": "+15551230000",
		"MessagingBinding.ProxyAddress": "+15559870000"}, 201, nil)
	var other struct{ Sid string }
	b.rest("POST", "/v1/Conversations", map[string]string{"FriendlyName": "Other"}, 201, &other)
	b.wait("the second conversation", `document.querySelector('tr[data-sid=`+jsString(other.Sid)+`]')`)
	b.shot("conversations")
	for _, q := range []string{"alice", "support-1", "+15551230000"} {
		b.do("search "+q, set(`#view input[type=search]`, q))
		b.wait("search results for "+q, `document.querySelectorAll('#view tbody tr').length === 1 && `+row)
	}
	b.do("clear the search", set(`#view input[type=search]`, ""))

	// Open it.
	b.do("open the conversation", chromedp.Click(chromedp.CSS(`a[href^="#/conversations/`+conv.Sid+`"]`)))
	b.wait("the conversation", `document.getElementById('conversation-state') && document.getElementById('conversation-state').textContent === 'active'`)
	b.wait("its participants", `[...document.querySelectorAll('#view tbody tr')].length === 3`)
	b.wait("the author choices", `[...document.querySelectorAll('form[aria-label="Send a message"] option')].some(o => o.value === 'alice')`)

	// Send as alice.
	b.do("send a message",
		set(`form[aria-label="Send a message"] select`, "alice"),
		chromedp.SendKeys(chromedp.CSS(`form[aria-label="Send a message"] textarea`), "Hello from the console"),
		chromedp.Click(chromedp.CSS(`form[aria-label="Send a message"] button[type=submit]`)))
	b.wait("the message in the timeline", `[...document.querySelectorAll('.timeline .msg .body')].some(e => e.textContent === 'Hello from the console')`)
	var msgs struct {
		Messages []struct {
			Author, Sid string
			Body        *string
		}
	}
	b.rest("GET", "/v1/Conversations/"+conv.Sid+"/Messages", nil, 200, &msgs)
	if len(msgs.Messages) != 1 || msgs.Messages[0].Author != "alice" || msgs.Messages[0].Body == nil || *msgs.Messages[0].Body != "Hello from the console" {
		t.Fatalf("messages over REST: %+v", msgs.Messages)
	}

	// A hostile body, author and attributes arrive live and render as text.
	const xss = `<img src=x onerror=alert(1)>`
	b.rest("POST", "/v1/Conversations/"+conv.Sid+"/Messages", map[string]string{"Author": "bob", "Body": xss,
		"Attributes": `{"html":"<script>alert(2)</script>"}`}, 201, nil)
	b.wait("the hostile message", `[...document.querySelectorAll('.timeline .msg .body')].some(e => e.textContent === `+jsString(xss)+`)`)
	if n := evalAs[int](b, `document.querySelectorAll('#view img, #view script, #view b').length`); n != 0 {
		t.Errorf("%d elements made from data", n)
	}
	b.noDialogs()
	b.shot("conversation")

	// Remove bob.
	b.do("remove bob", chromedp.Click(chromedp.CSS(`button[aria-label="Remove bob"]`)))
	b.wait("bob gone", `!document.querySelector('button[aria-label="Remove bob"]') && document.querySelectorAll('#view tbody tr').length === 2`)
	var parts struct{ Participants []struct{ Identity *string } }
	b.rest("GET", "/v1/Conversations/"+conv.Sid+"/Participants", nil, 200, &parts)
	if len(parts.Participants) != 2 {
		t.Errorf("participants over REST: %d", len(parts.Participants))
	}

	// Webhook deliveries: a post-event webhook fired by a REST change shows up in the log.
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) }))
	t.Cleanup(app.Close)
	b.rest("POST", "/v1/Configuration/Webhooks", map[string]string{"PostWebhookUrl": app.URL + "/hook", "Filters": "onMessageAdded", "Target": "webhook"}, 200, nil)
	b.do("open the delivery log", chromedp.Navigate(b.srv.URL+"/#/deliveries"))
	b.wait("the delivery log", `document.querySelector('#view h2') && document.querySelector('#view h2').textContent === 'Webhook deliveries' && document.querySelector('#view .card p.note')`)
	code, body := b.srv.DoAs(t, testserver.AccountSid, testserver.AuthToken, "POST", "/v1/Conversations/"+conv.Sid+"/Messages",
		map[string]string{"Author": "alice", "Body": "with a webhook"}, map[string]string{"X-Twilio-Webhook-Enabled": "true"})
	if code != 201 {
		t.Fatalf("message with webhook: %d %s", code, body)
	}
	b.wait("the delivery", `[...document.querySelectorAll('#view details.msg summary')].some(s => s.textContent.includes('onMessageAdded'))`)
	b.do("open the delivery", chromedp.Click(chromedp.CSS(`#view details.msg summary`)))
	b.wait("its parameters", `[...document.querySelectorAll('#view details.msg td')].some(td => td.textContent === 'with a webhook')`)
	b.shot("deliveries")

	b.do("open the outbox", chromedp.Navigate(b.srv.URL+"/#/outbox"))
	b.wait("the outbox", `document.querySelector('#view h2') && document.querySelector('#view h2').textContent === 'SMS/WhatsApp outbox' && document.querySelector('#view table, #view .card p.note')`)
	b.shot("outbox")
	b.noDialogs()
}

// TestBrowserClock: advancing the clock from the console turns a conversation with an
// inactivity timer inactive, live (the clock view's table refreshes on the change stream).
func TestBrowserClock(t *testing.T) {
	b := newTab(t)
	var conv struct{ Sid string }
	b.rest("POST", "/v1/Conversations", map[string]string{"FriendlyName": "Timed", "Timers.Inactive": "PT1H", "Timers.Closed": "P1D"}, 201, &conv)
	b.do("open the conversation", chromedp.Navigate(b.srv.URL+"/#/conversations/"+conv.Sid))
	b.signIn(testserver.AccountSid, testserver.AuthToken)
	b.wait("the conversation", `document.getElementById('conversation-state') && document.getElementById('conversation-state').textContent === 'active'`)
	b.do("open the clock", chromedp.Navigate(b.srv.URL+"/#/clock"))
	b.wait("the live stream", `document.querySelector('#live.on')`)
	b.wait("the clock", `document.getElementById('clock-now') && document.getElementById('clock-now').textContent === '2015-12-16 22:18:37Z'`)
	row := `[...document.querySelectorAll('#view tbody tr')].find(tr => tr.textContent.includes(` + jsString(conv.Sid) + `))`
	b.wait("the timed conversation, active", row+` && `+row+`.querySelector('.badge.active')`)
	b.do("advance two hours",
		set(`form[aria-label="Advance the clock"] select`, "PT2H"),
		chromedp.Click(chromedp.CSS(`form[aria-label="Advance the clock"] button[type=submit]`)))
	b.wait("the clock to move", `document.getElementById('clock-now').textContent === '2015-12-17 00:18:37Z'`)
	b.wait("the conversation to turn inactive", row+` && `+row+`.querySelector('.badge.inactive')`)
	b.shot("clock")
	var got struct{ State string }
	b.rest("GET", "/v1/Conversations/"+conv.Sid, nil, 200, &got)
	if got.State != "inactive" {
		t.Errorf("state over REST: %q", got.State)
	}
	b.do("open the conversation", chromedp.Navigate(b.srv.URL+"/#/conversations/"+conv.Sid))
	b.wait("the inactive conversation", `document.getElementById('conversation-state') && document.getElementById('conversation-state').textContent === 'inactive'`)
	b.noDialogs()
}

// TestBrowserSnapshot: the console downloads a snapshot of the account, resets the account
// (after confirmation) and restores the snapshot; REST sees each step.
func TestBrowserSnapshot(t *testing.T) {
	b := newTab(t)
	b.rest("POST", "/v1/Conversations", map[string]string{"FriendlyName": "Saved"}, 201, nil)
	b.do("open the admin view", chromedp.Navigate(b.srv.URL+"/#/admin"))
	b.signIn(testserver.AccountSid, testserver.AuthToken)
	b.wait("the download button", `document.getElementById('snapshot-download')`)
	b.shot("admin")
	data := b.download("#snapshot-download")
	var doc struct {
		Version int `json:"version"`
	}
	if err := json.Unmarshal([]byte(data), &doc); err != nil || doc.Version != 1 || !strings.Contains(data, "Saved") {
		t.Fatalf("snapshot (%v): %.300s", err, data)
	}
	conversations := func() int {
		var page struct {
			Conversations []struct {
				FriendlyName string `json:"friendly_name"`
			}
		}
		b.rest("GET", "/v1/Conversations", nil, 200, &page)
		return len(page.Conversations)
	}
	// Reset needs the confirmation box.
	b.do("reset without confirming", chromedp.Click(chromedp.CSS(`form[aria-label="Reset"] button[type=submit]`)))
	b.wait("the refusal", `[...document.querySelectorAll('#view .flash.bad')].some(e => e.textContent.includes('Tick the box'))`)
	if n := conversations(); n != 1 {
		t.Fatalf("%d conversations after a refused reset", n)
	}
	b.do("reset", chromedp.Click(chromedp.CSS(`form[aria-label="Reset"] input[type=checkbox]`)),
		chromedp.Click(chromedp.CSS(`form[aria-label="Reset"] button[type=submit]`)))
	b.wait("the reset", `[...document.querySelectorAll('#view .flash')].some(e => e.textContent === 'The account was reset.')`)
	if n := conversations(); n != 0 {
		t.Fatalf("%d conversations after the reset", n)
	}
	file := filepath.Join(t.TempDir(), "snapshot.json")
	if err := os.WriteFile(file, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	b.do("restore the snapshot",
		chromedp.SetUploadFiles(chromedp.CSS(`input[type=file]`), []string{file}),
		chromedp.Click(chromedp.CSS(`form[aria-label="Restore a snapshot"] button[type=submit]`)))
	b.wait("the restore", `[...document.querySelectorAll('#view .flash')].some(e => e.textContent === 'Snapshot restored.')`)
	if n := conversations(); n != 1 {
		t.Fatalf("%d conversations after the restore", n)
	}
	b.do("open the conversations", chromedp.Navigate(b.srv.URL+"/#/conversations"))
	b.wait("the restored conversation", `[...document.querySelectorAll('#view tbody tr')].some(tr => tr.textContent.includes('Saved'))`)
	b.noDialogs()
}

// TestBrowserFaultsAndRequests: the request log shows the account's API requests (parameters
// as text), and the faults view arms a fault that fails the next matching request, then
// deletes it.
func TestBrowserFaultsAndRequests(t *testing.T) {
	b := newTab(t)
	b.rest("POST", "/v1/Conversations", map[string]string{"FriendlyName": "<i>x</i>"}, 201, nil)
	b.do("open the request log", chromedp.Navigate(b.srv.URL+"/#/requests"))
	b.signIn(testserver.AccountSid, testserver.AuthToken)
	b.wait("the request", `[...document.querySelectorAll('#view tbody tr')].some(tr => tr.textContent.includes('/v1/Conversations') && tr.textContent.includes('201'))`)
	b.do("open its parameters", chromedp.Click(chromedp.CSS(`#view tbody details summary`)))
	b.wait("the parameters", `[...document.querySelectorAll('#view tbody pre')].some(p => p.textContent.includes('<i>x</i>'))`)
	if n := evalAs[int](b, `document.querySelectorAll('#view i').length`); n != 0 {
		t.Error("request parameters rendered as HTML")
	}
	b.shot("requests")

	b.do("open the faults", chromedp.Navigate(b.srv.URL+"/#/faults"))
	b.wait("no faults", `[...document.querySelectorAll('#view p.note')].some(p => p.textContent === 'No faults armed.')`)
	b.do("arm a fault",
		set(`form[aria-label="Fail API requests"] input[name=Method]`, "POST"),
		set(`form[aria-label="Fail API requests"] input[name=Path]`, "/v1/Conversations"),
		set(`form[aria-label="Fail API requests"] input[name=Status]`, "503"),
		set(`form[aria-label="Fail API requests"] input[name=Code]`, "20503"),
		set(`form[aria-label="Fail API requests"] input[name=Count]`, "2"),
		chromedp.Click(chromedp.CSS(`form[aria-label="Fail API requests"] button[type=submit]`)))
	del := `document.querySelector('button[aria-label^="Delete fault FI"]')`
	b.wait("the fault", del+` && [...document.querySelectorAll('#view tbody tr')].some(tr => tr.textContent.includes('POST /v1/Conversations') && tr.textContent.includes('2 of 2'))`)
	b.shot("faults")
	if code, body := b.srv.Do(t, "POST", "/v1/Conversations", map[string]string{"FriendlyName": "failed"}); code != 503 || !strings.Contains(string(body), `"code":20503`) {
		t.Fatalf("request under the fault: %d %s", code, body)
	}
	// A fault firing is no change of the account's state (no event): open the views afresh.
	b.do("open the request log", chromedp.Navigate(b.srv.URL+"/#/requests"))
	b.wait("the failed request", `[...document.querySelectorAll('#view tbody tr')].some(tr => tr.textContent.includes('/v1/Conversations') && tr.textContent.includes('20503'))`)
	b.do("open the faults", chromedp.Navigate(b.srv.URL+"/#/faults"))
	b.wait("one left", `[...document.querySelectorAll('#view tbody tr')].some(tr => tr.textContent.includes('1 of 2'))`)
	b.do("delete it", chromedp.Click(chromedp.CSS(`button[aria-label^="Delete fault FI"]`)))
	b.wait("no faults", `[...document.querySelectorAll('#view p.note')].some(p => p.textContent === 'No faults armed.')`)
	b.rest("POST", "/v1/Conversations", map[string]string{"FriendlyName": "after"}, 201, nil)
	b.noDialogs()
}

// download clicks sel, which makes the console save a Blob (a[download] over an object URL),
// and returns the Blob's text. It records the Blobs the page turns into URLs rather than
// relying on the browser's download manager, so that it needs no download directory.
func (b *tab) download(sel string) string {
	b.t.Helper()
	b.do("watch object URLs", chromedp.Evaluate[chromedp.Void](`window.parleyBlobs = []; window.parleyURL = window.parleyURL || URL.createObjectURL;`+
		` URL.createObjectURL = (x) => { window.parleyBlobs.push(x); return window.parleyURL(x); }; undefined`))
	b.do("click "+sel, chromedp.Click(chromedp.CSS(sel)))
	b.wait("the download", `window.parleyBlobs.length === 1`)
	text, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`window.parleyBlobs[0].text()`, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("read the downloaded blob: %v", err)
	}
	return text
}

// TestBrowserWebhookResend: a delivery whose first attempt failed (500) and whose retry
// succeeded shows both attempts with the signed request and the answers; Resend sends the
// same event again as a new delivery, which reaches the application and appears live.
func TestBrowserWebhookResend(t *testing.T) {
	b := newTab(t)
	var mu sync.Mutex
	var got []string // the idempotency tokens of the requests the application got
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n := len(got)
		got = append(got, r.Header.Get("I-Twilio-Idempotency-Token"))
		mu.Unlock()
		if n == 0 {
			w.WriteHeader(500)
			_, _ = w.Write([]byte("<b>not yet</b>"))
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(app.Close)
	requests := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), got...)
	}
	b.rest("POST", "/v1/Configuration/Webhooks", map[string]string{"PostWebhookUrl": app.URL + "/hook", "Filters": "onConversationAdded", "Target": "webhook"}, 200, nil)
	b.do("open the console", chromedp.Navigate(b.srv.URL+"/#/deliveries"))
	b.signIn(testserver.AccountSid, testserver.AuthToken)
	b.wait("the live stream", `document.querySelector('#live.on')`)
	b.wait("the delivery log", `document.querySelector('#view h2') && document.querySelector('#view h2').textContent === 'Webhook deliveries'`)
	code, body := b.srv.DoAs(t, testserver.AccountSid, testserver.AuthToken, "POST", "/v1/Conversations", map[string]string{"FriendlyName": "hooked"},
		map[string]string{"X-Twilio-Webhook-Enabled": "true"})
	if code != 201 {
		t.Fatalf("conversation with webhook: %d %s", code, body)
	}
	b.wait("the failed first attempt", `[...document.querySelectorAll('#view details.msg summary')].some(s => s.textContent.includes('last answer 500'))`)
	// The retry is due after the back-off on Parley's clock: advance it.
	b.rest("POST", "/parley/v1/Clock", map[string]string{"Advance": "PT1M"}, 200, nil)
	b.wait("the delivered retry", `[...document.querySelectorAll('#view details.msg summary')].some(s => s.textContent.includes('delivered') && s.textContent.includes('2 attempts'))`)
	var log struct{ Deliveries []struct{ Sid string } }
	b.rest("GET", "/parley/v1/Webhooks/Deliveries", nil, 200, &log)
	if len(log.Deliveries) != 1 {
		t.Fatalf("deliveries: %+v", log.Deliveries)
	}
	sid := log.Deliveries[0].Sid
	det := `document.querySelector('#view details.msg[data-sid=` + jsString(sid) + `]')`
	b.do("open the delivery", chromedp.Click(chromedp.CSS(`#view details.msg[data-sid="`+sid+`"] summary`)))
	b.wait("both attempts", det+`.querySelectorAll('section.attempt').length === 2`)
	first, second := det+`.querySelector('section.attempt[data-attempt="1"]')`, det+`.querySelector('section.attempt[data-attempt="2"]')`
	b.wait("the first attempt's request and answer", first+`.querySelector('.attempt-error').textContent === 'HTTP 500' && `+
		first+`.querySelector('.attempt-response').textContent === '<b>not yet</b>' && `+
		first+`.querySelector('.attempt-body').textContent.includes('RetryCount=0') && `+
		`[...`+first+`.querySelectorAll('td')].some(td => td.textContent === 'X-Twilio-Signature')`)
	b.wait("the second attempt", second+`.querySelector('.attempt-response').textContent === 'ok' && `+second+`.querySelector('.attempt-body').textContent.includes('RetryCount=1')`)
	if n := evalAs[int](b, `document.querySelectorAll('#view b, #view script, #view img').length`); n != 0 {
		t.Errorf("%d elements made from data", n)
	}
	b.shot("webhook-attempts")

	b.do("resend", chromedp.Click(chromedp.CSS(`button[aria-label="Resend `+sid+`"]`)))
	b.wait("the resent delivery, delivered", `[...document.querySelectorAll('#view details.msg summary')].some(s => s.textContent.includes('resent from `+sid+`') && s.textContent.includes('delivered'))`)
	rs := requests()
	if len(rs) != 3 || rs[0] != sid || rs[1] != sid || rs[2] == sid || !strings.HasPrefix(rs[2], "WD") {
		t.Fatalf("the application got %q", rs)
	}
	// The new delivery opened by itself and shows its one attempt.
	b.wait("the resent delivery's attempt", `document.querySelector('#view details.msg[data-sid=`+jsString(rs[2])+`][open] section.attempt[data-attempt="1"]')`)
	b.noDialogs()
}
