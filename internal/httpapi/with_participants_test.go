package httpapi

import (
	"encoding/json"
	"testing"

	"github.com/parley-dev/parley/internal/conv"
)

// FuzzParseParticipantJSON checks that any Participant parameter either decodes into fields
// that came from a JSON object or is refused with 50424, never anything else.
func FuzzParseParticipantJSON(f *testing.F) {
	for _, s := range []string{`{"identity":"alice"}`, `{"messaging_binding":{"address":"+15558670001","proxy_address":"+15017120001"}}`,
		`{"identity":"a","attributes":{"x":[1,2]}}`, `{"identity":"a","attributes":"{\"x\":1}"}`, `null`, `[]`, `{`, `{"identity":1}`,
		`{"Identity":"a"}`, `{"unknown":true}`, `{} {}`, `{"role_sid":"RL0","date_created":"2020-01-01T00:00:00Z"}`, ``} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		in, err := parseParticipantJSON(0, raw)
		if err != nil {
			if e, ok := conv.AsError(err); !ok || e.Code != 50424 || e.Kind != conv.KindInvalid {
				t.Fatalf("parseParticipantJSON(%q) error = %v, want 50424", raw, err)
			}
			return
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal([]byte(raw), &obj) != nil {
			t.Fatalf("parseParticipantJSON(%q) accepted something that is not a JSON object", raw)
		}
		if in.Attributes != nil && !json.Valid([]byte(*in.Attributes)) && obj["attributes"] != nil && obj["attributes"][0] != '"' {
			t.Fatalf("object attributes %q not kept as JSON", *in.Attributes)
		}
	})
}
