package conv

import (
	"context"
	"fmt"
)

// MaxParticipantsPerRequest is how many Participant parameters one
// ConversationWithParticipants request may carry.
const MaxParticipantsPerRequest = 10

// CheckParticipantsPerRequest refuses more than MaxParticipantsPerRequest participants in one
// ConversationWithParticipants request (50426). The front door calls it before decoding them.
func CheckParticipantsPerRequest(n int) error {
	if n > MaxParticipantsPerRequest {
		return invalid(50426, "Request contains too many participants: %d, the limit is %d", n, MaxParticipantsPerRequest)
	}
	return nil
}

// CreateConversationWithParticipants creates a conversation and its participants (the
// Participant parameters, decoded by the front door) in one transaction: when any participant
// is refused, nothing is created. Participants follow CreateParticipant's rules; a Group MMS
// conversation may list its projected-address participant after its address-only ones.
// Errors: those of CreateConversation and CreateParticipant (the message names the
// participant), 50426 (more than 10), 50425 (409, an (address, proxy address) pair is held by
// another conversation).
func (s *Service) CreateConversationWithParticipants(ctx context.Context, sc Scope, p ConversationParams, ins []ParticipantCreate, o WriteOptions) (*Conversation, []*Participant, error) {
	if err := CheckParticipantsPerRequest(len(ins)); err != nil {
		return nil, nil, err
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
			if err := s.pushParticipant(ctx, tx, c, pp, true, o); err != nil { // push.go
				return err
			}
		}
		evs := []Event{s.event(EventConversationAdded, c, nil, o)} // webhook deliveries, in this transaction
		for _, pp := range ps {
			evs = append(evs, s.event(EventParticipantAdded, c, pp, o))
		}
		return s.emit(ctx, tx, evs...)
	})
	if err != nil {
		return nil, nil, err
	}
	s.publish(ctx, EventConversationAdded, c, nil, o)
	for _, pp := range ps {
		s.publish(ctx, EventParticipantAdded, c, pp, o)
	}
	return c, ps, nil
}
