package console

import (
	"context"
	"testing"

	"github.com/parley-dev/parley/internal/conv"
)

func TestBrokerRoutesByAccount(t *testing.T) {
	b := NewBroker(4)
	a := b.Subscribe("ACa")
	other := b.Subscribe("ACb")
	defer a.Close()
	defer other.Close()
	b.Publish(context.Background(), conv.Event{Type: "onMessageAdded", AccountSid: "ACa", ConversationSid: "CH1",
		Message: &conv.Message{Sid: "IM1"}, Conversation: &conv.Conversation{State: "active"}, Source: conv.SourceAPI})
	got := <-a.C
	if got.Type != "onMessageAdded" || got.ConversationSid != "CH1" || got.MessageSid != "IM1" || got.State != "active" || got.FiresWebhooks {
		t.Fatalf("change = %+v", got)
	}
	select {
	case c := <-other.C:
		t.Fatalf("other account got %+v", c)
	default:
	}
	b.Notify(Change{Type: "clock"}) // no account: nobody
	select {
	case c := <-a.C:
		t.Fatalf("change without account delivered: %+v", c)
	default:
	}
}

func TestBrokerDropsSlowSubscriber(t *testing.T) {
	b := NewBroker(2)
	slow := b.Subscribe("ACa")
	fast := b.Subscribe("ACa")
	for i := range 3 {
		b.Notify(Change{Type: "onMessageAdded", AccountSid: "ACa"})
		if i < 2 {
			<-fast.C
		}
	}
	<-fast.C
	// slow never read: its two queued changes are still there, then the channel is closed.
	n := 0
	for range slow.C {
		n++
	}
	if n != 2 || !slow.Dropped() {
		t.Fatalf("slow subscriber: read %d, dropped %v; want 2, true", n, slow.Dropped())
	}
	if fast.Dropped() || b.Subscribers() != 1 {
		t.Fatalf("fast dropped %v, subscribers %d", fast.Dropped(), b.Subscribers())
	}
	fast.Close()
	fast.Close() // idempotent
	if b.Subscribers() != 0 {
		t.Fatalf("subscribers after close = %d", b.Subscribers())
	}
}

func TestBrokerClose(t *testing.T) {
	b := NewBroker(0)
	s := b.Subscribe("ACa")
	b.Close()
	if _, open := <-s.C; open {
		t.Fatal("subscription open after broker Close")
	}
	if s.Dropped() {
		t.Fatal("closed subscription reported as dropped")
	}
	late := b.Subscribe("ACa")
	if _, open := <-late.C; open {
		t.Fatal("subscription after Close is open")
	}
	late.Close()
	b.Notify(Change{Type: "x", AccountSid: "ACa"}) // no panic on closed channels
}

func TestChangeOfUser(t *testing.T) {
	c := ChangeOf(conv.Event{Type: "onUserAdded", User: &conv.User{AccountSid: "ACa", ServiceSid: "IS1", Identity: "alice"}})
	if c.AccountSid != "ACa" || c.ServiceSid != "IS1" || c.Identity != "alice" {
		t.Fatalf("change = %+v", c)
	}
}

func TestBrokerControlChanged(t *testing.T) {
	b := NewBroker(4)
	a := b.Subscribe("ACa")
	other := b.Subscribe("ACb")
	defer a.Close()
	defer other.Close()
	b.ControlChanged("reset", "ACa")
	if got := <-a.C; got.Type != TypeReset || got.AccountSid != "ACa" {
		t.Fatalf("reset: %+v", got)
	}
	select {
	case c := <-other.C:
		t.Fatalf("other account got %+v", c)
	default:
	}
	b.ControlChanged("clock", "") // every account
	for _, s := range []*Subscription{a, other} {
		if got := <-s.C; got.Type != TypeClock || got.AccountSid != s.account {
			t.Fatalf("clock: %+v", got)
		}
	}
}
