package conv

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
)

// MaxParticipantsPerRequest is how many Participant parameters one
// ConversationWithParticipants request may carry.
const MaxParticipantsPerRequest = 10

// participantJSON is one Participant parameter of ConversationWithParticipants: the
// Participant resource's create parameters as a JSON object with snake_case keys, e.g.
// {"identity":"alice"} or {"messaging_binding":{"address":"+15558675310","proxy_address":"+15017122661"}}.
type participantJSON struct {
	Identity         *string          `json:"identity"`
	Attributes       *json.RawMessage `json:"attributes"`
	RoleSid          *string          `json:"role_sid"`
	DateCreated      *string          `json:"date_created"`
	DateUpdated      *string          `json:"date_updated"`
	MessagingBinding *struct {
		Address          *string `json:"address"`
		ProxyAddress     *string `json:"proxy_address"`
		ProjectedAddress *string `json:"projected_address"`
	} `json:"messaging_binding"`
}

// ParseParticipantJSON decodes the i-th (from 0) Participant parameter into participant
// create fields. "attributes" may be a JSON string holding the attributes or the attributes
// object itself. Error: 50424 when raw is not such a JSON object (unknown keys included).
func ParseParticipantJSON(i int, raw string) (ParticipantCreate, error) {
	bad := func(why string) error {
		return invalid(50424, "One of the JSON requests for participant creation is invalid: Participant %d %s", i+1, why)
	}
	if !json.Valid([]byte(raw)) {
		return ParticipantCreate{}, bad("is not valid JSON")
	}
	if !bytes.HasPrefix(bytes.TrimSpace([]byte(raw)), []byte("{")) {
		return ParticipantCreate{}, bad("is not a JSON object")
	}
	var pj participantJSON
	dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&pj); err != nil {
		return ParticipantCreate{}, bad(fmt.Sprintf("is not a participant JSON object (identity, attributes, role_sid, messaging_binding.address, messaging_binding.proxy_address, messaging_binding.projected_address): %v", err))
	}
	in := ParticipantCreate{Identity: pj.Identity, RoleSid: pj.RoleSid}
	var err error
	if in.DateCreated, err = parseOptionalDate(pj.DateCreated, "DateCreated", 50308); err == nil {
		in.DateUpdated, err = parseOptionalDate(pj.DateUpdated, "DateUpdated", 50309)
	}
	if e, ok := AsError(err); ok {
		return ParticipantCreate{}, invalid(e.Code, "Participant %d: %s", i+1, e.Message)
	}
	if b := pj.MessagingBinding; b != nil {
		in.Address, in.ProxyAddress, in.ProjectedAddress = b.Address, b.ProxyAddress, b.ProjectedAddress
	}
	if a := pj.Attributes; a != nil && !bytes.Equal(bytes.TrimSpace(*a), []byte("null")) {
		var str string
		if err := json.Unmarshal(*a, &str); err == nil {
			in.Attributes = &str
		} else {
			var buf bytes.Buffer
			if err := json.Compact(&buf, *a); err != nil {
				return ParticipantCreate{}, bad("has invalid attributes")
			}
			v := buf.String()
			in.Attributes = &v
		}
	}
	return in, nil
}

// CreateConversationWithParticipants creates a conversation and its participants (the
// Participant parameters, see ParseParticipantJSON) in one transaction: when any participant
// is refused, nothing is created. Participants follow CreateParticipant's rules; a Group MMS
// conversation may list its projected-address participant after its address-only ones.
// Errors: those of CreateConversation and CreateParticipant (the message names the
// participant), 50424 (a Participant is not valid JSON), 50426 (more than 10), 50425 (409, an
// (address, proxy address) pair is held by another conversation).
func (s *Service) CreateConversationWithParticipants(ctx context.Context, sc Scope, p ConversationParams, participants []string, o WriteOptions) (*Conversation, []*Participant, error) {
	if len(participants) > MaxParticipantsPerRequest {
		return nil, nil, invalid(50426, "Request contains too many participants: %d, the limit is %d", len(participants), MaxParticipantsPerRequest)
	}
	ins := make([]ParticipantCreate, len(participants))
	for i, raw := range participants {
		in, err := ParseParticipantJSON(i, raw)
		if err != nil {
			return nil, nil, err
		}
		ins[i] = in
	}
	svc, err := s.ResolveService(ctx, sc)
	if err != nil {
		return nil, nil, err
	}
	c, err := s.newConversation(ctx, svc, p)
	if err != nil {
		return nil, nil, err
	}
	which := func(i int, err error) error {
		if e, ok := AsError(err); ok {
			out := *e
			if out.Code == 50416 {
				out.Code = 50425
				out.Message = "Participant and proxy address pairs for one or more participants already in use: " + e.Message
			}
			out.Message = fmt.Sprintf("Participant %d: %s", i+1, out.Message)
			return &out
		}
		return err
	}
	ps := make([]*Participant, len(ins))
	groupMMS := false
	for i, in := range ins {
		pp, err := s.newParticipant(in)
		if err != nil {
			return nil, nil, which(i, err)
		}
		ps[i] = pp
		groupMMS = groupMMS || given(in.ProjectedAddress)
	}
	err = s.store.WithTx(ctx, func(tx Store) error {
		if err := insertConversationTx(ctx, tx, c); err != nil {
			return err
		}
		if err := tx.LockConversation(ctx, c.Sid); err != nil {
			return err
		}
		for i, pp := range ps {
			if err := s.addParticipantTx(ctx, tx, svc, c, pp, ins[i].RoleSid, groupMMS); err != nil {
				return which(i, err)
			}
		}
		evs := []Event{s.event("onConversationAdded", c, nil, o)} // webhook deliveries, in this transaction
		for _, pp := range ps {
			evs = append(evs, s.event("onParticipantAdded", c, pp, o))
		}
		return s.emit(ctx, tx, evs...)
	})
	if err != nil {
		return nil, nil, err
	}
	s.publish(ctx, "onConversationAdded", c, nil, o)
	for _, pp := range ps {
		s.publish(ctx, "onParticipantAdded", c, pp, o)
	}
	return c, ps, nil
}
