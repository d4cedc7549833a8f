package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/parley-dev/parley/internal/conv"
)

const participantCols = `seq, sid, account_sid, service_sid, conversation_sid, identity, attributes, binding_type, binding_address,
	binding_proxy_address, binding_projected_address, role_sid, last_read_message_index, last_read_timestamp, date_created, date_updated`

func scanParticipant(r rowScanner) (*conv.Participant, error) {
	var p conv.Participant
	var id, lrt sql.NullString
	var lri sql.NullInt64
	var b conv.Binding
	var dc, du int64
	if err := r.Scan(&p.Seq, &p.Sid, &p.AccountSid, &p.ServiceSid, &p.ConversationSid, &id, &p.Attributes, &b.Type, &b.Address,
		&b.ProxyAddress, &b.ProjectedAddress, &p.RoleSid, &lri, &lrt, &dc, &du); err != nil {
		return nil, err
	}
	p.Identity, p.LastReadTimestamp = strPtr(id), strPtr(lrt)
	if lri.Valid {
		n := lri.Int64
		p.LastReadMessageIndex = &n
	}
	if b.Type != "" {
		p.Binding = &b
	}
	p.DateCreated, p.DateUpdated = fromUnix(dc), fromUnix(du)
	return &p, nil
}

func bindingCols(b *conv.Binding) (typ, addr, proxy, projected string) {
	if b == nil {
		return "", "", "", ""
	}
	return b.Type, b.Address, b.ProxyAddress, b.ProjectedAddress
}

func nullInt(n *int64) sql.NullInt64 {
	if n == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: *n, Valid: true}
}

// CreateParticipant inserts a participant and sets its Seq.
func (s *Store) CreateParticipant(ctx context.Context, p *conv.Participant) error {
	typ, addr, proxy, projected := bindingCols(p.Binding)
	seq, err := s.insertSeq(ctx, `INSERT INTO participants (sid, account_sid, service_sid, conversation_sid, identity, attributes, binding_type,
		binding_address, binding_proxy_address, binding_projected_address, role_sid, last_read_message_index, last_read_timestamp, date_created, date_updated)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.Sid, p.AccountSid, p.ServiceSid, p.ConversationSid, nullStr(p.Identity), p.Attributes, typ, addr, proxy, projected,
		p.RoleSid, nullInt(p.LastReadMessageIndex), nullStr(p.LastReadTimestamp), unix(p.DateCreated), unix(p.DateUpdated))
	p.Seq = seq
	return err
}

// GetParticipant returns a participant of the conversation or conv.ErrNotFound.
func (s *Store) GetParticipant(ctx context.Context, conversationSid, sid string) (*conv.Participant, error) {
	sel, scan := s.participantSelect()
	p, err := scan(s.q.QueryRowContext(ctx, s.bind(sel+` WHERE sid = ? AND conversation_sid = ?`), sid, conversationSid))
	return p, s.mapErr(err)
}

// GetParticipantByIdentity returns a participant of the conversation or conv.ErrNotFound.
func (s *Store) GetParticipantByIdentity(ctx context.Context, conversationSid, identity string) (*conv.Participant, error) {
	sel, scan := s.participantSelect()
	p, err := scan(s.q.QueryRowContext(ctx, s.bind(sel+` WHERE conversation_sid = ? AND identity = ?`), conversationSid, identity))
	return p, s.mapErr(err)
}

// FindParticipantByAddress returns the conversation's participant with that address and
// proxy address, or conv.ErrNotFound.
func (s *Store) FindParticipantByAddress(ctx context.Context, conversationSid, address, proxy string) (*conv.Participant, error) {
	sel, scan := s.participantSelect()
	p, err := scan(s.q.QueryRowContext(ctx, s.bind(sel+`
		WHERE conversation_sid = ? AND binding_address = ? AND binding_proxy_address = ? AND identity IS NULL ORDER BY seq LIMIT 1`), conversationSid, address, proxy))
	return p, s.mapErr(err)
}

// ListParticipants returns one page of the conversation's participants.
func (s *Store) ListParticipants(ctx context.Context, conversationSid string, q conv.PageQuery) ([]*conv.Participant, error) {
	sel, scan := s.participantSelect()
	return listRows(ctx, s, sel+` WHERE conversation_sid = ?`, []any{conversationSid}, q, scan)
}

// CountParticipants returns the conversation's participant counters (kept by the
// participants_count triggers of migration 0006); zero counts for an unknown conversation.
func (s *Store) CountParticipants(ctx context.Context, conversationSid string) (conv.ParticipantCounts, error) {
	var c conv.ParticipantCounts
	err := s.q.QueryRowContext(ctx, s.bind(`SELECT participants_chat, participants_non_chat, participants_projected
		FROM conversations WHERE sid = ?`), conversationSid).Scan(&c.Chat, &c.NonChat, &c.Projected)
	if errors.Is(err, sql.ErrNoRows) {
		return conv.ParticipantCounts{}, nil
	}
	return c, s.mapErr(err)
}

// UpdateParticipant writes every mutable field of p.
func (s *Store) UpdateParticipant(ctx context.Context, p *conv.Participant) error {
	typ, addr, proxy, projected := bindingCols(p.Binding)
	return s.execOne(ctx, `UPDATE participants SET identity = ?, attributes = ?, binding_type = ?, binding_address = ?, binding_proxy_address = ?,
		binding_projected_address = ?, role_sid = ?, last_read_message_index = ?, last_read_timestamp = ?, date_created = ?, date_updated = ?
		WHERE sid = ? AND conversation_sid = ?`,
		nullStr(p.Identity), p.Attributes, typ, addr, proxy, projected, p.RoleSid, nullInt(p.LastReadMessageIndex), nullStr(p.LastReadTimestamp),
		unix(p.DateCreated), unix(p.DateUpdated), p.Sid, p.ConversationSid)
}

// DeleteParticipant deletes a participant; its binding claim cascades.
func (s *Store) DeleteParticipant(ctx context.Context, conversationSid, sid string) error {
	return s.execOne(ctx, `DELETE FROM participants WHERE sid = ? AND conversation_sid = ?`, sid, conversationSid)
}

// ClaimBinding records an (address, proxy) claim; conv.ErrConflict when it is taken. A taken
// pair is skipped (ON CONFLICT DO NOTHING) rather than raised, so that the transaction stays
// usable on engines that abort a transaction on a constraint violation (PostgreSQL).
func (s *Store) ClaimBinding(ctx context.Context, c *conv.BindingClaim) error {
	res, err := s.exec(ctx, `INSERT INTO binding_claims (account_sid, address, proxy_address, conversation_sid, participant_sid) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (account_sid, address, proxy_address) DO NOTHING`,
		c.AccountSid, c.Address, c.ProxyAddress, c.ConversationSid, c.ParticipantSid)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return s.mapErr(err)
	}
	if n == 0 {
		return fmt.Errorf("%w: %s/%s is already claimed", conv.ErrConflict, c.Address, c.ProxyAddress)
	}
	return nil
}

// GetBindingClaim returns the claim on (address, proxy) or conv.ErrNotFound.
func (s *Store) GetBindingClaim(ctx context.Context, accountSid, address, proxy string) (*conv.BindingClaim, error) {
	var c conv.BindingClaim
	err := s.q.QueryRowContext(ctx, s.bind(`SELECT account_sid, address, proxy_address, conversation_sid, participant_sid FROM binding_claims
		WHERE account_sid = ? AND address = ? AND proxy_address = ?`), accountSid, address, proxy).
		Scan(&c.AccountSid, &c.Address, &c.ProxyAddress, &c.ConversationSid, &c.ParticipantSid)
	if err != nil {
		return nil, s.mapErr(err)
	}
	return &c, nil
}

// ReleaseParticipantClaims deletes a participant's claims.
func (s *Store) ReleaseParticipantClaims(ctx context.Context, participantSid string) error {
	_, err := s.exec(ctx, `DELETE FROM binding_claims WHERE participant_sid = ?`, participantSid)
	return err
}

// ReleaseConversationClaims deletes the claims of a conversation's participants.
func (s *Store) ReleaseConversationClaims(ctx context.Context, conversationSid string) error {
	_, err := s.exec(ctx, `DELETE FROM binding_claims WHERE conversation_sid = ?`, conversationSid)
	return err
}
