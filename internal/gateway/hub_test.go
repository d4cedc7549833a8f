package gateway

import (
	"testing"
	"time"

	"github.com/parley-dev/parley/internal/twilsock"
)

// tee forwards to several Sessions.
type tee []Sessions

func (t tee) Attach(s *Session) {
	for _, x := range t {
		x.Attach(s)
	}
}

func (t tee) Detach(s *Session) {
	for _, x := range t {
		x.Detach(s)
	}
}

func TestHubFanOut(t *testing.T) {
	h := newHarness(t, Options{}, configRouter())
	hub := NewHub()
	h.gw.sessions = tee{hub, h.rec}
	login := func(identity string) *client {
		c := h.dial()
		id := c.init(h.token(identity, time.Hour))
		c.recvReply(id)
		<-h.rec.attached // attached to the hub too (tee order)
		return c
	}
	a1, a2, b := login("alice"), login("alice"), login("bob")
	if n := len(hub.Sessions(acct, svc, "alice")); n != 2 {
		t.Fatalf("alice has %d sessions", n)
	}
	payload := []byte(`{"channel_sid":"CH1","identity":"bob","typing_timeout":5}`)
	if n := hub.Notify(acct, svc, "alice", "twilio.ipmsg.typing_indicator", payload); n != 2 {
		t.Fatalf("delivered to %d", n)
	}
	for _, c := range []*client{a1, a2} {
		f := c.recv()
		var n twilsock.Notification
		if err := f.DecodeHeader(&n); err != nil || n.MessageType != "twilio.ipmsg.typing_indicator" || string(f.Payload) != string(payload) {
			t.Fatalf("%s %v", f.RawHeader, err)
		}
	}
	// Bob got nothing: his next frame is the reply to his own request.
	id := b.upstream("GET", "aim.us1.twilio.com", "/Client/v2/Configuration", nil)
	b.recvReply(id)
	// Other accounts/services/identities are separate keys.
	if n := hub.Notify(acct, "IS99999999999999999999999999999999", "alice", "x", nil); n != 0 {
		t.Fatalf("other service: %d", n)
	}

	// A closed socket leaves the hub.
	a1.send(&twilsock.Close{Header: twilsock.Header{Method: twilsock.MethodClose, ID: "TMbye"}}, nil)
	a1.expectClosed()
	<-h.rec.detached
	if n := len(hub.Sessions(acct, svc, "alice")); n != 1 {
		t.Fatalf("alice has %d sessions after a close", n)
	}
	if n := hub.Notify(acct, svc, "alice", "x", []byte(`{}`)); n != 1 {
		t.Fatalf("delivered to %d", n)
	}
}
