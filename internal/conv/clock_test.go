package conv

import (
	"testing"
	"time"
)

func TestClockOffsetOnlyGrows(t *testing.T) {
	base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	c := NewClock(func() time.Time { return base })
	wake, cancel := c.Subscribe()
	defer cancel()
	if !c.raise(time.Hour) || c.Now() != base.Add(time.Hour) {
		t.Fatalf("raise: %v", c.Now())
	}
	select {
	case <-wake:
	default:
		t.Fatal("no wake-up after the clock moved")
	}
	if c.raise(time.Minute) || c.Offset() != time.Hour {
		t.Errorf("the offset went back: %v", c.Offset())
	}
	select {
	case <-wake:
		t.Error("woken although the clock did not move")
	default:
	}
}

func TestSeededSIDs(t *testing.T) {
	a, b, other := NewSeededSIDs(7), NewSeededSIDs(7), NewSeededSIDs(8)
	for i := 0; i < 5; i++ {
		x, y, z := a.New(PrefixConversation), b.New(PrefixConversation), other.New(PrefixConversation)
		if x != y || x == z || !IsSID(PrefixConversation, x) {
			t.Fatalf("seeded SIDs: %s %s %s", x, y, z)
		}
	}
}
