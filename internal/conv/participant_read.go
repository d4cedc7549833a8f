package conv

import "context"

// Participant reads addressed by conversation SID skip reading the conversation: a
// participant row carries its conversation and service (a conversation never changes
// service, and deleting it deletes its participants in the same transaction), so one read
// answers exactly what reading the conversation first would. Conversations named by unique
// name, and empty pages (which cannot tell a missing conversation from an empty one), take
// the general path.

// fetchParticipantBySid is FetchParticipant when convRef is a CH SID; handled is false
// otherwise.
func (s *Service) fetchParticipantBySid(ctx context.Context, sc Scope, convRef, ref string) (p *Participant, handled bool, err error) {
	if !IsSID(PrefixConversation, convRef) {
		return nil, false, nil
	}
	svc, err := s.ResolveService(ctx, sc)
	if err != nil {
		return nil, true, err
	}
	p, err = getParticipant(ctx, s.store, &Conversation{Sid: convRef}, ref)
	if err != nil {
		return nil, true, err
	}
	if p.ServiceSid != svc.Sid || p.AccountSid != svc.AccountSid {
		return nil, true, NotFound()
	}
	return p, true, nil
}

// listParticipantsBySid is ListParticipants when convRef is a CH SID and the page is not
// empty; handled is false otherwise (the caller then checks the conversation).
func (s *Service) listParticipantsBySid(ctx context.Context, sc Scope, convRef string, q PageQuery) (ps []*Participant, handled bool, err error) {
	if !IsSID(PrefixConversation, convRef) {
		return nil, false, nil
	}
	svc, err := s.ResolveService(ctx, sc)
	if err != nil {
		return nil, true, err
	}
	ps, err = s.store.ListParticipants(ctx, convRef, q)
	if err != nil {
		return nil, true, err
	}
	if len(ps) == 0 || ps[0].ServiceSid != svc.Sid || ps[0].AccountSid != svc.AccountSid {
		return nil, false, nil
	}
	return ps, true, nil
}
