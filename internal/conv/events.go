package conv

import (
	"context"
	"time"
)

// EventType names a Conversations webhook event: its EventType parameter.
type EventType string

// Post-events: a change was committed. Webhooks receive them after the fact.
const (
	EventConversationAdded        EventType = "onConversationAdded"
	EventConversationUpdated      EventType = "onConversationUpdated"
	EventConversationRemoved      EventType = "onConversationRemoved"
	EventConversationStateUpdated EventType = "onConversationStateUpdated"
	EventParticipantAdded         EventType = "onParticipantAdded"
	EventParticipantUpdated       EventType = "onParticipantUpdated"
	EventParticipantRemoved       EventType = "onParticipantRemoved"
	EventMessageAdded             EventType = "onMessageAdded"
	EventMessageUpdated           EventType = "onMessageUpdated"
	EventMessageRemoved           EventType = "onMessageRemoved"
	EventDeliveryUpdated          EventType = "onDeliveryUpdated"
	EventUserAdded                EventType = "onUserAdded"
	EventUserUpdated              EventType = "onUserUpdated"
)

// Pre-events: a change an SDK user (or an SMS/WhatsApp participant) is about to make. Pre-event
// webhooks may reject it or change some of its fields (see PreEventChanges).
const (
	EventConversationAdd    EventType = "onConversationAdd"
	EventConversationUpdate EventType = "onConversationUpdate"
	EventConversationRemove EventType = "onConversationRemove"
	EventParticipantAdd     EventType = "onParticipantAdd"
	EventParticipantUpdate  EventType = "onParticipantUpdate"
	EventParticipantRemove  EventType = "onParticipantRemove"
	EventMessageAdd         EventType = "onMessageAdd"
	EventMessageUpdate      EventType = "onMessageUpdate"
	EventMessageRemove      EventType = "onMessageRemove"
	EventUserUpdate         EventType = "onUserUpdate"
)

// EventSink receives the post-event of every committed change (EventParticipantAdded, ...).
// The webhook engine implements it; WebhookEnabled carries the X-Twilio-Webhook-Enabled intent.
type EventSink interface {
	Publish(ctx context.Context, e Event)
}

// Event is a committed change.
type Event struct {
	Type            EventType
	Source          string // SourceAPI, SourceSDK, ...
	AccountSid      string
	ServiceSid      string
	ConversationSid string
	// WebhookEnabled is true when the REST request carried X-Twilio-Webhook-Enabled: true.
	WebhookEnabled bool
	Conversation   *Conversation
	Participant    *Participant
	// Message is the message of onMessageAdded, onMessageUpdated and onMessageRemoved.
	Message *Message
	// User is the user of onUserAdded and onUserUpdated.
	User *User
	Time time.Time
	// ClientIdentity is the identity of the SDK user who acted (Source SDK only).
	ClientIdentity string
	// StateFrom is the previous state of onConversationStateUpdated ("" when unknown).
	StateFrom string
}

// NopEvents discards events.
type NopEvents struct{}

// Publish does nothing.
func (NopEvents) Publish(context.Context, Event) {}

// event returns the event of a change of conversation c (and participant p) made with o.
func (s *Service) event(typ EventType, c *Conversation, p *Participant, o WriteOptions) Event {
	e := Event{Type: typ, Source: o.Source, WebhookEnabled: o.WebhookEnabled, Conversation: c, Participant: p, Time: s.clock()}
	if e.Source == "" {
		e.Source = SourceAPI
	}
	if e.Source == SourceSDK {
		e.ClientIdentity = o.ClientIdentity
	}
	if c != nil {
		e.AccountSid, e.ServiceSid, e.ConversationSid = c.AccountSid, c.ServiceSid, c.Sid
	}
	return e
}

// messageEvent returns the event of a change of message m of conversation c made with o.
func (s *Service) messageEvent(typ EventType, c *Conversation, m *Message, o WriteOptions) Event {
	e := s.event(typ, c, nil, o)
	e.Message = m
	return e
}

// userEvent returns the event of a change of user u made with o.
func (s *Service) userEvent(typ EventType, u *User, o WriteOptions) Event {
	e := s.event(typ, nil, nil, o)
	e.AccountSid, e.ServiceSid, e.User = u.AccountSid, u.ServiceSid, u
	return e
}

// publish notifies the event sink, after commit, of a change whose webhook deliveries emit
// wrote in its transaction (the webhook dispatcher wakes up on it).
func (s *Service) publish(ctx context.Context, typ EventType, c *Conversation, p *Participant, o WriteOptions) {
	s.events.Publish(ctx, s.event(typ, c, p, o))
}

// publishMessage publishes a message event of conversation c.
func (s *Service) publishMessage(ctx context.Context, typ EventType, c *Conversation, m *Message, o WriteOptions) {
	s.events.Publish(ctx, s.messageEvent(typ, c, m, o))
}
