package conv

import (
	"encoding/hex"
	"math/rand/v2"
	"sync"
)

// SeededSIDs is a deterministic SIDGen ("parley serve -sid-seed N"): the same seed gives the
// same SIDs in the same order, so fixtures and tests are reproducible. Not for production:
// the SIDs are predictable.
type SeededSIDs struct {
	mu  sync.Mutex
	rng *rand.Rand
}

// NewSeededSIDs returns a SeededSIDs over seed.
func NewSeededSIDs(seed uint64) *SeededSIDs {
	return &SeededSIDs{rng: rand.New(rand.NewPCG(seed, 0x70617231657931))}
}

// New returns prefix followed by 32 hex digits drawn from the seeded generator.
func (s *SeededSIDs) New(prefix string) string {
	var b [16]byte
	s.mu.Lock()
	for i := 0; i < 16; i += 8 {
		v := s.rng.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	s.mu.Unlock()
	return prefix + hex.EncodeToString(b[:])
}
