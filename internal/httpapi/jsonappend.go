package httpapi

import (
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/parley-dev/parley/internal/conv"
)

// jsonAppender is a wire type that encodes itself without reflection. appendJSON appends to b
// exactly the bytes an encoding/json Encoder with SetEscapeHTML(false) writes for the value
// (without the Encoder's trailing newline) and returns the extended slice; it cannot fail.
//
// writeJSON and writeList use it when the value (or, for lists, a pointer to the item type)
// implements it, and encoding/json otherwise, so a wire type opts in by implementing it with a
// value receiver and adding its fields to the byte-for-byte tests in jsonappend_test.go.
// A struct embedding an implementer inherits its appendJSON and must define its own.
type jsonAppender interface {
	appendJSON(b []byte) []byte
}

// jsonHex is the lower-case hex alphabet encoding/json uses in \u escapes.
const jsonHex = "0123456789abcdef"

// appendJSONString appends s as a JSON string, escaped as encoding/json escapes it with
// HTML escaping off: '"' and '\\' backslash-escaped; \b \f \n \r \t by name; other bytes
// below 0x20 as \u00xx; each byte of invalid UTF-8 as \ufffd; U+2028 and U+2029 as
// \u2028 and \u2029; everything else, '<', '>', '&' and DEL included, as is. It returns the
// extended slice.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', jsonHex[c>>4], jsonHex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', jsonHex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendJSONStringPtr appends null for a nil s, else *s as a JSON string (see
// appendJSONString). It returns the extended slice.
func appendJSONStringPtr(b []byte, s *string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	return appendJSONString(b, *s)
}

// appendJSONInt64Ptr appends null for a nil n, else *n in decimal. It returns the extended slice.
func appendJSONInt64Ptr(b []byte, n *int64) []byte {
	if n == nil {
		return append(b, "null"...)
	}
	return strconv.AppendInt(b, *n, 10)
}

// appendJSON appends d as twDate.MarshalJSON writes it: the UTC time in conv.DateFormat,
// quoted. It returns the extended slice.
func (d twDate) appendJSON(b []byte) []byte {
	t := time.Time(d).UTC()
	year, month, day := t.Date()
	if conv.DateFormat != "2006-01-02T15:04:05Z" || year < 0 || year > 9999 {
		b = append(b, '"')
		b = t.AppendFormat(b, conv.DateFormat)
		return append(b, '"')
	}
	hour, minute, sec := t.Clock()
	return append(b, '"',
		byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-',
		byte('0'+month/10), byte('0'+month%10), '-', byte('0'+day/10), byte('0'+day%10), 'T',
		byte('0'+hour/10), byte('0'+hour%10), ':', byte('0'+minute/10), byte('0'+minute%10), ':',
		byte('0'+sec/10), byte('0'+sec%10), 'Z', '"')
}

// appendJSON appends the binding as encoding/json encodes it: type always; address,
// proxy_address and projected_address only when not empty. It returns the extended slice.
func (m bindingJSON) appendJSON(b []byte) []byte {
	b = append(b, `{"type":`...)
	b = appendJSONString(b, m.Type)
	if m.Address != "" {
		b = append(b, `,"address":`...)
		b = appendJSONString(b, m.Address)
	}
	if m.ProxyAddress != "" {
		b = append(b, `,"proxy_address":`...)
		b = appendJSONString(b, m.ProxyAddress)
	}
	if m.ProjectedAddress != "" {
		b = append(b, `,"projected_address":`...)
		b = appendJSONString(b, m.ProjectedAddress)
	}
	return append(b, '}')
}

// appendJSON appends the participant as encoding/json encodes it: fields in struct order,
// chat_service_sid only when set, null for the other nil pointers. It returns the extended slice.
func (p participantJSON) appendJSON(b []byte) []byte {
	b = append(b, `{"account_sid":`...)
	b = appendJSONString(b, p.AccountSid)
	if p.ChatServiceSid != nil {
		b = append(b, `,"chat_service_sid":`...)
		b = appendJSONString(b, *p.ChatServiceSid)
	}
	b = append(b, `,"conversation_sid":`...)
	b = appendJSONString(b, p.ConversationSid)
	b = append(b, `,"sid":`...)
	b = appendJSONString(b, p.Sid)
	b = append(b, `,"identity":`...)
	b = appendJSONStringPtr(b, p.Identity)
	b = append(b, `,"attributes":`...)
	b = appendJSONString(b, p.Attributes)
	b = append(b, `,"messaging_binding":`...)
	if p.MessagingBinding == nil {
		b = append(b, "null"...)
	} else {
		b = p.MessagingBinding.appendJSON(b)
	}
	b = append(b, `,"role_sid":`...)
	b = appendJSONStringPtr(b, p.RoleSid)
	b = append(b, `,"date_created":`...)
	b = p.DateCreated.appendJSON(b)
	b = append(b, `,"date_updated":`...)
	b = p.DateUpdated.appendJSON(b)
	b = append(b, `,"url":`...)
	b = appendJSONString(b, p.URL)
	b = append(b, `,"last_read_message_index":`...)
	b = appendJSONInt64Ptr(b, p.LastReadMessageIndex)
	b = append(b, `,"last_read_timestamp":`...)
	b = appendJSONStringPtr(b, p.LastReadTimestamp)
	return append(b, '}')
}

// appendJSON appends the meta block as encoding/json encodes it: fields in struct order, null
// for an absent previous or next page URL. It returns the extended slice.
func (m metaJSON) appendJSON(b []byte) []byte {
	b = append(b, `{"page":`...)
	b = strconv.AppendInt(b, int64(m.Page), 10)
	b = append(b, `,"page_size":`...)
	b = strconv.AppendInt(b, int64(m.PageSize), 10)
	b = append(b, `,"first_page_url":`...)
	b = appendJSONString(b, m.FirstPageURL)
	b = append(b, `,"previous_page_url":`...)
	b = appendJSONStringPtr(b, m.PreviousPageURL)
	b = append(b, `,"url":`...)
	b = appendJSONString(b, m.URL)
	b = append(b, `,"next_page_url":`...)
	b = appendJSONStringPtr(b, m.NextPageURL)
	b = append(b, `,"key":`...)
	b = appendJSONString(b, m.Key)
	return append(b, '}')
}

// listAppendable reports whether appendListBody can encode items of type W: *W implements
// jsonAppender (W has appendJSON with a value or a pointer receiver).
func listAppendable[W any]() bool {
	_, ok := any((*W)(nil)).(jsonAppender)
	return ok
}

// appendListBody returns the bytes encoding/json writes for listBody(key, items, m): an
// object with the members "meta" and key, in byte order of the names as encoding/json orders
// map keys, items as an array ([] when empty). W must satisfy listAppendable and key must not
// be "meta" (listBody then holds only the meta block); it panics otherwise.
func appendListBody[W any](key string, items []W, m *metaJSON) []byte {
	return appendListBodyOf(nil, key, items, func(x W) W { return x }, m)
}

// appendListBodyOf appends to b what appendListBody writes for the items converted by toWire
// (one at a time, as they are encoded) and returns the extended slice; a nil b starts a
// buffer of 2 KiB.
func appendListBodyOf[T, W any](b []byte, key string, items []T, toWire func(T) W, m *metaJSON) []byte {
	if key == "meta" {
		panic("httpapi: appendListBody with key \"meta\"")
	}
	if b == nil {
		b = make([]byte, 0, 2048)
	}
	b = append(b, '{')
	if key < "meta" {
		b = appendItemsMember(b, key, items, toWire)
		b = append(b, ',')
	}
	b = append(b, `"meta":`...)
	b = m.appendJSON(b)
	if key > "meta" {
		b = append(b, ',')
		b = appendItemsMember(b, key, items, toWire)
	}
	return append(b, '}')
}

// appendItemsMember appends "key":[items...] and returns the extended slice. After the first
// item it grows b once to fit the rest at about the first item's size.
func appendItemsMember[T, W any](b []byte, key string, items []T, toWire func(T) W) []byte {
	b = appendJSONString(b, key)
	b = append(b, ':', '[')
	var x W // each item in turn: one variable behind the interface, not one per item
	ap := any(&x).(jsonAppender)
	for i := range items {
		if i > 0 {
			b = append(b, ',')
		}
		start := len(b)
		x = toWire(items[i])
		b = ap.appendJSON(b)
		if i == 0 && len(items) > 1 {
			b = slices.Grow(b, (len(b)-start+1)*(len(items)-1)*9/8+1024)
		}
	}
	return append(b, ']')
}
