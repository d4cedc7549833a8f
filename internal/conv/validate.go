package conv

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits Twilio documents for Conversations (see docs/compatibility.md).
const (
	MaxIdentityLen                 = 256  // characters
	MaxAddressLen                  = 256  // characters
	MaxFriendlyNameLen             = 256  // characters
	MaxUniqueNameLen               = 256  // characters
	MaxParticipantAttributesBytes  = 4096 // bytes
	MaxConversationAttributesBytes = 16384
	MaxParticipantsPerConversation = 1000
	MaxNonChatParticipants         = 50
	MaxGroupParticipants           = 10
	MaxRoleNameLen                 = 64
)

// DateFormat is how Twilio writes dates: second precision, literal Z.
const DateFormat = "2006-01-02T15:04:05Z"

// ValidateAttributes returns the attributes to store: "{}" for an empty value, the value
// unchanged when it is valid JSON within max bytes. Errors: 50304 (not JSON), 50303 (too long).
func ValidateAttributes(s string, max int) (string, error) {
	if s == "" {
		return "{}", nil
	}
	if len(s) > max {
		return "", invalid(50303, "Attributes too long: %d bytes, the limit is %d", len(s), max)
	}
	if !json.Valid([]byte(s)) {
		return "", invalid(50304, "Attributes not valid JSON")
	}
	return s, nil
}

// ValidateIdentity checks a participant or user identity. Errors: 50207 (over 256 characters),
// 50206 (looks like a User SID), 20422 (not UTF-8).
func ValidateIdentity(id string) error {
	if !utf8.ValidString(id) {
		return invalid(20422, "Identity is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(id); n > MaxIdentityLen {
		return invalid(50207, "Identity too long: %d characters, the limit is %d", n, MaxIdentityLen)
	}
	if IsSID(PrefixUser, id) {
		return invalid(50206, "Identity should not match user SID pattern")
	}
	return nil
}

// ParseDate parses a client-supplied date: RFC 3339 (with or without fractional seconds), or
// the same without a zone (taken as UTC). It returns the time in UTC truncated to seconds and
// false when the value is not a date.
func ParseDate(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, strings.TrimSpace(s)); err == nil {
			// In UTC the year must still have four digits, or the date could not be written
			// back in Twilio's format (found by FuzzParseDate: 9999-12-31T23:59:59-23:59).
			if y := t.UTC().Year(); y < 0 || y > 9999 {
				return time.Time{}, false
			}
			return t.UTC().Truncate(time.Second), true
		}
	}
	return time.Time{}, false
}

// Twilio codes of a DateCreated / DateUpdated parameter that is not a date.
const (
	CodeBadDateCreated = 50308
	CodeBadDateUpdated = 50309
)

// ParseDateParam parses the value s of date parameter name (DateCreated, DateUpdated; see
// ParseDate) or returns a 400 with code (CodeBadDateCreated, CodeBadDateUpdated). The front
// doors parse date parameters with it, so the domain takes time.Time values.
func ParseDateParam(s, name string, code int) (time.Time, error) {
	t, ok := ParseDate(s)
	if !ok {
		return time.Time{}, invalid(code, "Invalid %s parameter: %q is not an ISO 8601 date", name, s)
	}
	return t, nil
}

// BindingType derives a binding type from an address: whatsapp:, messenger:, gbm: and rcs:
// prefixes name their channel, an e-mail address is email, anything else is sms.
func BindingType(addr string) string {
	for _, p := range []string{BindingWhatsApp, BindingMessenger, BindingGBM, BindingRCS} {
		if strings.HasPrefix(strings.ToLower(addr), p+":") {
			return p
		}
	}
	if strings.Contains(addr, "@") {
		return BindingEmail
	}
	return BindingSMS
}

// isPhone reports whether s is an E.164-like number: '+', then 3 to 15 digits.
func isPhone(s string) bool {
	s, ok := strings.CutPrefix(s, "+")
	if !ok || len(s) < 3 || len(s) > 15 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// validAddress reports whether addr is a well-formed address of its binding type.
func validAddress(addr string) bool {
	if addr == "" || utf8.RuneCountInString(addr) > MaxAddressLen || !utf8.ValidString(addr) {
		return false
	}
	typ := BindingType(addr)
	switch typ {
	case BindingSMS:
		return isPhone(addr)
	case BindingWhatsApp, BindingRCS:
		return isPhone(addr[len(typ)+1:])
	case BindingEmail:
		at := strings.LastIndexByte(addr, '@')
		return at > 0 && at < len(addr)-1 && !strings.ContainsAny(addr, " \t\r\n")
	default: // messenger:, gbm: carry opaque ids
		return len(addr) > len(typ)+1 && !strings.ContainsAny(addr, " \t\r\n")
	}
}

// ValidateBindingAddresses checks a participant's address and proxy address (either may be
// ""). Errors: 50407 (address), 50408 (proxy), 50409 (equal), 50414 (types differ).
func ValidateBindingAddresses(addr, proxy string) error {
	if addr != "" && !validAddress(addr) {
		return invalid(50407, "Invalid messaging binding address: %q", addr)
	}
	if proxy != "" && !validAddress(proxy) {
		return invalid(50408, "Invalid participant proxy address: %q", proxy)
	}
	if addr != "" && proxy != "" {
		if addr == proxy {
			return invalid(50409, "Participant address equals proxy address")
		}
		if at, pt := BindingType(addr), BindingType(proxy); at != pt && !(at == BindingRCS || pt == BindingRCS) {
			return invalid(50414, "Participant address type (%s) does not match proxy address type (%s)", at, pt)
		}
	}
	return nil
}

// ValidateProjectedAddress checks a Group MMS projected address (a phone number). Error: 50408.
func ValidateProjectedAddress(addr string) error {
	if !isPhone(addr) {
		return invalid(50408, "Invalid projected address: %q is not a phone number", addr)
	}
	return nil
}

// ParseLastReadIndex parses a LastReadMessageIndex value: a non-negative integer.
// Error: 50421.
func ParseLastReadIndex(s string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 {
		return 0, invalid(50421, "Invalid last read message index format: %q", s)
	}
	return n, nil
}

// ParseLastReadTimestamp parses a LastReadTimestamp value (see ParseDate). Error: 50405.
func ParseLastReadTimestamp(s string) (time.Time, error) {
	t, ok := ParseDate(s)
	if !ok {
		return time.Time{}, invalid(50405, "Invalid last read timestamp format: %q", s)
	}
	return t, nil
}

// ParseReadIndex parses LastReadMessageIndex as ParseLastReadIndex, or "null" to clear it
// (nil). Participant update still takes the form value; the other commands take Opt values.
func ParseReadIndex(s string) (*int64, error) {
	if s == "null" {
		return nil, nil
	}
	n, err := ParseLastReadIndex(s)
	if err != nil {
		return nil, err
	}
	return &n, nil
}

// ParseReadTimestamp parses LastReadTimestamp into Twilio's date format, or "null" to clear
// it (nil), as ParseReadIndex.
func ParseReadTimestamp(s string) (*string, error) {
	if s == "null" {
		return nil, nil
	}
	t, err := ParseLastReadTimestamp(s)
	if err != nil {
		return nil, err
	}
	v := t.Format(DateFormat)
	return &v, nil
}

// ParseDuration parses the ISO-8601 durations Twilio's timers take (PnDTnHnMnS, PnW). It
// returns false when s is not one or is longer than 100 years.
func ParseDuration(s string) (time.Duration, bool) {
	if len(s) < 3 || s[0] != 'P' {
		return 0, false
	}
	var d time.Duration
	inTime, num, any := false, "", false
	for _, c := range s[1:] {
		switch {
		case c >= '0' && c <= '9':
			num += string(c)
			continue
		case c == 'T':
			if inTime || num != "" {
				return 0, false
			}
			inTime = true
			continue
		}
		if num == "" {
			return 0, false
		}
		n, err := strconv.ParseInt(num, 10, 32)
		if err != nil {
			return 0, false
		}
		unit := time.Duration(0)
		switch {
		case !inTime && c == 'W':
			unit = 7 * 24 * time.Hour
		case !inTime && c == 'D':
			unit = 24 * time.Hour
		case inTime && c == 'H':
			unit = time.Hour
		case inTime && c == 'M':
			unit = time.Minute
		case inTime && c == 'S':
			unit = time.Second
		default:
			return 0, false
		}
		const maxDuration = 100 * 365 * 24 * time.Hour // far beyond any useful timer; no overflow
		if time.Duration(n) > maxDuration/unit || d+time.Duration(n)*unit > maxDuration {
			return 0, false
		}
		d += time.Duration(n) * unit
		num, any = "", true
	}
	if num != "" || !any {
		return 0, false
	}
	return d, true
}
