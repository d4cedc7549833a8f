package conv

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"time"
)

// SID prefixes used by Parley.
const (
	PrefixAccount      = "AC"
	PrefixAPIKey       = "SK"
	PrefixService      = "IS"
	PrefixRole         = "RL"
	PrefixConversation = "CH"
	PrefixParticipant  = "MB"
	PrefixUser         = "US"
)

// SIDGen makes new resource SIDs: a two-letter prefix followed by 32 hex digits.
type SIDGen interface {
	New(prefix string) string
}

// RandomSIDs is the production SIDGen, backed by the system clock and crypto/rand.
type RandomSIDs struct{}

// New returns prefix + 32 lower-case hex digits: 12 of the current Unix time in milliseconds,
// then 20 random ones (80 bits from crypto/rand). Twilio's SIDs look random and clients treat
// them as opaque; the time prefix makes each new SID sort after the older ones, so that the
// SID indexes grow at their end instead of having a page written at a random place by every
// insert (which costs SQLite's single writer a WAL frame per row).
func (RandomSIDs) New(prefix string) string {
	var b [16]byte
	ms := uint64(time.Now().UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	if _, err := rand.Read(b[6:]); err != nil {
		panic(fmt.Sprintf("conv: crypto/rand failed: %v", err))
	}
	return prefix + hex.EncodeToString(b[:])
}

// SequentialSIDs is a deterministic SIDGen for tests: prefix + a 32-digit counter.
type SequentialSIDs struct {
	mu sync.Mutex
	n  uint64
}

// New returns prefix followed by the next counter value as 32 hex digits.
func (s *SequentialSIDs) New(prefix string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	return fmt.Sprintf("%s%032x", prefix, s.n)
}

// IsSID reports whether s is prefix followed by exactly 32 hex digits (either case),
// Twilio's ^XX[0-9a-fA-F]{32}$ pattern.
func IsSID(prefix, s string) bool {
	if len(s) != 34 || s[:2] != prefix {
		return false
	}
	for i := 2; i < 34; i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}
