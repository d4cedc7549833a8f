package conv

import (
	"context"
	"errors"
	"time"
)

// Conversation timers: Timers.Inactive moves an active conversation to inactive at
// timers.date_inactive, Timers.Closed moves any conversation to closed at timers.date_closed
// (which frees its participants' (address, proxy address) pairs). The change is applied by
// ApplyTimers, which "parley serve" runs every few seconds, and also whenever a conversation
// is read or written after its date, so that no response ever shows a state a timer has
// already changed. Each change enqueues its onConversationStateUpdated webhooks (Reason
// TIMER) in the transaction that makes it.

// timerBatch is how many due conversations ApplyTimers reads at once.
const timerBatch = 100

// timersDue reports whether a timer of c is due at now (inactive or closed date at or
// before now).
func timersDue(c *Conversation, now time.Time) bool {
	return c.DateClosed != nil && !c.DateClosed.After(now) || c.DateInactive != nil && !c.DateInactive.After(now)
}

// fireTimers applies c's due timers at now and reports whether its state changed. A due
// closed timer closes c (clearing both timers); a due inactive timer makes an active c
// inactive and is cleared. date_updated becomes the time the timer fired.
func fireTimers(c *Conversation, now time.Time) (changed bool) {
	from := c.State
	at := func(t time.Time) {
		if t.After(c.DateUpdated) {
			c.DateUpdated = t
		}
	}
	switch {
	case c.DateClosed != nil && !c.DateClosed.After(now):
		at(*c.DateClosed)
		c.State = StateClosed
		c.DateInactive, c.DateClosed, c.TimerInactive, c.TimerClosed = nil, nil, "", ""
	case c.DateInactive != nil && !c.DateInactive.After(now):
		if c.State == StateActive {
			at(*c.DateInactive)
			c.State = StateInactive
		}
		c.DateInactive = nil
	}
	return c.State != from
}

// settleTx applies the due timers of conversation sid at now inside the write transaction
// tx: it locks and re-reads the conversation, fires its timers, writes it, frees its binding
// claims when it closed, and enqueues the onConversationStateUpdated webhooks (Reason TIMER)
// in tx. It returns the conversation as stored and, when its state changed, that event
// (nil otherwise). ErrNotFound (wrapped as 20404): no such conversation.
func (s *Service) settleTx(ctx context.Context, tx Store, sid string, now time.Time) (*Conversation, *Event, error) {
	if err := tx.LockConversation(ctx, sid); err != nil {
		return nil, nil, mapStoreErr(err)
	}
	c, err := tx.FindConversation(ctx, sid)
	if err != nil {
		return nil, nil, mapStoreErr(err)
	}
	if !timersDue(c, now) {
		return c, nil, nil
	}
	from := c.State
	if !fireTimers(c, now) {
		return c, nil, mapStoreErr(tx.UpdateConversation(ctx, c))
	}
	if err := tx.UpdateConversation(ctx, c); err != nil {
		return nil, nil, mapStoreErr(err)
	}
	if c.State == StateClosed {
		if err := tx.ReleaseConversationClaims(ctx, c.Sid); err != nil {
			return nil, nil, err
		}
	}
	ev := s.event(EventConversationStateUpdated, c, nil, WriteOptions{Source: SourceTimer})
	ev.StateFrom, ev.Time = from, c.DateUpdated
	if err := s.emit(ctx, tx, ev); err != nil {
		return nil, nil, err
	}
	return c, &ev, nil
}

// settle applies the due timers of conversation sid at now in a transaction of its own and,
// when the state changed, publishes onConversationStateUpdated to the event sink.
func (s *Service) settle(ctx context.Context, sid string, now time.Time) (*Conversation, error) {
	var out *Conversation
	var ev *Event
	err := s.store.WithTx(ctx, func(tx Store) error {
		var err error
		out, ev, err = s.settleTx(ctx, tx, sid, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	if ev != nil {
		s.events.Publish(ctx, *ev)
	}
	return out, nil
}

// settleRead returns c with its due timers applied: through st when st is a transaction (the
// caller's write then includes the change), otherwise in a transaction of its own.
func (s *Service) settleRead(ctx context.Context, st Store, c *Conversation) (*Conversation, error) {
	now := s.clock()
	if !timersDue(c, now) {
		return c, nil
	}
	if st == s.store {
		return s.settle(ctx, c.Sid, now)
	}
	// The caller's transaction carries the change and its webhooks; the event sink hears
	// of it only through changes applied in a transaction of their own.
	c, _, err := s.settleTx(ctx, st, c.Sid, now)
	return c, err
}

// ApplyTimers moves every conversation whose inactive or closed timer is due at now to its
// new state (see fireTimers), each in its own transaction, and returns how many it changed.
// It stops at the first error (or when ctx is done) and returns it.
func (s *Service) ApplyTimers(ctx context.Context, now time.Time) (int, error) {
	return s.applyTimers(ctx, "", now.UTC().Truncate(time.Second))
}

// applyTimers settles the due conversations of serviceSid ("" for every service).
func (s *Service) applyTimers(ctx context.Context, serviceSid string, now time.Time) (int, error) {
	done := map[string]bool{}
	n := 0
	for {
		due, err := s.store.DueConversations(ctx, serviceSid, now, timerBatch)
		if err != nil {
			return n, err
		}
		progress := false
		for _, c := range due {
			if done[c.Sid] {
				continue
			}
			done[c.Sid], progress = true, true
			if err := ctx.Err(); err != nil {
				return n, err
			}
			before := c.State
			after, err := s.settle(ctx, c.Sid, now)
			if errors.Is(err, ErrNotFound) || isNotFound(err) {
				continue // deleted meanwhile
			}
			if err != nil {
				return n, err
			}
			if after.State != before {
				n++
			}
		}
		if len(due) < timerBatch || !progress {
			return n, nil
		}
	}
}

// isNotFound reports whether err is the 20404 domain error.
func isNotFound(err error) bool {
	e, ok := AsError(err)
	return ok && e.Kind == KindNotFound
}

// freeDueHolderTx is called inside tx when conversation holderSid holds an (address, proxy
// address) pair another participant wants: when the holder's closed timer is due, it closes
// the holder now (freeing the pair) and reports true.
func (s *Service) freeDueHolderTx(ctx context.Context, tx Store, holderSid string) (bool, error) {
	h, err := tx.FindConversation(ctx, holderSid)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	now := s.clock()
	if h.DateClosed == nil || h.DateClosed.After(now) {
		return false, nil
	}
	h, _, err = s.settleTx(ctx, tx, holderSid, now)
	if err != nil {
		return false, err
	}
	return h.State == StateClosed, nil
}
