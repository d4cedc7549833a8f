package conv

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Notification levels of a User Conversation (user_conversation_enum_notification_level).
const (
	NotificationLevelDefault = "default"
	NotificationLevelMuted   = "muted"
)

// MaxUserAttributesBytes is the longest User Attributes value (see docs/compatibility.md).
const MaxUserAttributesBytes = 16384

// UserCreate are the form fields of user create; nil means absent.
type UserCreate struct {
	Identity     *string
	FriendlyName *string
	Attributes   *string
	RoleSid      *string
}

// UserUpdate are the form fields of user update; nil means absent.
type UserUpdate struct {
	FriendlyName *string
	Attributes   *string
	RoleSid      *string
}

// UserConversation is a conversation a user takes part in, seen through the user's
// participant in it.
type UserConversation struct {
	User              *User
	Participant       *Participant
	Conversation      *Conversation
	NotificationLevel string
	// UnreadMessagesCount is the number of messages above the participant's read horizon,
	// nil when the horizon is unset (see UnreadCount).
	UnreadMessagesCount *int64
}

// UserConversationUpdate is a User Conversation update; nil and absent Opts leave a field alone.
type UserConversationUpdate struct {
	NotificationLevel *string
	// LastReadMessageIndex moves the read horizon (Clear unsets it); the front door parses it
	// with ParseLastReadIndex.
	LastReadMessageIndex Opt[int64]
	// LastReadTimestamp sets or clears the read timestamp (front door: ParseLastReadTimestamp).
	LastReadTimestamp Opt[time.Time]
}

// getUser finds a user of the service by US sid or, failing the pattern, by identity (an
// identity never matches the US pattern, see ValidateIdentity). Errors: 20404.
func getUser(ctx context.Context, st Store, serviceSid, ref string) (*User, error) {
	var u *User
	var err error
	if IsSID(PrefixUser, ref) {
		u, err = st.GetUser(ctx, serviceSid, ref)
	} else {
		u, err = st.GetUserByIdentity(ctx, serviceSid, ref)
	}
	return u, mapStoreErr(err)
}

// serviceRole checks that sid names a service-scoped role of the service and holds it until
// the transaction ends. Errors: 50100 (400) when it does not.
func (s *Service) serviceRole(ctx context.Context, st Store, serviceSid, sid string) error {
	if !IsSID(PrefixRole, sid) {
		return invalid(50100, "Role not found: %q is not a Role SID", sid)
	}
	r, err := st.GetRole(ctx, serviceSid, sid)
	if errors.Is(err, ErrNotFound) {
		return invalid(50100, "Role not found: %s is not a role of this service", sid)
	} else if err != nil {
		return err
	}
	if r.Type != RoleTypeService {
		return invalid(50100, "Role not found: %s is a %s role; users take service roles", sid, r.Type)
	}
	if err := st.ShareLockRole(ctx, sid); errors.Is(err, ErrNotFound) {
		return invalid(50100, "Role not found: %s", sid)
	} else if err != nil {
		return err
	}
	return nil
}

// defaultServiceRole returns the service's default_chat_service_role_sid ("" when the
// service has no configuration).
func defaultServiceRole(ctx context.Context, st Store, serviceSid string) (string, error) {
	cfg, err := st.GetServiceConfig(ctx, serviceSid)
	if errors.Is(err, ErrNotFound) {
		return "", nil
	} else if err != nil {
		return "", err
	}
	return cfg.DefaultChatServiceRoleSid, nil
}

// userFields validates the friendly name and attributes of a create or update and writes
// them onto u. Errors: 50003 (friendly name over 256 characters), 50304/50303 (attributes).
func userFields(u *User, friendlyName, attributes *string) error {
	if friendlyName != nil {
		if err := checkLen("FriendlyName", *friendlyName, MaxFriendlyNameLen, 50003); err != nil {
			return err
		}
		u.FriendlyName = emptyToNil(*friendlyName)
	}
	if attributes != nil {
		a, err := ValidateAttributes(*attributes, MaxUserAttributesBytes)
		if err != nil {
			return err
		}
		u.Attributes = a
	}
	return nil
}

// CreateUser adds a user to the scope's service. Its role is RoleSid, a service-scoped role,
// or else the service configuration's default_chat_service_role_sid.
// Errors: 20404 (service), 20001 (no Identity), 50207/50206/20422 (identity), 50003 (friendly
// name), 50304/50303 (attributes), 50100 (role), 50201 (409, identity taken).
func (s *Service) CreateUser(ctx context.Context, sc Scope, in UserCreate, o WriteOptions) (*User, error) {
	if !given(in.Identity) {
		return nil, invalid(20001, "Missing required parameter Identity in the post body")
	}
	if err := ValidateIdentity(*in.Identity); err != nil {
		return nil, err
	}
	now := s.clock()
	u := &User{Identity: *in.Identity, Attributes: "{}", DateCreated: now, DateUpdated: now}
	if err := userFields(u, in.FriendlyName, in.Attributes); err != nil {
		return nil, err
	}
	svc, err := s.ResolveService(ctx, sc)
	if err != nil {
		return nil, err
	}
	u.Sid, u.AccountSid, u.ServiceSid = s.sids.New(PrefixUser), svc.AccountSid, svc.Sid
	exists := func() error {
		return Errorf(KindConflict, 50201, "User already exists: identity %q is taken in this service", u.Identity)
	}
	err = s.store.WithTx(ctx, func(tx Store) error {
		if _, err := tx.GetUserByIdentity(ctx, svc.Sid, u.Identity); err == nil {
			return exists()
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		if given(in.RoleSid) {
			if err := s.serviceRole(ctx, tx, svc.Sid, *in.RoleSid); err != nil {
				return err
			}
			u.RoleSid = *in.RoleSid
		} else if u.RoleSid, err = defaultServiceRole(ctx, tx, svc.Sid); err != nil {
			return err
		}
		if err := tx.CreateUser(ctx, u); errors.Is(err, ErrConflict) {
			return exists() // lost a race with another transaction
		} else if err != nil {
			return err
		}
		return s.emit(ctx, tx, s.userEvent(EventUserAdded, u, o))
	})
	if err != nil {
		return nil, err
	}
	s.events.Publish(ctx, s.userEvent(EventUserAdded, u, o))
	return u, s.reachability(ctx, u)
}

// ensureUserTx makes sure the service has a User for identity, inside the transaction that
// adds a chat participant with it: it creates one with role (the service's default service
// role) when there is none, and otherwise holds the existing one (shared lock) so that a
// concurrent DeleteUser, which removes the user's participants, waits for this participant
// to exist. The insert comes first (it is skipped, not refused, when the identity is taken),
// so that a new identity costs one statement. Errors: 50213 (409) when the user kept
// disappearing between the insert and the lock, and the store's.
func (s *Service) ensureUserTx(ctx context.Context, tx Store, svc *ChatService, identity, role string) error {
	for attempt := 0; attempt < 3; attempt++ {
		now := s.clock()
		u := &User{Sid: s.sids.New(PrefixUser), AccountSid: svc.AccountSid, ServiceSid: svc.Sid, Identity: identity,
			Attributes: "{}", RoleSid: role, DateCreated: now, DateUpdated: now}
		created, err := tx.InsertUserIfAbsent(ctx, u)
		if err != nil || created {
			return err
		}
		// The user exists: hold it, unless it was deleted since (then insert again).
		if err := tx.ShareLockUser(ctx, svc.Sid, identity); !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	return Errorf(KindConflict, 50213, "Conflicting user modification: user %q was being removed while a participant with its identity was added", identity)
}

// reachability sets u.IsOnline and u.IsNotifiable as Twilio reports them for a single user:
// both null unless the service has reachability_enabled; then is_notifiable is true when the
// identity has a push registration (binding) in the service. Parley tracks no SDK presence,
// so is_online stays null ("never online").
func (s *Service) reachability(ctx context.Context, u *User) error {
	cfg, err := s.store.GetServiceConfig(ctx, u.ServiceSid)
	if errors.Is(err, ErrNotFound) || err == nil && !cfg.ReachabilityEnabled {
		return nil
	} else if err != nil {
		return err
	}
	bs, err := s.store.ListPushBindings(ctx, u.ServiceSid, PushBindingFilter{Identities: []string{u.Identity}}, PageQuery{Size: 1})
	if err != nil {
		return err
	}
	if len(bs) > 0 {
		yes := true
		u.IsNotifiable = &yes
	}
	return nil
}

// FetchUser returns a user of the scope's service by US sid or identity, with its
// reachability. Errors: 20404.
func (s *Service) FetchUser(ctx context.Context, sc Scope, ref string) (*User, error) {
	svc, err := s.ResolveService(ctx, sc)
	if err != nil {
		return nil, err
	}
	u, err := getUser(ctx, s.store, svc.Sid, ref)
	if err != nil {
		return nil, err
	}
	return u, s.reachability(ctx, u)
}

// ListUsers returns one page of the scope's users in creation order (without reachability:
// Twilio's read action always reports it as null). Errors: 20404 (service).
func (s *Service) ListUsers(ctx context.Context, sc Scope, q PageQuery) ([]*User, error) {
	svc, err := s.ResolveService(ctx, sc)
	if err != nil {
		return nil, err
	}
	return s.store.ListUsers(ctx, svc.Sid, q)
}

// UpdateUser changes a user's friendly name ("" clears it), attributes or role (a
// service-scoped role). Errors: 20404, 50003, 50304/50303, 50100.
func (s *Service) UpdateUser(ctx context.Context, sc Scope, ref string, in UserUpdate, o WriteOptions) (*User, error) {
	if err := userFields(&User{}, in.FriendlyName, in.Attributes); err != nil {
		return nil, err
	}
	svc, err := s.ResolveService(ctx, sc)
	if err != nil {
		return nil, err
	}
	var out *User
	err = s.store.WithTx(ctx, func(tx Store) error {
		u, err := getUser(ctx, tx, svc.Sid, ref)
		if err != nil {
			return err
		}
		if err := userFields(u, in.FriendlyName, in.Attributes); err != nil {
			return err
		}
		if given(in.RoleSid) {
			if err := s.serviceRole(ctx, tx, svc.Sid, *in.RoleSid); err != nil {
				return err
			}
			u.RoleSid = *in.RoleSid
		}
		u.DateUpdated = s.clock()
		if err := tx.UpdateUser(ctx, u); err != nil {
			return mapStoreErr(err)
		}
		out = u
		return s.emit(ctx, tx, s.userEvent(EventUserUpdated, u, o))
	})
	if err != nil {
		return nil, err
	}
	s.events.Publish(ctx, s.userEvent(EventUserUpdated, out, o))
	return out, s.reachability(ctx, out)
}

// DeleteUser deletes a user (by US sid or identity) and removes its participants from every
// conversation of the service, as DeleteParticipant does (onParticipantRemoved for each), in
// one transaction: a chat participant is never left without its User. Errors: 20404.
func (s *Service) DeleteUser(ctx context.Context, sc Scope, ref string, o WriteOptions) error {
	svc, err := s.ResolveService(ctx, sc)
	if err != nil {
		return err
	}
	var gone []*Membership
	err = s.store.WithTx(ctx, func(tx Store) error {
		gone = nil // fn may run more than once
		u, err := getUser(ctx, tx, svc.Sid, ref)
		if err != nil {
			return err
		}
		// Lock the conversations first (in sid order, as every multi-conversation lock
		// is taken), then delete the user, which waits for transactions adding a participant
		// with its identity (they hold the user, see ensureUserTx); list again afterwards to
		// catch those.
		locked := map[string]bool{}
		lockAll := func() ([]*Membership, error) {
			ms, err := allUserMemberships(ctx, tx, svc.Sid, u.Identity)
			if err != nil {
				return nil, err
			}
			slices.SortFunc(ms, func(a, b *Membership) int { return strings.Compare(a.Conversation.Sid, b.Conversation.Sid) })
			for _, m := range ms {
				if !locked[m.Conversation.Sid] {
					if err := tx.LockConversation(ctx, m.Conversation.Sid); err != nil && !errors.Is(err, ErrNotFound) {
						return nil, err
					}
					locked[m.Conversation.Sid] = true
				}
			}
			return ms, nil
		}
		if _, err := lockAll(); err != nil {
			return err
		}
		if err := tx.DeleteUser(ctx, svc.Sid, u.Sid); err != nil {
			return mapStoreErr(err)
		}
		ms, err := lockAll()
		if err != nil {
			return err
		}
		var events []Event
		for _, m := range ms {
			if err := tx.DeleteParticipant(ctx, m.Conversation.Sid, m.Participant.Sid); errors.Is(err, ErrNotFound) {
				continue // its conversation was deleted meanwhile
			} else if err != nil {
				return err
			}
			events = append(events, s.event(EventParticipantRemoved, m.Conversation, m.Participant, o))
			gone = append(gone, m)
		}
		return s.emit(ctx, tx, events...)
	})
	if err != nil {
		return err
	}
	for _, m := range gone {
		s.publish(ctx, EventParticipantRemoved, m.Conversation, m.Participant, o)
	}
	return nil
}

// allUserMemberships returns every participant of the service with that identity.
func allUserMemberships(ctx context.Context, st Store, serviceSid, identity string) ([]*Membership, error) {
	var out []*Membership
	q := PageQuery{Size: 500}
	for {
		page, err := st.ListUserMemberships(ctx, serviceSid, identity, q)
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

// ---- User Conversations ----

// membership returns u's participant in conversation c and its notification level, read
// through st. Errors: 20404 when u has no participant in c.
func membership(ctx context.Context, st Store, u *User, c *Conversation) (*Participant, string, error) {
	p, err := st.GetParticipantByIdentity(ctx, c.Sid, u.Identity)
	if err != nil {
		return nil, "", mapStoreErr(err)
	}
	level, err := st.GetNotificationLevel(ctx, c.Sid, p.Sid)
	return p, level, mapStoreErr(err)
}

// userConversation returns the User Conversation of u in conversation c, read through st.
// Errors: 20404 when u has no participant in c.
func (s *Service) userConversation(ctx context.Context, st Store, u *User, c *Conversation) (*UserConversation, error) {
	p, level, err := membership(ctx, st, u, c)
	if err != nil {
		return nil, err
	}
	uc := &UserConversation{User: u, Participant: p, Conversation: c, NotificationLevel: level}
	return uc, s.countUnread(ctx, st, uc)
}

// countUnread sets uc.UnreadMessagesCount (see UnreadCount).
func (s *Service) countUnread(ctx context.Context, st Store, uc *UserConversation) error {
	n, err := UnreadCount(ctx, uc.Participant, func(ctx context.Context, index int64) (int64, error) {
		return st.CountMessagesAfter(ctx, uc.Conversation.Sid, index)
	})
	uc.UnreadMessagesCount = n
	return err
}

// FetchUserConversation returns the User Conversation of a user (US sid or identity) in a
// conversation (CH sid or unique name). Errors: 20404 (user, conversation, or the user is not
// a participant).
func (s *Service) FetchUserConversation(ctx context.Context, sc Scope, userRef, convRef string) (*UserConversation, error) {
	svc, err := s.ResolveService(ctx, sc)
	if err != nil {
		return nil, err
	}
	u, err := getUser(ctx, s.store, svc.Sid, userRef)
	if err != nil {
		return nil, err
	}
	c, err := s.getConversation(ctx, s.store, svc, convRef)
	if err != nil {
		return nil, err
	}
	return s.userConversation(ctx, s.store, u, c)
}

// ListUserConversations returns one page of the conversations a user (US sid or identity)
// takes part in, in the order the user joined them, every state included.
// Errors: 20404 (user).
func (s *Service) ListUserConversations(ctx context.Context, sc Scope, userRef string, q PageQuery) ([]*UserConversation, error) {
	svc, err := s.ResolveService(ctx, sc)
	if err != nil {
		return nil, err
	}
	u, err := getUser(ctx, s.store, svc.Sid, userRef)
	if err != nil {
		return nil, err
	}
	if _, err := s.applyTimers(ctx, svc.Sid, s.clock()); err != nil {
		return nil, err
	}
	ms, err := s.store.ListUserMemberships(ctx, svc.Sid, u.Identity, q)
	if err != nil {
		return nil, err
	}
	out := make([]*UserConversation, len(ms))
	for i, m := range ms {
		out[i] = &UserConversation{User: u, Participant: m.Participant, Conversation: m.Conversation, NotificationLevel: m.NotificationLevel}
		if err := s.countUnread(ctx, s.store, out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ValidateNotificationLevel checks a NotificationLevel value. Error: 50210.
func ValidateNotificationLevel(v string) error {
	if v != NotificationLevelDefault && v != NotificationLevelMuted {
		return invalid(50210, "Invalid notification level: %q (default or muted)", v)
	}
	return nil
}

// UpdateUserConversation changes the user's participant in a conversation: its notification
// level and its read horizon (LastReadMessageIndex, LastReadTimestamp: the participant's own,
// with the same rules as UpdateParticipant). It fires onParticipantUpdated.
// Errors: 20404, 50210 (notification level), 50421, 50405, 50377 (closed conversation).
func (s *Service) UpdateUserConversation(ctx context.Context, sc Scope, userRef, convRef string, in UserConversationUpdate, o WriteOptions) (*UserConversation, error) {
	if in.NotificationLevel != nil {
		if err := ValidateNotificationLevel(*in.NotificationLevel); err != nil {
			return nil, err
		}
	}
	var idx *int64
	if n, ok := in.LastReadMessageIndex.Get(); ok {
		if n < 0 {
			return nil, invalid(50421, "Invalid last read message index format: %q", strconv.FormatInt(n, 10))
		}
		idx = &n
	}
	var ts *string
	if t, ok := in.LastReadTimestamp.Get(); ok {
		v := t.UTC().Truncate(time.Second).Format(DateFormat)
		ts = &v
	}
	var out *UserConversation
	err := s.inConversation(ctx, sc, convRef, func(tx Store, svc *ChatService, c *Conversation) error {
		u, err := getUser(ctx, tx, svc.Sid, userRef)
		if err != nil {
			return err
		}
		p, level, err := membership(ctx, tx, u, c)
		if err != nil {
			return err
		}
		if c.State == StateClosed {
			return invalid(50377, "Can't update conversation as it's in final closed state")
		}
		uc := &UserConversation{User: u, Participant: p, Conversation: c, NotificationLevel: level}
		p.DateUpdated = s.clock()
		if !in.LastReadMessageIndex.Absent() {
			// Stored as given, as on participant update: not tied to existing messages.
			p.LastReadMessageIndex = idx
		}
		if !in.LastReadTimestamp.Absent() {
			p.LastReadTimestamp = ts
		}
		if err := tx.UpdateParticipant(ctx, p); err != nil {
			return mapStoreErr(err)
		}
		if in.NotificationLevel != nil {
			uc.NotificationLevel = *in.NotificationLevel
			if err := tx.SetNotificationLevel(ctx, c.Sid, p.Sid, uc.NotificationLevel); err != nil {
				return mapStoreErr(err)
			}
		}
		if err := s.countUnread(ctx, tx, uc); err != nil {
			return err
		}
		out = uc
		return s.emit(ctx, tx, s.event(EventParticipantUpdated, c, p, o))
	})
	if err != nil {
		return nil, err
	}
	s.publish(ctx, EventParticipantUpdated, out.Conversation, out.Participant, o)
	return out, nil
}

// DeleteUserConversation removes the user (US sid or identity) from a conversation: its
// participant is deleted as by DeleteParticipant. Errors: 20404.
func (s *Service) DeleteUserConversation(ctx context.Context, sc Scope, userRef, convRef string, o WriteOptions) error {
	uc, err := s.FetchUserConversation(ctx, sc, userRef, convRef)
	if err != nil {
		return err
	}
	return s.DeleteParticipant(ctx, sc, uc.Conversation.Sid, uc.Participant.Sid, o)
}

// ---- ParticipantConversations ----

// ListParticipantConversations returns one page of the participants with the given Identity
// (chat) or binding Address (non-chat) in the scope's service, each with its conversation,
// whatever the conversation's state, ordered by conversation sid.
// Errors: 20404 (service), 50451 (both Identity and Address), 20001 (neither).
func (s *Service) ListParticipantConversations(ctx context.Context, sc Scope, f ParticipantConversationFilter, q PageQuery) ([]*Membership, error) {
	switch {
	case f.Identity != "" && f.Address != "":
		return nil, invalid(50451, "One user identifier parameter for lookup at a time is allowed. Please, use either Identity or Address.")
	case f.Identity == "" && f.Address == "":
		return nil, invalid(20001, "Missing required parameter Identity or Address: give exactly one of them")
	}
	svc, err := s.ResolveService(ctx, sc)
	if err != nil {
		return nil, err
	}
	if _, err := s.applyTimers(ctx, svc.Sid, s.clock()); err != nil {
		return nil, err
	}
	return s.store.ListParticipantMemberships(ctx, svc.Sid, f, q)
}
