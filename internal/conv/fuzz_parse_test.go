package conv

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var sidRE = regexp.MustCompile(`^(AC|SK|IS|RL|CH|MB|US)[0-9a-fA-F]{32}$`)

// FuzzSIDs checks IsSID against the pattern Twilio documents (^XX[0-9a-fA-F]{32}$) for every
// prefix Parley parses, and that a SID and an identity are told apart the way the API does
// (an MB SID selects by SID, anything else by identity).
func FuzzSIDs(f *testing.F) {
	for _, s := range []string{"MB0123456789abcdef0123456789ABCDEF", "CH00000000000000000000000000000001", "ACzz", "MB", "",
		"MB0123456789abcdef0123456789abcdef0", "mb0123456789abcdef0123456789abcdef", "US0123456789abcdef0123456789abcdef", "MB0123456789abcdef0123456789abcde\u00e9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, p := range []string{PrefixAccount, PrefixAPIKey, PrefixService, PrefixRole, PrefixConversation, PrefixParticipant, PrefixUser} {
			want := sidRE.MatchString(s) && strings.HasPrefix(s, p)
			if got := IsSID(p, s); got != want {
				t.Fatalf("IsSID(%q, %q) = %v, want %v", p, s, got, want)
			}
		}
	})
}

// FuzzParseDate checks that an accepted date is returned in UTC, whole seconds, and survives
// a round trip through Twilio's date format.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2015-12-16T22:18:37Z", "2015-12-16T22:18:37.123+02:00", "2015-12-16 22:18:37", " 2015-12-16T22:18:37 ",
		"2015-13-01T00:00:00Z", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59-23:59", "yesterday", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := ParseDate(s)
		if !ok {
			return
		}
		if d.Location() != time.UTC || d.Nanosecond() != 0 {
			t.Fatalf("%q parsed as %v (not UTC whole seconds)", s, d)
		}
		if back, ok := ParseDate(d.Format(time.RFC3339)); !ok || !back.Equal(d) {
			t.Fatalf("%q -> %v does not round-trip", s, d)
		}
		if ts, err := ParseReadTimestamp(s); err != nil || ts == nil || *ts != d.Format(DateFormat) {
			t.Fatalf("ParseReadTimestamp(%q) = %v, %v; ParseDate gave %v", s, ts, err, d)
		}
	})
}

// FuzzParseReadIndex accepts exactly non-negative decimal integers (or "null") and refuses
// anything else with 50421.
func FuzzParseReadIndex(f *testing.F) {
	for _, s := range []string{"0", "42", "null", "-1", "", " 7 ", "9223372036854775807", "9223372036854775808", "1e3", "0x10"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseReadIndex(s)
		if err != nil {
			if e, ok := AsError(err); !ok || e.Code != 50421 {
				t.Fatalf("%q: unexpected error %v", s, err)
			}
			return
		}
		if s == "null" {
			if n != nil {
				t.Fatalf("null parsed as %d", *n)
			}
			return
		}
		want, perr := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if n == nil || perr != nil || *n != want || want < 0 {
			t.Fatalf("%q parsed as %v", s, n)
		}
	})
}
