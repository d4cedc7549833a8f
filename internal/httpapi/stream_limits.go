package httpapi

import (
	"context"
	"errors"

	"github.com/parley-dev/parley/internal/streamlimit"
)

// streamSlots is the SSE message streams' side of the stream caps: the server's one
// streamlimit.Limiter (shared with the console's event streams), and the places of offload.
type streamSlots struct {
	limit *streamlimit.Limiter
	work  chan struct{} // places of offload
}

func newStreamSlots(limit *streamlimit.Limiter, workers int) *streamSlots {
	return &streamSlots{limit: limit, work: make(chan struct{}, max(workers, 1))}
}

// offload runs fn in a new goroutine once one of the workers' places is free, and waits for
// it. A fresh goroutine per run means the deep stacks of store calls and the encoding's
// buffers go away with it instead of staying with each of thousands of idle streams; the
// places bound how many streams hit the store at once. It returns fn's error, or ctx's when ctx
// ends first.
func (s *streamSlots) offload(ctx context.Context, fn func() error) error {
	select {
	case s.work <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	done := make(chan error, 1)
	go func() {
		defer func() { <-s.work }()
		done <- fn()
	}()
	return <-done
}

// acquire takes a slot for one stream of account, or returns the refusal (429/20429 past
// the account's cap, 503/20503 past the server's; see streamlimit.Refusal) as the error
// writeError answers. release gives it back (once).
func (s *streamSlots) acquire(account string) (release func(), err error) {
	release, err = s.limit.Acquire(account)
	var rf *streamlimit.Refusal
	if errors.As(err, &rf) {
		return nil, &statusError{Status: rf.Status, Code: rf.Code, Message: rf.Message}
	}
	return release, err
}

// open returns the number of open streams (for tests).
func (s *streamSlots) open() int { return s.limit.Open() }
