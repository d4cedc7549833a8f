package snapshot

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/parley-dev/parley/internal/conv"
)

func TestDecodeRefuses(t *testing.T) {
	for _, doc := range []string{
		``, `[]`, `{"version":1} {}`, `{"tables":{}}`, `{"version":1,"x":1}`, `{"version":"1"}`,
		`{"version":1,"tables":{"users":[{"a":{"b":1}}]}}`, `{"version":1,"tables":{"users":[null]}}`,
	} {
		if _, err := Decode(strings.NewReader(doc)); !errors.Is(err, ErrMalformed) {
			t.Errorf("Decode(%s) = %v, want ErrMalformed", doc, err)
		}
	}
}

func TestRoundTripAndYAML(t *testing.T) {
	s := &conv.Snapshot{Version: 1, AccountSid: "AC1", DefaultServiceSid: "IS1", Tables: map[string][]conv.SnapshotRow{
		"services": {{"sid": "IS1", "friendly_name": "x", "date_created": "2020-01-02T03:04:05Z", "n": int64(3), "b": true, "z": nil}},
	}}
	var a bytes.Buffer
	if err := Encode(&a, s); err != nil {
		t.Fatal(err)
	}
	back, err := Decode(bytes.NewReader(a.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := Encode(&b, back); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Errorf("round trip:\n%s\n%s", a.Bytes(), b.Bytes())
	}
	y := "version: 1\naccount_sid: AC1\ndefault_service_sid: IS1\ntables:\n  services:\n    - sid: IS1\n      friendly_name: x\n      date_created: 2020-01-02T03:04:05Z\n      n: 3\n      b: true\n      z: null\n"
	fromYAML, err := DecodeYAML(strings.NewReader(y))
	if err != nil {
		t.Fatal(err)
	}
	var c bytes.Buffer
	if err := Encode(&c, fromYAML); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), c.Bytes()) {
		t.Errorf("YAML differs:\n%s\n%s", a.Bytes(), c.Bytes())
	}
	if _, err := DecodeYAML(strings.NewReader("version: [")); !errors.Is(err, ErrMalformed) {
		t.Errorf("bad YAML: %v", err)
	}
}
