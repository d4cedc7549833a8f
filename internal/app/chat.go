package app

import (
	"log/slog"
	"time"

	"github.com/parley-dev/parley/internal/accesstoken"
	"github.com/parley-dev/parley/internal/aim"
	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/gateway"
	"github.com/parley-dev/parley/internal/syncview"
)

// chat is the client SDK side of the server: the twilsock gateway (GET /v3/wsconnect), the
// aim client API and the Sync view with its fan-out.
type chat struct {
	gw  *gateway.Gateway
	fan *syncview.Fanout
}

// newChat builds the chat side over st, or returns nil when the store cannot hold the Sync
// view. The fan-out is an EventSink: every committed change wakes it (PostgreSQL replicas are
// woken by the projector's NOTIFY, and a poll covers anything else).
func newChat(st conv.Store, log *slog.Logger, poll time.Duration, now func() time.Time) (*chat, conv.ChangeRecorder) {
	vs, ok := st.(syncview.Store)
	if !ok {
		return nil, nil
	}
	return &chat{fan: syncview.NewFanout(vs, log, poll)}, syncview.NewProjector(now)
}

// mount builds the gateway once the service exists.
func (c *chat) mount(svc *conv.Service, vs conv.Store, log *slog.Logger) {
	hub := gateway.NewHub()
	router := gateway.NewRouter()
	view := syncview.New(vs.(syncview.Store), c.fan)
	view.SetClock(svc.Now)
	aim.New(svc, hub, view).Register(router)
	view.Register(router)
	keys := accesstoken.ConvKeys{Store: vs}
	c.gw = gateway.New(accesstoken.NewVerifier(keys, time.Now), router, hub, gateway.Options{Logger: log})
}
