package conv

import (
	"context"
	"errors"
	"time"
)

// ConversationParams are the fields of conversation create and update; nil means absent.
type ConversationParams struct {
	FriendlyName        *string
	UniqueName          *string
	Attributes          *string
	MessagingServiceSid *string
	State               *string
	TimersInactive      *string
	TimersClosed        *string
	DateCreated         *time.Time // parsed by the front door (ParseDateParam)
	DateUpdated         *time.Time
	EmailAddress        *string
	EmailName           *string
}

// applyConversationParams validates p and writes it onto c (c.DateCreated is already set).
func (s *Service) applyConversationParams(c *Conversation, p ConversationParams, creating bool) error {
	if p.FriendlyName != nil {
		if err := checkLen("FriendlyName", *p.FriendlyName, MaxFriendlyNameLen, 50003); err != nil {
			return err
		}
		c.FriendlyName = emptyToNil(*p.FriendlyName)
	}
	if p.UniqueName != nil {
		if err := checkLen("UniqueName", *p.UniqueName, MaxUniqueNameLen, 50004); err != nil {
			return err
		}
		if IsSID(PrefixConversation, *p.UniqueName) {
			return invalid(50390, "Unique name should not match conversation sid pattern")
		}
		c.UniqueName = emptyToNil(*p.UniqueName)
	}
	if p.Attributes != nil {
		a, err := ValidateAttributes(*p.Attributes, MaxConversationAttributesBytes)
		if err != nil {
			return err
		}
		c.Attributes = a
	}
	if p.MessagingServiceSid != nil {
		if *p.MessagingServiceSid != "" && !IsSID("MG", *p.MessagingServiceSid) {
			return invalid(50341, "Invalid messaging service SID: %q", *p.MessagingServiceSid)
		}
		c.MessagingServiceSid = *p.MessagingServiceSid
	}
	if p.EmailAddress != nil {
		c.EmailAddress = *p.EmailAddress
	}
	if p.EmailName != nil {
		c.EmailName = *p.EmailName
	}
	if p.State != nil {
		switch *p.State {
		case StateActive, StateInactive:
		case StateClosed:
			if creating {
				return invalid(50384, "Initial state can't be 'closed'")
			}
		case "":
			return invalid(50374, "'State' field can't be empty")
		default:
			return invalid(50378, "'State' parameter value is invalid: %q", *p.State)
		}
		c.State = *p.State
	}
	base := c.DateUpdated
	if p.TimersInactive != nil {
		if *p.TimersInactive == "" {
			c.TimerInactive, c.DateInactive = "", nil
		} else {
			d, ok := ParseDuration(*p.TimersInactive)
			if !ok {
				return invalid(50379, "TimeToInactive format is invalid: %q is not an ISO 8601 duration", *p.TimersInactive)
			}
			if d < time.Minute {
				return invalid(50375, "TimeToInactive should be greater or equal to 1 minute")
			}
			t := base.Add(d)
			c.TimerInactive, c.DateInactive = *p.TimersInactive, &t
		}
	}
	if p.TimersClosed != nil {
		if *p.TimersClosed == "" {
			c.TimerClosed, c.DateClosed = "", nil
		} else {
			d, ok := ParseDuration(*p.TimersClosed)
			if !ok {
				return invalid(50380, "TimeToClosed format is invalid: %q is not an ISO 8601 duration", *p.TimersClosed)
			}
			if d < 10*time.Minute {
				return invalid(50376, "TimeToClosed should be greater or equal to 10 minutes")
			}
			t := base.Add(d)
			c.TimerClosed, c.DateClosed = *p.TimersClosed, &t
		}
	}
	if c.State == StateClosed {
		c.DateInactive, c.DateClosed, c.TimerInactive, c.TimerClosed = nil, nil, "", ""
	}
	return nil
}

func emptyToNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// CreateConversation creates a conversation in the scope's service.
// Errors: 20404 (service), 50003/50004 (lengths), 50390, 50304/50303 (attributes),
// 50374/50378/50384 (state), 50375/50376/50379/50380 (timers), 50308/50309 (dates),
// 50353 (unique name taken, 409).
func (s *Service) CreateConversation(ctx context.Context, sc Scope, p ConversationParams, o WriteOptions) (*Conversation, error) {
	svc, err := s.ResolveService(ctx, sc)
	if err != nil {
		return nil, err
	}
	c, err := s.newConversation(ctx, svc, p)
	if err != nil {
		return nil, err
	}
	if err := s.preConversationAdd(ctx, c, o); err != nil {
		return nil, err
	}
	err = s.store.WithTx(ctx, func(tx Store) error {
		if err := insertConversationTx(ctx, tx, c); err != nil {
			return err
		}
		return s.emit(ctx, tx, s.event(EventConversationAdded, c, nil, o))
	})
	if err != nil {
		return nil, err
	}
	s.publish(ctx, EventConversationAdded, c, nil, o)
	return c, nil
}

// newConversation validates a create request and returns the conversation to insert in svc,
// with the account's default messaging service and timers where the request sets none.
// Errors: as CreateConversation, except 20404 and 50353.
func (s *Service) newConversation(ctx context.Context, svc *ChatService, p ConversationParams) (*Conversation, error) {
	now := s.clock()
	c := &Conversation{Sid: s.sids.New(PrefixConversation), AccountSid: svc.AccountSid, ServiceSid: svc.Sid,
		Attributes: "{}", State: StateActive, DateCreated: now, DateUpdated: now}
	setDates(&c.DateCreated, &c.DateUpdated, p.DateCreated, p.DateUpdated)
	if err := s.applyConversationParams(c, p, true); err != nil {
		return nil, err
	}
	if err := s.applyAccountDefaults(ctx, c, p); err != nil {
		return nil, err
	}
	return c, nil
}

// insertConversationTx inserts c in tx. Errors: 50353 (409, unique name taken).
func insertConversationTx(ctx context.Context, tx Store, c *Conversation) error {
	if err := tx.CreateConversation(ctx, c); err != nil {
		if errors.Is(err, ErrConflict) {
			return Errorf(KindConflict, 50353, "Conversation with provided unique name already exists")
		}
		return err
	}
	return nil
}

// getConversation finds a conversation of svc by CH sid or unique name, with its due timers
// applied (see settleRead). Errors: 20404.
func (s *Service) getConversation(ctx context.Context, st Store, svc *ChatService, ref string) (*Conversation, error) {
	var c *Conversation
	var err error
	if IsSID(PrefixConversation, ref) {
		c, err = st.GetConversation(ctx, svc.Sid, ref)
	} else {
		c, err = st.GetConversationByUniqueName(ctx, svc.Sid, ref)
	}
	if err != nil {
		return nil, mapStoreErr(err)
	}
	return s.settleRead(ctx, st, c)
}

// FetchConversation returns a conversation by CH sid or unique name. Errors: 20404.
func (s *Service) FetchConversation(ctx context.Context, sc Scope, ref string) (*Conversation, error) {
	svc, err := s.ResolveService(ctx, sc)
	if err != nil {
		return nil, err
	}
	return s.getConversation(ctx, s.store, svc, ref)
}

// ListConversations returns one page of the scope's conversations in creation order.
// Errors: 50378 (bad State filter), 50396 (EndDate before StartDate).
func (s *Service) ListConversations(ctx context.Context, sc Scope, f ConversationFilter, q PageQuery) ([]*Conversation, error) {
	svc, err := s.ResolveService(ctx, sc)
	if err != nil {
		return nil, err
	}
	switch f.State {
	case "", StateActive, StateInactive, StateClosed, StateInitializing:
	default:
		return nil, invalid(50378, "'State' parameter value is invalid: %q", f.State)
	}
	if f.StartDate != nil && f.EndDate != nil && f.EndDate.Before(*f.StartDate) {
		return nil, invalid(50396, "EndDate parameter should be greater than StartDate parameter")
	}
	if _, err := s.applyTimers(ctx, svc.Sid, s.clock()); err != nil {
		return nil, err
	}
	return s.store.ListConversations(ctx, svc.Sid, f, q)
}

// UpdateConversation changes a conversation. Closing it frees its participants'
// (address, proxy address) pairs. Errors: as CreateConversation, plus 20404 and 50377 (closed).
func (s *Service) UpdateConversation(ctx context.Context, sc Scope, ref string, p ConversationParams, o WriteOptions) (*Conversation, error) {
	svc, err := s.ResolveService(ctx, sc)
	if err != nil {
		return nil, err
	}
	if err := s.preConversationUpdate(ctx, svc, ref, &p, o); err != nil {
		return nil, err
	}
	var out *Conversation
	err = s.store.WithTx(ctx, func(tx Store) error {
		c, err := s.getConversation(ctx, tx, svc, ref)
		if err != nil {
			return err
		}
		if err := tx.LockConversation(ctx, c.Sid); err != nil {
			return err
		}
		if c.State == StateClosed {
			return invalid(50377, "Can't update conversation as it's in final closed state")
		}
		wasClosed := c.State == StateClosed
		from := c.State
		c.DateUpdated = s.clock()
		setDates(&c.DateCreated, &c.DateUpdated, p.DateCreated, p.DateUpdated)
		if err := s.applyConversationParams(c, p, false); err != nil {
			return err
		}
		if err := tx.UpdateConversation(ctx, c); err != nil {
			if errors.Is(err, ErrConflict) {
				return Errorf(KindConflict, 50353, "Conversation with provided unique name already exists")
			}
			return err
		}
		if c.State == StateClosed && !wasClosed {
			if err := tx.ReleaseConversationClaims(ctx, c.Sid); err != nil {
				return err
			}
		}
		out = c
		return s.emitConversationUpdated(ctx, tx, c, from, o)
	})
	if err != nil {
		return nil, err
	}
	s.publish(ctx, EventConversationUpdated, out, nil, o)
	return out, nil
}

// DeleteConversation deletes a conversation with its participants. Errors: 20404.
func (s *Service) DeleteConversation(ctx context.Context, sc Scope, ref string, o WriteOptions) error {
	svc, err := s.ResolveService(ctx, sc)
	if err != nil {
		return err
	}
	if err := s.preConversationRemove(ctx, svc, ref, o); err != nil {
		return err
	}
	var gone *Conversation
	err = s.store.WithTx(ctx, func(tx Store) error {
		c, err := s.getConversation(ctx, tx, svc, ref)
		if err != nil {
			return err
		}
		// Lock the conversation before anything else, as every change inside it does
		// (inConversation): the projections emit writes lock rows that creates inside the
		// conversation lock only after the conversation, so the opposite order deadlocks.
		if err := tx.LockConversation(ctx, c.Sid); err != nil {
			return mapStoreErr(err)
		}
		gone = c
		// The deliveries are resolved before the delete, which removes the conversation's
		// own webhooks.
		if err := s.emit(ctx, tx, s.event(EventConversationRemoved, c, nil, o)); err != nil {
			return err
		}
		return mapStoreErr(tx.DeleteConversation(ctx, svc.Sid, c.Sid))
	})
	if err != nil {
		return err
	}
	s.publish(ctx, EventConversationRemoved, gone, nil, o)
	return nil
}
