package app

import (
	"context"
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

// wakeStore wakes the Sync fan-out after every committed write transaction, whatever made
// it, so SDK sockets see REST, SDK, timer and inbound changes alike.
type wakeStore struct {
	conv.Store
	wake func()
}

func (s wakeStore) WithTx(ctx context.Context, fn func(tx conv.Store) error) error {
	err := s.Store.WithTx(ctx, fn)
	if err == nil {
		s.wake()
	}
	return err
}

// newChat builds the chat side over st, or returns nil when the store cannot hold the Sync
// view.
func newChat(st conv.Store, log *slog.Logger, poll time.Duration, now func() time.Time) (*chat, conv.Store, conv.ChangeRecorder) {
	vs, ok := st.(syncview.Store)
	if !ok {
		return nil, st, nil
	}
	fan := syncview.NewFanout(vs, log, poll)
	return &chat{fan: fan}, wakeStore{Store: st, wake: fan.Wake}, syncview.NewProjector(now)
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
