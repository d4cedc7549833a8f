package cli

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/delivery"
	"github.com/parley-dev/parley/internal/httpapi"
)

// deliveryFlags registers the delivery flags of "parley serve".
func deliveryFlags(fs *flag.FlagSet, getenv func(string) string, c *Config) {
	fs.StringVar(&c.CarrierURL, "carrier-url", getenv("PARLEY_CARRIER_URL"),
		"POST every SMS/WhatsApp delivery as a form to this URL instead of recording it in the outbox (env PARLEY_CARRIER_URL)")
	intEnv := func(key string, def int) int {
		if n, err := strconv.Atoi(getenv(key)); err == nil {
			return n
		}
		return def
	}
	fs.IntVar(&c.MaxStreams, "max-streams", intEnv("PARLEY_MAX_STREAMS", httpapi.DefaultMaxStreams),
		"most live streams open at once; past it a stream gets 503 (env PARLEY_MAX_STREAMS; -1: no cap)")
	fs.IntVar(&c.MaxStreamsPerAccount, "max-streams-per-account", intEnv("PARLEY_MAX_STREAMS_PER_ACCOUNT", httpapi.DefaultMaxStreamsPerAccount),
		"most live streams one account may hold open; past it a stream gets 429 (env PARLEY_MAX_STREAMS_PER_ACCOUNT; -1: no cap)")
}

// StreamSafetyPoll is how often a live stream looks for deliveries when notifications reach it
// from every writer (the in-process hub, and LISTEN/NOTIFY between PostgreSQL replicas).
const StreamSafetyPoll = 30 * time.Second

// startRelay connects the hub to the other replicas when the store can broadcast (PostgreSQL
// LISTEN/NOTIFY) and returns the event sink to add, or nil. With it, or with a store only this
// process writes (SQLite), streams wait on notifications and poll only every StreamSafetyPoll.
func startRelay(ctx context.Context, st any, hub *delivery.Hub, cfg *Config, log *slog.Logger) conv.EventSink {
	cfg.streamPoll = StreamSafetyPoll
	b, ok := st.(delivery.Broadcaster)
	if !ok {
		return nil
	}
	r := delivery.NewRelay(b, hub, log)
	go r.Run(ctx)
	return r
}

// startDelivery mounts Parley's own endpoints (/parley/v1/...: outbox, live streams) on extra
// and starts the dispatcher that hands SMS/WhatsApp deliveries to the carrier: the outbox log,
// or a Forwarder to cfg.CarrierURL. stop ends the dispatcher and waits for it. It returns an
// error when the carrier URL is not an absolute http(s) URL.
func startDelivery(ctx context.Context, svc *conv.Service, hub *delivery.Hub, cfg *Config, log *slog.Logger, extra *http.ServeMux) (stop func(), err error) {
	var carrier delivery.Carrier = delivery.NewOutbox(svc)
	if cfg.CarrierURL != "" {
		if carrier, err = delivery.NewForwarder(cfg.CarrierURL, nil); err != nil {
			return nil, fmt.Errorf("serve: -carrier-url: %w", err)
		}
	}
	extra.Handle("/parley/", httpapi.NewParley(svc, log, httpapi.ParleyOptions{PublicURL: cfg.PublicURL,
		TrustProxy: cfg.TrustProxy, Notifier: hub, StreamPoll: cfg.streamPoll,
		MaxStreams: cfg.MaxStreams, MaxStreamsPerAccount: cfg.MaxStreamsPerAccount}))
	d := delivery.NewDispatcher(svc, carrier, delivery.Options{Wake: hub.Dispatch(), Log: log})
	dctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.Run(dctx)
	}()
	return func() { cancel(); <-done }, nil
}
