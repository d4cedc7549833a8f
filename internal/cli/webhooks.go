package cli

import (
	"context"
	"flag"
	"log/slog"
	"strconv"
	"time"

	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/webhook"
)

// WebhookConfig is the webhook delivery configuration of "parley serve".
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

// webhookFlags registers the webhook flags of "parley serve".
func webhookFlags(fs *flag.FlagSet, getenv func(string) string, c *Config) {
	dur := func(env string, def time.Duration) time.Duration {
		if d, err := time.ParseDuration(getenv(env)); err == nil {
			return d
		}
		return def
	}
	attempts := webhook.DefaultMaxAttempts
	if n, err := strconv.Atoi(getenv("PARLEY_WEBHOOK_ATTEMPTS")); err == nil {
		attempts = n
	}
	fs.DurationVar(&c.Webhooks.Timeout, "webhook-timeout", dur("PARLEY_WEBHOOK_TIMEOUT", webhook.DefaultTimeout),
		"how long a webhook request may take (env PARLEY_WEBHOOK_TIMEOUT)")
	fs.IntVar(&c.Webhooks.Attempts, "webhook-attempts", attempts,
		"attempts per post-event webhook delivery, the first included (env PARLEY_WEBHOOK_ATTEMPTS)")
	fs.DurationVar(&c.Webhooks.Backoff, "webhook-backoff", dur("PARLEY_WEBHOOK_BACKOFF", webhook.DefaultBackoff),
		"wait before the first retry of a failed webhook delivery; doubles after each (env PARLEY_WEBHOOK_BACKOFF)")
	fs.DurationVar(&c.Webhooks.Retention, "webhook-log-retention", dur("PARLEY_WEBHOOK_LOG_RETENTION", webhook.DefaultRetention),
		"how long finished deliveries stay in /parley/v1/Webhooks/Deliveries; negative keeps them (env PARLEY_WEBHOOK_LOG_RETENTION)")
}

// newWebhooks returns the post-event dispatcher over st (also the EventSink that wakes it)
// and the pre-event caller, as cfg configures them.
func newWebhooks(st conv.Store, cfg *Config, log *slog.Logger, settled func(*conv.WebhookDelivery)) (*webhook.Dispatcher, *webhook.Caller) {
	d := webhook.New(st, webhook.Options{Timeout: cfg.Webhooks.Timeout, MaxAttempts: cfg.Webhooks.Attempts,
		Backoff: cfg.Webhooks.Backoff, Retention: cfg.Webhooks.Retention, Log: log, Settled: settled}) // console: settled
	return d, webhook.NewCaller(nil, cfg.Webhooks.Timeout)
}

// runWebhooks runs d until stop is called (stop waits for it). Deliveries enqueued before a
// crash are sent as soon as it starts.
func runWebhooks(ctx context.Context, d *webhook.Dispatcher) (stop func()) {
	dctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.Run(dctx)
	}()
	return func() { cancel(); <-done }
}
