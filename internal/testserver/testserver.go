// Package testserver starts Parley's real HTTP API over a fresh store for tests, with every
// response checked against Twilio's OpenAPI spec.
package testserver

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/parley-dev/parley/internal/console"
	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/delivery"
	"github.com/parley-dev/parley/internal/httpapi"
	"github.com/parley-dev/parley/internal/oapi"
	"github.com/parley-dev/parley/internal/store"
	"github.com/parley-dev/parley/internal/store/storetest"
	"github.com/parley-dev/parley/internal/webhook"
)

// Fixed test credentials (alphanumeric, as twilio-go requires).
const (
	AccountSid   = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	AuthToken    = "authtoken123"
	Account2Sid  = "ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	Auth2Token   = "othertoken456"
	APIKeySid    = "SKaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	APIKeySecret = "keysecret789"
)

// Server is a running Parley API for one test.
type Server struct {
	URL     string
	Store   store.Store
	Service *conv.Service
	Clock   *Clock
	Events  *Recorder
	// Hub wakes the dispatcher and live streams; Carrier takes SMS/WhatsApp deliveries
	// (the outbox unless a test sets another).
	Hub     *delivery.Hub
	Carrier *Carrier
	// Webhooks delivers post-event webhooks (on Clock: advance it and Wake for retries).
	Webhooks *webhook.Dispatcher
	// Changes is the web console's change broker (console: the console is served at /).
	Changes *console.Broker
}

// Clock is a settable clock; it starts at 2015-12-16T22:18:37Z and only moves when told.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// Now returns the current fake time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Recorder is an EventSink that keeps every event.
type Recorder struct {
	mu     sync.Mutex
	events []conv.Event
}

// Publish records e.
func (r *Recorder) Publish(_ context.Context, e conv.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

// Events returns the events recorded so far.
func (r *Recorder) Events() []conv.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]conv.Event(nil), r.events...)
}

var loadSpec = sync.OnceValues(func() (*oapi.Spec, error) {
	p, err := oapi.SpecPath()
	if err != nil {
		return nil, err
	}
	return oapi.Load(p)
})

// Spec returns the parsed OpenAPI spec, failing t when it cannot be loaded.
func Spec(t testing.TB) *oapi.Spec {
	t.Helper()
	s, err := loadSpec()
	if err != nil {
		t.Fatalf("load OpenAPI spec: %v", err)
	}
	return s
}

// New starts the API over a fresh store of engine e, with two accounts (AccountSid and
// Account2Sid) and an API key for the first. Every response is validated against the spec;
// a response that does not validate fails t.
func New(t testing.TB, e storetest.Engine) *Server {
	t.Helper()
	st := e.Open(t)
	clock := &Clock{t: time.Date(2015, 12, 16, 22, 18, 37, 0, time.UTC)}
	rec := &Recorder{}
	hub := delivery.NewHub()
	changes := console.NewBroker(0)                                                                               // console
	webhooks := newWebhooks(t, st, clock, slog.New(slog.NewTextHandler(io.Discard, nil)), changes.WebhookSettled) // webhooks.go; console: WebhookSettled
	svc := conv.NewService(st, conv.Options{Clock: clock.Now, SIDs: &conv.SequentialSIDs{}, Events: conv.MultiSink{rec, hub, webhooks, changes},
		PreHook: webhook.NewCaller(nil, 0)})
	ctx := context.Background()
	for _, a := range [][2]string{{AccountSid, AuthToken}, {Account2Sid, Auth2Token}} {
		if _, err := svc.EnsureAccount(ctx, a[0], a[1]); err != nil {
			t.Fatalf("ensure account: %v", err)
		}
	}
	if err := svc.PutAPIKey(ctx, AccountSid, APIKeySid, APIKeySecret); err != nil {
		t.Fatalf("api key: %v", err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	api := httpapi.New(svc, log, httpapi.Options{MaxBodyBytes: 64 << 10})
	spec := Spec(t)
	hs := httptest.NewServer(withParley(Validating(t, spec, api), newParley(svc, log, hub),
		console.New(svc, changes, console.Options{Heartbeat: time.Second}))) // console
	t.Cleanup(hs.Close)
	t.Cleanup(changes.Close)                                              // console: runs before hs.Close, ending the console's event streams
	carrier := startDelivery(t, svc, clock, hub, changes.DeliverySettled) // delivery.go; console: DeliverySettled
	return &Server{URL: hs.URL, Store: st, Service: svc, Clock: clock, Events: rec, Hub: hub, Carrier: carrier, Webhooks: webhooks, Changes: changes}
}

// Validating wraps h so that every response it writes is checked against spec; failures are
// reported with t.Errorf.
func Validating(t testing.TB, spec *oapi.Spec, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(rec, r)
		if err := spec.ValidateResponse(r.Method, r.URL.RequestURI(), rec.status, rec.Header().Get("Content-Type"), rec.body.Bytes()); err != nil {
			t.Errorf("response to %s %s does not match the OpenAPI spec: %v\nbody: %s", r.Method, r.URL.RequestURI(), err, rec.body.String())
		}
	})
}

type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
	wrote  bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

// Do sends one request with the first account's credentials and returns the status and body.
func (s *Server) Do(t testing.TB, method, path string, form map[string]string) (int, []byte) {
	t.Helper()
	return s.DoAs(t, AccountSid, AuthToken, method, path, form, nil)
}

// DoAs sends one request with the given credentials and extra headers.
func (s *Server) DoAs(t testing.TB, user, pass, method, path string, form map[string]string, headers map[string]string) (int, []byte) {
	t.Helper()
	var body io.Reader
	if form != nil {
		vals := make([]string, 0, len(form))
		for k, v := range form {
			vals = append(vals, encode(k)+"="+encode(v))
		}
		body = bytes.NewBufferString(join(vals, "&"))
	}
	req, err := http.NewRequest(method, s.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}
