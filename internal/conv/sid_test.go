package conv

import (
	"testing"
	"time"
)

// TestRandomSIDs checks the production SIDs: Twilio's pattern, unique, and ordered by time of
// creation (a later millisecond sorts after an earlier one).
func TestRandomSIDs(t *testing.T) {
	g := RandomSIDs{}
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		sid := g.New(PrefixParticipant)
		if !IsSID(PrefixParticipant, sid) {
			t.Fatalf("%q does not match MB + 32 hex digits", sid)
		}
		if seen[sid] {
			t.Fatalf("%q made twice", sid)
		}
		seen[sid] = true
	}
	a := g.New(PrefixUser)
	time.Sleep(2 * time.Millisecond)
	b := g.New(PrefixUser)
	if !(a < b) {
		t.Errorf("SID made later %q does not sort after %q", b, a)
	}
	if a[2:14] == b[2:14] {
		t.Errorf("time prefixes of %q and %q 2 ms apart are equal", a, b)
	}
}
