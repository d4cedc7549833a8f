package chatsdk_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/parley-dev/parley/internal/accesstoken"
	"github.com/parley-dev/parley/internal/app"
	"github.com/parley-dev/parley/internal/browsertest"
	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/gateway"
	"github.com/parley-dev/parley/internal/store/storetest"
)

// sdkBundle is the SDK's standalone browser build (global Twilio.Conversations.Client).
const sdkBundle = "node_modules/@twilio/conversations/builds/twilio-conversations.js"

// browserPage is the test page: two SDK clients (alice, bob) in one page; alice sends a PNG
// as a Blob and a text file as FormData, bob receives the message, resolves the PNG's
// temporary URL and downloads it cross-origin. It reports into #result (JSON) or #error.
const browserPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>parley sdk</title>
<script src="/sdk.js"></script></head>
<body><pre id="result"></pre><pre id="error"></pre>
<script>
const cfg = %s;
const hex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, "0")).join("");
async function login(token) {
  const client = new Twilio.Conversations.Client(token, { Twilsock: { uri: cfg.gateway }, logLevel: "silent" });
  if (client.state !== "initialized") {
    await new Promise((resolve, reject) => client.on("stateChanged", (s) => {
      if (s === "initialized") resolve();
      if (s === "failed") reject(new Error("client initialisation failed"));
    }));
  }
  await client.getSubscribedConversations();
  return client;
}
async function run() {
  const alice = await login(cfg.alice), bob = await login(cfg.bob);
  const ac = await alice.getConversationBySid(cfg.conversation);
  const bc = await bob.getConversationBySid(cfg.conversation);
  await ac.getMessages();
  await bc.getMessages();
  const added = new Promise((resolve) => bc.on("messageAdded", (m) => { if (m.body === "look") resolve(m); }));
  const png = Uint8Array.from(cfg.png);
  const form = new FormData();
  form.append("file", new Blob([cfg.text], { type: "text/plain" }), "note.txt");
  const index = await ac.prepareMessage().setBody("look")
    .addMedia({ contentType: "image/png", filename: "cat.png", media: new Blob([png], { type: "image/png" }) })
    .addMedia(form)
    .build().send();
  const m = await added;
  const am = m.attachedMedia;
  const url = await am[0].getContentTemporaryUrl();
  const res = await fetch(url);
  const body = await res.arrayBuffer();
  const urls = await m.getTemporaryContentUrlsForAttachedMedia();
  const text = await (await fetch(urls.get(am[1].sid))).text();
  const out = {
    sid: m.sid, index: m.index, sentIndex: index, type: m.type, url, status: res.status,
    contentType: res.headers.get("Content-Type"), hex: hex(body), text,
    media: am.map((x) => ({ sid: x.sid, contentType: x.contentType, filename: x.filename, size: x.size })),
  };
  await alice.shutdown();
  await bob.shutdown();
  return out;
}
run().then(
  (out) => { document.getElementById("result").textContent = JSON.stringify(out); },
  (err) => { document.getElementById("error").textContent = String(err && err.stack || err); });
</script></body></html>`

// TestBrowserMedia runs the SDK's browser bundle in headless Chromium against the real server
// (gateway and MCS routes from the composition root), from a page on another origin, so the
// media upload, the temporary URL and its download all cross origins as in a web app.
func TestBrowserMedia(t *testing.T) {
	nodeOrSkip(t) // the bundle comes from tests/chatsdk/node_modules
	if _, err := os.Stat(sdkBundle); err != nil {
		t.Fatalf("%s: %v; %s", sdkBundle, err, setupHint)
	}
	chromium := browsertest.Chromium(t, "the browser SDK test")

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	a, err := app.New(ctx, app.Config{TimerInterval: -1}, app.Options{Store: storetest.SQLite.Open(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	acct := a.Accounts[0]
	svc, err := a.Service.ResolveService(ctx, conv.Scope{AccountSid: acct.Sid})
	if err != nil {
		t.Fatal(err)
	}
	a.Start(ctx)
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()

	rest := func(method, path string, form url.Values, want int) map[string]any {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, method, srv.URL+path, strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.SetBasicAuth(acct.Sid, acct.AuthToken)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != want {
			t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, body)
		}
		var out map[string]any
		if err := json.Unmarshal(body, &out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		return out
	}
	// The API key signs the tokens, as a customer's backend would.
	if err := a.Service.PutAPIKey(ctx, acct.Sid, keySid, keySecret); err != nil {
		t.Fatal(err)
	}
	token := func(identity string) string {
		tok, err := accesstoken.Mint(accesstoken.MintParams{AccountSid: acct.Sid, KeySid: keySid, KeySecret: keySecret,
			Identity: identity, Chat: accesstoken.ChatGrant{ServiceSid: svc.Sid}}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	cv := rest("POST", "/v1/Conversations", url.Values{"FriendlyName": {"browser media"}}, 201)
	convSid, _ := cv["sid"].(string)
	for _, id := range []string{"alice", "bob"} {
		rest("POST", "/v1/Conversations/"+convSid+"/Participants", url.Values{"Identity": {id}}, 201)
	}

	png := []byte{0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 'I', 'H', 'D', 'R', 1, 2, 3, 0x80, 0xfe, 0xff}
	const text = "plain text from a FormData"
	nums := make([]int, len(png)) // the page wants numbers (json.Marshal encodes []byte as base64)
	for i, b := range png {
		nums[i] = int(b)
	}
	cfg, _ := json.Marshal(map[string]any{
		"gateway": "ws" + strings.TrimPrefix(srv.URL, "http") + gateway.Path,
		"alice":   token("alice"), "bob": token("bob"), "conversation": convSid,
		"png": nums, "text": text,
	})
	bundle, err := os.ReadFile(sdkBundle)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, browserPage, cfg)
	})
	mux.HandleFunc("GET /sdk.js", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		_, _ = w.Write(bundle)
	})
	pageSrv := httptest.NewServer(mux) // another port: another origin than Parley's
	defer pageSrv.Close()

	dir := t.TempDir()
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, browsertest.Options(chromium, dir)...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(alloc)
	defer func() {
		_ = chromedp.Cancel(bctx) // closes the browser and waits for it
		cancelBrowser()
	}()
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start %s: %v", chromium, err)
	}
	var mu sync.Mutex
	var logs []string
	go func() {
		for ev, err := range chromedp.Events(bctx, runtime.ExceptionThrown) {
			if err != nil {
				return
			}
			mu.Lock()
			logs = append(logs, "exception: "+ev.ExceptionDetails.Text)
			mu.Unlock()
		}
	}()
	if err := chromedp.Do(bctx, chromedp.Navigate(pageSrv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	// Waits for the page's verdict; ctx bounds the whole test, no step depends on timing.
	if _, err := chromedp.Run(bctx, chromedp.Poll[chromedp.Void](`document.getElementById("result").textContent || document.getElementById("error").textContent`,
		chromedp.WithPollingMutation(), chromedp.WithPollingTimeout(0))); err != nil {
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("waiting for the page: %v; %q", err, logs)
	}
	if msg, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.getElementById("error").textContent`)); err != nil || msg != "" {
		t.Fatalf("the page failed: %q %v", msg, err)
	}
	raw, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.getElementById("result").textContent`))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Sid, Type, URL, ContentType, Hex, Text string
		Status, Index, SentIndex               int
		Media                                  []struct {
			Sid, ContentType string
			Filename         *string
			Size             int
		}
	}
	if err := json.Unmarshal([]byte(raw), &got); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	if got.Index != got.SentIndex {
		t.Errorf("bob received index %d, alice sent %d", got.Index, got.SentIndex)
	}
	if got.Type != "media" || got.Status != 200 || got.ContentType != "image/png" {
		t.Errorf("message type %q, download %d %q", got.Type, got.Status, got.ContentType)
	}
	if !strings.HasPrefix(got.URL, srv.URL+"/") {
		t.Errorf("temporary URL %q is not on Parley's origin %s", got.URL, srv.URL)
	}
	if got.Hex != hex.EncodeToString(png) {
		t.Errorf("downloaded %s, sent %x", got.Hex, png)
	}
	if got.Text != text {
		t.Errorf("FormData attachment downloaded as %q, sent %q", got.Text, text)
	}
	if len(got.Media) != 2 {
		t.Fatalf("attachedMedia %+v", got.Media)
	}

	// REST shows the same media array.
	m := rest("GET", "/v1/Conversations/"+convSid+"/Messages/"+got.Sid, nil, 200)
	media, _ := json.Marshal(m["media"])
	want, _ := json.Marshal([]map[string]any{
		{"sid": got.Media[0].Sid, "size": len(png), "content_type": "image/png", "filename": "cat.png"},
		{"sid": got.Media[1].Sid, "size": len(text), "content_type": "text/plain", "filename": "note.txt"},
	})
	if !bytes.Equal(media, want) {
		t.Errorf("REST media %s, want %s", media, want)
	}
	if m["body"] != "look" || m["author"] != "alice" {
		t.Errorf("REST message body %v author %v", m["body"], m["author"])
	}
}
