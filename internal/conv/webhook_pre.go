package conv

import "context"

// The pre-event steps of the conversation, participant and message actions. Each returns nil
// at once for REST actions (Source API): Twilio never fires pre-event webhooks for REST calls,
// with or without X-Twilio-Webhook-Enabled. For SDK actions (and messages from SMS/WhatsApp
// participants) it reads what it needs outside any write
// transaction (a pre-event webhook may take up to 5 s), calls the hooks through preEvent and
// applies what they may change; an error rejects the action before anything is written.

// sdk reports whether o is an action that may consult pre-event webhooks: from an SDK user
// (or, for messages, an SMS/WhatsApp participant).
func (s *Service) sdk(o WriteOptions) bool { return consultsPreHooks(o.Source) && s.preHook != nil }

// preConversationAdd consults onConversationAdd for the conversation c about to be created;
// a hook may change its friendly name. Errors: 50056, 50003.
func (s *Service) preConversationAdd(ctx context.Context, c *Conversation, o WriteOptions) error {
	if !s.sdk(o) {
		return nil
	}
	mods, err := s.preEvent(ctx, s.event(EventConversationAdd, c, nil, o))
	if err != nil {
		return err
	}
	if fn := mods.FriendlyName; fn != nil {
		if err := checkLen("FriendlyName", *fn, MaxFriendlyNameLen, 50003); err != nil {
			return err
		}
		c.FriendlyName = emptyToNil(*fn)
	}
	return nil
}

// preConversationUpdate consults onConversationUpdate with the conversation as p would leave
// it; a hook may change the friendly name, which then replaces p.FriendlyName.
// Errors: 20404, 50056, and those of p.
func (s *Service) preConversationUpdate(ctx context.Context, svc *ChatService, ref string, p *ConversationParams, o WriteOptions) error {
	if !s.sdk(o) {
		return nil
	}
	cur, err := s.getConversation(ctx, s.store, svc, ref)
	if err != nil {
		return err
	}
	next := *cur
	next.DateUpdated = s.clock()
	if err := s.applyConversationParams(&next, *p, false); err != nil {
		return err
	}
	mods, err := s.preEvent(ctx, s.event(EventConversationUpdate, &next, nil, o))
	if err != nil {
		return err
	}
	if fn := mods.FriendlyName; fn != nil {
		if err := checkLen("FriendlyName", *fn, MaxFriendlyNameLen, 50003); err != nil {
			return err
		}
		p.FriendlyName = fn
	}
	return nil
}

// preConversationRemove consults onConversationRemove. Errors: 20404, 50056.
func (s *Service) preConversationRemove(ctx context.Context, svc *ChatService, ref string, o WriteOptions) error {
	if !s.sdk(o) {
		return nil
	}
	cur, err := s.getConversation(ctx, s.store, svc, ref)
	if err != nil {
		return err
	}
	_, err = s.preEvent(ctx, s.event(EventConversationRemove, cur, nil, o))
	return err
}

// preParticipantAdd consults onParticipantAdd for p (from newParticipant) joining the
// conversation convRef names, with the role it would get. Errors: 20404, 50056.
func (s *Service) preParticipantAdd(ctx context.Context, sc Scope, convRef string, p *Participant, roleSid *string, o WriteOptions) error {
	if !s.sdk(o) {
		return nil
	}
	svc, c, err := s.resolveConversation(ctx, s.store, sc, convRef)
	if err != nil {
		return err
	}
	next := *p
	next.AccountSid, next.ServiceSid, next.ConversationSid = c.AccountSid, c.ServiceSid, c.Sid
	addressOnly := p.Binding != nil && p.Binding.Address != "" && p.Binding.ProxyAddress == ""
	switch {
	case given(roleSid):
		next.RoleSid = *roleSid
	case !addressOnly:
		if cfg, err := s.store.GetServiceConfig(ctx, svc.Sid); err == nil {
			next.RoleSid = cfg.DefaultConversationRoleSid
		}
	}
	_, err = s.preEvent(ctx, s.event(EventParticipantAdd, c, &next, o))
	return err
}

// preParticipantUpdate consults onParticipantUpdate with the participant's attributes,
// role and read horizon as in would set them. Errors: 20404, 50056, 50304/50303.
func (s *Service) preParticipantUpdate(ctx context.Context, sc Scope, convRef, ref string, in ParticipantUpdate, o WriteOptions) error {
	if !s.sdk(o) {
		return nil
	}
	_, c, err := s.resolveConversation(ctx, s.store, sc, convRef)
	if err != nil {
		return err
	}
	cur, err := getParticipant(ctx, s.store, c, ref)
	if err != nil {
		return err
	}
	next := *cur
	next.DateUpdated = s.clock()
	if in.Attributes != nil {
		if next.Attributes, err = ValidateAttributes(*in.Attributes, MaxParticipantAttributesBytes); err != nil {
			return err
		}
	}
	if given(in.RoleSid) {
		next.RoleSid = *in.RoleSid
	}
	if v, ok := in.LastReadMessageIndex.Get(); ok {
		next.LastReadMessageIndex = &v
	} else if in.LastReadMessageIndex.IsClear() {
		next.LastReadMessageIndex = nil
	}
	if t, ok := in.LastReadTimestamp.Get(); ok {
		next.LastReadTimestamp = readTimestamp(t)
	} else if in.LastReadTimestamp.IsClear() {
		next.LastReadTimestamp = nil
	}
	_, err = s.preEvent(ctx, s.event(EventParticipantUpdate, c, &next, o))
	return err
}

// preParticipantRemove consults onParticipantRemove. Errors: 20404, 50056.
func (s *Service) preParticipantRemove(ctx context.Context, sc Scope, convRef, ref string, o WriteOptions) error {
	if !s.sdk(o) {
		return nil
	}
	_, c, err := s.resolveConversation(ctx, s.store, sc, convRef)
	if err != nil {
		return err
	}
	cur, err := getParticipant(ctx, s.store, c, ref)
	if err != nil {
		return err
	}
	_, err = s.preEvent(ctx, s.event(EventParticipantRemove, c, cur, o))
	return err
}

// preMessageAdd consults onMessageAdd for message m (from newMessage for in) about to be
// added; a hook may change its body, author and attributes, and the message is then built
// again from the changed form (and checked again). Errors: 20404, 50056, and those of the form.
func (s *Service) preMessageAdd(ctx context.Context, sc Scope, convRef string, in MessageCreate, m *Message, o WriteOptions) (*Message, error) {
	if !s.sdk(o) {
		return m, nil
	}
	_, c, err := s.resolveConversation(ctx, s.store, sc, convRef)
	if err != nil {
		return nil, err
	}
	next := *m
	next.AccountSid, next.ServiceSid, next.ConversationSid = c.AccountSid, c.ServiceSid, c.Sid
	mods, err := s.preEvent(ctx, s.messageEvent(EventMessageAdd, c, &next, o))
	if err != nil || mods == (PreEventChanges{}) {
		return m, err
	}
	if v := mods.Body; v != nil {
		in.Body = v
	}
	if v := mods.Author; v != nil {
		in.Author = v
	}
	if v := mods.Attributes; v != nil {
		in.Attributes = v
	}
	return s.newMessage(in)
}

// preMessageUpdate consults onMessageUpdate with the message as in would leave it; a hook may
// change the body, author and attributes, which then replace those of in (checked with the
// rest of the form). Errors: 20404, 50056.
func (s *Service) preMessageUpdate(ctx context.Context, sc Scope, convRef, sid string, in *MessageUpdate, o WriteOptions) error {
	if !s.sdk(o) {
		return nil
	}
	_, c, err := s.resolveConversation(ctx, s.store, sc, convRef)
	if err != nil {
		return err
	}
	cur, err := getMessage(ctx, s.store, c, sid)
	if err != nil {
		return err
	}
	next := *cur
	next.DateUpdated = s.clock()
	if in.Body != nil {
		b := *in.Body
		next.Body = &b
	}
	if in.Author != nil {
		next.Author = *in.Author
	}
	if in.Attributes != nil {
		next.Attributes = *in.Attributes
	}
	mods, err := s.preEvent(ctx, s.messageEvent(EventMessageUpdate, c, &next, o))
	if err != nil {
		return err
	}
	if v := mods.Body; v != nil {
		in.Body = v
	}
	if v := mods.Author; v != nil {
		in.Author = v
	}
	if v := mods.Attributes; v != nil {
		in.Attributes = v
	}
	return nil
}

// preMessageRemove consults onMessageRemove. Errors: 20404, 50056.
func (s *Service) preMessageRemove(ctx context.Context, sc Scope, convRef, sid string, o WriteOptions) error {
	if !s.sdk(o) {
		return nil
	}
	_, c, err := s.resolveConversation(ctx, s.store, sc, convRef)
	if err != nil {
		return err
	}
	cur, err := getMessage(ctx, s.store, c, sid)
	if err != nil {
		return err
	}
	_, err = s.preEvent(ctx, s.messageEvent(EventMessageRemove, c, cur, o))
	return err
}
