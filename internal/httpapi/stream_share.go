package httpapi

import (
	"encoding/json"
	"strconv"
	"sync"
	"time"

	"github.com/parley-dev/parley/internal/conv"
)

// sharedMessages shares the encoding of a message among the streams one message fans out to:
// each recipient's event differs only in its delivery, participant and identity, so the
// message's JSON is encoded once and reused while it is unchanged. The key holds every field
// the encoding reads (the whole message, by value, and the URL form), so an entry can never
// answer for a message that changed since; the few most recent messages are kept.
type sharedMessages struct {
	mu    sync.Mutex
	m     map[sharedKey][]byte
	order []sharedKey // oldest first, for eviction
}

// sharedCap is how many encoded messages are kept.
const sharedCap = 64

type sharedKey struct {
	base        string
	serviceForm bool
	msg         messageKey // every field of conv.Message but Body, Delivery and Media: their values are below
	body        string
	hasBody     bool
	delivery    conv.DeliverySummary
	hasDelivery bool
	media       string // the media items, in a form no two different lists share
}

// messageKey is conv.Message without its non-comparable fields (Body, Delivery, Media), which
// sharedKey holds by value. TestMessageKeyFields keeps the two in step.
type messageKey struct {
	Seq                                                              int64
	Sid, AccountSid, ServiceSid, ConversationSid                     string
	Index                                                            int64
	Author, Attributes, ParticipantSid, ContentSid, ContentVariables string
	Subject                                                          string
	DateCreated, DateUpdated                                         time.Time
}

func newSharedMessages() *sharedMessages { return &sharedMessages{m: map[sharedKey][]byte{}} }

// message returns the JSON of rc.message(m), encoded once for every stream that asks.
func (s *sharedMessages) message(rc *reqCtx, m *conv.Message) ([]byte, error) {
	k := sharedKey{base: rc.base, serviceForm: rc.serviceForm, msg: messageKey{Seq: m.Seq, Sid: m.Sid, AccountSid: m.AccountSid,
		ServiceSid: m.ServiceSid, ConversationSid: m.ConversationSid, Index: m.Index, Author: m.Author, Attributes: m.Attributes,
		ParticipantSid: m.ParticipantSid, ContentSid: m.ContentSid, ContentVariables: m.ContentVariables, Subject: m.Subject,
		DateCreated: m.DateCreated, DateUpdated: m.DateUpdated}}
	for _, me := range m.Media {
		k.media += strconv.Quote(me.Sid) + strconv.FormatInt(me.Size, 10) + strconv.Quote(me.ContentType) + strconv.Quote(me.Filename)
	}
	if m.Body != nil {
		k.body, k.hasBody = *m.Body, true
	}
	if m.Delivery != nil {
		k.delivery, k.hasDelivery = *m.Delivery, true
	}
	s.mu.Lock()
	b, ok := s.m[k]
	s.mu.Unlock()
	if ok {
		return b, nil
	}
	b, err := json.Marshal(rc.message(m))
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[k]; !ok {
		if len(s.order) >= sharedCap {
			delete(s.m, s.order[0])
			s.order = append(s.order[:0], s.order[1:]...)
		}
		s.m[k] = b
		s.order = append(s.order, k)
	}
	return b, nil
}

// appendStreamEvent appends one SSE event: exactly the bytes of json.Marshal(streamEventJSON)
// as data, with the message's JSON shared.
func appendStreamEvent(out []byte, e *conv.StreamEvent, identity string, message []byte) ([]byte, error) {
	out = append(out, "id: "...)
	out = strconv.AppendInt(out, e.Delivery.Seq, 10)
	out = append(out, "\nevent: onMessageAdded\ndata: {\"delivery_sid\":"...)
	for i, s := range []string{e.Delivery.Sid, e.Delivery.ParticipantSid, identity} {
		q, err := json.Marshal(s)
		if err != nil {
			return nil, err
		}
		out = append(out, q...)
		out = append(out, [...]string{`,"participant_sid":`, `,"identity":`, `,"message":`}[i]...)
	}
	out = append(out, message...)
	return append(out, "}\n\n"...), nil
}
