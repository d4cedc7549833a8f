package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"
)

type fakeApplier struct {
	mu    sync.Mutex
	calls []time.Time
	err   error
}

func (f *fakeApplier) ApplyTimers(_ context.Context, now time.Time) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, now)
	return len(f.calls), f.err
}

func (f *fakeApplier) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

func TestRunTimers(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	at := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	f := &fakeApplier{err: errors.New("store down")} // errors are logged, the loop goes on
	stop := runTimers(context.Background(), f, log, time.Millisecond, func() time.Time { return at })
	deadline := time.Now().Add(5 * time.Second)
	for f.count() < 3 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	stop()
	n := f.count()
	if n < 3 {
		t.Fatalf("ApplyTimers ran %d times, want at least 3", n)
	}
	time.Sleep(10 * time.Millisecond)
	if f.count() != n {
		t.Errorf("ApplyTimers ran after stop")
	}
	for _, c := range f.calls {
		if !c.Equal(at) {
			t.Errorf("called with %v, want the injected clock's %v", c, at)
		}
	}

	// The loop also ends with its context.
	ctx, cancel := context.WithCancel(context.Background())
	g := &fakeApplier{}
	stop = runTimers(ctx, g, log, time.Hour, time.Now)
	for g.count() < 1 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	cancel()
	stop()
	if g.count() != 1 {
		t.Errorf("ApplyTimers ran %d times with an hourly interval, want 1 (at start)", g.count())
	}
}
