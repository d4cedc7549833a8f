package gateway

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-dev/parley/internal/accesstoken"
	"github.com/parley-dev/parley/internal/twilsock"
)

const (
	acct   = "AC0123456789abcdef0123456789abcdef"
	keySid = "SK0123456789abcdef0123456789abcdef"
	secret = "gateway-test-secret"
	svc    = "IS0123456789abcdef0123456789abcdef"
)

// fakeClock is a manual Clock: timers fire only inside Advance, in deadline order.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	c       *fakeClock
	at      time.Time
	f       func()
	stopped bool
}

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := !t.stopped
	t.stopped = true
	return was
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: c, at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return t
}

// Advance moves the clock by d, running every timer that falls due, earliest first.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	target := c.now.Add(d)
	for {
		sort.SliceStable(c.timers, func(i, j int) bool { return c.timers[i].at.Before(c.timers[j].at) })
		var next *fakeTimer
		for i, t := range c.timers {
			if !t.stopped && !t.at.After(target) {
				next = t
				c.timers = append(c.timers[:i], c.timers[i+1:]...)
				break
			}
		}
		if next == nil {
			break
		}
		next.stopped = true
		if next.at.After(c.now) {
			c.now = next.at
		}
		c.mu.Unlock()
		next.f()
		c.mu.Lock()
	}
	c.now = target
	c.mu.Unlock()
}

type keyMap map[string][2]string

func (k keyMap) LookupAPIKey(_ context.Context, sid string) (string, string, error) {
	v, ok := k[sid]
	if !ok {
		return "", "", accesstoken.ErrKeyNotFound
	}
	return v[0], v[1], nil
}

// recorder is a Sessions that records attachments.
type recorder struct {
	attached chan *Session
	detached chan *Session
}

func newRecorder() *recorder {
	return &recorder{attached: make(chan *Session, 16), detached: make(chan *Session, 16)}
}
func (r *recorder) Attach(s *Session) { r.attached <- s }
func (r *recorder) Detach(s *Session) { r.detached <- s }

type harness struct {
	t     *testing.T
	clock *fakeClock
	gw    *Gateway
	srv   *httptest.Server
	rec   *recorder
	keys  keyMap
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newHarness(t *testing.T, opt Options, up Upstream) *harness {
	t.Helper()
	h := &harness{t: t, clock: newFakeClock(), rec: newRecorder(), keys: keyMap{keySid: {acct, secret}}}
	opt.Clock = h.clock
	if opt.Logger == nil {
		opt.Logger = quietLogger()
	}
	if opt.PingInterval == 0 {
		opt.PingInterval = -1
	}
	if up == nil {
		up = NewRouter()
	}
	h.gw = New(accesstoken.NewVerifier(h.keys, h.clock.Now), up, h.rec, opt)
	h.srv = httptest.NewServer(h.gw)
	t.Cleanup(h.srv.Close)
	return h
}

func (h *harness) token(identity string, ttl time.Duration) string {
	h.t.Helper()
	tok, err := accesstoken.Mint(accesstoken.MintParams{AccountSid: acct, KeySid: keySid, KeySecret: secret, Identity: identity,
		Chat: accesstoken.ChatGrant{ServiceSid: svc}, TTL: ttl}, h.clock.Now())
	if err != nil {
		h.t.Fatal(err)
	}
	return tok
}

// client is a raw twilsock client over a real WebSocket.
type client struct {
	t *testing.T
	c *websocket.Conn
	n int
}

// ioTimeout bounds every read and write so a broken test fails instead of hanging; nothing
// asserts on elapsed time.
const ioTimeout = 20 * time.Second

func (h *harness) dial() *client {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(h.srv.URL, "http")+Path, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	c.SetReadLimit(8 << 20)
	h.t.Cleanup(func() { c.CloseNow() })
	return &client{t: h.t, c: c}
}

func (c *client) sendRaw(b []byte) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	if err := c.c.Write(ctx, websocket.MessageBinary, b); err != nil {
		c.t.Fatal(err)
	}
}

// send encodes header (setting a fresh id when empty) and returns the id.
func (c *client) send(h twilsock.Encoder, payload []byte) string {
	c.t.Helper()
	b, err := twilsock.Encode(h, payload)
	if err != nil {
		c.t.Fatal(err)
	}
	f, _ := twilsock.Parse(b, 0)
	c.sendRaw(b)
	return f.Header.ID
}

// with returns c reporting to t (for subtests sharing one socket).
func (c *client) with(t *testing.T) *client { c.t = t; return c }

func (c *client) nextID() string { c.n++; return "TMclient" + strconv.Itoa(c.n) }

func (c *client) init(token string) string {
	return c.send(&twilsock.Init{
		Header:        twilsock.Header{Method: twilsock.MethodInit, ID: c.nextID()},
		Token:         token,
		Metadata:      &twilsock.Metadata{SDK: "JS", SDKV: "3.0.1"},
		Registrations: []twilsock.Registration{{Product: "ip_messaging", Type: "ers", MessageTypes: []string{"twilio.sync.event"}}},
		Capabilities:  []string{"client_update", "offline_storage", "telemetry.v1"},
	}, nil)
}

func (c *client) recv() *twilsock.Frame {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	_, b, err := c.c.Read(ctx)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	f, err := twilsock.Parse(b, 0)
	if err != nil {
		c.t.Fatalf("server sent a malformed frame: %v\n%q", err, b)
	}
	return f
}

// recvReply reads the next frame, which must be a reply to id.
func (c *client) recvReply(id string) (*twilsock.Frame, twilsock.Reply) {
	c.t.Helper()
	f := c.recv()
	var r twilsock.Reply
	if err := f.DecodeHeader(&r); err != nil {
		c.t.Fatal(err)
	}
	if r.Method != twilsock.MethodReply || r.ID != id {
		c.t.Fatalf("got %s, want a reply to %s", f.RawHeader, id)
	}
	return f, r
}

// expectClosed reads until the socket ends; every frame before must be one of allowed methods.
func (c *client) expectClosed() {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	for {
		_, b, err := c.c.Read(ctx)
		if err != nil {
			if ctx.Err() != nil {
				c.t.Fatal("socket still open")
			}
			return
		}
		c.t.Fatalf("unexpected frame before close: %q", b)
	}
}

func (c *client) upstream(method, host, path string, body any) string {
	c.t.Helper()
	var payload []byte
	if body != nil {
		payload, _ = json.Marshal(body)
	}
	return c.send(&twilsock.Message{
		Header:      twilsock.Header{Method: twilsock.MethodMessage, ID: c.nextID(), PayloadType: "application/json; charset=utf-8"},
		ActiveGrant: "ip_messaging",
		HTTPRequest: twilsock.HTTPRequest{Host: host, Path: path, Method: method, Params: map[string]twilsock.MultiValue{"PageSize": {"50"}}},
	}, payload)
}

func (c *client) ack(id string) {
	c.send(&twilsock.Reply{Header: twilsock.Header{Method: twilsock.MethodReply, ID: id, PayloadType: "application/json"}, Status: twilsock.StatusOK()}, nil)
}
