package testserver

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/parley-dev/parley/internal/control"
	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/delivery"
	"github.com/parley-dev/parley/internal/webhook"
)

// withControl serves h behind the control plane's middlewares (metrics, request log, faults),
// with /healthz and /metrics, and runs the plane's wake-ups (timers, dispatchers) when the
// control clock moves, until the test ends.
func withControl(t testing.TB, ctl *control.Plane, svc *conv.Service, webhooks *webhook.Dispatcher, hub *delivery.Hub, h http.Handler) http.Handler {
	extra := http.NewServeMux()
	ctl.Mount(extra, svc)
	mux := http.NewServeMux()
	mux.Handle("/healthz", extra)
	mux.Handle("/metrics", extra)
	mux.Handle("/", h)
	stop := ctl.Run(context.Background(), svc, webhooks, hub, slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Cleanup(stop)
	return ctl.Wrap(mux, svc)
}
