package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"runtime/debug"
	"sync"
)

// streamSlots counts the open live streams, in total and per account, against their caps. A
// stream past the account's cap is refused with 429 (20429, Twilio's "Too Many Requests" for
// too many concurrent requests of an account): the client holds too many and should close
// some. A stream past the server's cap is refused with 503 (20503, "Service unavailable"): the
// server is at capacity whoever asks, and a retry later may succeed.
type streamSlots struct {
	mu         sync.Mutex
	max, per   int // caps; negative: none
	total      int
	perAccount map[string]int
	work       chan struct{} // places of offload
	peak       int           // most streams open since the count was last 0
}

// freeAfterStreams is how many streams must have been open at once for the last one's close to
// return memory to the system.
const freeAfterStreams = 100

func newStreamSlots(maxTotal, per, workers int) *streamSlots {
	return &streamSlots{max: maxTotal, per: per, perAccount: map[string]int{}, work: make(chan struct{}, max(workers, 1))}
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

// acquire takes a slot for one stream of account, or returns the refusal. release gives it
// back (once).
func (s *streamSlots) acquire(account string) (release func(), err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.per >= 0 && s.perAccount[account] >= s.per {
		return nil, &statusError{Status: http.StatusTooManyRequests, Code: 20429, Message: fmt.Sprintf(
			"Too Many Requests: this account already has %d open streams, the most one account may hold; close one first", s.per)}
	}
	if s.max >= 0 && s.total >= s.max {
		return nil, &statusError{Status: http.StatusServiceUnavailable, Code: 20503, Message: fmt.Sprintf(
			"Service unavailable: the server already serves %d streams, its limit; retry later", s.max)}
	}
	s.total++
	s.peak = max(s.peak, s.total)
	s.perAccount[account]++
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.total--
			if s.perAccount[account]--; s.perAccount[account] <= 0 {
				delete(s.perAccount, account)
			}
			if s.total == 0 && s.peak >= freeAfterStreams {
				// The last of many streams closed: hand the memory they used back to the
				// system now rather than over the scavenger's minutes.
				s.peak = 0
				go debug.FreeOSMemory()
			}
		})
	}, nil
}

// open returns the number of open streams (for tests).
func (s *streamSlots) open() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}
