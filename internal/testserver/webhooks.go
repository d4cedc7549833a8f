package testserver

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/webhook"
)

// newWebhooks returns the test server's post-event webhook dispatcher, on the test clock (a
// delivery is due at once; a retry only after the test advances the clock past its backoff
// and wakes the dispatcher), and runs it until the test ends. Create it after the store, so
// that it stops before the store closes.
func newWebhooks(t testing.TB, st conv.Store, clock *Clock, log *slog.Logger, settled func(*conv.WebhookDelivery)) *webhook.Dispatcher {
	d := webhook.New(st, webhook.Options{Clock: clock.Now, PollInterval: 50 * time.Millisecond, Log: log, Settled: settled}) // console: settled
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.Run(ctx)
	}()
	t.Cleanup(func() { cancel(); <-done })
	return d
}
