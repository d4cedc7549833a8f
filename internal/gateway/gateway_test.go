package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-dev/parley/internal/accesstoken"
	"github.com/parley-dev/parley/internal/twilsock"
)

func configRouter() *Router {
	rt := NewRouter()
	rt.Handle("GET", "aim", "/Client/v2/Configuration", UpstreamFunc(func(_ context.Context, r *Request) *Response {
		return JSONResponse(200, map[string]any{"identity": r.Principal.Identity, "service": r.Principal.ServiceSid, "page_size": r.Params["PageSize"].First()})
	}))
	rt.Handle("POST", "cds", "/v3/Maps/{id}", UpstreamFunc(func(_ context.Context, r *Request) *Response {
		return &Response{Status: 201, Headers: map[string]string{"X-Test": "1"}, Body: append([]byte(`{"id":"`+r.PathParams["id"]+`","echo":`), append(r.Body, '}')...)}
	}))
	rt.Handle("GET", "cds", "/panic", UpstreamFunc(func(context.Context, *Request) *Response { panic("boom") }))
	return rt
}

func TestHandshakeAndUpstream(t *testing.T) {
	h := newHarness(t, Options{}, configRouter())
	c := h.dial()
	id := c.init(h.token("alice", time.Hour))
	f, _ := c.recvReply(id)
	var ir twilsock.InitReply
	if err := f.DecodeHeader(&ir); err != nil {
		t.Fatal(err)
	}
	if ir.Status != twilsock.StatusOK() || strings.Join(ir.Capabilities, ",") != "client_update" ||
		len(ir.InitRegistrations) != 1 || ir.InitRegistrations[0].Product != "ip_messaging" || ir.InitRegistrations[0].NotificationCtxID == "" {
		t.Fatalf("init reply %s", f.RawHeader)
	}
	s := <-h.rec.attached
	if p := s.Principal(); p.Identity != "alice" || p.AccountSid != acct || p.ServiceSid != svc || !p.ExpiresAt.Equal(h.clock.Now().Add(time.Hour)) {
		t.Fatalf("principal %+v", p)
	}

	t.Run("routed GET", func(t *testing.T) {
		c := c.with(t)
		id := c.upstream("GET", "aim.us1.twilio.com", "/Client/v2/Configuration", nil)
		f, r := c.recvReply(id)
		if r.Status != twilsock.StatusOK() || r.HTTPStatus.Code != 200 || r.HTTPStatus.Status != "OK" || r.HTTPHeaders["Content-Type"] != "application/json" ||
			string(f.Payload) != `{"identity":"alice","page_size":"50","service":"`+svc+`"}` {
			t.Fatalf("%s %s", f.RawHeader, f.Payload)
		}
	})
	t.Run("routed POST with path param, other region, body", func(t *testing.T) {
		c := c.with(t)
		id := c.upstream("post", "cds.ie1.twilio.com", "/v3/Maps/MP1", map[string]int{"a": 1})
		f, r := c.recvReply(id)
		if r.HTTPStatus.Code != 201 || r.HTTPStatus.Status != "Created" || r.HTTPHeaders["X-Test"] != "1" || string(f.Payload) != `{"id":"MP1","echo":{"a":1}}` {
			t.Fatalf("%s %s", f.RawHeader, f.Payload)
		}
	})
	for _, tc := range []struct {
		name, method, host, path string
		status, code             int
	}{
		{"unknown host", "GET", "ers.us1.twilio.com", "/v1/registrations", 404, 20404},
		{"unknown path", "GET", "aim.us1.twilio.com", "/Client/v2/Nope", 404, 20404},
		{"wrong method", "DELETE", "aim.us1.twilio.com", "/Client/v2/Configuration", 405, 20004},
		{"panicking handler", "GET", "cds.us1.twilio.com", "/panic", 500, 20500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := c.with(t)
			id := c.upstream(tc.method, tc.host, tc.path, nil)
			f, r := c.recvReply(id)
			var body struct {
				Code     int    `json:"code"`
				Message  string `json:"message"`
				MoreInfo string `json:"more_info"`
				Status   int    `json:"status"`
			}
			if err := json.Unmarshal(f.Payload, &body); err != nil {
				t.Fatal(err)
			}
			if r.Status.Code != 200 || r.HTTPStatus.Code != tc.status || body.Code != tc.code || body.Status != tc.status || body.Message == "" || !strings.HasSuffix(body.MoreInfo, "/errors/"+itoa(tc.code)) {
				t.Fatalf("%s %s", f.RawHeader, f.Payload)
			}
		})
	}
	t.Run("push contexts are acknowledged", func(t *testing.T) {
		c := c.with(t)
		id := c.send(&twilsock.NotificationCtx{Header: twilsock.Header{Method: twilsock.MethodPutNotificationCtx, ID: c.nextID()}, NotificationCtxID: "ctx"}, []byte(`{}`))
		if _, r := c.recvReply(id); r.Status.Code != 200 {
			t.Fatal(r)
		}
	})
	t.Run("unknown method", func(t *testing.T) {
		c := c.with(t)
		id := c.send(&twilsock.Ping{Header: twilsock.Header{Method: "frobnicate", ID: c.nextID()}}, nil)
		if _, r := c.recvReply(id); r.Status.Code != 400 {
			t.Fatal(r)
		}
	})
	t.Run("second init", func(t *testing.T) {
		c := c.with(t)
		id := c.init(h.token("alice", time.Hour))
		if _, r := c.recvReply(id); r.Status.Code != 400 {
			t.Fatal(r)
		}
	})
	t.Run("notify", func(t *testing.T) {
		c := c.with(t)
		if err := s.Notify("twilio.ipmsg.typing_indicator", []byte(`{"channel_sid":"CH1","identity":"bob","typing_timeout":5}`)); err != nil {
			t.Fatal(err)
		}
		f := c.recv()
		var n twilsock.Notification
		if err := f.DecodeHeader(&n); err != nil || n.Method != "notification" || n.MessageType != "twilio.ipmsg.typing_indicator" || n.PayloadType != "application/json" || !f.IsJSON() || string(f.Payload) != `{"channel_sid":"CH1","identity":"bob","typing_timeout":5}` {
			t.Fatalf("%s %s %v", f.RawHeader, f.Payload, err)
		}
		c.ack(n.ID)
	})
	t.Run("client close", func(t *testing.T) {
		c := c.with(t)
		c.send(&twilsock.Close{Header: twilsock.Header{Method: twilsock.MethodClose, ID: c.nextID()}}, nil)
		c.expectClosed()
		if got := <-h.rec.detached; got != s {
			t.Fatal("another session detached")
		}
		<-s.Done()
		if err := s.Notify("x", nil); !errors.Is(err, ErrClosed) {
			t.Fatalf("Notify after close: %v", err)
		}
	})
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestInitRejected(t *testing.T) {
	h := newHarness(t, Options{}, nil)
	now := h.clock.Now()
	good := h.token("alice", time.Hour)
	forged, _ := accesstoken.Mint(accesstoken.MintParams{AccountSid: acct, KeySid: keySid, KeySecret: "forged", Identity: "alice", Chat: accesstoken.ChatGrant{ServiceSid: svc}}, now)
	expired, _ := accesstoken.Mint(accesstoken.MintParams{AccountSid: acct, KeySid: keySid, KeySecret: secret, Identity: "alice", Chat: accesstoken.ChatGrant{ServiceSid: svc}}, now.Add(-2*time.Hour))
	otherAcct, _ := accesstoken.Mint(accesstoken.MintParams{AccountSid: "AC11111111111111111111111111111111", KeySid: keySid, KeySecret: secret, Identity: "alice", Chat: accesstoken.ChatGrant{ServiceSid: svc}}, now)
	unknownKey, _ := accesstoken.Mint(accesstoken.MintParams{AccountSid: acct, KeySid: "SK99999999999999999999999999999999", KeySecret: secret, Identity: "alice", Chat: accesstoken.ChatGrant{ServiceSid: svc}}, now)
	for _, tc := range []struct {
		name  string
		token string
		code  int
	}{
		{"garbage", "garbage", 20101},
		{"empty", "", 20101},
		{"forged signature", forged, 20107},
		{"tampered", good[:len(good)-3] + "AAA", 20107},
		{"expired", expired, 20104},
		{"wrong account", otherAcct, 20103},
		{"unknown key", unknownKey, 20103},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := h.dial()
			id := c.init(tc.token)
			_, r := c.recvReply(id)
			want := twilsock.Status{Code: 401, Status: "UNAUTHORIZED", Description: accesstoken.Title(tc.code), ErrorCode: tc.code}
			if r.Status != want {
				t.Fatalf("status %+v, want %+v", r.Status, want)
			}
			// Anything but close is ignored now; the server closes after the grace period
			// when the client does not.
			c.upstream("GET", "aim.us1.twilio.com", "/x", nil)
			h.clock.Advance(5 * time.Second)
			c.expectClosed()
		})
	}
	select {
	case s := <-h.rec.attached:
		t.Fatalf("a rejected socket was attached: %+v", s.Principal())
	default:
	}
}

type failingKeys struct{}

func (failingKeys) LookupAPIKey(context.Context, string) (string, string, error) {
	return "", "", errors.New("database down")
}

func TestInitVerifierFailureIs500(t *testing.T) {
	h := newHarness(t, Options{}, nil)
	h.gw.verifier = accesstoken.NewVerifier(failingKeys{}, h.clock.Now)
	c := h.dial()
	id := c.init(h.token("alice", time.Hour))
	if _, r := c.recvReply(id); r.Status.Code != 500 || r.Status.ErrorCode != 0 {
		t.Fatalf("%+v", r.Status)
	}
	// The SDK retries init on 500; a later init succeeds once the keys are back.
	h.gw.verifier = accesstoken.NewVerifier(h.keys, h.clock.Now)
	id = c.init(h.token("alice", time.Hour))
	if _, r := c.recvReply(id); r.Status.Code != 200 {
		t.Fatalf("%+v", r.Status)
	}
}

func TestTokenExpiry(t *testing.T) {
	h := newHarness(t, Options{}, configRouter())
	c := h.dial()
	id := c.init(h.token("alice", 10*time.Minute))
	c.recvReply(id)
	s := <-h.rec.attached

	h.clock.Advance(7*time.Minute - time.Second)
	// Nothing due yet: the next frame is the reply to this request.
	id = c.upstream("GET", "aim.us1.twilio.com", "/Client/v2/Configuration", nil)
	c.recvReply(id)

	h.clock.Advance(time.Second)
	f := c.recv()
	var cu twilsock.ClientUpdate
	if err := f.DecodeHeader(&cu); err != nil || cu.Method != "client_update" || cu.ClientUpdateType != "token_about_to_expire" || !strings.Contains(cu.ClientUpdateMessage, "180000 ms") {
		t.Fatalf("%s %v", f.RawHeader, err)
	}
	c.ack(cu.ID)

	h.clock.Advance(3 * time.Minute)
	f = c.recv()
	var cl twilsock.Close
	if err := f.DecodeHeader(&cl); err != nil || cl.Method != "close" || *cl.Status != (twilsock.Status{Code: 410, Status: "TOKEN_EXPIRED", Description: "Token expired", ErrorCode: 51207}) {
		t.Fatalf("%s %v", f.RawHeader, err)
	}
	c.expectClosed()
	<-h.rec.detached
	<-s.Done()
}

func TestTokenUpdate(t *testing.T) {
	h := newHarness(t, Options{}, configRouter())
	c := h.dial()
	id := c.init(h.token("alice", 10*time.Minute))
	c.recvReply(id)
	s := <-h.rec.attached

	h.clock.Advance(5 * time.Minute)
	id = c.send(&twilsock.Update{Header: twilsock.Header{Method: twilsock.MethodUpdate, ID: c.nextID()}, Token: h.token("alice", time.Hour)}, nil)
	if _, r := c.recvReply(id); r.Status != twilsock.StatusOK() {
		t.Fatalf("%+v", r.Status)
	}
	if p := s.Principal(); !p.ExpiresAt.Equal(h.clock.Now().Add(time.Hour)) {
		t.Fatalf("principal %+v", p)
	}
	// Past the old token's expiry and warning: nothing was sent.
	h.clock.Advance(10 * time.Minute)
	id = c.upstream("GET", "aim.us1.twilio.com", "/Client/v2/Configuration", nil)
	c.recvReply(id)

	t.Run("refused token", func(t *testing.T) {
		c := h.dial()
		id := c.init(h.token("bob", time.Hour))
		c.recvReply(id)
		<-h.rec.attached
		bad, _ := accesstoken.Mint(accesstoken.MintParams{AccountSid: acct, KeySid: keySid, KeySecret: "forged", Identity: "bob", Chat: accesstoken.ChatGrant{ServiceSid: svc}}, h.clock.Now())
		id = c.send(&twilsock.Update{Header: twilsock.Header{Method: twilsock.MethodUpdate, ID: c.nextID()}, Token: bad}, nil)
		if _, r := c.recvReply(id); r.Status != (twilsock.Status{Code: 401, Status: "UNAUTHORIZED", Description: "Invalid Access Token signature", ErrorCode: 20107}) {
			t.Fatalf("%+v", r.Status)
		}
		h.clock.Advance(5 * time.Second)
		c.expectClosed()
		<-h.rec.detached
	})

	t.Run("identity change", func(t *testing.T) {
		c := c.with(t)
		id := c.send(&twilsock.Update{Header: twilsock.Header{Method: twilsock.MethodUpdate, ID: c.nextID()}, Token: h.token("mallory", time.Hour)}, nil)
		_ = id
		f := c.recv()
		var cl twilsock.Close
		if err := f.DecodeHeader(&cl); err != nil || cl.Method != "close" ||
			*cl.Status != (twilsock.Status{Code: 308, Status: "UPDATE_IS_FORBIDDEN", Description: "Token from update is unauthorised or different from initial", ErrorCode: 51232}) {
			t.Fatalf("%s %v", f.RawHeader, err)
		}
		c.expectClosed()
		if s.Principal().Identity != "alice" {
			t.Fatal("identity changed")
		}
	})
}

func TestProtocolErrorsClose406(t *testing.T) {
	h := newHarness(t, Options{MaxFrameBytes: 4096}, nil)
	expect406 := func(c *client) {
		t.Helper()
		f := c.recv()
		var cl twilsock.Close
		if err := f.DecodeHeader(&cl); err != nil || cl.Status == nil || cl.Status.Code != 406 || cl.Status.Status != "NOT_ACCEPTABLE" || cl.Status.Description == "" {
			t.Fatalf("%s %v", f.RawHeader, err)
		}
		c.expectClosed()
	}
	t.Run("bad magic", func(t *testing.T) {
		c := h.dial()
		c.sendRaw([]byte("HELLO V3.0 2\r\n{}\r\n"))
		expect406(c)
	})
	t.Run("header size lies", func(t *testing.T) {
		c := h.dial()
		c.sendRaw([]byte("TWILSOCK V3.0 99\r\n{\"method\":\"init\"}\r\n"))
		expect406(c)
	})
	t.Run("message before init", func(t *testing.T) {
		c := h.dial()
		c.upstream("GET", "aim.us1.twilio.com", "/", nil)
		expect406(c)
	})
	t.Run("frame one byte over the limit", func(t *testing.T) {
		c := h.dial()
		c.sendRaw([]byte("TWILSOCK V3.0 2\r\n{}\r\n" + strings.Repeat(" ", 4097-len("TWILSOCK V3.0 2\r\n{}\r\n"))))
		expect406(c)
	})
	t.Run("far oversized frame", func(t *testing.T) {
		c := h.dial()
		ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
		defer cancel()
		_ = c.c.Write(ctx, websocket.MessageBinary, []byte(strings.Repeat("x", 64<<10))) // the server may cut it off mid-write
		c.expectClosed()
	})
}

func TestInitTimeout(t *testing.T) {
	h := newHarness(t, Options{InitTimeout: time.Minute}, nil)
	c := h.dial()
	// The server registers its init timer when the session starts; a ping from the client
	// side is not needed: Advance runs it whenever it was registered before or during the call,
	// so loop until the socket is gone.
	waitForTimers(t, h.clock, 1)
	h.clock.Advance(time.Minute)
	c.expectClosed()
}

// waitForTimers blocks until the clock has n pending timers (registered by server goroutines).
func waitForTimers(t *testing.T, c *fakeClock, n int) {
	t.Helper()
	deadline := time.Now().Add(ioTimeout)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		k := 0
		for _, tm := range c.timers {
			if !tm.stopped {
				k++
			}
		}
		c.mu.Unlock()
		if k >= n {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("timers not registered")
}

func TestPingAndIdle(t *testing.T) {
	h := newHarness(t, Options{PingInterval: 30 * time.Second}, configRouter())
	c := h.dial()
	id := c.init(h.token("alice", time.Hour))
	c.recvReply(id)
	<-h.rec.attached

	h.clock.Advance(30 * time.Second)
	f := c.recv()
	if f.Header.Method != "ping" {
		t.Fatalf("%s", f.RawHeader)
	}
	// Any frame counts as life; a request/reply round trip also orders it before the next tick.
	c.ack(f.Header.ID)
	id = c.upstream("GET", "aim.us1.twilio.com", "/Client/v2/Configuration", nil)
	c.recvReply(id)

	h.clock.Advance(30 * time.Second)
	if f := c.recv(); f.Header.Method != "ping" {
		t.Fatalf("%s", f.RawHeader)
	}
	// Silent for a whole period: closed.
	h.clock.Advance(30 * time.Second)
	c.expectClosed()
	<-h.rec.detached
}

func TestShutdownOffloads(t *testing.T) {
	h := newHarness(t, Options{}, nil)
	c := h.dial()
	id := c.init(h.token("alice", time.Hour))
	c.recvReply(id)
	<-h.rec.attached
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
		defer cancel()
		done <- h.gw.Shutdown(ctx)
	}()
	f := c.recv()
	var cl twilsock.Close
	if err := f.DecodeHeader(&cl); err != nil || cl.Status.Code != 308 || !strings.Contains(string(f.Payload), `"reconnect_min_ms":1000`) {
		t.Fatalf("%s %s %v", f.RawHeader, f.Payload, err)
	}
	c.expectClosed()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// New sockets are refused.
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	if _, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(h.srv.URL, "http")+Path, nil); err == nil {
		t.Fatal("dial after shutdown succeeded")
	}
}

// TestOutlivesServerTimeouts: the socket survives the HTTP server's read and write timeouts
// ("parley serve" sets both; net/http clears their deadlines when the connection is
// hijacked). The sleep only lets those deadlines pass; a slow machine cannot make it fail.
func TestOutlivesServerTimeouts(t *testing.T) {
	h := newHarness(t, Options{}, configRouter())
	h.srv.Close()
	h.srv = httptest.NewUnstartedServer(h.gw)
	h.srv.Config.ReadTimeout = 50 * time.Millisecond
	h.srv.Config.WriteTimeout = 50 * time.Millisecond
	h.srv.Start()
	t.Cleanup(h.srv.Close)
	c := h.dial()
	id := c.init(h.token("alice", time.Hour))
	c.recvReply(id)
	time.Sleep(200 * time.Millisecond)
	id = c.upstream("GET", "aim.us1.twilio.com", "/Client/v2/Configuration", nil)
	if _, r := c.recvReply(id); r.HTTPStatus.Code != 200 {
		t.Fatalf("%+v", r)
	}
}
