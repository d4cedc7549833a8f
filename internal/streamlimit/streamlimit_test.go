package streamlimit

import (
	"errors"
	"testing"
)

func TestCaps(t *testing.T) {
	l := New(2, 1)
	a, err := l.Acquire("AC1")
	if err != nil {
		t.Fatal(err)
	}
	var rf *Refusal
	if _, err := l.Acquire("AC1"); !errors.As(err, &rf) || rf.Status != 429 || rf.Code != 20429 {
		t.Errorf("past the account's cap: %v", err)
	}
	b, err := l.Acquire("AC2")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Acquire("AC3"); !errors.As(err, &rf) || rf.Status != 503 || rf.Code != 20503 {
		t.Errorf("past the server's cap: %v", err)
	}
	a()
	a() // twice is harmless
	if l.Open() != 1 {
		t.Errorf("open = %d, want 1", l.Open())
	}
	if c, err := l.Acquire("AC1"); err != nil {
		t.Errorf("a freed slot: %v", err)
	} else {
		c()
	}
	b()
	if l.Open() != 0 {
		t.Errorf("open = %d, want 0", l.Open())
	}
	// Negative: no cap.
	u := New(-1, -1)
	for i := 0; i < 3; i++ {
		if _, err := u.Acquire("AC1"); err != nil {
			t.Fatal(err)
		}
	}
}
