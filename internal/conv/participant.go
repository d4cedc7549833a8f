package conv

import (
	"context"
	"errors"
	"time"
)

// ParticipantCreate is the participant create command; nil means absent. The front door
// parses DateCreated/DateUpdated (its errors 50308/50309).
type ParticipantCreate struct {
	Identity         *string
	Address          *string // MessagingBinding.Address
	ProxyAddress     *string // MessagingBinding.ProxyAddress
	ProjectedAddress *string // MessagingBinding.ProjectedAddress
	Attributes       *string
	RoleSid          *string
	DateCreated      *time.Time
	DateUpdated      *time.Time
}

// ParticipantUpdate is the participant update command; nil or an absent Opt leaves a field
// alone. The front door maps the wire's "null" onto Clear and parses the index (50421) and
// dates (50405, 50308/50309).
type ParticipantUpdate struct {
	Identity             *string
	Attributes           *string
	RoleSid              *string
	ProxyAddress         Opt[string]    // MessagingBinding.ProxyAddress; Clear removes it
	ProjectedAddress     Opt[string]    // MessagingBinding.ProjectedAddress; Clear removes it
	LastReadMessageIndex Opt[int64]     // a non-negative index; Clear unsets the read horizon
	LastReadTimestamp    Opt[time.Time] // Clear unsets it
	DateCreated          *time.Time
	DateUpdated          *time.Time
}

// readTimestamp returns the stored form of a LastReadTimestamp (nil when cleared).
func readTimestamp(t time.Time) *string {
	v := t.UTC().Format(DateFormat)
	return &v
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

// bindingInUse is Twilio's 50416 (409) for an (address, proxy address) pair that a participant
// of conversation convSid holds, p's own conversation or another: SMS bridges read the CH SID
// out of the message.
func bindingInUse(convSid string) error {
	return Errorf(KindConflict, 50416, "A binding for this participant and proxy address already exists in Conversation %s", convSid)
}

// claimBinding records that p holds its (address, proxy) pair. Errors: 50416 (409) naming
// the conversation that holds it (p's own one included).
func (s *Service) claimBinding(ctx context.Context, tx Store, p *Participant) error {
	b := p.Binding
	if b == nil || b.Address == "" || b.ProxyAddress == "" {
		return nil
	}
	conflict := func(cl *BindingClaim) error { return bindingInUse(cl.ConversationSid) }
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
		if err := s.pushParticipant(ctx, tx, c, p, true, o); err != nil { // push.go
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
	case !identity && projected && (addr || proxy):
		return nil, invalid(50443, "Failed to add a projected address to a participant: a participant with a messaging binding address has no MessagingBinding.ProjectedAddress (Group MMS participants are Identity with ProjectedAddress, Address alone, or ProjectedAddress alone)")
	case !identity && !addr && !projected:
		return nil, invalid(50411, "Participant address is empty: MessagingBinding.ProxyAddress given without MessagingBinding.Address")
	}
	now := s.clock()
	p := &Participant{Sid: s.sids.New(PrefixParticipant), Attributes: "{}", DateCreated: now, DateUpdated: now}
	switch {
	case identity:
		if err := ValidateIdentity(*in.Identity); err != nil {
			return nil, err
		}
		if IsSID(PrefixParticipant, *in.Identity) {
			return nil, invalid(50203, "Identity reserved: %q has the shape of a Participant SID (MB and 32 hex digits), so the participant could not be fetched, updated or removed by it", *in.Identity)
		}
		p.Identity = in.Identity
		if projected {
			if err := ValidateProjectedAddress(*in.ProjectedAddress); err != nil {
				return nil, err
			}
			p.Binding = &Binding{Type: BindingSMS, ProjectedAddress: *in.ProjectedAddress}
		}
	case projected: // an unattached projected address: a Twilio number in a Group MMS conversation
		if err := ValidateProjectedAddress(*in.ProjectedAddress); err != nil {
			return nil, err
		}
		p.Binding = &Binding{Type: BindingSMS, ProjectedAddress: *in.ProjectedAddress}
	default:
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
	setDates(&p.DateCreated, &p.DateUpdated, in.DateCreated, in.DateUpdated)
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
	if isGroup && p.IsChat() && !projected {
		return invalid(50434, "Participant projected address not provided: a chat participant of a Group MMS conversation needs MessagingBinding.ProjectedAddress")
	}
	if err := s.refuseDuplicateTx(ctx, tx, c, p, isGroup); err != nil {
		return err
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

// refuseDuplicateTx refuses p when conversation c (a Group MMS one when isGroup) already has
// it. In a Group MMS conversation every duplicate Twilio's error 50437 lists is 50437 (409):
// the same address and proxy address, the same address-only participant, the same identity
// with the same projected address; an unattached projected address added twice is too.
// Elsewhere an (address, proxy address) pair already in c is 50416 (409) naming c, as when
// another conversation holds it. A chat participant's identity is unique in its conversation
// by constraint: the insert refuses a duplicate (50433) without a lookup first.
func (s *Service) refuseDuplicateTx(ctx context.Context, tx Store, c *Conversation, p *Participant, isGroup bool) error {
	b := p.Binding
	if isGroup && b != nil && b.ProjectedAddress != "" {
		// At most MaxGroupParticipants participants: read them all.
		ps, err := tx.ListParticipants(ctx, c.Sid, PageQuery{Size: MaxGroupParticipants + 1})
		if err != nil {
			return err
		}
		for _, q := range ps {
			if q.Binding == nil || q.Binding.ProjectedAddress != b.ProjectedAddress || q.Binding.Address != "" {
				continue
			}
			switch {
			case p.IsChat() && q.IsChat() && *q.Identity == *p.Identity:
				return Errorf(KindConflict, 50437, "Group Participant already exists: identity %q with projected address %s is already in this conversation", *p.Identity, b.ProjectedAddress)
			case !p.IsChat() && !q.IsChat():
				return Errorf(KindConflict, 50437, "Group Participant already exists: projected address %s is already in this conversation", b.ProjectedAddress)
			}
		}
		return nil
	}
	if p.IsChat() || b == nil || b.Address == "" {
		return nil
	}
	switch _, err := tx.FindParticipantByAddress(ctx, c.Sid, b.Address, b.ProxyAddress); {
	case errors.Is(err, ErrNotFound):
		return nil
	case err != nil:
		return err
	case isGroup && b.ProxyAddress == "":
		return Errorf(KindConflict, 50437, "Group Participant already exists: address %s is already in this conversation", b.Address)
	case isGroup:
		return Errorf(KindConflict, 50437, "Group Participant already exists: address %s with proxy address %s is already in this conversation", b.Address, b.ProxyAddress)
	}
	return bindingInUse(c.Sid)
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
// 50444 (identity; see addIdentityTx), 50433 (409, identity in the conversation),
// 50407/50408/50409/50414 (addresses), 50416 (409, pair in use).
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
			if err := s.addIdentityTx(ctx, tx, svc, c, p, *in.Identity); err != nil {
				return err
			}
		}
		hadProjected := p.Binding != nil && p.Binding.ProjectedAddress != ""
		rebind, err := applyBindingUpdate(p, in)
		if err != nil {
			return err
		}
		if hadProjected && in.ProjectedAddress.IsClear() {
			if err := refuseLeavingGroupTx(ctx, tx, c, p); err != nil {
				return err
			}
		}
		if v, ok := in.LastReadMessageIndex.Get(); ok {
			// Twilio does not tie the read horizon to existing messages: stored as given.
			p.LastReadMessageIndex = &v
		} else if in.LastReadMessageIndex.IsClear() {
			p.LastReadMessageIndex = nil
		}
		if t, ok := in.LastReadTimestamp.Get(); ok {
			p.LastReadTimestamp = readTimestamp(t)
		} else if in.LastReadTimestamp.IsClear() {
			p.LastReadTimestamp = nil
		}
		setDates(&p.DateCreated, &p.DateUpdated, in.DateCreated, in.DateUpdated)
		if rebind {
			if p.Binding.ProxyAddress != "" {
				if q, err := tx.FindParticipantByAddress(ctx, c.Sid, p.Binding.Address, p.Binding.ProxyAddress); err == nil && q.Sid != p.Sid {
					return bindingInUse(c.Sid)
				} else if err != nil && !errors.Is(err, ErrNotFound) {
					return err
				}
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

// addIdentityTx gives participant p of conversation c the identity id, as the error
// dictionary's 50444 ("Failed to add an identity to a participant") allows: its causes are a
// participant that already has an identity and one without a projected address, so an
// unattached projected address participant (Group MMS: a projected address only) may get one
// and becomes a chat participant with a projected address, as if created with both. The
// identity is checked as on create (50206/50207/50203) and must not be in the conversation
// already (409/50433); the service gets a User for it when it has none (ensureUserTx).
func (s *Service) addIdentityTx(ctx context.Context, tx Store, svc *ChatService, c *Conversation, p *Participant, id string) error {
	switch {
	case p.Identity != nil:
		return invalid(50444, "Failed to add an identity to a participant: it already has identity %q", *p.Identity)
	case p.Binding == nil || p.Binding.ProjectedAddress == "" || p.Binding.Address != "":
		return invalid(50444, "Failed to add an identity to a participant: the participant does not have a projected address (only an unattached projected address participant may get an identity)")
	}
	if err := ValidateIdentity(id); err != nil {
		return err
	}
	if IsSID(PrefixParticipant, id) {
		return invalid(50203, "Identity reserved: %q has the shape of a Participant SID (MB and 32 hex digits), so the participant could not be fetched, updated or removed by it", id)
	}
	switch _, err := tx.GetParticipantByIdentity(ctx, c.Sid, id); {
	case err == nil:
		return Errorf(KindConflict, 50433, "Participant already exists: identity %q is already in this conversation", id)
	case !errors.Is(err, ErrNotFound):
		return err
	}
	var role string
	switch cfg, err := tx.GetServiceConfig(ctx, svc.Sid); {
	case err == nil:
		role = cfg.DefaultChatServiceRoleSid
	case !errors.Is(err, ErrNotFound):
		return err
	}
	if err := s.ensureUserTx(ctx, tx, svc, id, role); err != nil {
		return err
	}
	p.Identity = &id
	return nil
}

// refuseLeavingGroupTx refuses to take the projected address off chat participant p of
// conversation c while c stays a Group MMS conversation without it (another participant has
// a projected address, or an address-only participant needs one): p would be the chat
// participant without a projected address that create refuses (50434) and that makes Group
// MMS activation fail (50435). The refusal is the operation's own code, 50442 ("Failed to
// remove the projected address of a participant"), as for the other refused removals; the
// message names the rule. When p alone made c a Group MMS conversation, the removal is
// allowed and c is no longer one.
func refuseLeavingGroupTx(ctx context.Context, tx Store, c *Conversation, p *Participant) error {
	counts, err := tx.CountParticipants(ctx, c.Sid)
	if err != nil {
		return err
	}
	group := counts.Projected > 1 // p's own projected address is still stored
	if !group {
		ps, err := tx.ListParticipants(ctx, c.Sid, PageQuery{Size: counts.Chat + counts.NonChat + 1})
		if err != nil {
			return err
		}
		for _, q := range ps {
			if q.Binding != nil && q.Binding.Address != "" && q.Binding.ProxyAddress == "" {
				group = true
				break
			}
		}
	}
	if group {
		return invalid(50442, "Failed to remove the projected address of a participant: a chat participant of a Group MMS conversation needs MessagingBinding.ProjectedAddress (as on create, 50434); remove the participant instead")
	}
	return nil
}

// applyBindingUpdate applies in's MessagingBinding.ProxyAddress and ProjectedAddress to p,
// following the causes Twilio's error dictionary gives. rebind reports that p's (address,
// proxy address) pair changed, so its claim must be made again.
// Proxy address: Clear removes it from an SMS participant that has one (it becomes
// address-only, as in a Group MMS conversation), else 50440 (no proxy address to remove, or
// not an SMS participant); a value on a participant without an address (chat, unattached
// projected address) is 50441, on one with an address it adds or replaces the proxy address.
// Projected address: Clear removes it from a chat participant that has one, else 50442 (an
// unattached projected address cannot lose it: delete the participant instead); a value on a
// participant with a messaging binding address is 50443. Values are checked as on create
// (50407/50408/50409/50414).
func applyBindingUpdate(p *Participant, in ParticipantUpdate) (rebind bool, err error) {
	hasAddr := p.Binding != nil && p.Binding.Address != ""
	switch v, set := in.ProxyAddress.Get(); {
	case in.ProxyAddress.IsClear():
		switch {
		case !hasAddr || p.Binding.Type != BindingSMS:
			return false, invalid(50440, "Failed to remove the proxy address of a participant: the participant is not an SMS participant")
		case p.Binding.ProxyAddress == "":
			return false, invalid(50440, "Failed to remove the proxy address of a participant: the participant does not have a proxy address")
		}
		nb := *p.Binding
		nb.ProxyAddress = ""
		p.Binding, rebind = &nb, true
	case set && !hasAddr:
		return false, invalid(50441, "Failed to add a proxy address to a participant: the participant does not have a user address (MessagingBinding.Address)")
	case set && v != p.Binding.ProxyAddress:
		if err := ValidateBindingAddresses(p.Binding.Address, v); err != nil {
			return false, err
		}
		nb := *p.Binding
		nb.ProxyAddress = v
		p.Binding, rebind = &nb, true
	}
	switch v, set := in.ProjectedAddress.Get(); {
	case in.ProjectedAddress.IsClear():
		switch {
		case p.Binding == nil || p.Binding.ProjectedAddress == "":
			return false, invalid(50442, "Failed to remove the projected address of a participant: the participant does not have a projected address")
		case !p.IsChat():
			return false, invalid(50442, "Failed to remove the projected address of a participant: it is all an unattached projected address participant has; remove the participant instead")
		}
		p.Binding = nil
	case set && hasAddr:
		return false, invalid(50443, "Failed to add a projected address to a participant: the participant has a messaging binding address")
	case set:
		if err := ValidateProjectedAddress(v); err != nil {
			return false, err
		}
		p.Binding = &Binding{Type: BindingSMS, ProjectedAddress: v}
	}
	return rebind, nil
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
		if err := s.pushParticipant(ctx, tx, c, p, false, o); err != nil { // push.go
			return err
		}
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
