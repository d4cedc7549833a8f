// Package app is Parley's composition root: the one place that builds the server, and so the
// one place to read to know what runs. New, from a typed Config, opens the store, builds the
// conv.Service and every background worker, and serves every route through one front door
// (httpapi.API.FrontDoor: credentials, body limit, Twilio error bodies, panic logging).
//
// Routes (mounts, in the order they are matched):
//
//	/parley/v1/Events  the web console's live change stream (console.Handler), before /parley/
//	/v1/        Twilio's Conversations v1 (httpapi.API), HTTP Basic with account credentials
//	/parley/    Parley's own endpoints (httpapi.Parley): outbox, live streams, webhook log,
//	            and the control plane's (reset, snapshot, clock, faults, request log)
//	/healthz    liveness (the store answers), without credentials
//	/metrics    Prometheus metrics, without credentials (Config.Control.Metrics)
//	/console/   the web console's script, style sheet and icon
//	/           exactly: the web console's page (docs/console.md)
//	anything else is Twilio's 404 (20404) in JSON
//
// Inside the front door, around the mounts, sit the control plane's middlewares
// (internal/control, docs/control-plane.md): metrics, the request log and API faults.
//
// Background workers (Start runs them, Close stops them):
//
//   - the webhook dispatcher: post-event webhooks from the store's outbox, with retries;
//   - the delivery dispatcher: SMS/WhatsApp deliveries to the carrier (the outbox log, or
//     Config.CarrierURL), woken by the hub;
//   - the timer loop: due conversation timers every Config.TimerInterval;
//   - the control plane's clock loop: it re-reads the shared clock offset (another replica may
//     have moved it) and, when the clock moves, applies due timers and wakes the dispatchers;
//   - on PostgreSQL, the replica relay (delivery.Relay over LISTEN/NOTIFY): it tells the other
//     replicas when a message is added here and wakes this replica's streams when one is added
//     there, so streams wait on wake-ups and poll only every StreamSafetyPoll;
//   - inside the store, while it is open: SQLite's WAL checkpointer (internal/store/sqlite).
//
// The hub (delivery.Hub) wakes the delivery dispatcher and the live streams when a message is
// added; Close closes it, which ends the streams. The console's broker (console.Broker) hears
// every committed change (an event sink), every settled webhook and SMS delivery attempt (the
// dispatchers' Settled) and the control plane's changes (control.Notifier), and fans them out
// to the console's streams; Close closes it too.
//
// Credentials: the configuration is the truth at start-up (conv.SyncCredentials): accounts
// and API keys no longer configured stop authenticating.
//
// Adding a front door (a WebSocket chat gateway at /v3/wsconnect, a web console at /) is one
// more entry in mounts; it gets the same body limit, panic handling and 404s.
// The first mount whose path matches serves a request, so a "/" subtree goes last.
//
// cmd/parley (internal/cli) parses flags and environment into a Config and serves Handler;
// internal/testserver calls the same New with test Options (fake clock, sequential SIDs, a
// recording event sink, the OpenAPI validation wrapper, a per-test store). The service, the
// dispatchers and the timer loop read time from the control plane's clock: Options.Clock (or
// time.Now) plus the offset POST /parley/v1/Clock sets.
package app

import (
	"context"
	"fmt"
	"github.com/parley-dev/parley/internal/accesstoken"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/parley-dev/parley/internal/console"
	"github.com/parley-dev/parley/internal/control"
	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/delivery"
	"github.com/parley-dev/parley/internal/gateway"
	"github.com/parley-dev/parley/internal/httpapi"
	"github.com/parley-dev/parley/internal/store"
	"github.com/parley-dev/parley/internal/streamlimit"
	"github.com/parley-dev/parley/internal/webhook"
)

// Config is the configuration of a Parley server.
type Config struct {
	// DB is a SQLite file path or a postgres:// URL (store.Open).
	DB string
	// SQLiteSynchronous is SQLite's synchronous pragma (NORMAL or FULL).
	SQLiteSynchronous string
	// Accounts are the accounts that authenticate: at start-up each is created or gets its
	// token, and every other stored account is retired (conv.SyncCredentials: it stops
	// authenticating, its data stays). When there are none, the development account (made
	// once, kept in the store) and its default service are, and every other one is retired.
	Accounts []Account
	// APIKeys are the API keys that authenticate; every other stored key is deleted.
	APIKeys []APIKey
	// PublicURL, TrustProxy and MaxBodyBytes are the front door's (httpapi.Options);
	// MaxBodyBytes applies to every route.
	PublicURL    string
	TrustProxy   bool
	MaxBodyBytes int64
	// MaxMediaBytes limits one media upload (0: conv.DefaultMaxMediaBytes, Twilio's 150 MB).
	MaxMediaBytes int64
	// CarrierURL, when set, receives SMS/WhatsApp deliveries (else the outbox records them).
	CarrierURL string
	// MaxStreams and MaxStreamsPerAccount cap the live streams open at once, in all and per
	// account: the SSE message streams and the console's event streams together, one
	// streamlimit.Limiter (0: its defaults; negative: no cap). Past them a stream gets 503
	// (20503), respectively 429 (20429).
	MaxStreams, MaxStreamsPerAccount int
	// Webhooks configures webhook delivery.
	Webhooks WebhookConfig
	// TimerInterval is how often due conversation timers are applied (0:
	// DefaultTimerInterval; negative: no timer loop, reads still apply them).
	TimerInterval time.Duration
	// Control configures the control plane (docs/control-plane.md).
	Control ControlConfig
}

// ControlConfig configures the control plane.
type ControlConfig struct {
	// Seed is a snapshot file (JSON, or YAML when it ends in .yaml/.yml) loaded into the first
	// account at start when that account is empty.
	Seed string
	// SIDSeed, when set (an unsigned integer), makes generated SIDs deterministic; ignored
	// when Options.SIDs is set.
	SIDSeed string
	// Metrics serves GET /metrics and collects the figures it shows.
	Metrics bool
}

// Account is an account's credentials.
type Account struct{ Sid, AuthToken string }

// APIKey is an API key of an account (AccountSid "": the first account).
type APIKey struct{ Sid, Secret, AccountSid string }

// WebhookConfig is the webhook delivery configuration; zero values get webhook's defaults.
type WebhookConfig struct {
	// Timeout bounds one webhook request, pre-event or post-event (Twilio's is 5 s).
	Timeout time.Duration
	// Attempts bounds the attempts of one post-event delivery, the first included.
	Attempts int
	// Backoff is the wait after the first failed attempt; it doubles after each one.
	Backoff time.Duration
	// Retention is how long finished deliveries stay in the delivery log (negative: forever).
	Retention time.Duration
}

// Options inject what a Config does not describe: the logger, and for tests the clock, SIDs,
// store and the like. The zero value is what "parley serve" runs with.
type Options struct {
	// Log receives the server's log (nil: discarded).
	Log *slog.Logger
	// Store, when set, is used instead of opening Config.DB; the caller closes it.
	Store store.Store
	// Clock is the base time of the service and the dispatchers (nil: time.Now); the control
	// plane's clock offset is added to it.
	Clock func() time.Time
	// SIDs generates resource SIDs (nil: random).
	SIDs conv.SIDGen
	// Events, when set, also receives every committed change (before the hub and webhooks).
	Events conv.EventSink
	// Carrier, when set, takes SMS/WhatsApp deliveries instead of Config's.
	Carrier delivery.Carrier
	// Wrap, when set, wraps the handler of each mount (named by its path) inside the front
	// door: testserver validates /v1 responses against the OpenAPI spec with it.
	Wrap func(path string, h http.Handler) http.Handler
	// Polling and timeouts of the workers and streams (0: their packages' defaults).
	DeliveryPoll, DeliverySendTimeout, WebhookPoll time.Duration
	// StreamPoll 0 is StreamSafetyPoll: every writer wakes the streams (the hub in this
	// process, the relay from other PostgreSQL replicas).
	StreamPoll, StreamHeartbeat time.Duration
	// SyncPoll is the safety-net poll of the chat clients' Sync fan-out (0: 1s); commits wake
	// it at once (in-process, and through PostgreSQL LISTEN/NOTIFY across replicas).
	SyncPoll time.Duration
	// DeliveryLog receives delivery dispatch failures (nil: Log).
	DeliveryLog *slog.Logger
}

// App is a built Parley server: serve Handler, run the workers with Start, and Close.
type App struct {
	Store    store.Store
	Service  *conv.Service
	Hub      *delivery.Hub
	Webhooks *webhook.Dispatcher
	// Control is the control plane: clock, faults, request log, metrics.
	Control *control.Plane
	// Changes is the web console's change broker (the console's live stream).
	Changes *console.Broker
	// Accounts are the configured accounts, or the development account.
	Accounts []*conv.Account
	// SigningKeys are the accounts' Parley signing keys (same order): the API keys chat access
	// tokens are minted with (parley token, POST /parley/v1/Tokens), kept in the store.
	SigningKeys []*conv.APIKey

	cfg       Config
	log       *slog.Logger
	clock     func() time.Time
	ownStore  bool
	delivery  *delivery.Dispatcher
	relay     *delivery.Relay // nil unless the store broadcasts (PostgreSQL)
	handler   http.Handler
	chat      *chat
	mu        sync.Mutex
	stops     []func()
	closeOnce sync.Once
}

// New builds the server cfg describes: it opens the store (unless opts gives one), ensures
// the accounts and API keys, and builds the service, the workers (not started) and the
// routes, and loads Config.Control.Seed. It returns an error when the store cannot be opened,
// a credential cannot be stored, the carrier URL is not an absolute http(s) URL, the SID seed
// is not an unsigned integer or the seed file cannot be loaded.
func New(ctx context.Context, cfg Config, opts Options) (_ *App, err error) {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &App{cfg: cfg, log: log, Store: opts.Store, Changes: console.NewBroker(0)}
	cp, err := control.New(control.Options{BaseClock: opts.Clock, SIDs: opts.SIDs, SIDSeed: cfg.Control.SIDSeed,
		Metrics: cfg.Control.Metrics, Notifier: a.Changes})
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	a.Control = cp
	if a.Store == nil {
		if a.Store, err = store.Open(ctx, cfg.DB, store.Options{SQLiteSynchronous: cfg.SQLiteSynchronous}); err != nil {
			return nil, err
		}
		a.ownStore = true
		defer func() {
			if err != nil {
				a.Store.Close()
			}
		}()
	}
	a.Hub = delivery.NewHub()       // wakes the delivery dispatcher and the live streams
	notify := webhook.NewNotifier() // wakes the webhook dispatcher after changes with webhooks
	sinks := conv.MultiSink{a.Hub, notify, a.Changes}
	if b, ok := a.Store.(delivery.Broadcaster); ok { // PostgreSQL: LISTEN/NOTIFY between replicas
		a.relay = delivery.NewRelay(b, a.Hub, log)
		sinks = append(sinks, a.relay)
	}
	if opts.Events != nil {
		sinks = append(conv.MultiSink{opts.Events}, sinks...)
	}
	// The Sync view dates its events with the service's (control plane) clock.
	ch, changes := newChat(a.Store, log, opts.SyncPoll, func() time.Time { return a.Service.Now() })
	if ch != nil {
		sinks = append(sinks, ch.fan)
	}
	a.Service = conv.NewService(a.Store, conv.Options{ControlClock: cp.Clock, SIDs: cp.SIDs, Events: sinks,
		WebhookFormat: webhook.Format{}, PreHook: webhook.NewCaller(nil, cfg.Webhooks.Timeout), MaxMediaBytes: cfg.MaxMediaBytes,
		Changes: changes})
	if ch != nil {
		ch.mount(a.Service, a.Store, log)
		a.chat = ch
	}
	// The clock offset stored by an earlier run or another replica.
	if err := a.Service.SyncClock(ctx); err != nil {
		return nil, err
	}
	a.clock = a.Service.Now
	a.Webhooks = webhook.New(a.Service, webhook.Options{Clock: cp.Clock.Now, Client: cp.WebhookClient(),
		Timeout: cfg.Webhooks.Timeout, MaxAttempts: cfg.Webhooks.Attempts, Backoff: cfg.Webhooks.Backoff,
		Retention: cfg.Webhooks.Retention, PollInterval: opts.WebhookPoll, Wake: notify.C(), Log: log,
		Settled: a.Changes.WebhookSettled})
	carrier := opts.Carrier
	if carrier == nil {
		if carrier, err = newCarrier(a.Service, cfg.CarrierURL, cfg.PublicURL); err != nil {
			return nil, err
		}
	}
	carrier = cp.Carrier(cfg.CarrierURL, carrier) // carrier faults and metrics
	if err := a.ensureCredentials(ctx); err != nil {
		return nil, err
	}
	if err := cp.Seed(ctx, cfg.Control.Seed, a.Service, a.Accounts[0].Sid, log); err != nil {
		return nil, err
	}
	if cp.Metrics != nil {
		cp.Metrics.ObserveStore(a.Store) // group-commit figures (SQLite)
	}
	dlog := opts.DeliveryLog
	if dlog == nil {
		dlog = log
	}
	a.delivery = delivery.NewDispatcher(a.Service, carrier, delivery.Options{Clock: a.Service.Now, Wake: a.Hub.Dispatch(),
		PollInterval: opts.DeliveryPoll, SendTimeout: opts.DeliverySendTimeout, Log: dlog,
		Settled: a.Changes.DeliverySettled})

	api := httpapi.New(a.Service, log, httpapi.Options{PublicURL: cfg.PublicURL, TrustProxy: cfg.TrustProxy,
		MaxBodyBytes: cfg.MaxBodyBytes, Tokens: accesstoken.NewVerifier(accesstoken.ConvKeys{Store: a.Store}, a.Service.Now)})
	streamPoll := opts.StreamPoll
	if streamPoll <= 0 {
		streamPoll = StreamSafetyPoll
	}
	// One stream limiter for every live stream: the SSE message streams and the console's.
	streams := streamlimit.New(cfg.MaxStreams, cfg.MaxStreamsPerAccount)
	cons := console.New(a.Service, a.Changes, console.Options{Heartbeat: opts.StreamHeartbeat, Log: log, Streams: streams})
	mounts := a.mounts(api, cons, httpapi.ParleyOptions{Notifier: a.Hub, StreamPoll: streamPoll,
		StreamHeartbeat: opts.StreamHeartbeat, Streams: streams, Faults: cp.Faults, Requests: cp.Requests})
	if opts.Wrap != nil {
		for i, m := range mounts {
			mounts[i].Handler = opts.Wrap(m.Path, m.Handler)
		}
	}
	// The control plane's metrics, request log and API faults sit inside the front door.
	a.handler = api.FrontDoor(mounts, func(h http.Handler) http.Handler { return cp.Wrap(h, a.Service) })
	return a, nil
}

// mounts is the server's route table: every handler behind the front door, and its path.
// Add a front door here.
func (a *App) mounts(api *httpapi.API, cons *console.Handler, parley httpapi.ParleyOptions) []httpapi.Mount {
	m := []httpapi.Mount{
		{Path: "/parley/v1/Events", Handler: cons}, // before /parley/
		{Path: "/v1/", Handler: api},
		{Path: "/parley/", Handler: httpapi.NewParley(api, parley)},
		{Path: "/healthz", Handler: a.Control.Health(a.Service)},
	}
	if h := a.Control.MetricsHandler(); h != nil { // nil with metrics off
		m = append(m, httpapi.Mount{Path: "/metrics", Handler: h})
	}
	if a.chat != nil {
		m = append(m, httpapi.Mount{Path: gateway.Path, Handler: a.chat.gw})
	}
	// The web console: its assets, and its page at exactly "/" (last: first match wins).
	return append(m, httpapi.Mount{Path: "/console/", Handler: cons}, httpapi.Mount{Path: "/", Handler: cons})
}

// newCarrier returns the carrier of SMS/WhatsApp deliveries: a Forwarder to url when it is
// set, else the outbox log.
func newCarrier(svc *conv.Service, url, publicURL string) (delivery.Carrier, error) {
	if url == "" {
		return delivery.NewOutbox(svc), nil
	}
	f, err := delivery.NewForwarder(url, nil)
	if err != nil {
		return nil, fmt.Errorf("serve: -carrier-url: %w", err)
	}
	if publicURL != "" { // a carrier fetches media from Parley's public address
		base := strings.TrimRight(publicURL, "/")
		f.WithMediaURL(func(ctx context.Context, sid string) (string, error) { return svc.TemporaryMediaURL(ctx, base, sid) })
	}
	return f, nil
}

// StreamSafetyPoll is how often a live stream looks for deliveries without a wake-up. Every
// writer wakes the streams (the hub in this process; on PostgreSQL the relay, from the other
// replicas; SQLite has no other writer), so the poll is only a safety net.
const StreamSafetyPoll = 30 * time.Second

// ensureCredentials makes the configured accounts and API keys the ones that authenticate
// (conv.SyncCredentials), or the development account and its default service when no account
// is configured.
func (a *App) ensureCredentials(ctx context.Context) error {
	accounts := make([]conv.ConfiguredAccount, len(a.cfg.Accounts))
	for i, c := range a.cfg.Accounts {
		accounts[i] = conv.ConfiguredAccount{Sid: c.Sid, AuthToken: c.AuthToken}
	}
	keys := make([]conv.ConfiguredAPIKey, len(a.cfg.APIKeys))
	for i, k := range a.cfg.APIKeys {
		keys[i] = conv.ConfiguredAPIKey{Sid: k.Sid, Secret: k.Secret, AccountSid: k.AccountSid}
	}
	accts, err := a.Service.SyncCredentials(ctx, accounts, keys)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	for _, acct := range accts {
		k, err := a.Service.EnsureSigningKey(ctx, acct.Sid)
		if err != nil {
			return fmt.Errorf("serve: signing key of %s: %w", acct.Sid, err)
		}
		a.SigningKeys = append(a.SigningKeys, k)
	}
	a.Accounts = accts
	return nil
}

// Handler is the server's one HTTP handler (the front door over the mounts).
func (a *App) Handler() http.Handler { return a.handler }

// Start runs the background workers until ctx is done or Close is called: the webhook
// dispatcher (deliveries enqueued before a crash are sent at once), the delivery dispatcher,
// the timer loop, the control plane's clock loop and, on PostgreSQL, the replica relay.
func (a *App) Start(ctx context.Context) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.stops = append(a.stops, run(ctx, a.Webhooks.Run), run(ctx, a.delivery.Run),
		a.Control.Run(ctx, a.Service, a.Webhooks, a.Hub, a.log))
	if a.relay != nil {
		a.stops = append(a.stops, run(ctx, a.relay.Run))
	}
	if a.chat != nil {
		a.stops = append(a.stops, run(ctx, a.chat.fan.Run))
	}
	if iv := a.cfg.TimerInterval; iv >= 0 {
		if iv == 0 {
			iv = DefaultTimerInterval
		}
		a.stops = append(a.stops, runTimers(ctx, mediaCollector{a.Service}, a.log, iv, a.clock))
	}
}

// Close ends the live streams (closing the hub and the console's broker), stops the workers
// and waits for them, then closes the store when New opened it. It may be called more than
// once.
func (a *App) Close() error {
	var err error
	a.closeOnce.Do(func() {
		if a.chat != nil { // SDK sockets: close 308, the clients reconnect later
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = a.chat.gw.Shutdown(ctx)
			cancel()
		}
		a.EndStreams()
		a.mu.Lock()
		stops := a.stops
		a.stops = nil
		a.mu.Unlock()
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
		if a.ownStore {
			err = a.Store.Close()
		}
	})
	return err
}

// EndStreams ends every open live stream (the hub's and the console's) and makes later ones
// end at once; register it with http.Server.RegisterOnShutdown, as open streams would hold
// Shutdown. Close calls it too.
func (a *App) EndStreams() {
	a.Hub.Close()
	a.Changes.Close()
}

// run runs fn in a goroutine until ctx is done or stop is called; stop waits for it.
func run(ctx context.Context, fn func(context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(ctx)
	}()
	return func() { cancel(); <-done }
}
