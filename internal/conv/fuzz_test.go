package conv

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzValidateAttributes(f *testing.F) {
	for _, s := range []string{"", "{}", `{"role":"driver"}`, "{", "null", "[1,2]", `"x"`, "\xff", strings.Repeat("[", 5000)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := ValidateAttributes(s, MaxParticipantAttributesBytes)
		if err != nil {
			if e, ok := AsError(err); !ok || e.Kind != KindInvalid || (e.Code != 50304 && e.Code != 50303) {
				t.Fatalf("%q: unexpected error %v", s, err)
			}
			return
		}
		if !json.Valid([]byte(out)) || (s != "" && out != s) || len(out) > MaxParticipantAttributesBytes {
			t.Fatalf("%q accepted as %q", s, out)
		}
	})
}

func FuzzValidateIdentity(f *testing.F) {
	for _, s := range []string{"alice", strings.Repeat("é", 256), strings.Repeat("é", 257), "US00000000000000000000000000000000", "\xff\xfe", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := ValidateIdentity(s)
		if err == nil && (!utf8.ValidString(s) || utf8.RuneCountInString(s) > MaxIdentityLen || IsSID(PrefixUser, s)) {
			t.Fatalf("%q accepted", s)
		}
		if err != nil && utf8.ValidString(s) && utf8.RuneCountInString(s) <= MaxIdentityLen && !IsSID(PrefixUser, s) {
			t.Fatalf("%q refused: %v", s, err)
		}
	})
}

func FuzzIsSID(f *testing.F) {
	for _, s := range []string{"MB00000000000000000000000000000000", "MBzz000000000000000000000000000000", "MB0", "mb00000000000000000000000000000000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if IsSID(PrefixParticipant, s) {
			if len(s) != 34 || !strings.HasPrefix(s, "MB") || strings.Trim(s[2:], "0123456789abcdefABCDEF") != "" {
				t.Fatalf("%q accepted", s)
			}
		}
	})
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"PT1M", "PT10M", "P1D", "P1DT2H3M4S", "P2W", "PT", "P", "1M", "PTM", "PT99999999999H"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d, ok := ParseDuration(s); ok && d < 0 {
			t.Fatalf("%q parsed as negative %v", s, d)
		}
	})
}

func FuzzBindingAddresses(f *testing.F) {
	f.Add("+15558675310", "+15017122661")
	f.Add("whatsapp:+15558675310", "whatsapp:+15017122661")
	f.Add("a@b.c", "")
	f.Add("messenger:123", "messenger:456")
	f.Fuzz(func(t *testing.T, a, p string) {
		err := ValidateBindingAddresses(a, p)
		if err == nil && a != "" && a == p {
			t.Fatalf("%q == %q accepted", a, p)
		}
		if err != nil {
			if _, ok := AsError(err); !ok {
				t.Fatalf("not a domain error: %v", err)
			}
		}
	})
}
