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

	"github.com/parley-dev/parley/internal/app"
	"github.com/parley-dev/parley/internal/console"
	"github.com/parley-dev/parley/internal/control"
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
	// Control is the control plane (POST /parley/v1/Clock adds its offset to Clock).
	Control *control.Plane
	// Changes is the web console's change broker (the console is served at /).
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
// Account2Sid) and an API key for the first. It is built by app.New, as "parley serve" is,
// with test options: the settable Clock, sequential SIDs, the event Recorder, quick polling,
// and the control plane (its clock offset is added to Clock; metrics on).
// Every /v1 response is validated against the spec; a response that does not validate fails
// t.
func New(t testing.TB, e storetest.Engine) *Server {
	t.Helper()
	st := e.Open(t)
	clock := &Clock{t: time.Date(2015, 12, 16, 22, 18, 37, 0, time.UTC)}
	rec := &Recorder{}
	carrier := &Carrier{}
	spec := Spec(t)
	cfg := app.Config{
		Accounts:     []app.Account{{Sid: AccountSid, AuthToken: AuthToken}, {Sid: Account2Sid, AuthToken: Auth2Token}},
		APIKeys:      []app.APIKey{{Sid: APIKeySid, Secret: APIKeySecret, AccountSid: AccountSid}},
		MaxBodyBytes: 64 << 10,
		// Reads apply due timers; a loop on a clock that only moves when told would only
		// race with the tests.
		TimerInterval: -1,
		// The control plane as "parley serve" runs it (SIDs come from Options.SIDs).
		Control: app.ControlConfig{Metrics: true},
	}
	a, err := app.New(context.Background(), cfg, app.Options{
		Store: st, Clock: clock.Now, SIDs: &conv.SequentialSIDs{}, Events: rec, Carrier: carrier,
		Wrap: func(path string, h http.Handler) http.Handler {
			if path == "/v1/" {
				return Validating(t, spec, h)
			}
			return h // Parley's own endpoints are outside Twilio's spec (and streamed)
		},
		// With the test clock standing still, a failed attempt is retried only when the
		// test advances it (and, for webhooks, wakes the dispatcher).
		WebhookPoll: 50 * time.Millisecond, DeliveryPoll: 20 * time.Millisecond, DeliverySendTimeout: 5 * time.Second,
		StreamPoll: 50 * time.Millisecond, StreamHeartbeat: time.Second,
		DeliveryLog: slog.New(slog.NewTextHandler(testLog{t}, nil)), // dispatch errors go to the test log
	})
	if err != nil {
		t.Fatalf("testserver: %v", err)
	}
	carrier.Set(delivery.NewOutbox(a.Service))
	hs := httptest.NewServer(a.Handler())
	t.Cleanup(hs.Close)
	// Runs before hs.Close: closing the hub ends the live streams, which would hold it.
	t.Cleanup(func() { _ = a.Close() })
	a.Start(context.Background())
	return &Server{URL: hs.URL, Store: st, Service: a.Service, Clock: clock, Events: rec, Hub: a.Hub, Carrier: carrier, Webhooks: a.Webhooks,
		Control: a.Control, Changes: a.Changes}
}

// Validating wraps h so that every response it writes is checked against spec; failures are
// reported with t.Errorf.
func Validating(t testing.TB, spec *oapi.Spec, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if httpapi.IsMediaPath(r.URL.Path) { // the Media Content Service is not in the Conversations spec
			h.ServeHTTP(w, r)
			return
		}
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
