package cli

import (
	"flag"
	"strconv"
	"time"

	"github.com/parley-dev/parley/internal/webhook"
)

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
	fs.DurationVar(&c.App.Webhooks.Timeout, "webhook-timeout", dur("PARLEY_WEBHOOK_TIMEOUT", webhook.DefaultTimeout),
		"how long a webhook request may take (env PARLEY_WEBHOOK_TIMEOUT)")
	fs.IntVar(&c.App.Webhooks.Attempts, "webhook-attempts", attempts,
		"attempts per post-event webhook delivery, the first included (env PARLEY_WEBHOOK_ATTEMPTS)")
	fs.DurationVar(&c.App.Webhooks.Backoff, "webhook-backoff", dur("PARLEY_WEBHOOK_BACKOFF", webhook.DefaultBackoff),
		"wait before the first retry of a failed webhook delivery; doubles after each (env PARLEY_WEBHOOK_BACKOFF)")
	fs.DurationVar(&c.App.Webhooks.Retention, "webhook-log-retention", dur("PARLEY_WEBHOOK_LOG_RETENTION", webhook.DefaultRetention),
		"how long finished deliveries stay in /parley/v1/Webhooks/Deliveries; negative keeps them (env PARLEY_WEBHOOK_LOG_RETENTION)")
}
