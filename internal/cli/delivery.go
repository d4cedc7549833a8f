package cli

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/delivery"
	"github.com/parley-dev/parley/internal/httpapi"
)

// deliveryFlags registers the delivery flags of "parley serve".
func deliveryFlags(fs *flag.FlagSet, getenv func(string) string, c *Config) {
	fs.StringVar(&c.CarrierURL, "carrier-url", getenv("PARLEY_CARRIER_URL"),
		"POST every SMS/WhatsApp delivery as a form to this URL instead of recording it in the outbox (env PARLEY_CARRIER_URL)")
}

// startDelivery mounts Parley's own endpoints (/parley/v1/...: outbox, live streams) on extra
// and starts the dispatcher that hands SMS/WhatsApp deliveries to the carrier: the outbox log,
// or a Forwarder to cfg.CarrierURL. stop ends the dispatcher and waits for it. It returns an
// error when the carrier URL is not an absolute http(s) URL.
func startDelivery(ctx context.Context, svc *conv.Service, hub *delivery.Hub, cfg *Config, log *slog.Logger, extra *http.ServeMux,
	settled func(*conv.Delivery)) (stop func(), err error) {
	var carrier delivery.Carrier = delivery.NewOutbox(svc)
	if cfg.CarrierURL != "" {
		if carrier, err = delivery.NewForwarder(cfg.CarrierURL, nil); err != nil {
			return nil, fmt.Errorf("serve: -carrier-url: %w", err)
		}
	}
	extra.Handle("/parley/", httpapi.NewParley(svc, log, httpapi.ParleyOptions{PublicURL: cfg.PublicURL,
		TrustProxy: cfg.TrustProxy, Notifier: hub}))
	d := delivery.NewDispatcher(svc, carrier, delivery.Options{Wake: hub.Dispatch(), Log: log, Settled: settled}) // console: settled
	dctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.Run(dctx)
	}()
	return func() { cancel(); <-done }, nil
}
