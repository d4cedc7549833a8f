package httpapi

import (
	"fmt"
	"net/http"
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
}

func newStreamSlots(max, per int) *streamSlots {
	return &streamSlots{max: max, per: per, perAccount: map[string]int{}}
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
		})
	}, nil
}

// open returns the number of open streams (for tests).
func (s *streamSlots) open() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}
