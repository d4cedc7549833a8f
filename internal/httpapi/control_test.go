package httpapi

import (
	"testing"
	"time"

	"github.com/parley-dev/parley/internal/conv"
)

func TestFormatISODuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "PT0S", 2 * time.Hour: "PT2H", 26*time.Hour + 30*time.Minute: "P1DT2H30M", 48 * time.Hour: "P2D",
		90 * time.Second: "PT1M30S", -time.Hour: "PT0S", 1500 * time.Millisecond: "PT1S",
	} {
		got := FormatISODuration(d)
		if got != want {
			t.Errorf("FormatISODuration(%v) = %q, want %q", d, got, want)
		}
		if back, ok := conv.ParseDuration(got); d >= time.Second && (!ok || back != d.Truncate(time.Second)) {
			t.Errorf("%q does not parse back to %v: %v %v", got, d, back, ok)
		}
	}
}

func TestMemPage(t *testing.T) {
	items := []int64{5, 4, 3, 2, 1} // newest first
	id := func(x int64) int64 { return x }
	p := pageReq{size: 2}
	if got := memPage(p, items, id); len(got) != 3 || got[0] != 5 {
		t.Errorf("first page: %v", got)
	}
	if got := memPage(pageReq{size: 2, after: 4}, items, id); len(got) != 3 || got[0] != 3 {
		t.Errorf("after 4: %v", got)
	}
	if got := memPage(pageReq{size: 2, before: 2}, items, id); len(got) != 3 || got[0] != 5 || got[2] != 3 {
		t.Errorf("before 2: %v", got)
	}
	if got := memPage(pageReq{size: 2, page: 3}, items, id); len(got) != 0 {
		t.Errorf("past the end: %v", got)
	}
}
