package testserver

import (
	"context"
	"github.com/parley-dev/parley/internal/console"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/delivery"
	"github.com/parley-dev/parley/internal/httpapi"
)

// Carrier is the test server's SMS/WhatsApp carrier: the outbox (as "parley serve" uses by
// default) unless a test sets another one.
type Carrier struct {
	mu sync.Mutex
	c  delivery.Carrier
}

// Set makes c the carrier of the following deliveries.
func (c *Carrier) Set(x delivery.Carrier) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.c = x
}

// Send hands o to the current carrier.
func (c *Carrier) Send(ctx context.Context, o *conv.Outbound) (delivery.Result, error) {
	c.mu.Lock()
	x := c.c
	c.mu.Unlock()
	return x.Send(ctx, o)
}

// withParley serves Parley's own endpoints (/parley/..., outside Twilio's spec, so not
// validated against it, and streamed without buffering) with parley, and everything else with
// api.
func withParley(api, parley http.Handler, cons *console.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/parley/", parley)
	mux.Handle("/", api)
	cons.Mount(mux) // console: GET /, /console/, /parley/v1/Events
	return mux
}

// newParley returns Parley's own endpoints for a test server, with streams that poll often.
func newParley(svc *conv.Service, log *slog.Logger, hub *delivery.Hub) http.Handler {
	return httpapi.NewParley(svc, log, httpapi.ParleyOptions{Notifier: hub, StreamPoll: 50 * time.Millisecond, StreamHeartbeat: time.Second})
}

// startDelivery runs a dispatcher over the outbox carrier on the test clock until the test
// ends (then it stops it and closes hub, which ends the live streams). Register it after the
// HTTP server's Close, so that it runs first.
func startDelivery(t testing.TB, svc *conv.Service, clock *Clock, hub *delivery.Hub, settled func(*conv.Delivery)) *Carrier {
	carrier := &Carrier{c: delivery.NewOutbox(svc)}
	// Dispatch errors go to the test log: with the test clock standing still, a failed
	// attempt is retried only when the test advances it.
	d := delivery.NewDispatcher(svc, carrier, delivery.Options{Clock: clock.Now, Wake: hub.Dispatch(),
		PollInterval: 20 * time.Millisecond, SendTimeout: 5 * time.Second, Log: slog.New(slog.NewTextHandler(testLog{t}, nil)),
		Settled: settled}) // console: settled
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.Run(ctx)
	}()
	t.Cleanup(func() {
		hub.Close()
		cancel()
		<-done
	})
	return carrier
}

// testLog writes log lines to the test's log.
type testLog struct{ t testing.TB }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
