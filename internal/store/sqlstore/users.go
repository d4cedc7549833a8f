package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/parley-dev/parley/internal/conv"
)

// ---- users ----

const userCols = `seq, sid, account_sid, service_sid, identity, friendly_name, attributes, role_sid, date_created, date_updated`

func scanUser(r rowScanner) (*conv.User, error) {
	var u conv.User
	var fn sql.NullString
	var dc, du int64
	if err := r.Scan(&u.Seq, &u.Sid, &u.AccountSid, &u.ServiceSid, &u.Identity, &fn, &u.Attributes, &u.RoleSid, &dc, &du); err != nil {
		return nil, err
	}
	u.FriendlyName = strPtr(fn)
	u.DateCreated, u.DateUpdated = fromUnix(dc), fromUnix(du)
	return &u, nil
}

const insertUser = `INSERT INTO users (sid, account_sid, service_sid, identity, friendly_name, attributes, role_sid, date_created, date_updated)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`

func userArgs(u *conv.User) []any {
	return []any{u.Sid, u.AccountSid, u.ServiceSid, u.Identity, nullStr(u.FriendlyName), u.Attributes, u.RoleSid, unix(u.DateCreated), unix(u.DateUpdated)}
}

// CreateUser inserts a user and sets its Seq; conv.ErrConflict when the identity is taken.
func (s *Store) CreateUser(ctx context.Context, u *conv.User) error {
	seq, err := s.insertSeq(ctx, insertUser, userArgs(u)...)
	u.Seq = seq
	return err
}

// InsertUserIfAbsent inserts u unless its identity is taken in the service (ON CONFLICT DO
// NOTHING, so that the transaction stays usable on PostgreSQL) and reports whether it did.
func (s *Store) InsertUserIfAbsent(ctx context.Context, u *conv.User) (bool, error) {
	seq, err := s.insertSeq(ctx, insertUser+` ON CONFLICT (service_sid, identity) DO NOTHING`, userArgs(u)...)
	if errors.Is(err, conv.ErrNotFound) { // nothing returned: the identity was taken
		return false, nil
	}
	if err != nil {
		return false, err
	}
	u.Seq = seq
	return true, nil
}

// ShareLockUser takes a shared lock on the service's user with that identity (FOR SHARE on
// PostgreSQL; SQLite's single writer needs none) and returns conv.ErrNotFound when there is none.
func (s *Store) ShareLockUser(ctx context.Context, serviceSid, identity string) error {
	suffix := s.d.LockSuffix()
	if sl, ok := s.d.(ShareLocker); ok && suffix != "" {
		suffix = sl.ShareLockSuffix()
	}
	var one int
	err := s.q.QueryRowContext(ctx, s.bind(`SELECT 1 FROM users WHERE service_sid = ? AND identity = ?`+suffix), serviceSid, identity).Scan(&one)
	return s.mapErr(err)
}

// GetUser returns a user of the service or conv.ErrNotFound.
func (s *Store) GetUser(ctx context.Context, serviceSid, sid string) (*conv.User, error) {
	u, err := scanUser(s.q.QueryRowContext(ctx, s.bind(`SELECT `+userCols+` FROM users WHERE sid = ? AND service_sid = ?`), sid, serviceSid))
	return u, s.mapErr(err)
}

// GetUserByIdentity returns the service's user with that identity or conv.ErrNotFound.
func (s *Store) GetUserByIdentity(ctx context.Context, serviceSid, identity string) (*conv.User, error) {
	u, err := scanUser(s.q.QueryRowContext(ctx, s.bind(`SELECT `+userCols+` FROM users WHERE service_sid = ? AND identity = ?`), serviceSid, identity))
	return u, s.mapErr(err)
}

// ListUsers returns one page of the service's users.
func (s *Store) ListUsers(ctx context.Context, serviceSid string, q conv.PageQuery) ([]*conv.User, error) {
	return listRows(ctx, s, `SELECT `+userCols+` FROM users WHERE service_sid = ?`, []any{serviceSid}, q, scanUser)
}

// UpdateUser writes the mutable fields of u.
func (s *Store) UpdateUser(ctx context.Context, u *conv.User) error {
	return s.execOne(ctx, `UPDATE users SET friendly_name = ?, attributes = ?, role_sid = ?, date_created = ?, date_updated = ?
		WHERE sid = ? AND service_sid = ?`,
		nullStr(u.FriendlyName), u.Attributes, u.RoleSid, unix(u.DateCreated), unix(u.DateUpdated), u.Sid, u.ServiceSid)
}

// DeleteUser deletes a user of the service.
func (s *Store) DeleteUser(ctx context.Context, serviceSid, sid string) error {
	return s.execOne(ctx, `DELETE FROM users WHERE sid = ? AND service_sid = ?`, sid, serviceSid)
}

// ---- memberships: participants joined with their conversations ----

// qualify prefixes every column of a comma-separated list with alias.
func qualify(alias, cols string) string {
	parts := strings.Split(cols, ",")
	for i, p := range parts {
		parts[i] = alias + "." + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}

// membershipFrom selects a participant p with its conversation c, notification level and the
// sid of its identity's user (u, "" when none); callers add their conditions after WHERE.
func membershipFrom() string {
	return `SELECT ` + qualify("p", participantCols) + `, ` + qualify("c", conversationCols) + `, p.notification_level, COALESCE(u.sid, '')
	FROM participants p
	JOIN conversations c ON c.sid = p.conversation_sid
	LEFT JOIN users u ON u.service_sid = p.service_sid AND u.identity = p.identity
	WHERE `
}

// scanFunc adapts a function to rowScanner.
type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// scanMembership scans a row of membershipFrom. scanParticipant and scanConversation each
// hand their destinations to the next scanner; the innermost scans the whole row at once, so
// each then converts its own columns as usual.
func scanMembership(r rowScanner) (*conv.Membership, error) {
	m := &conv.Membership{}
	p, err := scanParticipant(scanFunc(func(pd ...any) error {
		c, err := scanConversation(scanFunc(func(cd ...any) error {
			dest := append(append(append([]any{}, pd...), cd...), &m.NotificationLevel, &m.UserSid)
			return r.Scan(dest...)
		}))
		m.Conversation = c
		return err
	}))
	if err != nil {
		return nil, err
	}
	m.Participant = p
	return m, nil
}

// ListUserMemberships returns one page of the service's participants with that identity, in
// join order.
func (s *Store) ListUserMemberships(ctx context.Context, serviceSid, identity string, q conv.PageQuery) ([]*conv.Membership, error) {
	var sb strings.Builder
	sb.WriteString(membershipFrom() + `p.service_sid = ? AND p.identity = ?`)
	args, desc := pageOn(&sb, []any{serviceSid, identity}, q, "p.seq")
	ms, err := queryMemberships(ctx, s, sb.String(), args)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		m.Seq = m.Participant.Seq
	}
	if desc {
		reverse(ms)
	}
	return ms, nil
}

// ListParticipantMemberships returns one page of the participants f selects, ordered by
// conversation sid then participant sid (SIDs are ASCII hex, so every collation orders them
// alike). The cursors of q are 1-based positions in that order.
func (s *Store) ListParticipantMemberships(ctx context.Context, serviceSid string, f conv.ParticipantConversationFilter, q conv.PageQuery) ([]*conv.Membership, error) {
	where, key := `p.service_sid = ? AND p.identity = ?`, f.Identity
	if f.Identity == "" {
		where, key = `p.service_sid = ? AND p.identity IS NULL AND p.binding_address = ?`, f.Address
	}
	size := int64(q.Size)
	if size <= 0 {
		size = 50
	}
	offset := int64(q.Offset)
	switch {
	case q.AfterSeq > 0:
		offset = q.AfterSeq
	case q.BeforeSeq > 0:
		offset = max(0, q.BeforeSeq-1-size)
		size = q.BeforeSeq - 1 - offset
		if size <= 0 {
			return nil, nil
		}
	}
	query := membershipFrom() + where + ` ORDER BY p.conversation_sid, p.sid LIMIT ? OFFSET ?`
	ms, err := queryMemberships(ctx, s, query, []any{serviceSid, key, size, offset})
	if err != nil {
		return nil, err
	}
	for i, m := range ms {
		m.Seq = offset + int64(i) + 1
	}
	return ms, nil
}

func queryMemberships(ctx context.Context, s *Store, query string, args []any) ([]*conv.Membership, error) {
	rows, err := s.q.QueryContext(ctx, s.bind(query), args...)
	if err != nil {
		return nil, s.mapErr(err)
	}
	defer rows.Close()
	var out []*conv.Membership
	for rows.Next() {
		m, err := scanMembership(rows)
		if err != nil {
			return nil, s.mapErr(err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, s.mapErr(err)
	}
	return out, nil
}

// GetNotificationLevel returns a participant's notification level or conv.ErrNotFound.
func (s *Store) GetNotificationLevel(ctx context.Context, conversationSid, participantSid string) (string, error) {
	var level string
	err := s.q.QueryRowContext(ctx, s.bind(`SELECT notification_level FROM participants WHERE sid = ? AND conversation_sid = ?`),
		participantSid, conversationSid).Scan(&level)
	return level, s.mapErr(err)
}

// SetNotificationLevel writes a participant's notification level.
func (s *Store) SetNotificationLevel(ctx context.Context, conversationSid, participantSid, level string) error {
	return s.execOne(ctx, `UPDATE participants SET notification_level = ? WHERE sid = ? AND conversation_sid = ?`,
		level, participantSid, conversationSid)
}
