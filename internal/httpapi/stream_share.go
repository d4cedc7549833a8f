package httpapi

import (
	"encoding/json"
	"strconv"
	"sync"

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
	msg         conv.Message // Body and Delivery nil: their values are below
	body        string
	hasBody     bool
	delivery    conv.DeliverySummary
	hasDelivery bool
}

func newSharedMessages() *sharedMessages { return &sharedMessages{m: map[sharedKey][]byte{}} }

// message returns the JSON of rc.message(m), encoded once for every stream that asks.
func (s *sharedMessages) message(rc *reqCtx, m *conv.Message) ([]byte, error) {
	k := sharedKey{base: rc.base, serviceForm: rc.serviceForm, msg: *m}
	k.msg.Body, k.msg.Delivery = nil, nil
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
