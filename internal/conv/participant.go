package conv

import (
	"context"
	"errors"
)

// ParticipantCreate are the form fields of participant create; nil means absent.
type ParticipantCreate struct {
	Identity         *string
	Address          *string // MessagingBinding.Address
	ProxyAddress     *string // MessagingBinding.ProxyAddress
	ProjectedAddress *string // MessagingBinding.ProjectedAddress
	Attributes       *string
	RoleSid          *string
	DateCreated      *string
	DateUpdated      *string
}

// ParticipantUpdate are the form fields of participant update; nil means absent.
type ParticipantUpdate struct {
	Identity             *string
	Attributes           *string
	RoleSid              *string
	ProxyAddress         *string // "null" removes it
	ProjectedAddress     *string // "null" removes it
	LastReadMessageIndex *string
	LastReadTimestamp    *string
	DateCreated          *string
	DateUpdated          *string
}

func given(p *string) bool { return p != nil && *p != "" }

// resolveConversation returns the scope's service and the conversation ref names. It reads
// through st; the service is resolved first, outside any transaction, because resolving the
// default service may create it in a transaction of its own.
func (s *Service) resolveConversation(ctx context.Context, st Store, sc Scope, ref string) (*ChatService, *Conversation, error) {
	svc, err := s.ResolveService(ctx, sc)
	if err != nil {
		return nil, nil, err
	}
	c, err := s.getConversation(ctx, st, svc, ref)
	if err != nil {
		return nil, nil, err
	}
	return svc, c, nil
}

// inConversation resolves the scope's service, then runs fn in a write transaction with the
// conversation ref names, read and locked inside it. Errors: 20404, and fn's.
func (s *Service) inConversation(ctx context.Context, sc Scope, ref string, fn func(tx Store, svc *ChatService, c *Conversation) error) error {
	svc, err := s.ResolveService(ctx, sc)
	if err != nil {
		return err
	}
	return s.store.WithTx(ctx, func(tx Store) error {
		c, err := s.getConversation(ctx, tx, svc, ref)
		if err != nil {
			return err
		}
		if err := tx.LockConversation(ctx, c.Sid); err != nil {
			return err
		}
		return fn(tx, svc, c)
	})
}

// conversationRole checks that sid names a conversation-scoped role of the service.
// Errors: 50109 (400) when it does not.
func (s *Service) conversationRole(ctx context.Context, st Store, serviceSid, sid string) error {
	if !IsSID(PrefixRole, sid) {
		return invalid(50109, "Conversation role not found: %q is not a Role SID", sid)
	}
	r, err := st.GetRole(ctx, serviceSid, sid)
	if errors.Is(err, ErrNotFound) {
		return invalid(50109, "Conversation role not found: %s", sid)
	} else if err != nil {
		return err
	}
	if r.Type != RoleTypeConversation {
		return invalid(50109, "Conversation role not found: %s is a %s role", sid, r.Type)
	}
	// Hold the role until the transaction ends, so that it cannot be deleted meanwhile.
	if err := st.ShareLockRole(ctx, sid); errors.Is(err, ErrNotFound) {
		return invalid(50109, "Conversation role not found: %s", sid)
	} else if err != nil {
		return err
	}
	return nil
}

// getParticipant finds a participant of c by MB sid or, failing the pattern, by identity.
func getParticipant(ctx context.Context, st Store, c *Conversation, ref string) (*Participant, error) {
	var p *Participant
	var err error
	if IsSID(PrefixParticipant, ref) {
		p, err = st.GetParticipant(ctx, c.Sid, ref)
	} else {
		p, err = st.GetParticipantByIdentity(ctx, c.Sid, ref)
	}
	return p, mapStoreErr(err)
}

// claimBinding records that p holds its (address, proxy) pair. Errors: 50416 (409) naming
// the conversation that holds it, 50433 (409) when that is p's own conversation.
func (s *Service) claimBinding(ctx context.Context, tx Store, p *Participant) error {
	b := p.Binding
	if b == nil || b.Address == "" || b.ProxyAddress == "" {
		return nil
	}
	conflict := func(cl *BindingClaim) error {
		if cl.ConversationSid == p.ConversationSid {
			return Errorf(KindConflict, 50433, "Participant already exists: a participant with address %s and proxy address %s is already in this conversation", b.Address, b.ProxyAddress)
		}
		return Errorf(KindConflict, 50416, "A binding for this participant and proxy address already exists in Conversation %s", cl.ConversationSid)
	}
	cl, err := tx.GetBindingClaim(ctx, p.AccountSid, b.Address, b.ProxyAddress)
	if err == nil && cl.ConversationSid != p.ConversationSid {
		// The holder may be a conversation whose closed timer is due: closing it frees the pair.
		freed, ferr := s.freeDueHolderTx(ctx, tx, cl.ConversationSid)
		if ferr != nil {
			return ferr
		}
		if freed {
			cl, err = nil, ErrNotFound
		}
	}
	if err == nil {
		return conflict(cl)
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	err = tx.ClaimBinding(ctx, &BindingClaim{AccountSid: p.AccountSid, Address: b.Address, ProxyAddress: b.ProxyAddress,
		ConversationSid: p.ConversationSid, ParticipantSid: p.Sid})
	if errors.Is(err, ErrConflict) { // lost a race with another transaction
		if cl, gerr := tx.GetBindingClaim(ctx, p.AccountSid, b.Address, b.ProxyAddress); gerr == nil {
			return conflict(cl)
		}
		return Errorf(KindConflict, 50416, "A binding for this participant and proxy address already exists")
	}
	return err
}

// CreateParticipant adds a participant to a conversation: a chat participant (Identity), an
// SMS/WhatsApp participant (MessagingBinding.Address + ProxyAddress), a Group MMS chat
// participant (Identity + ProjectedAddress) or a Group MMS SMS participant (Address only, in a
// conversation that has a projected-address participant).
// Errors: 20404 (conversation), 50204 (neither identity nor address), 50211 (identity with an
// address), 50411/50412 (address or proxy missing), 50407/50408/50409/50414 (addresses),
// 50207/50206 (identity), 50304/50303 (attributes), 50109 (role), 50308/50309 (dates),
// 50377 (closed), 50417/50418/50436 (limits), 50433/50437/50416 (409, already present).
func (s *Service) CreateParticipant(ctx context.Context, sc Scope, convRef string, in ParticipantCreate, o WriteOptions) (*Participant, error) {
	p, err := s.newParticipant(in)
	if err != nil {
		return nil, err
	}
	if err := s.preParticipantAdd(ctx, sc, convRef, p, in.RoleSid, o); err != nil {
		return nil, err
	}
	var conv *Conversation
	err = s.inConversation(ctx, sc, convRef, func(tx Store, svc *ChatService, c *Conversation) error {
		conv = c
		if err := s.addParticipantTx(ctx, tx, svc, c, p, in.RoleSid, false); err != nil {
			return err
		}
		return s.emit(ctx, tx, s.event("onParticipantAdded", c, p, o))
	})
	if err != nil {
		return nil, err
	}
	s.publish(ctx, "onParticipantAdded", conv, p, o)
	return p, nil
}

// newParticipant checks the fields of a participant create that need no stored state and
// returns the participant to add (its conversation, role and limits are checked by
// addParticipantTx). Errors: as CreateParticipant, except those needing the conversation.
func (s *Service) newParticipant(in ParticipantCreate) (*Participant, error) {
	identity, addr, proxy, projected := given(in.Identity), given(in.Address), given(in.ProxyAddress), given(in.ProjectedAddress)
	switch {
	case identity && (addr || proxy):
		return nil, invalid(50211, "Identity parameter not acceptable for this Participant: a participant has either an Identity or a MessagingBinding.Address")
	case !identity && !addr && !proxy && !projected:
		return nil, invalid(50204, "Identity not provided: a participant needs Identity or MessagingBinding.Address")
	case !identity && projected:
		return nil, invalid(50434, "MessagingBinding.ProjectedAddress needs an Identity: only chat participants have a projected address")
	case !identity && !addr:
		return nil, invalid(50411, "Participant address is empty: MessagingBinding.ProxyAddress given without MessagingBinding.Address")
	}
	now := s.clock()
	p := &Participant{Sid: s.sids.New(PrefixParticipant), Attributes: "{}", DateCreated: now, DateUpdated: now}
	if identity {
		if err := ValidateIdentity(*in.Identity); err != nil {
			return nil, err
		}
		p.Identity = in.Identity
		if projected {
			if err := ValidateProjectedAddress(*in.ProjectedAddress); err != nil {
				return nil, err
			}
			p.Binding = &Binding{Type: BindingSMS, ProjectedAddress: *in.ProjectedAddress}
		}
	} else {
		a, pr := *in.Address, ""
		if proxy {
			pr = *in.ProxyAddress
		}
		if err := ValidateBindingAddresses(a, pr); err != nil {
			return nil, err
		}
		p.Binding = &Binding{Type: BindingType(a), Address: a, ProxyAddress: pr}
	}
	if in.Attributes != nil {
		a, err := ValidateAttributes(*in.Attributes, MaxParticipantAttributesBytes)
		if err != nil {
			return nil, err
		}
		p.Attributes = a
	}
	if err := applyDates(&p.DateCreated, &p.DateUpdated, in.DateCreated, in.DateUpdated); err != nil {
		return nil, err
	}
	return p, nil
}

// addParticipantTx adds p (from newParticipant) to conversation c of svc inside the write
// transaction tx, in which c is locked: it refuses a closed conversation, assigns the role
// (roleSid, or the service's default conversation role), enforces the participant limits and
// the Group MMS rules, refuses duplicates, creates the User of a chat participant's identity
// when the service has none (ensureUserTx) and claims p's (address, proxy address) pair.
// groupMMS says the conversation is to be treated as a Group MMS conversation even before a
// projected-address participant is stored (ConversationWithParticipants adds them in one go).
// Errors: 50377, 50109, 50412, 50417/50418/50436, 50433/50437/50416 (409).
func (s *Service) addParticipantTx(ctx context.Context, tx Store, svc *ChatService, c *Conversation, p *Participant, roleSid *string, groupMMS bool) error {
	if c.State == StateClosed {
		return invalid(50377, "Can't update conversation as it's in final closed state: participants cannot be added to a closed conversation")
	}
	p.AccountSid, p.ServiceSid, p.ConversationSid = c.AccountSid, c.ServiceSid, c.Sid
	projected := p.Binding != nil && p.Binding.ProjectedAddress != ""
	addressOnly := p.Binding != nil && p.Binding.Address != "" && p.Binding.ProxyAddress == ""
	p.RoleSid = ""
	// The service configuration names the default conversation role and, for the User a chat
	// participant may create, the default service role: read it once.
	var cfg ServiceConfig
	if p.IsChat() || (!given(roleSid) && !addressOnly) {
		switch c, err := tx.GetServiceConfig(ctx, svc.Sid); {
		case err == nil:
			cfg = *c
		case !errors.Is(err, ErrNotFound):
			return err
		}
	}
	switch {
	case given(roleSid):
		if err := s.conversationRole(ctx, tx, svc.Sid, *roleSid); err != nil {
			return err
		}
		p.RoleSid = *roleSid
	case !addressOnly && cfg.DefaultConversationRoleSid != "":
		// Hold the default role too, so that it cannot be deleted meanwhile.
		switch err := tx.ShareLockRole(ctx, cfg.DefaultConversationRoleSid); {
		case err == nil:
			p.RoleSid = cfg.DefaultConversationRoleSid
		case !errors.Is(err, ErrNotFound):
			return err
		}
	}
	counts, err := tx.CountParticipants(ctx, c.Sid)
	if err != nil {
		return err
	}
	if counts.Chat+counts.NonChat >= MaxParticipantsPerConversation {
		return invalid(50417, "Participants limit exceeded: a conversation has at most %d participants", MaxParticipantsPerConversation)
	}
	if !p.IsChat() && counts.NonChat >= MaxNonChatParticipants {
		return invalid(50418, "Non-Chat participants limit exceeded: a conversation has at most %d non-chat participants", MaxNonChatParticipants)
	}
	total := counts.Chat + counts.NonChat
	isGroup := groupMMS || counts.Projected > 0
	if addressOnly && !isGroup {
		return invalid(50412, "Participant proxy address is empty: MessagingBinding.ProxyAddress is required unless the conversation is a Group MMS conversation (has a participant with MessagingBinding.ProjectedAddress)")
	}
	if (isGroup || projected || addressOnly) && total >= MaxGroupParticipants {
		return invalid(50436, "Participant limit exceeded for group conversation: at most %d participants", MaxGroupParticipants)
	}
	// A chat participant's identity is unique in its conversation by constraint: the insert
	// below refuses a duplicate (ErrConflict) without a lookup first.
	if !p.IsChat() {
		if _, err := tx.FindParticipantByAddress(ctx, c.Sid, p.Binding.Address, p.Binding.ProxyAddress); err == nil {
			code := 50433
			if addressOnly {
				code = 50437
			}
			return Errorf(KindConflict, code, "Participant already exists: address %s is already in this conversation", p.Binding.Address)
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	if err := tx.CreateParticipant(ctx, p); err != nil {
		if errors.Is(err, ErrConflict) {
			if p.IsChat() {
				return Errorf(KindConflict, 50433, "Participant already exists: identity %q is already in this conversation", *p.Identity)
			}
			return Errorf(KindConflict, 50433, "Participant already exists in this conversation")
		}
		return err
	}
	if p.IsChat() { // every chat participant is backed by a User of the service (user.go)
		if err := s.ensureUserTx(ctx, tx, svc, *p.Identity, cfg.DefaultChatServiceRoleSid); err != nil {
			return err
		}
	}
	return s.claimBinding(ctx, tx, p)
}

// FetchParticipant returns a participant by MB sid or identity. Errors: 20404.
func (s *Service) FetchParticipant(ctx context.Context, sc Scope, convRef, ref string) (*Participant, error) {
	if p, ok, err := s.fetchParticipantBySid(ctx, sc, convRef, ref); ok {
		return p, err
	}
	_, c, err := s.resolveConversation(ctx, s.store, sc, convRef)
	if err != nil {
		return nil, err
	}
	return getParticipant(ctx, s.store, c, ref)
}

// ListParticipants returns one page of a conversation's participants in the order they
// joined. Errors: 20404 (conversation).
func (s *Service) ListParticipants(ctx context.Context, sc Scope, convRef string, q PageQuery) ([]*Participant, error) {
	if ps, ok, err := s.listParticipantsBySid(ctx, sc, convRef, q); ok {
		return ps, err
	}
	_, c, err := s.resolveConversation(ctx, s.store, sc, convRef)
	if err != nil {
		return nil, err
	}
	return s.store.ListParticipants(ctx, c.Sid, q)
}

// UpdateParticipant changes a participant (by MB sid or identity).
// Errors: 20404, 50304/50303, 50109, 50421, 50405, 50308/50309, 50377 (closed),
// 50440/50441 (proxy address remove/add), 50442/50443 (projected address remove/add),
// 50444 (identity), 50407/50408/50409/50414 (addresses), 50416/50433 (409, pair in use).
func (s *Service) UpdateParticipant(ctx context.Context, sc Scope, convRef, ref string, in ParticipantUpdate, o WriteOptions) (*Participant, error) {
	if err := s.preParticipantUpdate(ctx, sc, convRef, ref, in, o); err != nil {
		return nil, err
	}
	var conv *Conversation
	var out *Participant
	err := s.inConversation(ctx, sc, convRef, func(tx Store, svc *ChatService, c *Conversation) error {
		conv = c
		p, err := getParticipant(ctx, tx, c, ref)
		if err != nil {
			return err
		}
		if c.State == StateClosed {
			return invalid(50377, "Can't update conversation as it's in final closed state")
		}
		p.DateUpdated = s.clock()
		if in.Attributes != nil {
			a, err := ValidateAttributes(*in.Attributes, MaxParticipantAttributesBytes)
			if err != nil {
				return err
			}
			p.Attributes = a
		}
		if given(in.RoleSid) {
			if err := s.conversationRole(ctx, tx, svc.Sid, *in.RoleSid); err != nil {
				return err
			}
			p.RoleSid = *in.RoleSid
		}
		if given(in.Identity) && (p.Identity == nil || *p.Identity != *in.Identity) {
			if p.Identity != nil {
				return invalid(50444, "Failed to add an identity to a participant: it already has identity %q", *p.Identity)
			}
			return invalid(50444, "Failed to add an identity to a participant: a participant with a messaging binding address cannot have an identity")
		}
		rebind := false
		if in.ProxyAddress != nil {
			switch v := *in.ProxyAddress; {
			case p.IsChat() && v != "null" && v != "":
				return invalid(50441, "Failed to add a proxy address to a participant: chat participants have no proxy address")
			case p.IsChat():
				// nothing to remove
			case v == "null" || v == "":
				if p.Binding.ProxyAddress != "" {
					return invalid(50440, "Failed to remove the proxy address of a participant: SMS and WhatsApp participants need one")
				}
			case v != p.Binding.ProxyAddress:
				if p.Binding.ProxyAddress == "" {
					return invalid(50441, "Failed to add a proxy address to a participant: Group MMS participants have no proxy address")
				}
				if err := ValidateBindingAddresses(p.Binding.Address, v); err != nil {
					return err
				}
				nb := *p.Binding
				nb.ProxyAddress = v
				p.Binding = &nb
				rebind = true
			}
		}
		if in.ProjectedAddress != nil {
			switch v := *in.ProjectedAddress; {
			case !p.IsChat() && v != "null" && v != "":
				return invalid(50443, "Failed to add a projected address to a participant: only chat participants have one")
			case !p.IsChat():
			case v == "null" || v == "":
				p.Binding = nil
			default:
				if err := ValidateProjectedAddress(v); err != nil {
					return err
				}
				p.Binding = &Binding{Type: BindingSMS, ProjectedAddress: v}
			}
		}
		if in.LastReadMessageIndex != nil {
			n, err := ParseReadIndex(*in.LastReadMessageIndex)
			if err != nil {
				return err
			}
			// An index beyond the last message is lowered to it (see readHorizon).
			if p.LastReadMessageIndex, err = readHorizon(ctx, tx, c, n); err != nil {
				return err
			}
		}
		if in.LastReadTimestamp != nil {
			t, err := ParseReadTimestamp(*in.LastReadTimestamp)
			if err != nil {
				return err
			}
			p.LastReadTimestamp = t
		}
		if err := applyDates(&p.DateCreated, &p.DateUpdated, in.DateCreated, in.DateUpdated); err != nil {
			return err
		}
		if rebind {
			if _, err := tx.FindParticipantByAddress(ctx, c.Sid, p.Binding.Address, p.Binding.ProxyAddress); err == nil {
				return Errorf(KindConflict, 50433, "Participant already exists: address %s with proxy address %s is already in this conversation", p.Binding.Address, p.Binding.ProxyAddress)
			}
			if err := tx.ReleaseParticipantClaims(ctx, p.Sid); err != nil {
				return err
			}
			if err := s.claimBinding(ctx, tx, p); err != nil {
				return err
			}
		}
		if err := tx.UpdateParticipant(ctx, p); err != nil {
			return err
		}
		out = p
		return s.emit(ctx, tx, s.event("onParticipantUpdated", c, p, o))
	})
	if err != nil {
		return nil, err
	}
	s.publish(ctx, "onParticipantUpdated", conv, out, o)
	return out, nil
}

// DeleteParticipant removes a participant (by MB sid or identity) from its conversation; the
// messages it wrote stay. Its (address, proxy address) pair becomes free. Errors: 20404.
func (s *Service) DeleteParticipant(ctx context.Context, sc Scope, convRef, ref string, o WriteOptions) error {
	if err := s.preParticipantRemove(ctx, sc, convRef, ref, o); err != nil {
		return err
	}
	var conv *Conversation
	var gone *Participant
	err := s.inConversation(ctx, sc, convRef, func(tx Store, _ *ChatService, c *Conversation) error {
		conv = c
		p, err := getParticipant(ctx, tx, c, ref)
		if err != nil {
			return err
		}
		gone = p
		if err := tx.DeleteParticipant(ctx, c.Sid, p.Sid); err != nil {
			return mapStoreErr(err)
		}
		return s.emit(ctx, tx, s.event("onParticipantRemoved", c, p, o))
	})
	if err != nil {
		return err
	}
	s.publish(ctx, "onParticipantRemoved", conv, gone, o)
	return nil
}
