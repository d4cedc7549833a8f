// Package control assembles Parley's control plane (docs/control-plane.md) for a server: the
// shared clock, fault injection, the request log, metrics, health, the -seed fixture and
// deterministic SIDs. The composition root creates one Plane, passes its Clock and SIDs to
// conv.NewService, its WebhookClient to the webhook dispatcher, wraps the carrier with
// Carrier, hands Faults and Requests to httpapi.ParleyOptions, wraps the routes inside the
// front door with Wrap, mounts Health at /healthz and MetricsHandler at /metrics, and runs
// Run (internal/app does all of this).
package control

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/delivery"
	"github.com/parley-dev/parley/internal/faults"
	"github.com/parley-dev/parley/internal/httpapi"
	"github.com/parley-dev/parley/internal/metrics"
	"github.com/parley-dev/parley/internal/reqlog"
	"github.com/parley-dev/parley/internal/snapshot"
	"github.com/parley-dev/parley/internal/webhook"
)

// Plane holds the control plane's components for one server.
type Plane struct {
	Clock    *conv.Clock // pass as conv.Options.ControlClock
	SIDs     conv.SIDGen // pass as conv.Options.SIDs
	Faults   *faults.Registry
	Requests *reqlog.Log
	Metrics  *metrics.Metrics // nil when metrics are off

	notify Notifier
}

// Notifier hears of the control plane's changes to the emulated world, so that live views
// (the web console's console.Broker) refresh. kind is one of the Change constants; account is
// the account changed, or "" for every account (the clock is shared by all).
type Notifier interface {
	ControlChanged(kind, account string)
}

// Kinds of change a Notifier hears of.
const (
	ChangeClock    = "clock"    // the clock moved (here or on another replica); due timers were applied
	ChangeReset    = "reset"    // POST /parley/v1/Reset
	ChangeSnapshot = "snapshot" // POST /parley/v1/Snapshot restored a document
	ChangeFaults   = "faults"   // a fault was added, deleted or used up (its count reached 0)
)

type nopNotifier struct{}

func (nopNotifier) ControlChanged(string, string) {}

// Options configure a Plane.
type Options struct {
	// BaseClock is the clock the offset is added to (nil: time.Now).
	BaseClock func() time.Time
	// SIDSeed, when set, makes generated SIDs deterministic (an unsigned integer).
	SIDSeed string
	// SIDs, when set, generates SIDs (e.g. conv.SequentialSIDs in tests); else SIDSeed decides.
	SIDs conv.SIDGen
	// Metrics turns on the Prometheus metrics.
	Metrics bool
	// Notifier, when set, hears of the control plane's changes (Notifier).
	Notifier Notifier
}

// New returns a Plane as o configures it.
func New(o Options) (*Plane, error) {
	cp := &Plane{Clock: conv.NewClock(o.BaseClock), SIDs: conv.RandomSIDs{}, notify: o.Notifier}
	if cp.notify == nil {
		cp.notify = nopNotifier{}
	}
	if o.SIDSeed != "" {
		n, err := strconv.ParseUint(o.SIDSeed, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("-sid-seed must be an unsigned integer, not %q", o.SIDSeed)
		}
		cp.SIDs = conv.NewSeededSIDs(n)
	}
	if o.SIDs != nil {
		cp.SIDs = o.SIDs
	}
	sids := cp.SIDs
	notify := cp.notify
	cp.Faults = faults.New(cp.Clock.Now, func() string { return sids.New("FI") },
		func(account string) { notify.ControlChanged(ChangeFaults, account) }) // a fault used up leaves the list
	cp.Requests = reqlog.New(reqlog.DefaultCapacity, cp.Clock.Now, func() string { return sids.New("RQ") })
	if o.Metrics {
		cp.Metrics = metrics.New()
	}
	return cp, nil
}

// WebhookClient is the HTTP client of outgoing webhooks: faults first, then metrics.
func (cp *Plane) WebhookClient() *http.Client {
	c := webhook.NewClient()
	var t http.RoundTripper = http.DefaultTransport
	if cp.Metrics != nil {
		t = cp.Metrics.Transport(t)
	}
	c.Transport = cp.Faults.Transport(faults.TargetWebhook, t)
	return c
}

// Carrier wraps the carrier of SMS/WhatsApp deliveries with carrier faults and metrics.
func (cp *Plane) Carrier(carrierURL string, c delivery.Carrier) delivery.Carrier {
	if carrierURL == "" {
		carrierURL = faults.OutboxURL
	}
	c = cp.Faults.Carrier(carrierURL, c)
	if cp.Metrics != nil {
		c = cp.Metrics.Carrier(c)
	}
	return c
}

// Wrap puts the control plane's middlewares around the API: metrics, then the request log,
// then API faults (so a faulted request is logged and counted), then the notice of the
// changes the control endpoints made (Notifier).
func (cp *Plane) Wrap(h http.Handler, svc *conv.Service) http.Handler {
	auth := func(r *http.Request) (string, bool) {
		user, pass, ok := r.BasicAuth()
		if !ok {
			return "", false
		}
		a, err := svc.Authenticate(r.Context(), user, pass)
		if err != nil {
			return "", false
		}
		return a.Sid, true
	}
	h = cp.notifying(h, auth)
	h = cp.Faults.Middleware(h, auth)
	h = cp.Requests.Middleware(h, auth)
	if cp.Metrics != nil {
		h = cp.Metrics.Middleware(h)
	}
	return h
}

// changeOf returns the kind of change a request to a control endpoint makes when it succeeds,
// or "" for any other request. The clock is not here: Run announces every move of it, this
// replica's or another's.
func changeOf(r *http.Request) string {
	switch p := r.URL.Path; {
	case r.Method == http.MethodPost && p == "/parley/v1/Reset":
		return ChangeReset
	case r.Method == http.MethodPost && p == "/parley/v1/Snapshot":
		return ChangeSnapshot
	case r.Method == http.MethodPost && p == "/parley/v1/Faults",
		r.Method == http.MethodDelete && strings.HasPrefix(p, "/parley/v1/Faults/"):
		return ChangeFaults
	}
	return ""
}

// notifying tells the Notifier of the changes the control endpoints made: after a 2xx answer
// to a request that changes the caller's account (changeOf).
func (cp *Plane) notifying(h http.Handler, auth func(*http.Request) (string, bool)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kind := changeOf(r)
		if kind == "" {
			h.ServeHTTP(w, r)
			return
		}
		sw := &httpapi.StatusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		if st := sw.StatusCode(); st >= 200 && st < 300 {
			if account, ok := auth(r); ok {
				cp.notify.ControlChanged(kind, account)
			}
		}
	})
}

// Health serves GET /healthz, without credentials: {"status":"ok"} when the store answers
// within 2 s, else 503.
func (cp *Plane) Health(svc *conv.Service) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", httpapi.Health(svc.Ping, 2*time.Second))
	return mux
}

// MetricsHandler serves GET /metrics (Prometheus), without credentials; nil when metrics
// are off.
func (cp *Plane) MetricsHandler() http.Handler {
	if cp.Metrics == nil {
		return nil
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", cp.Metrics.Handler())
	return mux
}

// Run re-reads the shared clock offset every second (other replicas may advance it) and, when
// the clock moves, applies due conversation timers and wakes the webhook and delivery
// dispatchers (whose retries may have fallen due), until ctx is done; stop waits for it.
func (cp *Plane) Run(ctx context.Context, svc *conv.Service, webhooks *webhook.Dispatcher, hub *delivery.Hub, log *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	wake, unsubscribe := cp.Clock.Subscribe()
	go func() {
		defer close(done)
		defer unsubscribe()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := svc.SyncClock(ctx); err != nil && ctx.Err() == nil {
					log.Warn("clock sync", slog.Any("err", err))
				}
			case <-wake:
				if _, err := svc.ApplyTimers(ctx, svc.Now()); err != nil && ctx.Err() == nil {
					log.Warn("conversation timers", slog.Any("err", err))
				}
				webhooks.Wake()
				hub.Wake("")
				cp.notify.ControlChanged(ChangeClock, "") // after the timers, so views see their effect
			}
		}
	}()
	return func() { cancel(); <-done }
}

// Seed loads the snapshot file path into account when the account is empty (no conversations,
// users or extra services); otherwise it logs that it skipped it.
func (cp *Plane) Seed(ctx context.Context, path string, svc *conv.Service, account string, log *slog.Logger) error {
	if path == "" {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("-seed: %w", err)
	}
	defer f.Close()
	decode := snapshot.Decode
	if ext := strings.ToLower(filepath.Ext(path)); ext == ".yaml" || ext == ".yml" {
		decode = snapshot.DecodeYAML
	}
	snap, err := decode(f)
	if err != nil {
		return fmt.Errorf("-seed %s: %w", path, err)
	}
	cur, err := svc.Snapshot(ctx, account)
	if err != nil {
		return err
	}
	if len(cur.Tables["conversations"]) > 0 || len(cur.Tables["users"]) > 0 || len(cur.Tables["services"]) > 1 {
		log.Info("-seed skipped: the account already has data", slog.String("account", account), slog.String("seed", path))
		return nil
	}
	if err := svc.Restore(ctx, account, snap); err != nil {
		var e *conv.Error
		if errors.As(err, &e) {
			return fmt.Errorf("-seed %s: %s", path, e.Message)
		}
		return fmt.Errorf("-seed %s: %w", path, err)
	}
	return nil
}
