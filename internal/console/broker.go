package console

import (
	"context"
	"sync"
	"time"

	"github.com/parley-dev/parley/internal/conv"
)

// DefaultQueue is the default number of events a subscriber may have waiting.
const DefaultQueue = 256

// Change is one committed change of an account, as the console's event stream sends it: small
// on purpose (the console reads the resources it shows over the REST API).
type Change struct {
	Type            string    `json:"type"` // onMessageAdded, ..., or a Parley kind such as clock or reset
	AccountSid      string    `json:"account_sid"`
	ServiceSid      string    `json:"chat_service_sid,omitempty"`
	ConversationSid string    `json:"conversation_sid,omitempty"`
	ParticipantSid  string    `json:"participant_sid,omitempty"`
	MessageSid      string    `json:"message_sid,omitempty"`
	Identity        string    `json:"identity,omitempty"`
	Source          string    `json:"source,omitempty"`
	State           string    `json:"state,omitempty"` // the conversation's state after the change
	FiresWebhooks   bool      `json:"fires_webhooks,omitempty"`
	Time            time.Time `json:"time"`
}

// ChangeOf returns the Change of a domain event.
func ChangeOf(e conv.Event) Change {
	c := Change{Type: string(e.Type), AccountSid: e.AccountSid, ServiceSid: e.ServiceSid, ConversationSid: e.ConversationSid,
		Source: e.Source, FiresWebhooks: e.FiresWebhooks(), Time: e.Time.UTC()}
	if e.Conversation != nil {
		c.State = e.Conversation.State
	}
	if e.Participant != nil {
		c.ParticipantSid = e.Participant.Sid
	}
	if e.Message != nil {
		c.MessageSid = e.Message.Sid
	}
	if e.User != nil {
		c.AccountSid = e.User.AccountSid
		c.ServiceSid = e.User.ServiceSid
		c.Identity = e.User.Identity
	}
	return c
}

// Broker fans the committed changes of every account out to the live subscribers of that
// account. It is a conv.EventSink (put it in the Service's conv.MultiSink); other components
// (the clock, reset, the webhook and SMS dispatchers) announce their changes with Notify.
//
// Publishing never blocks: each subscriber has a bounded queue, and a subscriber whose queue
// is full is disconnected (its channel is closed with Dropped set), so one slow browser cannot
// hold up a request or grow memory. The broker is per process: a replica's subscribers see
// the changes made through that replica.
type Broker struct {
	queue  int
	mu     sync.Mutex
	subs   map[string]map[*Subscription]struct{} // by account SID
	closed bool
}

// NewBroker returns a broker whose subscribers may have up to queue events waiting (0:
// DefaultQueue).
func NewBroker(queue int) *Broker {
	if queue <= 0 {
		queue = DefaultQueue
	}
	return &Broker{queue: queue, subs: map[string]map[*Subscription]struct{}{}}
}

// Subscription receives the changes of one account on C until it is closed: by Close, by the
// broker's Close, or because it fell behind (then Dropped reports true).
type Subscription struct {
	C       <-chan Change
	c       chan Change
	b       *Broker
	account string
	dropped bool // guarded by b.mu
	done    bool // guarded by b.mu
}

// Subscribe returns a new subscription to the changes of account. After the broker's Close it
// returns a subscription that is already closed.
func (b *Broker) Subscribe(account string) *Subscription {
	ch := make(chan Change, b.queue)
	s := &Subscription{C: ch, c: ch, b: b, account: account}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		s.done = true
		close(ch)
		return s
	}
	m := b.subs[account]
	if m == nil {
		m = map[*Subscription]struct{}{}
		b.subs[account] = m
	}
	m[s] = struct{}{}
	return s
}

// Close ends s; it is safe to call more than once.
func (s *Subscription) Close() {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	s.b.remove(s)
}

// Dropped reports whether s was closed because it fell behind.
func (s *Subscription) Dropped() bool {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	return s.dropped
}

// remove ends s; b.mu is held.
func (b *Broker) remove(s *Subscription) {
	if s.done {
		return
	}
	s.done = true
	close(s.c)
	if m := b.subs[s.account]; m != nil {
		delete(m, s)
		if len(m) == 0 {
			delete(b.subs, s.account)
		}
	}
}

// Publish implements conv.EventSink.
func (b *Broker) Publish(_ context.Context, e conv.Event) {
	b.Notify(ChangeOf(e))
}

// Notify sends c to every subscriber of c.AccountSid, dropping those whose queue is full.
func (b *Broker) Notify(c Change) {
	if c.AccountSid == "" {
		return
	}
	if c.Time.IsZero() {
		c.Time = time.Now().UTC()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs[c.AccountSid] {
		select {
		case s.c <- c:
		default:
			s.dropped = true
			b.remove(s)
		}
	}
}

// Subscribers returns the number of open subscriptions (for tests and metrics).
func (b *Broker) Subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, m := range b.subs {
		n += len(m)
	}
	return n
}

// Close ends every subscription (their streams end) and makes later ones start closed. Call
// it when the server shuts down: open streams would otherwise hold http.Server.Shutdown.
func (b *Broker) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for _, m := range b.subs {
		for s := range m {
			b.remove(s)
		}
	}
}

// Types of the changes that do not come from domain events.
const (
	// TypeClock, TypeReset, TypeSnapshot, TypeFaults: the control plane moved the clock (due
	// timers applied), reset the account, restored a snapshot, added or deleted a fault.
	TypeClock    = "parley.clock"
	TypeReset    = "parley.reset"
	TypeSnapshot = "parley.snapshot"
	TypeFaults   = "parley.faults"
	// TypeDeliverySettled: an SMS/WhatsApp delivery attempt was recorded (outbox, receipts).
	TypeDeliverySettled = "parley.deliverySettled"
	// TypeWebhookSettled: a webhook delivery attempt was recorded (the delivery log).
	TypeWebhookSettled = "parley.webhookSettled"
)

// ControlChanged announces a change of the control plane (control.Notifier): kind "clock",
// "reset", "snapshot" or "faults" becomes a Change of type "parley.<kind>" for account, or
// for every account with subscribers when account is "".
func (b *Broker) ControlChanged(kind, account string) {
	c := Change{Type: "parley." + kind, AccountSid: account}
	if account != "" {
		b.Notify(c)
		return
	}
	b.mu.Lock()
	accounts := make([]string, 0, len(b.subs))
	for a := range b.subs {
		accounts = append(accounts, a)
	}
	b.mu.Unlock()
	for _, a := range accounts {
		c.AccountSid = a
		b.Notify(c)
	}
}

// DeliverySettled announces that an attempt of SMS/WhatsApp delivery d was recorded; it fits
// delivery.Options.Settled.
func (b *Broker) DeliverySettled(d *conv.Delivery) {
	b.Notify(Change{Type: TypeDeliverySettled, AccountSid: d.AccountSid, ServiceSid: d.ServiceSid,
		ConversationSid: d.ConversationSid, ParticipantSid: d.ParticipantSid, MessageSid: d.MessageSid})
}

// WebhookSettled announces that an attempt of webhook delivery w was recorded; it fits
// webhook.Options.Settled.
func (b *Broker) WebhookSettled(w *conv.WebhookDelivery) {
	b.Notify(Change{Type: TypeWebhookSettled, AccountSid: w.AccountSid, ServiceSid: w.ServiceSid,
		ConversationSid: w.ConversationSid})
}
