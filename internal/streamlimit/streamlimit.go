// Package streamlimit counts a server's open live streams, in all and per account, against
// their caps (-max-streams, -max-streams-per-account). One Limiter is shared by every kind of
// stream (the SSE message streams of /parley/v1/.../Stream and the console's
// /parley/v1/Events), built once in the composition root (internal/app).
package streamlimit

import (
	"fmt"
	"net/http"
	"runtime/debug"
	"sync"
)

// Defaults of the caps.
const (
	DefaultMax           = 5000
	DefaultMaxPerAccount = 1000
)

// freeAfterStreams is how many streams must have been open at once for the last one's close
// to return memory to the system.
const freeAfterStreams = 100

// Refusal is a stream refused at a cap, with the Twilio status, code and message to answer.
// A stream past the account's cap is 429 (20429, Twilio's "Too Many Requests" for too many
// concurrent requests of an account): the client holds too many and should close some. A
// stream past the server's cap is 503 (20503, "Service unavailable"): the server is at
// capacity whoever asks, and a retry later may succeed.
type Refusal struct {
	Status  int
	Code    int
	Message string
}

func (e *Refusal) Error() string { return fmt.Sprintf("%d: %s", e.Code, e.Message) }

// Limiter counts the open streams. Its zero value is not usable; see New.
type Limiter struct {
	mu         sync.Mutex
	max, per   int // caps; negative: none
	total      int
	perAccount map[string]int
	peak       int // most streams open since the count was last 0
}

// New returns a limiter of at most maxTotal streams in all and perAccount per account: 0
// takes the default (DefaultMax, DefaultMaxPerAccount), a negative value means no cap.
func New(maxTotal, perAccount int) *Limiter {
	if maxTotal == 0 {
		maxTotal = DefaultMax
	}
	if perAccount == 0 {
		perAccount = DefaultMaxPerAccount
	}
	return &Limiter{max: maxTotal, per: perAccount, perAccount: map[string]int{}}
}

// Acquire takes a slot for one stream of account, or returns the *Refusal. release gives it
// back (once; further calls do nothing).
func (s *Limiter) Acquire(account string) (release func(), err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.per >= 0 && s.perAccount[account] >= s.per {
		return nil, &Refusal{Status: http.StatusTooManyRequests, Code: 20429, Message: fmt.Sprintf(
			"Too Many Requests: this account already has %d open streams, the most one account may hold; close one first", s.per)}
	}
	if s.max >= 0 && s.total >= s.max {
		return nil, &Refusal{Status: http.StatusServiceUnavailable, Code: 20503, Message: fmt.Sprintf(
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

// Open returns the number of open streams.
func (s *Limiter) Open() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}
