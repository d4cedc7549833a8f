package webhook_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/twilio/twilio-go/client"

	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/store/storetest"
	"github.com/parley-dev/parley/internal/webhook"
)

const (
	accountSid = "AC0123456789abcdef0123456789abcdef"
	authToken  = "authtoken123"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// request is one webhook request a receiver got.
type request struct {
	Method    string
	URL       string // as the receiver was called: scheme, host, path and query
	Params    url.Values
	Signature string
	Header    http.Header
	// ValidGo is twilio-go's RequestValidator verdict on the signature.
	ValidGo bool
}

// receiver is a real local HTTP server that records webhook requests and answers them as
// answer says (default 200 with an empty body).
type receiver struct {
	t      testing.TB
	srv    *httptest.Server
	mu     sync.Mutex
	got    []request
	answer func(n int, r request) (status int, body string, delay time.Duration)
}

func newReceiver(t testing.TB) *receiver {
	rc := &receiver{t: t}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

// URL returns the receiver's URL for path.
func (rc *receiver) URL(path string) string { return rc.srv.URL + path }

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	full := "http://" + r.Host + r.URL.RequestURI()
	req := request{Method: r.Method, URL: full, Signature: r.Header.Get("X-Twilio-Signature"), Header: r.Header.Clone()}
	rv := client.NewRequestValidator(authToken)
	if r.Method == http.MethodGet {
		req.Params = r.URL.Query()
		req.ValidGo = rv.Validate(full, map[string]string{}, req.Signature)
	} else {
		req.Params, _ = url.ParseQuery(string(body))
		flat := map[string]string{}
		for k := range req.Params {
			flat[k] = req.Params.Get(k)
		}
		req.ValidGo = rv.Validate(full, flat, req.Signature) && rv.ValidateBody(full, body, req.Signature)
	}
	rc.mu.Lock()
	n := len(rc.got)
	rc.got = append(rc.got, req)
	answer := rc.answer
	rc.mu.Unlock()
	status, out, delay := http.StatusOK, "", time.Duration(0)
	if answer != nil {
		status, out, delay = answer(n, req)
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, out)
}

// requests returns what the receiver got so far.
func (rc *receiver) requests() []request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]request(nil), rc.got...)
}

// events returns the EventType of each request so far.
func (rc *receiver) events() []string {
	var out []string
	for _, r := range rc.requests() {
		out = append(out, r.Params.Get("EventType"))
	}
	return out
}

// waitFor waits until the receiver got n requests (failing t after 10 s).
func (rc *receiver) waitFor(n int) []request {
	rc.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := rc.requests()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			rc.t.Fatalf("receiver got %d requests, want %d: %v", len(got), n, rc.events())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// env is a Service over a fresh store of one engine, with a dispatcher that tests drive by
// hand (Drain) on a fake clock.
type env struct {
	t     *testing.T
	ctx   context.Context
	st    conv.Store
	svc   *conv.Service
	d     *webhook.Dispatcher
	clock *fakeClock
	sc    conv.Scope
	svcID string // the default service
}

func newEnv(t *testing.T, e storetest.Engine, o webhook.Options) *env {
	t.Helper()
	st := e.Open(t)
	clock := &fakeClock{t: time.Date(2015, 12, 16, 22, 18, 37, 0, time.UTC)}
	o.Clock = clock.Now
	if o.Timeout == 0 {
		o.Timeout = 2 * time.Second
	}
	n := webhook.NewNotifier()
	svc := conv.NewService(st, conv.Options{Clock: clock.Now, SIDs: &conv.SequentialSIDs{}, Events: n, WebhookFormat: webhook.Format{},
		PreHook: webhook.NewCaller(nil, o.Timeout)})
	o.Wake = n.C()
	d := webhook.New(svc, o)
	ctx := context.Background()
	if _, err := svc.EnsureAccount(ctx, accountSid, authToken); err != nil {
		t.Fatal(err)
	}
	is, err := svc.ResolveService(ctx, conv.Scope{AccountSid: accountSid})
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, ctx: ctx, st: st, svc: svc, d: d, clock: clock, sc: conv.Scope{AccountSid: accountSid}, svcID: is.Sid}
}

// drain sends every due delivery and returns how many attempts it made.
func (e *env) drain() int {
	e.t.Helper()
	n, err := e.d.Drain(e.ctx)
	if err != nil {
		e.t.Fatalf("Drain: %v", err)
	}
	return n
}

// serviceHooks configures the default service's webhooks.
func (e *env) serviceHooks(pre, post string, filters ...string) {
	e.t.Helper()
	p := conv.WebhookConfigParams{PreWebhookURL: &pre, PostWebhookURL: &post, Filters: filters, FiltersGiven: true}
	if _, err := e.svc.UpdateServiceWebhookConfig(e.ctx, e.sc, p); err != nil {
		e.t.Fatalf("UpdateServiceWebhookConfig: %v", err)
	}
}

// deliveries returns the account's delivery log.
func (e *env) deliveries() []*conv.WebhookDelivery {
	e.t.Helper()
	ds, err := e.svc.ListWebhookDeliveries(e.ctx, accountSid, conv.WebhookDeliveryFilter{}, conv.PageQuery{Size: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	return ds
}

var (
	api    = conv.WriteOptions{WebhookEnabled: true}
	apiOff = conv.WriteOptions{}
)

func ptr[T any](v T) *T { return &v }

// want checks that v holds exactly the parameters of w.
func want(t *testing.T, what string, v url.Values, w map[string]string) {
	t.Helper()
	got := map[string]string{}
	for k := range v {
		if len(v[k]) != 1 {
			t.Errorf("%s: parameter %s sent %d times", what, k, len(v[k]))
		}
		got[k] = v.Get(k)
	}
	for k, x := range w {
		if got[k] != x {
			t.Errorf("%s: %s = %q, want %q", what, k, got[k], x)
		}
	}
	for k := range got {
		if _, ok := w[k]; !ok {
			t.Errorf("%s: unexpected parameter %s=%q", what, k, got[k])
		}
	}
}
