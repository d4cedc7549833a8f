package app

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/parley-dev/parley/internal/conv"
)

// DefaultTimerInterval is how often the server applies due conversation timers
// (timers.inactive, timers.closed) unless Config.TimerInterval says otherwise. Reads apply
// them too, so no response shows a state a timer has already changed; the loop makes the
// change happen (and its event fire) even when nobody reads.
const DefaultTimerInterval = 5 * time.Second

// timerApplier is the part of conv.Service the timer loop uses.
type timerApplier interface {
	ApplyTimers(ctx context.Context, now time.Time) (int, error)
}

var _ timerApplier = (*conv.Service)(nil)

// runTimers applies due conversation timers at once and then every interval, at the time now
// returns, until ctx is done or the returned stop is called; stop waits for the loop to end.
// Failures are logged and retried at the next tick.
func runTimers(ctx context.Context, svc timerApplier, log *slog.Logger, interval time.Duration, now func() time.Time) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			n, err := svc.ApplyTimers(ctx, now())
			switch {
			case err != nil && ctx.Err() == nil:
				log.Warn("conversation timers", slog.Any("err", err))
			case n > 0:
				log.Debug("conversation timers applied", slog.Int("conversations", n))
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() {
		cancel()
		wg.Wait()
	}
}

// mediaCollector runs, with each timer tick, the garbage collection of media never attached
// to a message (conv.UnattachedMediaTTL after their upload, as Twilio does) and of uploads a
// crash left incomplete.
type mediaCollector struct{ *conv.Service }

// ApplyTimers applies the conversation timers, then collects stale media.
func (m mediaCollector) ApplyTimers(ctx context.Context, now time.Time) (int, error) {
	n, err := m.Service.ApplyTimers(ctx, now)
	if err != nil {
		return n, err
	}
	_, err = m.Service.CollectMedia(ctx)
	return n, err
}
