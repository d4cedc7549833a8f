package conv

import (
	"context"
	"encoding/json"
	"errors"
	"time"
	"unicode/utf8"
)

// SID prefixes of messages, their deliveries (delivery receipts) and channel messages.
const (
	PrefixMessage         = "IM"
	PrefixDelivery        = "DY"
	PrefixMedia           = "ME"
	PrefixContent         = "HX"
	PrefixSMSMessage      = "SM"
	PrefixWhatsAppMessage = "WA"
)

// Message limits (see docs/compatibility.md).
const (
	MaxMessageBodyLen         = 1600 // characters, as the spec documents Body
	MaxMessageAttributesBytes = 4096
	MaxAuthorLen              = 256 // characters
	MaxSubjectLen             = 256 // characters
	// DefaultAuthor is the author of a message created without one.
	DefaultAuthor = "system"
)

// Message is a message (IM) of a conversation.
type Message struct {
	Seq             int64
	Sid             string
	AccountSid      string
	ServiceSid      string
	ConversationSid string
	// Index is the message's place in its conversation: taken from the conversation's counter
	// when the message is created, so it only grows and is never reused.
	Index int64
	// Author is the participant's identity or address, or any string the creator gave
	// ("system" by default).
	Author string
	Body   *string
	// Attributes is valid JSON ("{}" when not given).
	Attributes string
	// ParticipantSid is the author participant ("" when the author names none). It stays when
	// that participant is removed.
	ParticipantSid   string
	ContentSid       string
	ContentVariables string
	Subject          string
	DateCreated      time.Time
	DateUpdated      time.Time
	// Media lists the message's media (nil when it has none).
	Media []MediaRef
	// Delivery summarises the deliveries to non-chat recipients, nil when there are none. The
	// Service fills it on every message it returns; it is not stored.
	Delivery *DeliverySummary
}

// MessageCreate are the form fields of message create; nil means absent.
type MessageCreate struct {
	Author     *string
	Body       *string
	Attributes *string
	MediaSid   *string
	// MediaSids are further media items (the client SDK sends several: media_sids); they follow
	// MediaSid, at most MaxMessageMedia in all.
	MediaSids        []string
	ContentSid       *string
	ContentVariables *string
	Subject          *string
	DateCreated      *time.Time // parsed by the front door (ParseDateParam)
	DateUpdated      *time.Time
}

// MaxMessageMedia is how many media items one message may carry (the client configuration's
// media_attachments_count_limit).
const MaxMessageMedia = 10

// mediaSids are MediaSid (when given) then MediaSids.
func (in MessageCreate) mediaSids() []string {
	var out []string
	if given(in.MediaSid) {
		out = append(out, *in.MediaSid)
	}
	return append(out, in.MediaSids...)
}

// MessageUpdate are the form fields of message update; nil means absent.
type MessageUpdate struct {
	Author      *string
	Body        *string
	Attributes  *string
	Subject     *string
	DateCreated *time.Time
	DateUpdated *time.Time
}

// validateAuthor checks an Author value. Error: 50310 (over 256 characters or not UTF-8).
func validateAuthor(a string) error {
	if !utf8.ValidString(a) {
		return invalid(50310, "Author parameter is not valid UTF-8")
	}
	return checkLen("Author", a, MaxAuthorLen, 50310)
}

// validateBody checks a Body value. Error: 50504 (over 1600 characters or not UTF-8).
func validateBody(b string) error {
	if !utf8.ValidString(b) {
		return invalid(50504, "Message body is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(b); n > MaxMessageBodyLen {
		return invalid(50504, "Message body parameter is too long: %d characters, the limit is %d", n, MaxMessageBodyLen)
	}
	return nil
}

// validateSubject checks a Subject value. Error: 20422 (over 256 characters).
func validateSubject(s string) error {
	return checkLen("Subject", s, MaxSubjectLen, 20422)
}

// newMessage validates the create form and returns the message it describes (without
// conversation, index or sid). Errors: 50503 (no body), 50504, 50310, 50304/50303,
// 50510/50507 (media), 20422 (content, subject), 50308/50309 (dates).
func (s *Service) newMessage(in MessageCreate) (*Message, error) {
	now := s.clock()
	m := &Message{Author: DefaultAuthor, Attributes: "{}", DateCreated: now}
	if given(in.Author) {
		if err := validateAuthor(*in.Author); err != nil {
			return nil, err
		}
		m.Author = *in.Author
	}
	media := in.mediaSids()
	for _, sid := range media {
		if !IsSID(PrefixMedia, sid) {
			return nil, invalid(50510, "Invalid message media SID: %q does not match ^ME[0-9a-fA-F]{32}$", sid)
		}
	}
	if len(media) > MaxMessageMedia {
		return nil, invalid(50510, "Invalid message media SID: a message carries at most %d media items, got %d", MaxMessageMedia, len(media))
	}
	if given(in.ContentSid) {
		if !IsSID(PrefixContent, *in.ContentSid) {
			return nil, invalid(20422, "Invalid Parameter: ContentSid %q does not match ^HX[0-9a-fA-F]{32}$", *in.ContentSid)
		}
		m.ContentSid = *in.ContentSid
	}
	if given(in.ContentVariables) {
		if !json.Valid([]byte(*in.ContentVariables)) {
			return nil, invalid(20422, "Invalid Parameter: ContentVariables is not valid JSON")
		}
		m.ContentVariables = *in.ContentVariables
	}
	if given(in.Body) {
		if err := validateBody(*in.Body); err != nil {
			return nil, err
		}
		m.Body = in.Body
	} else if m.ContentSid == "" && len(media) == 0 {
		return nil, invalid(50503, "Message body not provided: a message needs a Body (or a MediaSid or ContentSid)")
	}
	if in.Attributes != nil {
		a, err := ValidateAttributes(*in.Attributes, MaxMessageAttributesBytes)
		if err != nil {
			return nil, err
		}
		m.Attributes = a
	}
	if in.Subject != nil {
		if err := validateSubject(*in.Subject); err != nil {
			return nil, err
		}
		m.Subject = *in.Subject
	}
	setDates(&m.DateCreated, &m.DateUpdated, in.DateCreated, in.DateUpdated)
	if in.DateUpdated == nil {
		// A message that was never edited has date_updated equal to date_created.
		m.DateUpdated = m.DateCreated
	}
	return m, nil
}

// authorParticipant returns the sid of the conversation's participant author names, or ""
// when it names none.
func authorParticipant(ctx context.Context, st Store, conversationSid, author string) (string, error) {
	p, err := st.FindAuthorParticipant(ctx, conversationSid, author)
	switch {
	case errors.Is(err, ErrNotFound):
		return "", nil
	case err != nil:
		return "", err
	}
	return p.Sid, nil
}

// recipients returns every participant of the conversation, in join order.
func recipients(ctx context.Context, st Store, conversationSid string) ([]*Participant, error) {
	var out []*Participant
	q := PageQuery{Size: 500}
	for {
		page, err := st.ListParticipants(ctx, conversationSid, q)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if len(page) < q.Size {
			return out, nil
		}
		q.AfterSeq = page[len(page)-1].Seq
	}
}

// CreateMessage adds a message to a conversation. Its index comes from the conversation's
// counter; its author defaults to "system" and, when it is the identity of a chat participant
// or the address of a non-chat participant, the message is attributed to that participant.
// One pending delivery is written, in the same transaction, for every other participant
// present at that moment. A message to an inactive conversation makes it active again.
// Errors: 20404 (conversation), 50377 (closed), and those of the form (50503, 50504, 50310,
// 50304/50303, 50510/50507, 20422, 50308/50309).
func (s *Service) CreateMessage(ctx context.Context, sc Scope, convRef string, in MessageCreate, o WriteOptions) (*Message, error) {
	m, err := s.newMessage(in)
	if err != nil {
		return nil, err
	}
	if m, err = s.preMessageAdd(ctx, sc, convRef, in, m, o); err != nil { // webhook_pre.go
		return nil, err
	}
	var conv *Conversation
	var deliveries []*Delivery
	var activated bool
	err = s.inConversation(ctx, sc, convRef, func(tx Store, _ *ChatService, c *Conversation) error {
		conv, deliveries, activated = c, nil, false // fn may run more than once
		if c.State == StateClosed {
			return invalid(50377, "Can't update conversation as it's in final closed state: messages cannot be added to a closed conversation")
		}
		m.Sid = s.sids.New(PrefixMessage)
		m.AccountSid, m.ServiceSid, m.ConversationSid = c.AccountSid, c.ServiceSid, c.Sid
		idx, err := tx.NextMessageIndex(ctx, c.Sid)
		if err != nil {
			return mapStoreErr(err)
		}
		m.Index = idx
		if m.ParticipantSid, err = authorParticipant(ctx, tx, c.Sid, m.Author); err != nil {
			return err
		}
		m.Media = nil
		if m.ContentSid == "" { // with ContentSid, MediaSid is ignored (spec)
			for _, sid := range in.mediaSids() {
				if err := checkMessageMedia(ctx, tx, c, m, sid); err != nil { // media.go
					return err
				}
			}
		}
		if err := tx.CreateMessage(ctx, m); err != nil {
			return err
		}
		if err := linkMedia(ctx, tx, m, s.clock()); err != nil {
			return err
		}
		ps, err := recipients(ctx, tx, c.Sid)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		for _, p := range ps {
			if p.Sid == m.ParticipantSid {
				continue // the author does not receive its own message
			}
			if !p.IsChat() && (p.Binding == nil || p.Binding.Address == "") {
				continue // an unattached projected address is the group's own number, no recipient
			}
			d := newDelivery(s.sids.New(PrefixDelivery), m, p, now)
			if err := tx.CreateDelivery(ctx, d); err != nil {
				return err
			}
			deliveries = append(deliveries, d)
		}
		if err := s.pushMessageAdded(ctx, tx, c, m, ps); err != nil { // push.go: the push outbox
			return err
		}
		if c.State == StateInactive {
			c.State, c.DateUpdated, activated = StateActive, s.clock(), true
			if err := tx.UpdateConversation(ctx, c); err != nil {
				return err
			}
		}
		return s.emitMessageAdded(ctx, tx, c, m, activated, o) // webhook deliveries, in this transaction
	})
	if err != nil {
		return nil, err
	}
	m.Delivery = SummarizeDeliveries(deliveries)
	if activated {
		e := s.messageEvent(EventConversationStateUpdated, conv, m, o)
		e.StateFrom = StateInactive
		s.events.Publish(ctx, e)
	}
	s.publishMessage(ctx, EventMessageAdded, conv, m, o)
	return m, nil
}

// getMessage returns a message of c by IM sid. Errors: 20404.
func getMessage(ctx context.Context, st Store, c *Conversation, sid string) (*Message, error) {
	if !IsSID(PrefixMessage, sid) {
		return nil, NotFound()
	}
	m, err := st.GetMessage(ctx, c.Sid, sid)
	return m, mapStoreErr(err)
}

// FetchMessage returns a message of a conversation by IM sid, with its delivery summary.
// Errors: 20404.
func (s *Service) FetchMessage(ctx context.Context, sc Scope, convRef, sid string) (*Message, error) {
	_, c, err := s.resolveConversation(ctx, s.store, sc, convRef)
	if err != nil {
		return nil, err
	}
	m, err := getMessage(ctx, s.store, c, sid)
	if err != nil {
		return nil, err
	}
	if err := s.summarize(ctx, []*Message{m}); err != nil {
		return nil, err
	}
	return m, nil
}

// ListMessages returns one page of a conversation's messages in index order (descending when
// q.Desc), each with its delivery summary. Errors: 20404 (conversation).
func (s *Service) ListMessages(ctx context.Context, sc Scope, convRef string, q MessageQuery) ([]*Message, error) {
	_, c, err := s.resolveConversation(ctx, s.store, sc, convRef)
	if err != nil {
		return nil, err
	}
	ms, err := s.store.ListMessages(ctx, c.Sid, q)
	if err != nil {
		return nil, err
	}
	if err := s.summarize(ctx, ms); err != nil {
		return nil, err
	}
	return ms, nil
}

// UpdateMessage changes a message's author, body, attributes, subject or dates. A new author
// is attributed again to the participant it names now (or none). date_updated becomes the
// current time unless DateUpdated is given. Errors: 20404, 50377 (closed), 50503 (empty body),
// 50504, 50310, 50304/50303, 20422, 50308/50309.
func (s *Service) UpdateMessage(ctx context.Context, sc Scope, convRef, sid string, in MessageUpdate, o WriteOptions) (*Message, error) {
	if err := s.preMessageUpdate(ctx, sc, convRef, sid, &in, o); err != nil { // webhook_pre.go
		return nil, err
	}
	if in.Author != nil && *in.Author != "" {
		if err := validateAuthor(*in.Author); err != nil {
			return nil, err
		}
	}
	if in.Body != nil {
		if err := validateBody(*in.Body); err != nil {
			return nil, err
		}
	}
	var attrs string
	if in.Attributes != nil {
		a, err := ValidateAttributes(*in.Attributes, MaxMessageAttributesBytes)
		if err != nil {
			return nil, err
		}
		attrs = a
	}
	if in.Subject != nil {
		if err := validateSubject(*in.Subject); err != nil {
			return nil, err
		}
	}
	var conv *Conversation
	var out *Message
	err := s.inConversation(ctx, sc, convRef, func(tx Store, _ *ChatService, c *Conversation) error {
		conv = c
		m, err := getMessage(ctx, tx, c, sid)
		if err != nil {
			return err
		}
		if c.State == StateClosed {
			return invalid(50377, "Can't update conversation as it's in final closed state")
		}
		m.DateUpdated = s.clock()
		if in.Author != nil {
			author := *in.Author
			if author == "" {
				author = DefaultAuthor
			}
			if author != m.Author {
				m.Author = author
				if m.ParticipantSid, err = authorParticipant(ctx, tx, c.Sid, author); err != nil {
					return err
				}
			}
		}
		if in.Body != nil {
			if *in.Body == "" && m.ContentSid == "" && len(m.Media) == 0 {
				return invalid(50503, "Message body not provided: the body of a text message cannot be emptied")
			}
			b := *in.Body
			m.Body = &b
			if b == "" {
				m.Body = nil
			}
		}
		if in.Attributes != nil {
			m.Attributes = attrs
		}
		if in.Subject != nil {
			m.Subject = *in.Subject
		}
		setDates(&m.DateCreated, &m.DateUpdated, in.DateCreated, in.DateUpdated)
		if err := tx.UpdateMessage(ctx, m); err != nil {
			return mapStoreErr(err)
		}
		out = m
		return s.emit(ctx, tx, s.messageEvent(EventMessageUpdated, c, m, o))
	})
	if err != nil {
		return nil, err
	}
	if err := s.summarize(ctx, []*Message{out}); err != nil {
		return nil, err
	}
	s.publishMessage(ctx, EventMessageUpdated, conv, out, o)
	return out, nil
}

// DeleteMessage deletes a message with its deliveries (pending ones are not made). Its index
// is not reused: the next message gets the next index, leaving a gap. Deleting is allowed in
// a closed conversation. Errors: 20404.
func (s *Service) DeleteMessage(ctx context.Context, sc Scope, convRef, sid string, o WriteOptions) error {
	if err := s.preMessageRemove(ctx, sc, convRef, sid, o); err != nil { // webhook_pre.go
		return err
	}
	var conv *Conversation
	var gone *Message
	err := s.inConversation(ctx, sc, convRef, func(tx Store, _ *ChatService, c *Conversation) error {
		conv = c
		m, err := getMessage(ctx, tx, c, sid)
		if err != nil {
			return err
		}
		gone = m
		if err := tx.DeleteMessage(ctx, c.Sid, m.Sid); err != nil {
			return mapStoreErr(err)
		}
		return s.emit(ctx, tx, s.messageEvent(EventMessageRemoved, c, m, o))
	})
	if err != nil {
		return err
	}
	s.publishMessage(ctx, EventMessageRemoved, conv, gone, o)
	return nil
}

// ---- read horizon -----------------------------------------------------------------------

// Covers reports whether a read horizon (a participant's LastReadMessageIndex, nil when
// unset) covers the message with index idx: the participant has read it.
func Covers(horizon *int64, idx int64) bool {
	return horizon != nil && idx <= *horizon
}

// UnreadCount returns how many messages of a conversation a participant has not read: the
// messages with an index above its LastReadMessageIndex. countAfter counts the conversation's
// messages above an index. It returns nil when the participant has no read horizon (nothing
// is known about what it read), as Twilio's unread_messages_count does.
func UnreadCount(ctx context.Context, p *Participant, countAfter func(ctx context.Context, index int64) (int64, error)) (*int64, error) {
	if p.LastReadMessageIndex == nil {
		return nil, nil
	}
	n, err := countAfter(ctx, *p.LastReadMessageIndex)
	if err != nil {
		return nil, err
	}
	return &n, nil
}

// ParticipantUnreadCount returns the number of messages of the conversation the participant
// (by MB sid or identity) has not read, nil when its read horizon is unset. Errors: 20404.
func (s *Service) ParticipantUnreadCount(ctx context.Context, sc Scope, convRef, ref string) (*int64, error) {
	_, c, err := s.resolveConversation(ctx, s.store, sc, convRef)
	if err != nil {
		return nil, err
	}
	p, err := getParticipant(ctx, s.store, c, ref)
	if err != nil {
		return nil, err
	}
	return UnreadCount(ctx, p, func(ctx context.Context, index int64) (int64, error) {
		return s.store.CountMessagesAfter(ctx, c.Sid, index)
	})
}
