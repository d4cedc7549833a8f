package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/coder/websocket"

	"github.com/parley-dev/parley/internal/accesstoken"
	"github.com/parley-dev/parley/internal/twilsock"
)

// ErrClosed is returned by Session.Notify after the socket ended.
var ErrClosed = errors.New("gateway: session closed")

type state int

const (
	stateAwaitInit state = iota
	stateActive
	stateRejected // init refused; waiting for the client to close
	stateClosing  // a final frame is queued; nothing else is sent
)

// outFrame is a queued frame; when last, the writer closes the socket after writing it.
type outFrame struct {
	data   []byte
	last   bool
	code   websocket.StatusCode
	reason string
}

// Session is one twilsock socket.
type Session struct {
	g    *Gateway
	conn conn
	out  chan outFrame
	sem  chan struct{}
	done chan struct{} // closed when the session has ended

	mu          sync.Mutex
	st          state
	principal   Principal
	timers      []Timer // expiry timers of the current token
	initTimer   Timer
	rejectTimer Timer
	pingTimer   Timer
	heard       bool // a frame arrived since the last ping
	pinged      bool // a ping is outstanding
	attached    bool
	queuedBytes int // bytes in out, not yet written
	cancel      context.CancelFunc
}

func newSession(g *Gateway, c conn) *Session {
	return &Session{
		g:    g,
		conn: c,
		out:  make(chan outFrame, g.opt.WriteQueue),
		sem:  make(chan struct{}, g.opt.MaxInflight),
		done: make(chan struct{}),
	}
}

// Principal returns who the socket is authenticated as (zero before init succeeds).
func (s *Session) Principal() Principal {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.principal
}

// Notify queues a push (twilsock "notification") of messageType with a JSON payload. It never
// blocks: a socket whose queue is full is disconnected and ErrClosed returned, so a slow client
// never holds up the caller or other sockets.
func (s *Session) Notify(messageType string, payload []byte) error {
	b, err := twilsock.Encode(&twilsock.Notification{
		Header:      twilsock.Header{Method: twilsock.MethodNotification, ID: newID(), PayloadType: "application/json"},
		MessageType: messageType,
	}, payload)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st != stateActive {
		return ErrClosed
	}
	if !s.enqueueLocked(outFrame{data: b}) {
		return ErrClosed
	}
	return nil
}

// run serves the socket until it ends.
func (s *Session) run(parent context.Context) {
	ctx, cancel := context.WithCancel(parent)
	s.mu.Lock()
	s.cancel = cancel
	s.armInitTimerLocked()
	s.mu.Unlock()

	writerDone := make(chan struct{})
	go func() { defer close(writerDone); s.writer(ctx) }()
	var upstream sync.WaitGroup
	defer func() {
		cancel()
		upstream.Wait()
		<-writerDone
		s.conn.CloseNow()
		s.mu.Lock()
		s.st = stateClosing
		s.stopTimersLocked()
		attached := s.attached
		s.attached = false
		s.mu.Unlock()
		if attached && s.g.sessions != nil {
			s.g.sessions.Detach(s)
		}
		close(s.done)
	}()

	for {
		b, err := s.conn.Read(ctx)
		if err != nil {
			return
		}
		f, err := twilsock.Parse(b, s.g.opt.MaxFrameBytes)
		if err != nil {
			s.g.opt.Logger.Debug("twilsock: malformed frame", "err", err)
			s.closeWith(406, "NOT_ACCEPTABLE", err.Error(), 0, nil)
			continue // keep reading until the writer closes the socket
		}
		s.mu.Lock()
		s.heard = true
		st := s.st
		s.mu.Unlock()
		if st == stateClosing {
			continue
		}
		switch f.Header.Method {
		case twilsock.MethodReply:
			// The client's ack of a server frame; nothing to do.
		case twilsock.MethodClose:
			s.mu.Lock()
			s.finishLocked(websocket.StatusNormalClosure, "")
			s.mu.Unlock()
		case twilsock.MethodInit:
			if st != stateAwaitInit {
				s.replyStatus(f.Header.ID, twilsock.Status{Code: 400, Status: "BAD_REQUEST", Description: "Already initialized"})
				continue
			}
			s.handleInit(ctx, f)
		default:
			if st == stateRejected {
				continue
			}
			if st != stateActive {
				s.closeWith(406, "NOT_ACCEPTABLE", fmt.Sprintf("%s before init", f.Header.Method), 0, nil)
				continue
			}
			switch f.Header.Method {
			case twilsock.MethodUpdate:
				s.handleUpdate(ctx, f)
			case twilsock.MethodMessage:
				select {
				case s.sem <- struct{}{}:
				case <-ctx.Done():
					return
				}
				upstream.Add(1)
				go func() {
					defer func() { <-s.sem; upstream.Done() }()
					s.handleMessage(ctx, f)
				}()
			case twilsock.MethodPutNotificationCtx, twilsock.MethodDeleteNotificationCtx, twilsock.MethodTelemetry:
				// Push contexts (FCM/APN registrations) and telemetry are accepted and not
				// used: Parley has no push delivery to mobile devices.
				s.replyStatus(f.Header.ID, twilsock.StatusOK())
			default:
				s.replyStatus(f.Header.ID, twilsock.Status{Code: 400, Status: "BAD_REQUEST", Description: "Unknown method " + f.Header.Method})
			}
		}
	}
}

// writer sends queued frames in order.
func (s *Session) writer(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case f := <-s.out:
			var err error
			if f.data != nil {
				wctx, cancel := context.WithTimeout(ctx, s.g.opt.WriteTimeout)
				err = s.conn.Write(wctx, f.data)
				cancel()
			}
			s.mu.Lock()
			s.queuedBytes -= len(f.data)
			s.mu.Unlock()
			if err != nil {
				s.mu.Lock()
				s.abortLocked(websocket.StatusInternalError, "write failed")
				s.mu.Unlock()
				return
			}
			if f.last {
				_ = s.conn.Close(f.code, f.reason) // waits (bounded) for the client's close
				s.mu.Lock()
				s.cancel()
				s.mu.Unlock()
				return
			}
		}
	}
}

// enqueueLocked queues f without blocking; when the queue is full (WriteQueue frames or
// WriteQueueBytes bytes) the socket is cut off instead.
func (s *Session) enqueueLocked(f outFrame) bool {
	if s.queuedBytes > 0 && s.queuedBytes+len(f.data) > s.g.opt.WriteQueueBytes { // one big frame alone always fits
		s.g.opt.Logger.Warn("twilsock: disconnecting a slow client", "identity", s.principal.Identity, "err", errSlow)
		s.abortLocked(websocket.StatusPolicyViolation, "client too slow")
		return false
	}
	select {
	case s.out <- f:
		s.queuedBytes += len(f.data)
		return true
	default:
		s.g.opt.Logger.Warn("twilsock: disconnecting a slow client", "identity", s.principal.Identity, "err", errSlow)
		s.abortLocked(websocket.StatusPolicyViolation, "client too slow")
		return false
	}
}

// abortLocked ends the session at once, without a twilsock close frame.
func (s *Session) abortLocked(code websocket.StatusCode, reason string) {
	s.st = stateClosing
	s.stopTimersLocked()
	if s.cancel != nil {
		s.cancel()
	}
	go s.conn.Close(code, reason) //nolint:errcheck // best effort; CloseNow follows in run
}

// finishLocked queues a WebSocket close after the frames already queued.
func (s *Session) finishLocked(code websocket.StatusCode, reason string) {
	if s.st == stateClosing {
		return
	}
	s.st = stateClosing
	s.stopTimersLocked()
	s.enqueueLocked(outFrame{last: true, code: code, reason: reason})
}

// closeWith sends a twilsock close frame with status, then closes the socket.
func (s *Session) closeWith(code int, status, description string, errorCode int, payload []byte) {
	b, err := twilsock.Encode(&twilsock.Close{
		Header: twilsock.Header{Method: twilsock.MethodClose, ID: newID()},
		Status: &twilsock.Status{Code: code, Status: status, Description: description, ErrorCode: errorCode},
	}, payload)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st == stateClosing {
		return
	}
	if err != nil {
		s.abortLocked(websocket.StatusInternalError, "encoding failed")
		return
	}
	if !s.enqueueLocked(outFrame{data: b}) {
		return
	}
	s.finishLocked(websocket.StatusNormalClosure, status)
}

// offload asks the client to reconnect later (close 308, the SDK's "offload").
func (s *Session) offload() {
	s.closeWith(308, "OFFLOAD", "Server is shutting down", 0, []byte(`{"backoff_policy":{"reconnect_min_ms":1000,"reconnect_max_ms":5000}}`))
}

func (s *Session) send(h twilsock.Encoder, payload []byte) {
	b, err := twilsock.Encode(h, payload)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st == stateClosing {
		return
	}
	if err != nil {
		s.abortLocked(websocket.StatusInternalError, "encoding failed")
		return
	}
	s.enqueueLocked(outFrame{data: b})
}

func (s *Session) replyStatus(id string, st twilsock.Status) {
	s.send(&twilsock.Reply{Header: twilsock.Header{Method: twilsock.MethodReply, ID: id}, Status: st}, nil)
}

// tokenStatus is the reply status for a refused token: 401 with Twilio's code (20104 makes the
// SDK emit tokenExpired), or 500 (the SDK retries) when verification itself failed.
func tokenStatus(err error) twilsock.Status {
	var e *accesstoken.Error
	if errors.As(err, &e) {
		return twilsock.Status{Code: e.Status(), Status: "UNAUTHORIZED", Description: e.Message, ErrorCode: e.Code}
	}
	return twilsock.Status{Code: 500, Status: "INTERNAL_SERVER_ERROR", Description: "Internal error"}
}

func principalOf(c *accesstoken.Claims) Principal {
	p := Principal{AccountSid: c.AccountSid, KeySid: c.KeySid, Identity: c.Identity, ExpiresAt: c.ExpiresAt}
	if c.Chat != nil {
		p.ServiceSid, p.EndpointID = c.Chat.ServiceSid, c.Chat.EndpointID
	}
	return p
}

func (s *Session) handleInit(ctx context.Context, f *twilsock.Frame) {
	var in twilsock.Init
	if err := f.DecodeHeader(&in); err != nil {
		s.closeWith(406, "NOT_ACCEPTABLE", err.Error(), 0, nil)
		return
	}
	claims, err := s.g.verifier.Verify(ctx, in.Token)
	s.mu.Lock()
	if s.st != stateAwaitInit {
		s.mu.Unlock()
		return
	}
	if s.initTimer != nil {
		s.initTimer.Stop()
	}
	if err != nil {
		st := tokenStatus(err)
		if st.Code == 500 {
			// Verification itself failed (the store); the SDK retries init on 500.
			s.g.opt.Logger.Error("twilsock: verifying a token failed", "err", err)
			s.armInitTimerLocked()
		} else {
			// The SDK closes the socket itself (state "denied"); close it after a grace
			// period if it does not.
			s.rejectLocked()
		}
		s.mu.Unlock()
		s.replyStatus(in.ID, st)
		return
	}
	s.st = stateActive
	s.principal = principalOf(claims)
	s.scheduleExpiryLocked()
	s.schedulePingLocked()
	s.attached = s.g.sessions != nil
	reply := &twilsock.InitReply{
		Reply: twilsock.Reply{Header: twilsock.Header{Method: twilsock.MethodReply, ID: in.ID}, Status: twilsock.StatusOK()},
		// Only client_update is confirmed: no telemetry.v1 (the client would start sending
		// telemetry) and no offline_storage (the SDK's Sync cache stays off).
		Capabilities: []string{twilsock.CapabilityClientUpdate},
	}
	for _, r := range in.Registrations {
		r.NotificationCtxID = newID()
		reply.InitRegistrations = append(reply.InitRegistrations, r)
	}
	b, err := twilsock.Encode(reply, nil)
	if err != nil {
		s.abortLocked(websocket.StatusInternalError, "encoding failed")
		s.mu.Unlock()
		return
	}
	ok := s.enqueueLocked(outFrame{data: b})
	s.mu.Unlock()
	if ok && s.attached {
		s.g.sessions.Attach(s)
	}
}

func (s *Session) handleUpdate(ctx context.Context, f *twilsock.Frame) {
	var u twilsock.Update
	if err := f.DecodeHeader(&u); err != nil {
		s.closeWith(406, "NOT_ACCEPTABLE", err.Error(), 0, nil)
		return
	}
	claims, err := s.g.verifier.Verify(ctx, u.Token)
	if err != nil {
		st := tokenStatus(err)
		if st.Code != 500 {
			// The SDK treats a refused update as terminal and closes; close after a grace
			// period in case it does not. Armed before the reply goes out, as for init, so
			// that whoever reads the reply finds the grace period already running.
			s.mu.Lock()
			if s.st == stateActive {
				s.rejectLocked()
			}
			s.mu.Unlock()
		}
		s.replyStatus(u.ID, st)
		return
	}
	next := principalOf(claims)
	s.mu.Lock()
	cur := s.principal
	s.mu.Unlock()
	if next.AccountSid != cur.AccountSid || next.ServiceSid != cur.ServiceSid || next.Identity != cur.Identity {
		// As Twilio does: close 308 (the SDK reconnects, re-initialising with the new token).
		s.closeWith(308, "UPDATE_IS_FORBIDDEN", "Token from update is unauthorised or different from initial", 51232, nil)
		return
	}
	s.mu.Lock()
	if s.st != stateActive {
		s.mu.Unlock()
		return
	}
	s.principal = next
	s.scheduleExpiryLocked()
	s.mu.Unlock()
	s.replyStatus(u.ID, twilsock.StatusOK())
}

// armInitTimerLocked closes the socket unless an init succeeds within InitTimeout.
func (s *Session) armInitTimerLocked() {
	s.initTimer = s.g.opt.Clock.AfterFunc(s.g.opt.InitTimeout, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.st == stateAwaitInit {
			s.abortLocked(websocket.StatusPolicyViolation, "no init frame in time")
		}
	})
}

// rejectLocked enters stateRejected after a refused token: every later frame but close is
// ignored, and the socket is closed after RejectGrace unless the client closes it first.
func (s *Session) rejectLocked() {
	s.st = stateRejected
	s.stopTimersLocked()
	s.rejectTimer = s.g.opt.Clock.AfterFunc(s.g.opt.RejectGrace, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.st == stateRejected {
			s.finishLocked(websocket.StatusPolicyViolation, "access token rejected")
		}
	})
}

// scheduleExpiryLocked (re)arms token_about_to_expire and the close at exp for the current
// principal.
func (s *Session) scheduleExpiryLocked() {
	for _, t := range s.timers {
		t.Stop()
	}
	s.timers = s.timers[:0]
	clk := s.g.opt.Clock
	exp := s.principal.ExpiresAt
	left := exp.Sub(clk.Now())
	warn := left - s.g.opt.ExpiryWarning
	if warn < 0 {
		warn = 0
	}
	s.timers = append(s.timers,
		clk.AfterFunc(warn, func() {
			s.send(&twilsock.ClientUpdate{
				Header:              twilsock.Header{Method: twilsock.MethodClientUpdate, ID: newID()},
				ClientUpdateType:    twilsock.ClientUpdateTokenAboutToExpire,
				ClientUpdateMessage: fmt.Sprintf("Your token is about to expire. Time left: less than %d ms", s.g.opt.ExpiryWarning.Milliseconds()),
			}, nil)
		}),
		clk.AfterFunc(left, func() {
			s.closeWith(410, "TOKEN_EXPIRED", "Token expired", 51207, nil)
		}),
	)
}

func (s *Session) schedulePingLocked() {
	if s.g.opt.PingInterval < 0 {
		return
	}
	s.pingTimer = s.g.opt.Clock.AfterFunc(s.g.opt.PingInterval, s.pingTick)
}

// pingTick sends a ping, or closes a socket that has not answered the previous one.
func (s *Session) pingTick() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st != stateActive {
		return
	}
	if s.pinged && !s.heard {
		s.abortLocked(websocket.StatusGoingAway, "idle")
		return
	}
	b, err := twilsock.Encode(&twilsock.Ping{Header: twilsock.Header{Method: twilsock.MethodPing, ID: newID()}}, nil)
	if err != nil {
		return
	}
	s.pinged, s.heard = true, false
	if s.enqueueLocked(outFrame{data: b}) {
		s.schedulePingLocked()
	}
}

func (s *Session) stopTimersLocked() {
	for _, t := range s.timers {
		t.Stop()
	}
	for _, t := range []Timer{s.initTimer, s.rejectTimer, s.pingTimer} {
		if t != nil {
			t.Stop()
		}
	}
}

func (s *Session) handleMessage(ctx context.Context, f *twilsock.Frame) {
	var m twilsock.Message
	if err := f.DecodeHeader(&m); err != nil {
		s.replyStatus(f.Header.ID, twilsock.Status{Code: 400, Status: "BAD_REQUEST", Description: err.Error()})
		return
	}
	req := &Request{
		Principal:   s.Principal(),
		Session:     s,
		Grant:       m.ActiveGrant,
		Method:      strings.ToUpper(m.HTTPRequest.Method),
		Host:        m.HTTPRequest.Host,
		Service:     ServiceOf(m.HTTPRequest.Host),
		Path:        m.HTTPRequest.Path,
		Params:      m.HTTPRequest.Params,
		Headers:     m.HTTPRequest.Headers,
		ContentType: m.PayloadType,
		Body:        f.Payload,
	}
	resp := s.serve(ctx, req)
	headers := map[string]string{"Content-Type": "application/json"}
	for k, v := range resp.Headers {
		headers[k] = v
	}
	s.send(&twilsock.Reply{
		Header:      twilsock.Header{Method: twilsock.MethodReply, ID: m.ID, PayloadType: "application/json"},
		Status:      twilsock.StatusOK(),
		HTTPStatus:  &twilsock.Status{Code: resp.Status, Status: http.StatusText(resp.Status)},
		HTTPHeaders: headers,
	}, resp.Body)
}

// serve calls the upstream, turning a panic or a nil response into a 500.
func (s *Session) serve(ctx context.Context, req *Request) (resp *Response) {
	defer func() {
		if p := recover(); p != nil {
			s.g.opt.Logger.Error("twilsock: upstream handler panicked", "path", req.Path, "panic", p)
			resp = ErrorResponse(http.StatusInternalServerError, 20500, "Internal Server Error")
		}
	}()
	resp = s.g.upstream.ServeUpstream(ctx, req)
	if resp == nil {
		resp = ErrorResponse(http.StatusInternalServerError, 20500, "Internal Server Error")
	}
	return resp
}

// newID returns a twilsock message id ("TM" and 32 hex digits, like the SDK's).
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "TM" + hex.EncodeToString(b[:])
}

// Done is closed when the session has ended.
func (s *Session) Done() <-chan struct{} { return s.done }
