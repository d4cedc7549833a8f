package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/parley-dev/parley/internal/conv"
)

// The push outbox (push_notifications) and push binding lookups by device.

const pushCols = `seq, sid, account_sid, service_sid, conversation_sid, message_sid, binding_sid, binding_type, credential_sid,
	identity, address, message_type, body, sound, badge, data, date_created`

func scanPush(r rowScanner) (*conv.PushNotification, error) {
	var p conv.PushNotification
	var sound sql.NullString
	var badge sql.NullInt64
	var data string
	var dc int64
	if err := r.Scan(&p.Seq, &p.Sid, &p.AccountSid, &p.ServiceSid, &p.ConversationSid, &p.MessageSid, &p.BindingSid, &p.BindingType,
		&p.CredentialSid, &p.Identity, &p.Address, &p.MessageType, &p.Body, &sound, &badge, &data, &dc); err != nil {
		return nil, err
	}
	p.Sound = strPtr(sound)
	if badge.Valid {
		p.Badge = &badge.Int64
	}
	if err := json.Unmarshal([]byte(data), &p.Data); err != nil {
		return nil, err
	}
	p.DateCreated = fromUnix(dc)
	return &p, nil
}

// InsertPush records a push and sets its Seq.
func (s *Store) InsertPush(ctx context.Context, p *conv.PushNotification) error {
	data, err := json.Marshal(p.Data)
	if err != nil {
		return err
	}
	var badge sql.NullInt64
	if p.Badge != nil {
		badge = sql.NullInt64{Int64: *p.Badge, Valid: true}
	}
	p.Seq, err = s.insertSeq(ctx, `INSERT INTO push_notifications (sid, account_sid, service_sid, conversation_sid, message_sid, binding_sid,
		binding_type, credential_sid, identity, address, message_type, body, sound, badge, data, date_created)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.Sid, p.AccountSid, p.ServiceSid, p.ConversationSid, p.MessageSid, p.BindingSid, p.BindingType, p.CredentialSid, p.Identity,
		p.Address, p.MessageType, p.Body, nullStr(p.Sound), badge, string(data), unix(p.DateCreated))
	return err
}

// ListPushes returns one page of the account's push outbox.
func (s *Store) ListPushes(ctx context.Context, accountSid string, f conv.PushFilter, q conv.PageQuery) ([]*conv.PushNotification, error) {
	base := `SELECT ` + pushCols + ` FROM push_notifications WHERE account_sid = ?`
	args := []any{accountSid}
	for _, c := range []struct{ col, v string }{{"identity", f.Identity}, {"binding_sid", f.BindingSid}, {"conversation_sid", f.ConversationSid}} {
		if c.v != "" {
			base += ` AND ` + c.col + ` = ?`
			args = append(args, c.v)
		}
	}
	return listRows(ctx, s, base, args, q, scanPush)
}

// FindPushBinding returns the binding of identity for a device, or conv.ErrNotFound.
func (s *Store) FindPushBinding(ctx context.Context, serviceSid, identity, bindingType, address string) (*conv.PushBinding, error) {
	b, err := scanPushBinding(s.q.QueryRowContext(ctx, s.bind(`SELECT `+pushBindingCols+` FROM push_bindings
		WHERE service_sid = ? AND identity = ? AND binding_type = ? AND address = ? ORDER BY seq LIMIT 1`), serviceSid, identity, bindingType, address))
	return b, s.mapErr(err)
}

// UpdatePushBinding writes a binding's credential, endpoint, message types and date_updated.
func (s *Store) UpdatePushBinding(ctx context.Context, b *conv.PushBinding) error {
	types, err := jsonList(b.MessageTypes)
	if err != nil {
		return err
	}
	return s.execOne(ctx, `UPDATE push_bindings SET credential_sid = ?, endpoint = ?, message_types = ?, date_updated = ? WHERE sid = ?`,
		b.CredentialSid, b.Endpoint, types, unix(b.DateUpdated), b.Sid)
}
