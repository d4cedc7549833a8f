package faults

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/delivery"
)

// OutboxURL is the URL carrier faults match for the log carrier (the outbox), which has no
// URL of its own.
const OutboxURL = "parley:outbox"

// Carrier wraps the carrier of SMS/WhatsApp deliveries, whose URL is carrierURL (the
// -carrier-url, or OutboxURL): the next deliveries of a Target=carrier fault's account whose
// carrier URL starts with the fault's Url (any, when it has none) fail as if the carrier had
// answered the fault's status (retried for 408, 429 and 5xx, failed at once for other 4xx)
// or had timed out (retried), without reaching the carrier.
func (r *Registry) Carrier(carrierURL string, next delivery.Carrier) delivery.Carrier {
	return carrierFunc(func(ctx context.Context, o *conv.Outbound) (delivery.Result, error) {
		if !r.any() {
			return next.Send(ctx, o)
		}
		f, ok := r.take(func(f *Fault) bool {
			return f.Target == TargetCarrier && f.AccountSid == o.Delivery.AccountSid && strings.HasPrefix(carrierURL, f.URL)
		})
		if !ok {
			return next.Send(ctx, o)
		}
		if f.Timeout {
			return delivery.Result{}, fmt.Errorf("carrier %s: %w: %w", carrierURL, ErrTimeout, context.DeadlineExceeded)
		}
		err := fmt.Errorf("carrier %s: %d %s (fault %s injected by Parley)", carrierURL, f.Status, http.StatusText(f.Status), f.Sid)
		switch c := f.Status; {
		case c >= 200 && c < 300:
			return next.Send(ctx, o)
		case c >= 400 && c < 500 && c != http.StatusRequestTimeout && c != http.StatusTooManyRequests:
			return delivery.Result{}, &delivery.PermanentError{Err: err}
		}
		return delivery.Result{}, err
	})
}

type carrierFunc func(ctx context.Context, o *conv.Outbound) (delivery.Result, error)

func (f carrierFunc) Send(ctx context.Context, o *conv.Outbound) (delivery.Result, error) {
	return f(ctx, o)
}
