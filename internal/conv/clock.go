package conv

import (
	"context"
	"sync"
	"time"
)

// Clock is the time every part of Parley reads (dates of new resources, conversation timers,
// webhook retries): a base clock (the system's) plus an offset the control plane advances
// (POST /parley/v1/Clock). The offset only grows, so the emulated time never goes back. It is
// shared by the replicas of a database through the store: Sync re-reads it.
type Clock struct {
	base func() time.Time
	mu   sync.Mutex
	off  time.Duration
	subs map[chan struct{}]struct{}
}

// NewClock returns a Clock over base (time.Now when nil) with no offset.
func NewClock(base func() time.Time) *Clock {
	if base == nil {
		base = time.Now
	}
	return &Clock{base: base, subs: map[chan struct{}]struct{}{}}
}

// Now returns the emulated time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	off := c.off
	c.mu.Unlock()
	return c.base().Add(off)
}

// Offset returns how far the emulated time runs ahead of the base clock.
func (c *Clock) Offset() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.off
}

// Subscribe returns a channel that receives a value whenever the offset grows (it is not
// closed); cancel releases it. Timer and retry loops wait on it so that they notice an advance
// at once.
func (c *Clock) Subscribe() (wake <-chan struct{}, cancel func()) {
	ch := make(chan struct{}, 1)
	c.mu.Lock()
	c.subs[ch] = struct{}{}
	c.mu.Unlock()
	return ch, func() {
		c.mu.Lock()
		delete(c.subs, ch)
		c.mu.Unlock()
	}
}

// raise sets the offset to d when it is larger, waking subscribers; it reports whether it did.
func (c *Clock) raise(d time.Duration) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d <= c.off {
		return false
	}
	c.off = d
	for ch := range c.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	return true
}

// ClockState is the emulated time and its offset.
type ClockState struct {
	Now    time.Time
	Offset time.Duration
}

// Clock returns the service's clock.
func (s *Service) Clock() *Clock { return s.clk }

// Now returns the emulated time (what date_* of new resources are).
func (s *Service) Now() time.Time { return s.clk.Now() }

// ClockState returns the emulated time, to the second, and its offset.
func (s *Service) ClockState() ClockState {
	return ClockState{Now: s.clock(), Offset: s.clk.Offset()}
}

// AdvanceClock moves the emulated time forward by d (> 0). Errors: 20422 when d is not positive.
func (s *Service) AdvanceClock(ctx context.Context, d time.Duration) (ClockState, error) {
	if d <= 0 {
		return ClockState{}, invalid(20422, "Invalid Parameter: Advance must be a positive duration")
	}
	return s.moveClock(ctx, func(cur time.Duration) time.Duration { return cur + d })
}

// SetClock moves the emulated time forward to t. Errors: 20422 when t is before the current
// emulated time (the clock never goes back).
func (s *Service) SetClock(ctx context.Context, t time.Time) (ClockState, error) {
	if now := s.clk.Now(); t.Before(now.Truncate(time.Second)) {
		return ClockState{}, invalid(20422, "Invalid Parameter: Now %s is before the current time %s; the clock never goes back",
			t.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return s.moveClock(ctx, func(cur time.Duration) time.Duration {
		return max(cur, t.Sub(s.clk.base()))
	})
}

// moveClock stores next(stored offset) as the shared offset, in one transaction, and applies it.
func (s *Service) moveClock(ctx context.Context, next func(time.Duration) time.Duration) (ClockState, error) {
	var off time.Duration
	err := s.store.WithTx(ctx, func(tx Store) error {
		cur, err := tx.GetClockOffset(ctx)
		if err != nil {
			return err
		}
		cur = max(cur, s.clk.Offset())
		off = max(cur, next(cur))
		return tx.SetClockOffset(ctx, off)
	})
	if err != nil {
		return ClockState{}, err
	}
	s.clk.raise(off)
	return s.ClockState(), nil
}

// SyncClock re-reads the shared clock offset (replicas call it every second).
func (s *Service) SyncClock(ctx context.Context) error {
	off, err := s.store.GetClockOffset(ctx)
	if err != nil {
		return err
	}
	s.clk.raise(off)
	return nil
}
