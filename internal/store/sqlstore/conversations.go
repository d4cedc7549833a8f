package sqlstore

import (
	"context"
	"database/sql"

	"github.com/parley-dev/parley/internal/conv"
)

const conversationCols = `seq, sid, account_sid, service_sid, messaging_service_sid, friendly_name, unique_name, attributes, state,
	timer_inactive, timer_closed, date_inactive, date_closed, email_address, email_name, date_created, date_updated`

func scanConversation(r rowScanner) (*conv.Conversation, error) {
	var c conv.Conversation
	var fn, un sql.NullString
	var di, dcl sql.NullInt64
	var dc, du int64
	if err := r.Scan(&c.Seq, &c.Sid, &c.AccountSid, &c.ServiceSid, &c.MessagingServiceSid, &fn, &un, &c.Attributes, &c.State,
		&c.TimerInactive, &c.TimerClosed, &di, &dcl, &c.EmailAddress, &c.EmailName, &dc, &du); err != nil {
		return nil, err
	}
	c.FriendlyName, c.UniqueName = strPtr(fn), strPtr(un)
	c.DateInactive, c.DateClosed = timePtr(di), timePtr(dcl)
	c.DateCreated, c.DateUpdated = fromUnix(dc), fromUnix(du)
	return &c, nil
}

// CreateConversation inserts a conversation and sets its Seq.
func (s *Store) CreateConversation(ctx context.Context, c *conv.Conversation) error {
	seq, err := s.insertSeq(ctx, `INSERT INTO conversations (sid, account_sid, service_sid, messaging_service_sid, friendly_name, unique_name, attributes, state,
		timer_inactive, timer_closed, date_inactive, date_closed, email_address, email_name, date_created, date_updated)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.Sid, c.AccountSid, c.ServiceSid, c.MessagingServiceSid, nullStr(c.FriendlyName), nullStr(c.UniqueName), c.Attributes, c.State,
		c.TimerInactive, c.TimerClosed, nullUnix(c.DateInactive), nullUnix(c.DateClosed), c.EmailAddress, c.EmailName, unix(c.DateCreated), unix(c.DateUpdated))
	c.Seq = seq
	return err
}

// GetConversation returns a conversation of the service or conv.ErrNotFound.
func (s *Store) GetConversation(ctx context.Context, serviceSid, sid string) (*conv.Conversation, error) {
	c, err := scanConversation(s.q.QueryRowContext(ctx, s.bind(`SELECT `+conversationCols+` FROM conversations WHERE sid = ? AND service_sid = ?`), sid, serviceSid))
	return c, s.mapErr(err)
}

// GetConversationByUniqueName returns a conversation of the service or conv.ErrNotFound.
func (s *Store) GetConversationByUniqueName(ctx context.Context, serviceSid, name string) (*conv.Conversation, error) {
	c, err := scanConversation(s.q.QueryRowContext(ctx, s.bind(`SELECT `+conversationCols+` FROM conversations WHERE service_sid = ? AND unique_name = ?`), serviceSid, name))
	return c, s.mapErr(err)
}

// ListConversations returns one page of the service's conversations.
func (s *Store) ListConversations(ctx context.Context, serviceSid string, f conv.ConversationFilter, q conv.PageQuery) ([]*conv.Conversation, error) {
	base := `SELECT ` + conversationCols + ` FROM conversations WHERE service_sid = ?`
	args := []any{serviceSid}
	if f.State != "" {
		base += ` AND state = ?`
		args = append(args, f.State)
	}
	if f.StartDate != nil {
		base += ` AND date_created >= ?`
		args = append(args, unix(*f.StartDate))
	}
	if f.EndDate != nil {
		base += ` AND date_created < ?`
		args = append(args, unix(*f.EndDate))
	}
	return listRows(ctx, s, base, args, q, scanConversation)
}

// UpdateConversation writes every mutable field of c.
func (s *Store) UpdateConversation(ctx context.Context, c *conv.Conversation) error {
	return s.execOne(ctx, `UPDATE conversations SET messaging_service_sid = ?, friendly_name = ?, unique_name = ?, attributes = ?, state = ?,
		timer_inactive = ?, timer_closed = ?, date_inactive = ?, date_closed = ?, email_address = ?, email_name = ?, date_created = ?, date_updated = ?
		WHERE sid = ? AND service_sid = ?`,
		c.MessagingServiceSid, nullStr(c.FriendlyName), nullStr(c.UniqueName), c.Attributes, c.State,
		c.TimerInactive, c.TimerClosed, nullUnix(c.DateInactive), nullUnix(c.DateClosed), c.EmailAddress, c.EmailName,
		unix(c.DateCreated), unix(c.DateUpdated), c.Sid, c.ServiceSid)
}

// DeleteConversation deletes a conversation; participants and claims cascade.
func (s *Store) DeleteConversation(ctx context.Context, serviceSid, sid string) error {
	return s.execOne(ctx, `DELETE FROM conversations WHERE sid = ? AND service_sid = ?`, sid, serviceSid)
}

// LockConversation locks the conversation row until the transaction ends.
func (s *Store) LockConversation(ctx context.Context, sid string) error {
	suffix := s.d.LockSuffix()
	if suffix == "" {
		return nil
	}
	var one int
	err := s.q.QueryRowContext(ctx, s.bind(`SELECT 1 FROM conversations WHERE sid = ?`+suffix), sid).Scan(&one)
	return s.mapErr(err)
}
