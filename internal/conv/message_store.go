package conv

import (
	"context"
	"time"
)

// MessageQuery selects one page of a conversation's messages in index order: ascending, or
// descending when Desc is set. PageQuery's cursors are relative to that order: AfterSeq
// continues past a row in list order, BeforeSeq returns the rows that precede one in list order.
type MessageQuery struct {
	PageQuery
	Desc bool
}

// DeliveryClaim asks for due non-chat deliveries to be leased to one dispatcher.
type DeliveryClaim struct {
	Owner string
	// Now is the claim time: deliveries whose next attempt is at or before Now, and whose lease
	// (if any) ended at or before Now, are due.
	Now time.Time
	// LeaseUntil is when the new lease ends; another dispatcher may claim the rows then.
	LeaseUntil time.Time
	Limit      int
}

// OutboxFilter narrows an outbox list; empty fields match everything.
type OutboxFilter struct {
	To              string
	ConversationSid string
}

// MessageStore persists messages and the per-conversation message index counter.
type MessageStore interface {
	// NextMessageIndex returns the index the next message of the conversation gets and advances
	// the conversation's counter, in the caller's transaction. The counter never goes back, so
	// indexes are never reused. ErrNotFound: no such conversation.
	NextMessageIndex(ctx context.Context, conversationSid string) (int64, error)
	// MessageIndexCounter returns the index the next message of the conversation would get (0
	// when it never had a message). ErrNotFound: no such conversation.
	MessageIndexCounter(ctx context.Context, conversationSid string) (int64, error)
	// CreateMessage inserts m and sets m.Seq. ErrConflict: the sid or (conversation, index) is taken.
	CreateMessage(ctx context.Context, m *Message) error
	// GetMessage returns a message of the conversation. ErrNotFound.
	GetMessage(ctx context.Context, conversationSid, sid string) (*Message, error)
	// ListMessages returns one page of the conversation's messages.
	ListMessages(ctx context.Context, conversationSid string, q MessageQuery) ([]*Message, error)
	// UpdateMessage writes every mutable field of m (author, body, attributes, participant,
	// subject, dates). ErrNotFound.
	UpdateMessage(ctx context.Context, m *Message) error
	// DeleteMessage deletes a message with its deliveries. ErrNotFound.
	DeleteMessage(ctx context.Context, conversationSid, sid string) error
	// CountMessagesAfter counts the conversation's messages with an index above index.
	CountMessagesAfter(ctx context.Context, conversationSid string, index int64) (int64, error)
	// FindAuthorParticipant returns the conversation's participant a message author names: the
	// chat participant with that identity, else the first non-chat participant with that
	// binding address. ErrNotFound.
	FindAuthorParticipant(ctx context.Context, conversationSid, author string) (*Participant, error)
}

// DeliveryStore persists message deliveries and the outbox of the log carrier. Reads of
// deliveries (except ClaimDeliveries) fill RecipientPresent and RecipientReadIndex from the
// recipient participant's current row.
type DeliveryStore interface {
	// CreateDelivery inserts d and sets d.Seq. ErrConflict: sid taken.
	CreateDelivery(ctx context.Context, d *Delivery) error
	// GetDelivery returns a delivery of the message. ErrNotFound.
	GetDelivery(ctx context.Context, messageSid, sid string) (*Delivery, error)
	// ListMessageDeliveries returns the deliveries of the given messages in creation order,
	// only those to non-chat recipients when nonChatOnly is set.
	ListMessageDeliveries(ctx context.Context, messageSids []string, nonChatOnly bool) ([]*Delivery, error)
	// ClaimDeliveries leases up to c.Limit due pending non-chat deliveries to c.Owner (oldest
	// first), counting an attempt on each, and returns them. Two claims never return the same
	// row while its lease runs, also from concurrent transactions of several processes.
	ClaimDeliveries(ctx context.Context, c DeliveryClaim) ([]*Delivery, error)
	// SettleDelivery writes d's status, attempt schedule, channel message sid and error, and
	// ends the lease, provided d is still pending and leased to owner. ErrNotFound: the lease
	// was lost (expired and claimed again) or the delivery is settled or gone.
	SettleDelivery(ctx context.Context, d *Delivery, owner string) error
	// ListIdentityDeliveries returns, in creation order, up to limit chat deliveries to the
	// identity in the service whose seq is above afterSeq or whose status is still pending.
	ListIdentityDeliveries(ctx context.Context, serviceSid, identity string, afterSeq int64, limit int) ([]*Delivery, error)
	// MaxIdentityDeliverySeq returns the highest seq of a chat delivery to the identity in the
	// service (0 when there is none).
	MaxIdentityDeliverySeq(ctx context.Context, serviceSid, identity string) (int64, error)
	// MarkDeliveriesDelivered sets the pending ones among the deliveries sids name to
	// delivered, dated at.
	MarkDeliveriesDelivered(ctx context.Context, sids []string, at time.Time) error

	// InsertOutbox records e and sets e.Seq. ErrConflict: the delivery is already recorded
	// (the transaction stays usable).
	InsertOutbox(ctx context.Context, e *OutboxEntry) error
	// GetOutboxByDelivery returns the entry recorded for a delivery. ErrNotFound.
	GetOutboxByDelivery(ctx context.Context, deliverySid string) (*OutboxEntry, error)
	// ListOutbox returns one page of the account's outbox in the order it was recorded.
	ListOutbox(ctx context.Context, accountSid string, f OutboxFilter, q PageQuery) ([]*OutboxEntry, error)
}
