package twilsock

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzParseFrame: Parse never panics, rejects with one of its errors, and an accepted frame is
// consistent (payload length = payload_size) and survives re-encoding. Seeds: f.Add below and
// testdata/fuzz/FuzzParseFrame.
func FuzzParseFrame(f *testing.F) {
	f.Add(jsFrame(initHeader, ""))
	f.Add(jsFrame(configHeader, ""))
	f.Add(jsFrame(`{"method":"notification","id":"x","message_type":"twilio.sync.event","payload_size":2}`, "{}\r\n"))
	f.Add([]byte("TWILSOCK V3.0 2\r\n{}\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := Parse(b, 4096)
		if err != nil {
			if fr != nil {
				t.Fatal("frame and error")
			}
			for _, e := range []error{ErrTooLarge, ErrMagic, ErrHeaderSize, ErrHeaderJSON, ErrPayloadSize} {
				if errors.Is(err, e) {
					return
				}
			}
			t.Fatalf("unexpected error kind: %v", err)
		}
		if len(fr.Payload) != fr.Header.PayloadSize || fr.Header.Method == "" {
			t.Fatalf("inconsistent frame %+v", fr)
		}
		h := fr.Header
		out, err := Encode(&h, fr.Payload)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Parse(out, 0)
		if err != nil {
			t.Fatalf("re-encoded frame does not parse: %v\n%q", err, out)
		}
		if back.Header != fr.Header || !bytes.Equal(back.Payload, fr.Payload) {
			t.Fatalf("round trip changed the frame: %+v vs %+v", back, fr)
		}
	})
}
