// Package gateway is the twilsock WebSocket endpoint (GET /v3/wsconnect) that Twilio's
// unmodified Conversations client SDK connects to with
// new Client(token, {Twilsock: {uri: "ws://HOST:PORT/v3/wsconnect"}}).
//
// It does the twilsock session: the init handshake with Access Token verification, token
// update, server pings with idle detection, the token_about_to_expire warning and the 410
// close at expiry, a bounded per-socket write queue, and routing of upstream ("message")
// requests to an Upstream (see Router). What the upstream hosts serve (the "aim" client API
// and the Sync "cds" view) and the fan-out of events to sockets are plugged in through the
// Upstream and Sessions interfaces.
package gateway

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-dev/parley/internal/accesstoken"
	"github.com/parley-dev/parley/internal/twilsock"
)

// Path is where the SDK connects (its default URL is wss://tsock.<region>.twilio.com/v3/wsconnect).
const Path = "/v3/wsconnect"

// Verifier authenticates access tokens (accesstoken.Verifier implements it).
type Verifier interface {
	Verify(ctx context.Context, token string) (*accesstoken.Claims, error)
}

// Sessions is told about authenticated sockets, for fan-out: Attach after a successful init,
// Detach when the socket ends. Both must return quickly.
type Sessions interface {
	Attach(s *Session)
	Detach(s *Session)
}

// Timer is a scheduled call that can be cancelled.
type Timer interface{ Stop() bool }

// Clock is the gateway's time source (tests inject a manual clock).
type Clock interface {
	Now() time.Time
	AfterFunc(d time.Duration, f func()) Timer
}

type realClock struct{}

func (realClock) Now() time.Time                            { return time.Now() }
func (realClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

// RealClock is the wall clock.
func RealClock() Clock { return realClock{} }

// Options tune the gateway; zero fields take the defaults noted.
type Options struct {
	MaxFrameBytes   int           // largest accepted frame; default twilsock.DefaultMaxFrameBytes
	WriteQueue      int           // frames queued per socket before it is cut off as too slow; default 256
	WriteQueueBytes int           // bytes queued per socket before it is cut off; default 8 MiB (at least MaxFrameBytes)
	WriteTimeout    time.Duration // one frame write; default 10s
	InitTimeout     time.Duration // time allowed for the first frame (init); default 30s
	RejectGrace     time.Duration // after a refused init, time for the client to close; default 5s
	PingInterval    time.Duration // server ping period; a socket silent for two periods is closed; default 30s, <0 disables
	ExpiryWarning   time.Duration // token_about_to_expire this long before exp; default 3m
	MaxInflight     int           // concurrent upstream requests per socket; default 16
	Clock           Clock         // default RealClock()
	Logger          *slog.Logger  // default slog.Default()
	// Origin is the http(s) origin ("scheme://host") of a socket's upgrade request, handed to
	// upstreams as Request.Origin for links to Parley's own HTTP routes (the Media Content
	// Service); default the request's scheme and Host.
	Origin func(r *http.Request) string
}

func (o *Options) defaults() {
	if o.MaxFrameBytes <= 0 {
		o.MaxFrameBytes = twilsock.DefaultMaxFrameBytes
	}
	if o.WriteQueue <= 0 {
		o.WriteQueue = 256
	}
	if o.WriteQueueBytes <= 0 {
		o.WriteQueueBytes = 8 << 20
	}
	if o.WriteQueueBytes < o.MaxFrameBytes {
		o.WriteQueueBytes = o.MaxFrameBytes
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.InitTimeout <= 0 {
		o.InitTimeout = 30 * time.Second
	}
	if o.RejectGrace <= 0 {
		o.RejectGrace = 5 * time.Second
	}
	if o.PingInterval == 0 {
		o.PingInterval = 30 * time.Second
	}
	if o.ExpiryWarning <= 0 {
		o.ExpiryWarning = 3 * time.Minute
	}
	if o.MaxInflight <= 0 {
		o.MaxInflight = 16
	}
	if o.Clock == nil {
		o.Clock = RealClock()
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Origin == nil {
		o.Origin = requestOrigin
	}
}

// Gateway is the http.Handler of the twilsock endpoint.
type Gateway struct {
	verifier Verifier
	upstream Upstream
	sessions Sessions
	opt      Options

	mu    sync.Mutex
	live  map[*Session]struct{}
	wg    sync.WaitGroup
	drain bool
}

// New returns a gateway verifying tokens with verifier and answering upstream requests with
// upstream; sessions may be nil.
func New(verifier Verifier, upstream Upstream, sessions Sessions, opt Options) *Gateway {
	opt.defaults()
	return &Gateway{verifier: verifier, upstream: upstream, sessions: sessions, opt: opt, live: map[*Session]struct{}{}}
}

// ServeHTTP upgrades the request to a WebSocket and runs the twilsock session until it ends.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	draining := g.drain
	g.mu.Unlock()
	if draining {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		// Authentication is the access token inside the init frame, never cookies, so
		// cross-origin pages are as safe as same-origin ones (Twilio accepts any origin).
		InsecureSkipVerify: true,
	})
	if err != nil {
		return // Accept has written the HTTP error
	}
	c.SetReadLimit(int64(g.opt.MaxFrameBytes) + 1) // +1: an oversized frame reaches Parse and gets 406
	s := newSession(g, wsConn{c})
	s.origin = g.opt.Origin(r)
	if !g.track(s) {
		_ = c.Close(websocket.StatusGoingAway, "shutting down")
		return
	}
	defer g.untrack(s)
	s.run(r.Context())
}

// requestOrigin is the scheme and Host of r.
func requestOrigin(r *http.Request) string {
	if r.TLS != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

func (g *Gateway) track(s *Session) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.drain {
		return false
	}
	g.live[s] = struct{}{}
	g.wg.Add(1)
	return true
}

func (g *Gateway) untrack(s *Session) {
	g.mu.Lock()
	delete(g.live, s)
	g.mu.Unlock()
	g.wg.Done()
}

// Shutdown refuses new sockets and tells every live client to reconnect later (close 308 with a
// backoff policy, which the SDK treats as an offload), then waits for the sockets to end or
// ctx to be done.
func (g *Gateway) Shutdown(ctx context.Context) error {
	g.mu.Lock()
	g.drain = true
	live := make([]*Session, 0, len(g.live))
	for s := range g.live {
		live = append(live, s)
	}
	g.mu.Unlock()
	for _, s := range live {
		s.offload()
	}
	done := make(chan struct{})
	go func() { g.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		for _, s := range live {
			s.conn.CloseNow()
		}
		return ctx.Err()
	}
}

// conn is the part of a WebSocket connection a session uses (a seam for tests).
type conn interface {
	Read(ctx context.Context) ([]byte, error)
	Write(ctx context.Context, b []byte) error
	Close(code websocket.StatusCode, reason string) error
	CloseNow() error
}

type wsConn struct{ c *websocket.Conn }

func (w wsConn) Read(ctx context.Context) ([]byte, error) {
	_, b, err := w.c.Read(ctx) // the JS client sends binary frames; text is accepted too
	return b, err
}
func (w wsConn) Write(ctx context.Context, b []byte) error {
	return w.c.Write(ctx, websocket.MessageBinary, b)
}
func (w wsConn) Close(code websocket.StatusCode, reason string) error { return w.c.Close(code, reason) }
func (w wsConn) CloseNow() error                                      { return w.c.CloseNow() }

// errSlow is why a socket whose write queue overflowed was cut off.
var errSlow = errors.New("gateway: client too slow, write queue full")
