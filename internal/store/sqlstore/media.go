package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/parley-dev/parley/internal/conv"
)

// Media Content Service rows: media (one per item) and media_chunks (its bytes).

const mediaCols = `seq, sid, account_sid, service_sid, conversation_sid, message_sid, content_type, size, filename, author,
	category, date_created, date_updated, external_url`

func scanMedia(r rowScanner) (*conv.Media, error) {
	var m conv.Media
	var convSid, msgSid, filename sql.NullString
	var dc, du int64
	if err := r.Scan(&m.Seq, &m.Sid, &m.AccountSid, &m.ServiceSid, &convSid, &msgSid, &m.ContentType, &m.Size, &filename,
		&m.Author, &m.Category, &dc, &du, &m.ExternalURL); err != nil {
		return nil, err
	}
	m.ConversationSid, m.MessageSid, m.Filename = convSid.String, msgSid.String, filename.String
	m.DateCreated, m.DateUpdated = fromUnix(dc), fromUnix(du)
	return &m, nil
}

func emptyNull(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// CreateMedia inserts an incomplete media row (its upload starts) and sets m.Seq.
func (s *Store) CreateMedia(ctx context.Context, m *conv.Media) error {
	seq, err := s.insertSeq(ctx, `INSERT INTO media (sid, account_sid, service_sid, conversation_sid, message_sid, content_type, size,
		filename, author, category, complete, date_created, date_updated, external_url) VALUES (?, ?, ?, NULL, NULL, ?, 0, ?, ?, ?, 0, ?, ?, ?)`,
		m.Sid, m.AccountSid, m.ServiceSid, m.ContentType, emptyNull(m.Filename), m.Author, m.Category, unix(m.DateCreated), unix(m.DateUpdated),
		m.ExternalURL)
	m.Seq = seq
	return err
}

// PutMediaChunk writes chunk n of an incomplete media item (replacing it when a retried
// transaction writes it again).
func (s *Store) PutMediaChunk(ctx context.Context, mediaSid string, n int, data []byte) error {
	if _, err := s.exec(ctx, `DELETE FROM media_chunks WHERE media_sid = ? AND n = ?`, mediaSid, n); err != nil {
		return err
	}
	_, err := s.exec(ctx, `INSERT INTO media_chunks (media_sid, n, data) VALUES (?, ?, ?)`, mediaSid, n, data)
	return err
}

// CompleteMedia marks an upload complete with its size.
func (s *Store) CompleteMedia(ctx context.Context, sid string, size int64, at time.Time) error {
	return s.execOne(ctx, `UPDATE media SET complete = 1, size = ?, date_updated = ? WHERE sid = ? AND complete = 0`, size, unix(at), sid)
}

// GetMedia returns a complete media item (of any account), or conv.ErrNotFound.
func (s *Store) GetMedia(ctx context.Context, sid string) (*conv.Media, error) {
	m, err := scanMedia(s.q.QueryRowContext(ctx, s.bind(`SELECT `+mediaCols+` FROM media WHERE sid = ? AND complete = 1`), sid))
	return m, s.mapErr(err)
}

// GetMediaChunk returns chunk n of a media item, or conv.ErrNotFound past its last chunk.
func (s *Store) GetMediaChunk(ctx context.Context, mediaSid string, n int) ([]byte, error) {
	var b []byte
	err := s.q.QueryRowContext(ctx, s.bind(`SELECT data FROM media_chunks WHERE media_sid = ? AND n = ?`), mediaSid, n).Scan(&b)
	return b, s.mapErr(err)
}

// AttachMedia links a media item to its message.
func (s *Store) AttachMedia(ctx context.Context, sid, conversationSid, messageSid string, at time.Time) error {
	return s.execOne(ctx, `UPDATE media SET conversation_sid = ?, message_sid = ?, date_updated = ? WHERE sid = ? AND message_sid IS NULL`,
		conversationSid, messageSid, unix(at), sid)
}

// DeleteMedia deletes a media item and its chunks.
func (s *Store) DeleteMedia(ctx context.Context, sid string) error {
	if _, err := s.exec(ctx, `DELETE FROM media_chunks WHERE media_sid = ?`, sid); err != nil {
		return err
	}
	return s.execOne(ctx, `DELETE FROM media WHERE sid = ?`, sid)
}

// DeleteStaleMedia deletes, with their chunks, the media items not attached to a message
// that were completed before completedBefore or (incomplete uploads) started before
// startedBefore. It returns how many it deleted.
func (s *Store) DeleteStaleMedia(ctx context.Context, completedBefore, startedBefore time.Time) (int64, error) {
	const where = `message_sid IS NULL AND ((complete = 1 AND date_updated < ?) OR (complete = 0 AND date_created < ?))`
	args := []any{unix(completedBefore), unix(startedBefore)}
	if _, err := s.exec(ctx, `DELETE FROM media_chunks WHERE media_sid IN (SELECT sid FROM media WHERE `+where+`)`, args...); err != nil {
		return 0, err
	}
	res, err := s.exec(ctx, `DELETE FROM media WHERE `+where, args...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return n, s.mapErr(err)
}

// mediaJSON encodes a message's media list for the messages.media column (” for none).
func mediaJSON(refs []conv.MediaRef) (string, error) {
	if len(refs) == 0 {
		return "", nil
	}
	type ref struct {
		Sid         string `json:"sid"`
		Size        int64  `json:"size"`
		ContentType string `json:"content_type"`
		Filename    string `json:"filename,omitempty"`
	}
	out := make([]ref, len(refs))
	for i, r := range refs {
		out[i] = ref{r.Sid, r.Size, r.ContentType, r.Filename}
	}
	b, err := json.Marshal(out)
	return string(b), err
}

// parseMediaJSON decodes the messages.media column.
func parseMediaJSON(s string) ([]conv.MediaRef, error) {
	if s == "" {
		return nil, nil
	}
	var in []struct {
		Sid         string `json:"sid"`
		Size        int64  `json:"size"`
		ContentType string `json:"content_type"`
		Filename    string `json:"filename"`
	}
	if err := json.Unmarshal([]byte(s), &in); err != nil {
		return nil, fmt.Errorf("messages.media: %w", err)
	}
	out := make([]conv.MediaRef, len(in))
	for i, r := range in {
		out[i] = conv.MediaRef{Sid: r.Sid, Size: r.Size, ContentType: r.ContentType, Filename: r.Filename}
	}
	return out, nil
}
