package sqlstore

import (
	"context"
	"database/sql"
	"strings"

	"github.com/parley-dev/parley/internal/conv"
)

const messageCols = `seq, sid, account_sid, service_sid, conversation_sid, idx, author, body, attributes, participant_sid,
	content_sid, content_variables, subject, date_created, date_updated, media`

func scanMessage(r rowScanner) (*conv.Message, error) {
	var m conv.Message
	var body sql.NullString
	var dc, du int64
	var media string
	if err := r.Scan(&m.Seq, &m.Sid, &m.AccountSid, &m.ServiceSid, &m.ConversationSid, &m.Index, &m.Author, &body, &m.Attributes,
		&m.ParticipantSid, &m.ContentSid, &m.ContentVariables, &m.Subject, &dc, &du, &media); err != nil {
		return nil, err
	}
	var err error
	if m.Media, err = parseMediaJSON(media); err != nil {
		return nil, err
	}
	m.Body = strPtr(body)
	m.DateCreated, m.DateUpdated = fromUnix(dc), fromUnix(du)
	return &m, nil
}

// NextMessageIndex returns the conversation's next message index and advances its counter.
// The UPDATE locks the conversation row, so concurrent writers get distinct indexes.
func (s *Store) NextMessageIndex(ctx context.Context, conversationSid string) (int64, error) {
	var next int64
	err := s.q.QueryRowContext(ctx, s.bind(`UPDATE conversations SET next_message_index = next_message_index + 1 WHERE sid = ?
		RETURNING next_message_index`), conversationSid).Scan(&next)
	if err != nil {
		return 0, s.mapErr(err)
	}
	return next - 1, nil
}

// MessageIndexCounter returns the index the conversation's next message would get.
func (s *Store) MessageIndexCounter(ctx context.Context, conversationSid string) (int64, error) {
	var next int64
	err := s.q.QueryRowContext(ctx, s.bind(`SELECT next_message_index FROM conversations WHERE sid = ?`), conversationSid).Scan(&next)
	return next, s.mapErr(err)
}

// CreateMessage inserts a message and sets its Seq.
func (s *Store) CreateMessage(ctx context.Context, m *conv.Message) error {
	media, err := mediaJSON(m.Media)
	if err != nil {
		return err
	}
	seq, err := s.insertSeq(ctx, `INSERT INTO messages (sid, account_sid, service_sid, conversation_sid, idx, author, body, attributes,
		participant_sid, content_sid, content_variables, subject, date_created, date_updated, media)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.Sid, m.AccountSid, m.ServiceSid, m.ConversationSid, m.Index, m.Author, nullStr(m.Body), m.Attributes,
		m.ParticipantSid, m.ContentSid, m.ContentVariables, m.Subject, unix(m.DateCreated), unix(m.DateUpdated), media)
	m.Seq = seq
	return err
}

// GetMessage returns a message of the conversation or conv.ErrNotFound.
func (s *Store) GetMessage(ctx context.Context, conversationSid, sid string) (*conv.Message, error) {
	m, err := scanMessage(s.q.QueryRowContext(ctx, s.bind(`SELECT `+messageCols+` FROM messages WHERE sid = ? AND conversation_sid = ?`), sid, conversationSid))
	return m, s.mapErr(err)
}

// ListMessages returns one page of the conversation's messages, ascending or descending.
// Within a conversation seq grows with the index (both are assigned under the conversation's
// row lock), so seq order is index order.
func (s *Store) ListMessages(ctx context.Context, conversationSid string, q conv.MessageQuery) ([]*conv.Message, error) {
	var sb strings.Builder
	sb.WriteString(`SELECT ` + messageCols + ` FROM messages WHERE conversation_sid = ?`)
	args := []any{conversationSid}
	var reversed bool
	if q.Desc {
		args, reversed = pageDesc(&sb, args, q.PageQuery)
	} else {
		args, reversed = page(&sb, args, q.PageQuery)
	}
	return queryRows(ctx, s, sb.String(), args, reversed, scanMessage)
}

// pageDesc is page for lists in descending seq order: AfterSeq continues below a row,
// BeforeSeq returns the rows just above one. It reports whether the rows come back ascending
// (to be reversed).
func pageDesc(sb *strings.Builder, args []any, q conv.PageQuery) ([]any, bool) {
	size := q.Size
	if size <= 0 {
		size = 50
	}
	switch {
	case q.AfterSeq > 0:
		sb.WriteString(" AND seq < ? ORDER BY seq DESC LIMIT ?")
		return append(args, q.AfterSeq, size), false
	case q.BeforeSeq > 0:
		sb.WriteString(" AND seq > ? ORDER BY seq ASC LIMIT ?")
		return append(args, q.BeforeSeq, size), true
	default:
		sb.WriteString(" ORDER BY seq DESC LIMIT ? OFFSET ?")
		return append(args, size, q.Offset), false
	}
}

// queryRows runs a query and scans every row with scan, reversing them when reversed is set.
func queryRows[T any](ctx context.Context, s *Store, query string, args []any, reversed bool, scan func(rowScanner) (*T, error)) ([]*T, error) {
	rows, err := s.q.QueryContext(ctx, s.bind(query), args...)
	if err != nil {
		return nil, s.mapErr(err)
	}
	defer rows.Close()
	var out []*T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, s.mapErr(err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, s.mapErr(err)
	}
	if reversed {
		reverse(out)
	}
	return out, nil
}

// UpdateMessage writes every mutable field of m.
func (s *Store) UpdateMessage(ctx context.Context, m *conv.Message) error {
	return s.execOne(ctx, `UPDATE messages SET author = ?, body = ?, attributes = ?, participant_sid = ?, subject = ?, date_created = ?, date_updated = ?
		WHERE sid = ? AND conversation_sid = ?`,
		m.Author, nullStr(m.Body), m.Attributes, m.ParticipantSid, m.Subject, unix(m.DateCreated), unix(m.DateUpdated), m.Sid, m.ConversationSid)
}

// DeleteMessage deletes a message; its deliveries cascade.
func (s *Store) DeleteMessage(ctx context.Context, conversationSid, sid string) error {
	return s.execOne(ctx, `DELETE FROM messages WHERE sid = ? AND conversation_sid = ?`, sid, conversationSid)
}

// CountMessagesAfter counts the conversation's messages with an index above index.
func (s *Store) CountMessagesAfter(ctx context.Context, conversationSid string, index int64) (int64, error) {
	var n int64
	err := s.q.QueryRowContext(ctx, s.bind(`SELECT COUNT(*) FROM messages WHERE conversation_sid = ? AND idx > ?`), conversationSid, index).Scan(&n)
	return n, s.mapErr(err)
}

// FindAuthorParticipant returns the participant with identity author, else the first non-chat
// participant with binding address author, or conv.ErrNotFound.
func (s *Store) FindAuthorParticipant(ctx context.Context, conversationSid, author string) (*conv.Participant, error) {
	p, err := scanParticipant(s.q.QueryRowContext(ctx, s.bind(`SELECT `+participantCols+` FROM participants
		WHERE conversation_sid = ? AND (identity = ? OR (identity IS NULL AND binding_address = ?))
		ORDER BY CASE WHEN identity IS NULL THEN 1 ELSE 0 END, seq LIMIT 1`), conversationSid, author, author))
	return p, s.mapErr(err)
}
