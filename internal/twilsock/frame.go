// Package twilsock is the codec of Twilio's twilsock V3.0 protocol, the one WebSocket the
// Conversations client SDK (@twilio/conversations 2.x/3.x, through the twilsock npm package)
// speaks to its backend. A frame is
//
//	TWILSOCK V3.0 <headerBytes>\r\n<headerJSON>\r\n<payload>
//
// where <headerBytes> is the UTF-8 byte length of <headerJSON>, and the header's payload_size
// is the byte length of <payload> (absent means 0). Twilio's server (and its Kotlin client)
// end a non-empty payload with one more "\r\n"; the JS client does not. Both are accepted.
//
// The package only frames and types headers; what a method means is the gateway's business.
package twilsock

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// Prefix starts every frame: protocol name and version, then a space and the header size.
const Prefix = "TWILSOCK V3.0 "

// DefaultMaxFrameBytes bounds a frame when the caller gives no limit. The SDK's largest
// frames are message bodies (Twilio caps a message body at 32 KiB; attributes at 16 KiB),
// so 1 MiB leaves room without letting one socket pin much memory.
const DefaultMaxFrameBytes = 1 << 20

// maxSizeDigits bounds the decimal header size in the prefix.
const maxSizeDigits = 10

// Errors of Parse, matched with errors.Is; the returned error says precisely what was wrong.
var (
	// ErrTooLarge: the frame is longer than the limit.
	ErrTooLarge = errors.New("twilsock: frame too large")
	// ErrMagic: the frame does not start with "TWILSOCK V3.0 <digits>\r\n".
	ErrMagic = errors.New("twilsock: bad magic")
	// ErrHeaderSize: the declared header size does not match the frame.
	ErrHeaderSize = errors.New("twilsock: header size does not match")
	// ErrHeaderJSON: the header is not a JSON object with a string "method" (and, when present,
	// a string "id", a non-negative integer "payload_size" and a string "payload_type").
	ErrHeaderJSON = errors.New("twilsock: bad header")
	// ErrPayloadSize: payload_size does not match the bytes after the header.
	ErrPayloadSize = errors.New("twilsock: payload size does not match")
)

// Frame is one decoded frame. Header holds the fields every frame has; RawHeader is the
// header JSON as received, for Frame.DecodeHeader into the method's typed header. Payload
// aliases the input buffer.
type Frame struct {
	Header    Header
	RawHeader json.RawMessage
	Payload   []byte
}

// DecodeHeader unmarshals the frame's header JSON into v (for example *Init or *Message).
func (f *Frame) DecodeHeader(v any) error {
	if err := json.Unmarshal(f.RawHeader, v); err != nil {
		return fmt.Errorf("%w: %s header: %v", ErrHeaderJSON, f.Header.Method, err)
	}
	return nil
}

// IsJSON reports whether the payload is JSON by the SDK's rule (parser.js): payload_type absent
// or starting with "application/json".
func (f *Frame) IsJSON() bool {
	return f.Header.PayloadType == "" || hasPrefix(f.Header.PayloadType, "application/json")
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }

// Parse decodes one frame of at most maxBytes bytes (DefaultMaxFrameBytes when maxBytes <= 0).
func Parse(b []byte, maxBytes int) (*Frame, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxFrameBytes
	}
	if len(b) > maxBytes {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(b), maxBytes)
	}
	if !bytes.HasPrefix(b, []byte(Prefix)) {
		n := min(len(b), len(Prefix))
		return nil, fmt.Errorf("%w: starts with %q, want %q", ErrMagic, b[:n], Prefix)
	}
	rest := b[len(Prefix):]
	crlf := bytes.Index(rest, []byte("\r\n"))
	if crlf < 0 || crlf > maxSizeDigits {
		return nil, fmt.Errorf("%w: no \\r\\n within %d bytes after the prefix", ErrMagic, maxSizeDigits)
	}
	digits := rest[:crlf]
	for _, d := range digits {
		if d < '0' || d > '9' {
			return nil, fmt.Errorf("%w: header size %q is not a decimal number", ErrMagic, digits)
		}
	}
	hsize, err := strconv.Atoi(string(digits))
	if err != nil || len(digits) == 0 {
		return nil, fmt.Errorf("%w: header size %q is not a decimal number", ErrMagic, digits)
	}
	rest = rest[crlf+2:]
	if hsize > len(rest) {
		return nil, fmt.Errorf("%w: declared %d bytes, only %d follow", ErrHeaderSize, hsize, len(rest))
	}
	raw, after := rest[:hsize], rest[hsize:]
	switch {
	case len(after) == 0: // a payload-less frame may end right after the header
	case len(after) >= 2 && after[0] == '\r' && after[1] == '\n':
		after = after[2:]
	default:
		return nil, fmt.Errorf("%w: declared %d bytes, but they are not followed by \\r\\n", ErrHeaderSize, hsize)
	}
	h, err := decodeCommon(raw)
	if err != nil {
		return nil, err
	}
	n := h.PayloadSize
	if n > len(after) {
		return nil, fmt.Errorf("%w: payload_size %d, only %d bytes follow the header", ErrPayloadSize, n, len(after))
	}
	payload, tail := after[:n], after[n:]
	if len(tail) != 0 && !(n > 0 && len(tail) == 2 && tail[0] == '\r' && tail[1] == '\n') {
		return nil, fmt.Errorf("%w: payload_size %d, but %d more bytes follow the payload", ErrPayloadSize, n, len(tail))
	}
	return &Frame{Header: h, RawHeader: json.RawMessage(raw), Payload: payload}, nil
}

// decodeCommon checks the header is one JSON object and reads its common fields with their
// types checked.
func decodeCommon(raw []byte) (Header, error) {
	var h Header
	if t := bytes.TrimLeft(raw, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return h, fmt.Errorf("%w: not a JSON object", ErrHeaderJSON)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	var c struct {
		Method      *string         `json:"method"`
		ID          *string         `json:"id"`
		PayloadSize json.RawMessage `json:"payload_size"`
		PayloadType *string         `json:"payload_type"`
	}
	if err := dec.Decode(&c); err != nil {
		return h, fmt.Errorf("%w: %v", ErrHeaderJSON, err)
	}
	if dec.More() {
		return h, fmt.Errorf("%w: data after the JSON object", ErrHeaderJSON)
	}
	if c.Method == nil || *c.Method == "" {
		return h, fmt.Errorf("%w: no method", ErrHeaderJSON)
	}
	h.Method = *c.Method
	if c.ID != nil {
		h.ID = *c.ID
	}
	if c.PayloadType != nil {
		h.PayloadType = *c.PayloadType
	}
	if len(c.PayloadSize) != 0 && string(c.PayloadSize) != "null" {
		n, err := strconv.Atoi(string(c.PayloadSize)) // digits only: no string, fraction or exponent
		if err != nil || n < 0 {
			return h, fmt.Errorf("%w: payload_size %s is not a non-negative integer", ErrHeaderJSON, c.PayloadSize)
		}
		h.PayloadSize = n
	}
	return h, nil
}

// Encoder is implemented by every typed header (through the embedded Header).
type Encoder interface{ common() *Header }

// Encode returns the frame for header h and payload, setting h's payload_size to the payload's
// length. A non-empty payload is followed by "\r\n", as Twilio's server writes it.
func Encode(h Encoder, payload []byte) ([]byte, error) {
	c := h.common()
	if c.Method == "" {
		return nil, fmt.Errorf("%w: no method", ErrHeaderJSON)
	}
	c.PayloadSize = len(payload)
	hb, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("twilsock: encoding %s header: %w", c.Method, err)
	}
	size := strconv.Itoa(len(hb))
	out := make([]byte, 0, len(Prefix)+len(size)+2+len(hb)+2+len(payload)+2)
	out = append(out, Prefix...)
	out = append(out, size...)
	out = append(out, "\r\n"...)
	out = append(out, hb...)
	out = append(out, "\r\n"...)
	if len(payload) > 0 {
		out = append(out, payload...)
		out = append(out, "\r\n"...)
	}
	return out, nil
}
