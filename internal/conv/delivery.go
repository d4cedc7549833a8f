package conv

import (
	"context"
	"errors"
	"time"
)

// ChannelChat is the channel of deliveries to chat (identity) participants; deliveries to
// non-chat participants carry their binding type (sms, whatsapp, ...).
const ChannelChat = "chat"

// Delivery statuses. A delivery starts pending; the dispatcher settles a non-chat one as sent,
// delivered, undelivered or failed, the live stream settles a chat one as delivered. "read" is
// never stored: a receipt shows it when the recipient's read horizon covers the message.
const (
	DeliveryPending     = "pending"
	DeliverySent        = "sent"
	DeliveryDelivered   = "delivered"
	DeliveryUndelivered = "undelivered"
	DeliveryFailed      = "failed"
	DeliveryRead        = "read"
)

// Delivery outcomes (the retry policy is the delivery dispatcher's).
const (
	// ErrorCodeDeliveryFailed is the error_code of a receipt whose delivery failed (Twilio's
	// 30008 "Unknown error" of message delivery).
	ErrorCodeDeliveryFailed = 30008
)

// Delivery is one message's delivery to one recipient participant present when the message
// was created. Its SID (DY) is also the SID of its delivery receipt.
type Delivery struct {
	Seq             int64
	Sid             string
	AccountSid      string
	ServiceSid      string
	ConversationSid string
	MessageSid      string
	MessageIndex    int64
	// ParticipantSid is the recipient; the delivery keeps it after the participant is removed.
	ParticipantSid string
	// Channel is ChannelChat or the recipient's binding type.
	Channel string
	// Identity, Address and ProxyAddress are the recipient's as they were at creation.
	Identity     *string
	Address      string
	ProxyAddress string
	Status       string
	// Attempts counts the carrier hand-overs so far (non-chat).
	Attempts      int
	NextAttemptAt time.Time
	LeaseOwner    string
	LeaseUntil    time.Time
	// ChannelMessageSid is the carrier's id of the sent message (SM..., WA...), "" for chat.
	ChannelMessageSid string
	ErrorCode         int
	ErrorMessage      string
	DateCreated       time.Time
	DateUpdated       time.Time

	// RecipientPresent and RecipientReadIndex are read from the recipient's current
	// participant row (not stored with the delivery): whether it is still in the conversation
	// and its LastReadMessageIndex.
	RecipientPresent   bool
	RecipientReadIndex *int64
}

// newDelivery returns the pending delivery of m to p, due at now.
func newDelivery(sid string, m *Message, p *Participant, now time.Time) *Delivery {
	d := &Delivery{Sid: sid, AccountSid: m.AccountSid, ServiceSid: m.ServiceSid, ConversationSid: m.ConversationSid,
		MessageSid: m.Sid, MessageIndex: m.Index, ParticipantSid: p.Sid, Channel: ChannelChat, Identity: p.Identity,
		Status: DeliveryPending, NextAttemptAt: now, DateCreated: now.Truncate(time.Second), DateUpdated: now.Truncate(time.Second)}
	if !p.IsChat() && p.Binding != nil {
		d.Channel, d.Address, d.ProxyAddress = p.Binding.Type, p.Binding.Address, p.Binding.ProxyAddress
	}
	return d
}

// IsChat reports whether d goes to a chat participant's live stream (rather than a carrier).
func (d *Delivery) IsChat() bool { return d.Channel == ChannelChat }

// ReceiptStatus returns the status d's delivery receipt shows: "read" when the recipient is
// still a participant whose read horizon covers the message (unless the delivery failed),
// otherwise the stored status; "" while the delivery is pending and unread (no receipt yet).
func (d *Delivery) ReceiptStatus() string {
	if d.Status != DeliveryFailed && d.Status != DeliveryUndelivered && d.RecipientPresent && Covers(d.RecipientReadIndex, d.MessageIndex) {
		return DeliveryRead
	}
	if d.Status == DeliveryPending {
		return ""
	}
	return d.Status
}

// Delivery summary values: how many of a message's non-chat recipients reached a status.
const (
	SummaryAll  = "all"
	SummarySome = "some"
	SummaryNone = "none"
)

// DeliverySummary is a message's `delivery` object: the number of non-chat recipients and, for
// each status, whether all, some or none of them reached it. The statuses are cumulative as at
// Twilio: a read message was also delivered and sent.
type DeliverySummary struct {
	Total       int
	Sent        string
	Delivered   string
	Read        string
	Failed      string
	Undelivered string
}

// SummarizeDeliveries returns the delivery summary of one message's deliveries (only those to
// non-chat recipients count), nil when it has none.
func SummarizeDeliveries(ds []*Delivery) *DeliverySummary {
	var total, sent, delivered, read, failed, undelivered int
	for _, d := range ds {
		if d.IsChat() {
			continue
		}
		total++
		switch d.ReceiptStatus() {
		case DeliveryRead:
			read++
			delivered++
			sent++
		case DeliveryDelivered:
			delivered++
			sent++
		case DeliverySent:
			sent++
		case DeliveryFailed:
			failed++
		case DeliveryUndelivered:
			undelivered++
		}
	}
	if total == 0 {
		return nil
	}
	of := func(n int) string {
		switch n {
		case 0:
			return SummaryNone
		case total:
			return SummaryAll
		}
		return SummarySome
	}
	return &DeliverySummary{Total: total, Sent: of(sent), Delivered: of(delivered), Read: of(read),
		Failed: of(failed), Undelivered: of(undelivered)}
}

// summarize fills the Delivery summary of each message.
func (s *Service) summarize(ctx context.Context, ms []*Message) error {
	if len(ms) == 0 {
		return nil
	}
	sids := make([]string, len(ms))
	for i, m := range ms {
		sids[i] = m.Sid
	}
	ds, err := s.store.ListMessageDeliveries(ctx, sids, true)
	if err != nil {
		return err
	}
	by := map[string][]*Delivery{}
	for _, d := range ds {
		by[d.MessageSid] = append(by[d.MessageSid], d)
	}
	for _, m := range ms {
		m.Delivery = SummarizeDeliveries(by[m.Sid])
	}
	return nil
}

// ---- receipts ---------------------------------------------------------------------------

// receipts returns the deliveries of message sid of conversation convRef that have a receipt.
func (s *Service) receipts(ctx context.Context, sc Scope, convRef, messageSid string) ([]*Delivery, error) {
	_, c, err := s.resolveConversation(ctx, s.store, sc, convRef)
	if err != nil {
		return nil, err
	}
	m, err := getMessage(ctx, s.store, c, messageSid)
	if err != nil {
		return nil, err
	}
	ds, err := s.store.ListMessageDeliveries(ctx, []string{m.Sid}, false)
	if err != nil {
		return nil, err
	}
	out := ds[:0]
	for _, d := range ds {
		if d.ReceiptStatus() != "" {
			out = append(out, d)
		}
	}
	return out, nil
}

// ListReceipts returns one page of a message's delivery receipts, one per recipient whose
// delivery left the queue or who has read the message, in the order the recipients joined.
// Errors: 20404 (conversation or message).
func (s *Service) ListReceipts(ctx context.Context, sc Scope, convRef, messageSid string, q PageQuery) ([]*Delivery, error) {
	ds, err := s.receipts(ctx, sc, convRef, messageSid)
	if err != nil {
		return nil, err
	}
	return PageSlice(ds, func(d *Delivery) int64 { return d.Seq }, q), nil
}

// FetchReceipt returns one delivery receipt of a message by DY sid. Errors: 20404 (also while
// the delivery is still queued).
func (s *Service) FetchReceipt(ctx context.Context, sc Scope, convRef, messageSid, sid string) (*Delivery, error) {
	if !IsSID(PrefixDelivery, sid) {
		return nil, NotFound()
	}
	_, c, err := s.resolveConversation(ctx, s.store, sc, convRef)
	if err != nil {
		return nil, err
	}
	m, err := getMessage(ctx, s.store, c, messageSid)
	if err != nil {
		return nil, err
	}
	d, err := s.store.GetDelivery(ctx, m.Sid, sid)
	if err != nil {
		return nil, mapStoreErr(err)
	}
	if d.ReceiptStatus() == "" {
		return nil, NotFound() // still queued: no receipt yet
	}
	return d, nil
}

// PageSlice returns the page q selects from xs, which is in ascending seq order: the rows
// after q.AfterSeq, the last q.Size rows before q.BeforeSeq, or q.Size rows from q.Offset,
// like the stores' paged queries.
func PageSlice[T any](xs []T, seq func(T) int64, q PageQuery) []T {
	size := q.Size
	if size <= 0 {
		size = 50
	}
	var out []T
	switch {
	case q.AfterSeq > 0:
		for _, x := range xs {
			if seq(x) > q.AfterSeq && len(out) < size {
				out = append(out, x)
			}
		}
	case q.BeforeSeq > 0:
		end := 0
		for end < len(xs) && seq(xs[end]) < q.BeforeSeq {
			end++
		}
		out = append(out, xs[max(0, end-size):end]...)
	default:
		if q.Offset < len(xs) {
			out = append(out, xs[q.Offset:min(len(xs), q.Offset+size)]...)
		}
	}
	return out
}

// ---- carrier dispatch -------------------------------------------------------------------

// Outbound is a claimed non-chat delivery with the message it carries.
type Outbound struct {
	Delivery *Delivery
	Message  *Message
}

// ClaimDeliveries leases up to limit due non-chat deliveries to owner until now+lease and
// returns them with their messages, oldest first. A claimed delivery whose message is gone is
// skipped (its row went with the message).
func (s *Service) ClaimDeliveries(ctx context.Context, now time.Time, owner string, limit int, lease time.Duration) ([]*Outbound, error) {
	var ds []*Delivery
	err := s.store.WithTx(ctx, func(tx Store) error {
		var err error
		ds, err = tx.ClaimDeliveries(ctx, DeliveryClaim{Owner: owner, Now: now, LeaseUntil: now.Add(lease), Limit: limit})
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]*Outbound, 0, len(ds))
	for _, d := range ds {
		m, err := s.store.GetMessage(ctx, d.ConversationSid, d.MessageSid)
		if errors.Is(err, ErrNotFound) {
			continue
		} else if err != nil {
			return nil, err
		}
		out = append(out, &Outbound{Delivery: d, Message: m})
	}
	return out, nil
}

// channelMessagePrefix is the SID prefix of a channel message: WA on WhatsApp, SM elsewhere.
func channelMessagePrefix(channel string) string {
	if channel == BindingWhatsApp {
		return PrefixWhatsAppMessage
	}
	return PrefixSMSMessage
}

// isChannelSid reports whether s matches ^[a-zA-Z]{2}[0-9a-fA-F]{32}$.
func isChannelSid(s string) bool {
	if len(s) != 34 {
		return false
	}
	for _, c := range s[:2] {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return IsSID(s[:2], s)
}

// CompleteDelivery settles a claimed delivery as handed over: status is DeliverySent or
// DeliveryDelivered (anything else counts as sent). channelSid is the carrier's message id; a
// new SM/WA sid is made when it is not a valid 34-character sid. ErrNotFound (wrapped): the
// lease was lost, another dispatcher owns the delivery now.
func (s *Service) CompleteDelivery(ctx context.Context, d *Delivery, owner, status, channelSid string) error {
	if status != DeliveryDelivered {
		status = DeliverySent
	}
	if !isChannelSid(channelSid) {
		channelSid = s.sids.New(channelMessagePrefix(d.Channel))
	}
	nd := *d
	nd.Status, nd.ChannelMessageSid, nd.ErrorCode, nd.ErrorMessage, nd.DateUpdated = status, channelSid, 0, "", s.clock()
	if err := s.store.WithTx(ctx, func(tx Store) error { return tx.SettleDelivery(ctx, &nd, owner) }); err != nil {
		return err
	}
	*d = nd
	return nil
}

// FailDelivery records a failed carrier attempt of a claimed delivery: when final, the
// delivery fails for good (error_code 30008); otherwise it is pending again, due at retryAt.
// ErrNotFound (wrapped): the lease was lost.
func (s *Service) FailDelivery(ctx context.Context, d *Delivery, owner, cause string, final bool, retryAt time.Time) error {
	nd := *d
	nd.ErrorMessage, nd.DateUpdated = cause, s.clock()
	if final {
		nd.Status, nd.ErrorCode = DeliveryFailed, ErrorCodeDeliveryFailed
	} else {
		nd.Status, nd.NextAttemptAt = DeliveryPending, retryAt
	}
	if err := s.store.WithTx(ctx, func(tx Store) error { return tx.SettleDelivery(ctx, &nd, owner) }); err != nil {
		return err
	}
	*d = nd
	return nil
}

// ---- outbox (the log carrier) -------------------------------------------------------------

// OutboxEntry is what the log carrier records instead of sending an SMS/WhatsApp message.
type OutboxEntry struct {
	Seq int64
	// Sid is the channel message sid (SM..., WA... on WhatsApp).
	Sid             string
	DeliverySid     string
	AccountSid      string
	ServiceSid      string
	ConversationSid string
	MessageSid      string
	MessageIndex    int64
	ParticipantSid  string
	Channel         string
	To              string
	From            string
	Author          string
	Body            *string
	// MediaSid is the media item sent with the message ("" for none).
	MediaSid    string
	DateCreated time.Time
}

// RecordOutbox records the outbound message in the outbox, once per delivery: when the
// delivery is already recorded (a retry after a crash or a lost lease), it returns the existing
// entry and records nothing.
func (s *Service) RecordOutbox(ctx context.Context, o *Outbound) (*OutboxEntry, error) {
	d, m := o.Delivery, o.Message
	e := &OutboxEntry{Sid: s.sids.New(channelMessagePrefix(d.Channel)), DeliverySid: d.Sid, AccountSid: d.AccountSid,
		ServiceSid: d.ServiceSid, ConversationSid: d.ConversationSid, MessageSid: d.MessageSid, MessageIndex: d.MessageIndex,
		ParticipantSid: d.ParticipantSid, Channel: d.Channel, To: d.Address, From: d.ProxyAddress, Author: m.Author,
		Body: m.Body, DateCreated: s.clock()}
	e.MediaSid, e.Body = ChannelMedia(m)
	var out *OutboxEntry
	err := s.store.WithTx(ctx, func(tx Store) error {
		err := tx.InsertOutbox(ctx, e)
		if errors.Is(err, ErrConflict) {
			out, err = tx.GetOutboxByDelivery(ctx, d.Sid)
			return err
		}
		out = e
		return err
	})
	return out, err
}

// ListOutbox returns one page of the account's outbox, oldest first.
func (s *Service) ListOutbox(ctx context.Context, accountSid string, f OutboxFilter, q PageQuery) ([]*OutboxEntry, error) {
	return s.store.ListOutbox(ctx, accountSid, f, q)
}

// ---- chat streams -----------------------------------------------------------------------

// StreamEvent is one chat delivery as a participant's live stream sends it.
type StreamEvent struct {
	Delivery *Delivery
	Message  *Message
}

// OpenStream checks a stream subscription of identity in the scope's service and returns the
// service and the highest delivery seq of the identity so far (a fresh subscription starts
// after it, plus whatever is still pending). Errors: 20404 (service), 50207/50206/20422
// (identity).
func (s *Service) OpenStream(ctx context.Context, sc Scope, identity string) (*ChatService, int64, error) {
	svc, err := s.ResolveService(ctx, sc)
	if err != nil {
		return nil, 0, err
	}
	if identity == "" {
		return nil, 0, invalid(50204, "Identity not provided")
	}
	if err := ValidateIdentity(identity); err != nil {
		return nil, 0, err
	}
	seq, err := s.store.MaxIdentityDeliverySeq(ctx, svc.Sid, identity)
	return svc, seq, err
}

// StreamEvents returns, in creation order (which is index order within each conversation), up
// to limit chat deliveries to identity in the service that come after seq after or are still
// pending, with their messages (and their delivery summaries).
func (s *Service) StreamEvents(ctx context.Context, serviceSid, identity string, after int64, limit int) ([]*StreamEvent, error) {
	ds, err := s.store.ListIdentityDeliveries(ctx, serviceSid, identity, after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]*StreamEvent, 0, len(ds))
	for _, d := range ds {
		m, err := s.store.GetMessage(ctx, d.ConversationSid, d.MessageSid)
		if errors.Is(err, ErrNotFound) {
			continue // deleted since
		} else if err != nil {
			return nil, err
		}
		out = append(out, &StreamEvent{Delivery: d, Message: m})
	}
	ms := make([]*Message, len(out))
	for i, e := range out {
		ms[i] = e.Message
	}
	if err := s.summarize(ctx, ms); err != nil {
		return nil, err
	}
	return out, nil
}

// MarkStreamed settles the pending ones among the events' deliveries as delivered: they were
// written to a live stream.
func (s *Service) MarkStreamed(ctx context.Context, evs []*StreamEvent) error {
	var sids []string
	for _, e := range evs {
		if e.Delivery.Status == DeliveryPending {
			sids = append(sids, e.Delivery.Sid)
		}
	}
	if len(sids) == 0 {
		return nil
	}
	now := s.clock()
	return s.store.WithTx(ctx, func(tx Store) error { return tx.MarkDeliveriesDelivered(ctx, sids, now) })
}
