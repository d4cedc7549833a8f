package gateway

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/coder/websocket"

	"github.com/parley-dev/parley/internal/accesstoken"
	"github.com/parley-dev/parley/internal/twilsock"
)

// memConn is an in-memory conn; when stuck, every Write blocks until the session gives up.
type memConn struct {
	in      chan []byte
	written chan []byte
	stuck   bool
	closed  chan struct{}
	once    sync.Once
}

func newMemConn(stuck bool) *memConn {
	return &memConn{in: make(chan []byte, 8), written: make(chan []byte, 64), stuck: stuck, closed: make(chan struct{})}
}

func (m *memConn) Read(ctx context.Context) ([]byte, error) {
	select {
	case b := <-m.in:
		return b, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-m.closed:
		return nil, errors.New("closed")
	}
}

func (m *memConn) Write(ctx context.Context, b []byte) error {
	if m.stuck {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-m.closed:
			return errors.New("closed")
		}
	}
	select {
	case m.written <- b:
		return nil
	case <-m.closed:
		return errors.New("closed")
	}
}

func (m *memConn) Close(websocket.StatusCode, string) error { return m.CloseNow() }
func (m *memConn) CloseNow() error                          { m.once.Do(func() { close(m.closed) }); return nil }

func TestSlowClientIsCutOffAlone(t *testing.T) {
	clock := newFakeClock()
	keys := keyMap{keySid: {acct, secret}}
	rec := newRecorder()
	g := New(accesstoken.NewVerifier(keys, clock.Now), NewRouter(), rec, Options{WriteQueue: 2, PingInterval: -1, Clock: clock, Logger: quietLogger()})
	mint := func(identity string) []byte {
		tok, err := accesstoken.Mint(accesstoken.MintParams{AccountSid: acct, KeySid: keySid, KeySecret: secret, Identity: identity, Chat: accesstoken.ChatGrant{ServiceSid: svc}}, clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		b, _ := twilsock.Encode(&twilsock.Init{Header: twilsock.Header{Method: twilsock.MethodInit, ID: "TM" + identity}, Token: tok}, nil)
		return b
	}
	slowConn, fastConn := newMemConn(true), newMemConn(false)
	slow, fast := newSession(g, slowConn), newSession(g, fastConn)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go slow.run(ctx)
	go fast.run(ctx)
	slowConn.in <- mint("slow")
	fastConn.in <- mint("fast")
	<-fastConn.written // the fast init reply
	for range 2 {
		<-rec.attached
	}

	// The slow socket's writer is stuck on its init reply; the queue (2) fills and the next
	// Notify cuts it off, without blocking.
	var err error
	n := 0
	for ; n < 10 && err == nil; n++ {
		err = slow.Notify("twilio.sync.event", []byte(`{}`))
	}
	if !errors.Is(err, ErrClosed) || n > 3 {
		t.Fatalf("after %d notifications: %v", n, err)
	}
	<-slow.Done()
	if got := <-rec.detached; got != slow {
		t.Fatal("wrong session detached")
	}

	// The fast socket is unaffected.
	for range 5 {
		if err := fast.Notify("twilio.sync.event", []byte(`{"ok":true}`)); err != nil {
			t.Fatal(err)
		}
		f, err := twilsock.Parse(<-fastConn.written, 0)
		if err != nil || f.Header.Method != "notification" || string(f.Payload) != `{"ok":true}` {
			t.Fatalf("%+v %v", f, err)
		}
	}
}

func TestRouter(t *testing.T) {
	rt := NewRouter()
	hit := func(name string) Upstream {
		return UpstreamFunc(func(_ context.Context, r *Request) *Response {
			return JSONResponse(200, map[string]any{"route": name, "params": r.PathParams})
		})
	}
	rt.Handle("GET", "cds", "/v3/Maps/{id}", hit("map"))
	rt.Handle("GET", "cds", "/v3/Services/{svc}/Maps/{id}/Items", hit("items"))
	rt.Handle("POST", "aim", "/Client/v2/Services/{svc}/Conversations/{ch}/Messages", hit("send"))
	for _, tc := range []struct{ method, host, path, want string }{
		{"GET", "cds.us1.twilio.com", "/v3/Maps/MP1", `{"params":{"id":"MP1"},"route":"map"}`},
		{"GET", "cds", "/v3/Services/IS1/Maps/MP1/Items", `{"params":{"id":"MP1","svc":"IS1"},"route":"items"}`},
		{"POST", "aim.ie1.twilio.com:443", "/Client/v2/Services/IS1/Conversations/CH1/Messages", `{"params":{"ch":"CH1","svc":"IS1"},"route":"send"}`},
		{"GET", "cds.us1.twilio.com", "/v3/Maps/", `{"code":20404,"message":"The requested resource /v3/Maps/ was not found","more_info":"https://www.twilio.com/docs/errors/20404","status":404}`},
		{"GET", "aim.us1.twilio.com", "/v3/Maps/MP1", `{"code":20404,"message":"The requested resource /v3/Maps/MP1 was not found","more_info":"https://www.twilio.com/docs/errors/20404","status":404}`},
		{"PUT", "cds.us1.twilio.com", "/v3/Maps/MP1", `{"code":20004,"message":"Method not allowed","more_info":"https://www.twilio.com/docs/errors/20004","status":405}`},
	} {
		r := &Request{Method: tc.method, Host: tc.host, Service: ServiceOf(tc.host), Path: tc.path}
		if got := string(rt.ServeUpstream(context.Background(), r).Body); got != tc.want {
			t.Errorf("%s %s%s = %s, want %s", tc.method, tc.host, tc.path, got, tc.want)
		}
	}
}

func TestQueueByteBound(t *testing.T) {
	clock := newFakeClock()
	rec := newRecorder()
	g := New(accesstoken.NewVerifier(keyMap{keySid: {acct, secret}}, clock.Now), NewRouter(), rec,
		Options{MaxFrameBytes: 4096, WriteQueueBytes: 4096, PingInterval: -1, Clock: clock, Logger: quietLogger()})
	conn := newMemConn(true) // the writer is stuck on the init reply, which stays counted
	s := newSession(g, conn)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.run(ctx)
	tok, _ := accesstoken.Mint(accesstoken.MintParams{AccountSid: acct, KeySid: keySid, KeySecret: secret, Identity: "big", Chat: accesstoken.ChatGrant{ServiceSid: svc}}, clock.Now())
	init, _ := twilsock.Encode(&twilsock.Init{Header: twilsock.Header{Method: twilsock.MethodInit, ID: "TMi"}, Token: tok}, nil)
	conn.in <- init
	<-rec.attached
	big := []byte(`"` + strings.Repeat("x", 3000) + `"`)
	if err := s.Notify("twilio.sync.event", big); err != nil {
		t.Fatalf("first 3 KB: %v", err)
	}
	if err := s.Notify("twilio.sync.event", big); !errors.Is(err, ErrClosed) {
		t.Fatalf("second 3 KB over a 4 KB queue: %v", err)
	}
	<-s.Done()
}

func TestOneLargeFrameAlwaysFits(t *testing.T) {
	clock := newFakeClock()
	rec := newRecorder()
	g := New(accesstoken.NewVerifier(keyMap{keySid: {acct, secret}}, clock.Now), NewRouter(), rec,
		Options{MaxFrameBytes: 4096, WriteQueueBytes: 4096, PingInterval: -1, Clock: clock, Logger: quietLogger()})
	conn := newMemConn(false)
	s := newSession(g, conn)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.run(ctx)
	tok, _ := accesstoken.Mint(accesstoken.MintParams{AccountSid: acct, KeySid: keySid, KeySecret: secret, Identity: "big", Chat: accesstoken.ChatGrant{ServiceSid: svc}}, clock.Now())
	init, _ := twilsock.Encode(&twilsock.Init{Header: twilsock.Header{Method: twilsock.MethodInit, ID: "TMi"}, Token: tok}, nil)
	conn.in <- init
	<-conn.written
	<-rec.attached
	// The reply is written and uncounted; a frame bigger than the whole queue still goes out.
	// (The writer decrements after Write returns; wait for that through a round trip.)
	for {
		s.mu.Lock()
		q := s.queuedBytes
		s.mu.Unlock()
		if q == 0 {
			break
		}
		runtime.Gosched()
	}
	huge := []byte(`"` + strings.Repeat("y", 10000) + `"`)
	if err := s.Notify("twilio.sync.event", huge); err != nil {
		t.Fatal(err)
	}
	f, err := twilsock.Parse(<-conn.written, 1<<20)
	if err != nil || len(f.Payload) != len(huge) {
		t.Fatalf("%v", err)
	}
}
