package sqlstore

import (
	"errors"
	"strconv"
	"strings"

	"github.com/parley-dev/parley/internal/conv"
)

// RowPacker is implemented by a Dialect whose engine returns one text column much faster
// than many (SQLite through modernc.org/sqlite: every column costs several calls into the
// engine, each taking the connection's mutex, and a string copy). Participant reads then
// select the row as one packed text column (packedParticipantCols) and split it in Go.
type RowPacker interface {
	// PacksRows reports whether participant rows are read packed.
	PacksRows() bool
}

// packedParticipantCols selects a participant row as one text value, in SQLite syntax:
// the integers seq, date_created, date_updated and last_read_message_index in decimal, each
// followed by ',' ("n" alone for a NULL index), then the text columns, each as its length in
// bytes, ':', and its bytes ("n" alone for NULL). Lengths make any content safe (separators,
// NUL bytes, invalid UTF-8: concat and octet_length work on the bytes). One concat call
// builds the value at once (a chain of || copies it once per operator; concat leaves NULL
// arguments out, so a NULL column is its "n" alone).
const packedParticipantCols = `concat(seq, ',', date_created, ',', date_updated, ',', iif(last_read_message_index IS NULL, 'n', last_read_message_index || ','),
	octet_length(sid), ':', sid, octet_length(account_sid), ':', account_sid, octet_length(service_sid), ':', service_sid,
	octet_length(conversation_sid), ':', conversation_sid, iif(identity IS NULL, 'n', octet_length(identity) || ':'), identity,
	octet_length(attributes), ':', attributes, octet_length(binding_type), ':', binding_type,
	octet_length(binding_address), ':', binding_address, octet_length(binding_proxy_address), ':', binding_proxy_address,
	octet_length(binding_projected_address), ':', binding_projected_address, octet_length(role_sid), ':', role_sid,
	iif(last_read_timestamp IS NULL, 'n', octet_length(last_read_timestamp) || ':'), last_read_timestamp)`

// errBadPacked reports a packed row that does not parse (a bug, or a value of an
// unexpected type in an integer column).
var errBadPacked = errors.New("malformed packed participant row")

// unpacker splits a packed row; the strings it returns share the row's memory.
type unpacker struct {
	s   string
	bad bool
}

// int reads a decimal integer and its ','; null is true for "n".
func (u *unpacker) int() (n int64, null bool) {
	if strings.HasPrefix(u.s, "n") {
		u.s = u.s[1:]
		return 0, true
	}
	i := strings.IndexByte(u.s, ',')
	if i < 0 {
		u.bad = true
		return 0, false
	}
	n, err := strconv.ParseInt(u.s[:i], 10, 64)
	if err != nil {
		u.bad = true
	}
	u.s = u.s[i+1:]
	return n, false
}

// str reads a length-prefixed text value; null is true for "n".
func (u *unpacker) str() (v string, null bool) {
	if strings.HasPrefix(u.s, "n") {
		u.s = u.s[1:]
		return "", true
	}
	i := strings.IndexByte(u.s, ':')
	if i < 0 {
		u.bad = true
		return "", false
	}
	n, err := strconv.Atoi(u.s[:i])
	if err != nil || n < 0 || n > len(u.s)-i-1 {
		u.bad = true
		return "", false
	}
	v, u.s = u.s[i+1:i+1+n], u.s[i+1+n:]
	return v, false
}

// nonNull reads a text value that must not be NULL.
func (u *unpacker) nonNull() string {
	v, null := u.str()
	if null {
		u.bad = true
	}
	return v
}

// scanPackedParticipant scans a row of packedParticipantCols: the same participant
// scanParticipant reads from participantCols.
func scanPackedParticipant(r rowScanner) (*conv.Participant, error) {
	var packed string
	if err := r.Scan(&packed); err != nil {
		return nil, err
	}
	return unpackParticipant(packed)
}

// packedRow holds a participant and what its pointers point to, so that a row costs one
// allocation.
type packedRow struct {
	p        conv.Participant
	b        conv.Binding
	lri      int64
	id, lrts string
}

func unpackParticipant(packed string) (*conv.Participant, error) {
	u := unpacker{s: packed}
	r := new(packedRow)
	p := &r.p
	var null bool
	if p.Seq, null = u.int(); null {
		u.bad = true
	}
	dc, null1 := u.int()
	du, null2 := u.int()
	if null1 || null2 {
		u.bad = true
	}
	if r.lri, null = u.int(); !null {
		p.LastReadMessageIndex = &r.lri
	}
	p.Sid, p.AccountSid, p.ServiceSid, p.ConversationSid = u.nonNull(), u.nonNull(), u.nonNull(), u.nonNull()
	if r.id, null = u.str(); !null {
		p.Identity = &r.id
	}
	p.Attributes = u.nonNull()
	r.b.Type, r.b.Address, r.b.ProxyAddress, r.b.ProjectedAddress = u.nonNull(), u.nonNull(), u.nonNull(), u.nonNull()
	p.RoleSid = u.nonNull()
	if r.lrts, null = u.str(); !null {
		p.LastReadTimestamp = &r.lrts
	}
	if u.bad || u.s != "" {
		return nil, errBadPacked
	}
	if r.b.Type != "" {
		p.Binding = &r.b
	}
	p.DateCreated, p.DateUpdated = fromUnix(dc), fromUnix(du)
	return p, nil
}

// participantSelect returns "SELECT <participant columns> FROM participants" and the scan
// function for those columns: packed when the dialect packs rows.
func (s *Store) participantSelect() (string, func(rowScanner) (*conv.Participant, error)) {
	if s.packed {
		return `SELECT ` + packedParticipantCols + ` FROM participants`, scanPackedParticipant
	}
	return `SELECT ` + participantCols + ` FROM participants`, scanParticipant
}
