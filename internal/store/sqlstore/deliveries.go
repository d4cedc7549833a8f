package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/parley-dev/parley/internal/conv"
)

// msgDeliveryColNames are the columns of deliveries, in the order scanMsgDelivery reads them.
var msgDeliveryColNames = []string{"seq", "sid", "account_sid", "service_sid", "conversation_sid", "message_sid", "message_index",
	"participant_sid", "channel", "identity", "address", "proxy_address", "status", "attempts", "next_attempt_at", "lease_owner",
	"lease_until", "channel_message_sid", "error_code", "error_message", "date_created", "date_updated"}

var (
	msgDeliveryCols = strings.Join(msgDeliveryColNames, ", ")
	// msgDeliveryReadCols are the delivery columns (as d) and the recipient's current presence and
	// read horizon (as p), for reads joined with participants.
	msgDeliveryReadCols = "d." + strings.Join(msgDeliveryColNames, ", d.") + ", p.sid, p.last_read_message_index"
)

// msgDeliveryFrom is the FROM clause of delivery reads.
const msgDeliveryFrom = ` FROM deliveries d LEFT JOIN participants p ON p.sid = d.participant_sid`

func millis(t time.Time) int64 { return t.UnixMilli() }

func fromMillis(n int64) time.Time { return time.UnixMilli(n).UTC() }

// scanMsgDelivery reads the delivery columns and, when joined, the recipient columns.
func scanMsgDelivery(joined bool) func(r rowScanner) (*conv.Delivery, error) {
	return func(r rowScanner) (*conv.Delivery, error) {
		var d conv.Delivery
		var id, psid sql.NullString
		var lri sql.NullInt64
		var next, lease, dc, du int64
		dest := []any{&d.Seq, &d.Sid, &d.AccountSid, &d.ServiceSid, &d.ConversationSid, &d.MessageSid, &d.MessageIndex,
			&d.ParticipantSid, &d.Channel, &id, &d.Address, &d.ProxyAddress, &d.Status, &d.Attempts, &next, &d.LeaseOwner,
			&lease, &d.ChannelMessageSid, &d.ErrorCode, &d.ErrorMessage, &dc, &du}
		if joined {
			dest = append(dest, &psid, &lri)
		}
		if err := r.Scan(dest...); err != nil {
			return nil, err
		}
		d.Identity = strPtr(id)
		d.NextAttemptAt, d.LeaseUntil = fromMillis(next), fromMillis(lease)
		d.DateCreated, d.DateUpdated = fromUnix(dc), fromUnix(du)
		d.RecipientPresent = psid.Valid
		if lri.Valid {
			n := lri.Int64
			d.RecipientReadIndex = &n
		}
		return &d, nil
	}
}

// placeholders returns n comma-separated '?'.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// CreateDelivery inserts a delivery and sets its Seq.
func (s *Store) CreateDelivery(ctx context.Context, d *conv.Delivery) error {
	seq, err := s.insertSeq(ctx, `INSERT INTO deliveries (sid, account_sid, service_sid, conversation_sid, message_sid, message_index,
		participant_sid, channel, identity, address, proxy_address, status, attempts, next_attempt_at, lease_owner, lease_until,
		channel_message_sid, error_code, error_message, date_created, date_updated)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.Sid, d.AccountSid, d.ServiceSid, d.ConversationSid, d.MessageSid, d.MessageIndex, d.ParticipantSid, d.Channel,
		nullStr(d.Identity), d.Address, d.ProxyAddress, d.Status, d.Attempts, millis(d.NextAttemptAt), d.LeaseOwner,
		millis(d.LeaseUntil), d.ChannelMessageSid, d.ErrorCode, d.ErrorMessage, unix(d.DateCreated), unix(d.DateUpdated))
	d.Seq = seq
	return err
}

// GetDelivery returns a delivery of the message or conv.ErrNotFound.
func (s *Store) GetDelivery(ctx context.Context, messageSid, sid string) (*conv.Delivery, error) {
	d, err := scanMsgDelivery(true)(s.q.QueryRowContext(ctx, s.bind(`SELECT `+msgDeliveryReadCols+msgDeliveryFrom+` WHERE d.sid = ? AND d.message_sid = ?`), sid, messageSid))
	return d, s.mapErr(err)
}

// ListMessageDeliveries returns the deliveries of the messages in creation order.
func (s *Store) ListMessageDeliveries(ctx context.Context, messageSids []string, nonChatOnly bool) ([]*conv.Delivery, error) {
	if len(messageSids) == 0 {
		return nil, nil
	}
	q := `SELECT ` + msgDeliveryReadCols + msgDeliveryFrom + ` WHERE d.message_sid IN (` + placeholders(len(messageSids)) + `)`
	args := make([]any, 0, len(messageSids)+1)
	for _, sid := range messageSids {
		args = append(args, sid)
	}
	if nonChatOnly {
		q += ` AND d.channel <> ?`
		args = append(args, conv.ChannelChat)
	}
	return queryRows(ctx, s, q+` ORDER BY d.seq`, args, false, scanMsgDelivery(true))
}

// ClaimDeliveries leases due pending non-chat deliveries with one atomic UPDATE. The outer
// WHERE repeats the due conditions: on PostgreSQL a concurrent claimer that waited for a row
// lock re-evaluates them on the committed row and skips rows the winner leased.
func (s *Store) ClaimDeliveries(ctx context.Context, c conv.DeliveryClaim) ([]*conv.Delivery, error) {
	now := millis(c.Now)
	ds, err := queryRows(ctx, s, `UPDATE deliveries SET lease_owner = ?, lease_until = ?, attempts = attempts + 1
		WHERE seq IN (SELECT seq FROM deliveries WHERE status = ? AND channel <> ? AND next_attempt_at <= ? AND lease_until <= ?
			ORDER BY seq LIMIT ?)
		AND status = ? AND lease_until <= ?
		RETURNING `+msgDeliveryCols,
		[]any{c.Owner, millis(c.LeaseUntil), conv.DeliveryPending, conv.ChannelChat, now, now, c.Limit, conv.DeliveryPending, now},
		false, scanMsgDelivery(false))
	if err != nil {
		return nil, err
	}
	// RETURNING has no defined order.
	slices.SortFunc(ds, func(a, b *conv.Delivery) int { return cmp.Compare(a.Seq, b.Seq) })
	return ds, nil
}

// SettleDelivery writes the outcome of a leased delivery and ends the lease.
func (s *Store) SettleDelivery(ctx context.Context, d *conv.Delivery, owner string) error {
	err := s.execOne(ctx, `UPDATE deliveries SET status = ?, next_attempt_at = ?, lease_owner = '', lease_until = 0, channel_message_sid = ?,
		error_code = ?, error_message = ?, date_updated = ? WHERE sid = ? AND lease_owner = ? AND status = ?`,
		d.Status, millis(d.NextAttemptAt), d.ChannelMessageSid, d.ErrorCode, d.ErrorMessage, unix(d.DateUpdated), d.Sid, owner, conv.DeliveryPending)
	if err != nil {
		return fmt.Errorf("settle delivery %s: %w", d.Sid, err)
	}
	return nil
}

// ListIdentityDeliveries returns chat deliveries to the identity above afterSeq or pending.
func (s *Store) ListIdentityDeliveries(ctx context.Context, serviceSid, identity string, afterSeq int64, limit int) ([]*conv.Delivery, error) {
	return queryRows(ctx, s, `SELECT `+msgDeliveryReadCols+msgDeliveryFrom+`
		WHERE d.service_sid = ? AND d.identity = ? AND d.channel = ? AND (d.seq > ? OR d.status = ?) ORDER BY d.seq LIMIT ?`,
		[]any{serviceSid, identity, conv.ChannelChat, afterSeq, conv.DeliveryPending, limit}, false, scanMsgDelivery(true))
}

// MaxIdentityDeliverySeq returns the highest seq of a chat delivery to the identity (0: none).
func (s *Store) MaxIdentityDeliverySeq(ctx context.Context, serviceSid, identity string) (int64, error) {
	var n sql.NullInt64
	err := s.q.QueryRowContext(ctx, s.bind(`SELECT MAX(seq) FROM deliveries WHERE service_sid = ? AND identity = ? AND channel = ?`),
		serviceSid, identity, conv.ChannelChat).Scan(&n)
	return n.Int64, s.mapErr(err)
}

// MarkDeliveriesDelivered sets the pending ones among the deliveries to delivered.
func (s *Store) MarkDeliveriesDelivered(ctx context.Context, sids []string, at time.Time) error {
	if len(sids) == 0 {
		return nil
	}
	args := []any{conv.DeliveryDelivered, unix(at)}
	for _, sid := range sids {
		args = append(args, sid)
	}
	args = append(args, conv.DeliveryPending)
	_, err := s.exec(ctx, `UPDATE deliveries SET status = ?, date_updated = ? WHERE sid IN (`+placeholders(len(sids))+`) AND status = ?`, args...)
	return err
}

const outboxCols = `seq, sid, delivery_sid, account_sid, service_sid, conversation_sid, message_sid, message_index, participant_sid,
	channel, to_address, from_address, author, body, date_created, media_sid`

func scanOutbox(r rowScanner) (*conv.OutboxEntry, error) {
	var e conv.OutboxEntry
	var body sql.NullString
	var dc int64
	if err := r.Scan(&e.Seq, &e.Sid, &e.DeliverySid, &e.AccountSid, &e.ServiceSid, &e.ConversationSid, &e.MessageSid, &e.MessageIndex,
		&e.ParticipantSid, &e.Channel, &e.To, &e.From, &e.Author, &body, &dc, &e.MediaSid); err != nil {
		return nil, err
	}
	e.Body, e.DateCreated = strPtr(body), fromUnix(dc)
	return &e, nil
}

// InsertOutbox records an outbox entry; conv.ErrConflict when its delivery is already
// recorded. A recorded delivery is skipped (ON CONFLICT DO NOTHING) rather than raised, so
// the transaction stays usable on PostgreSQL.
func (s *Store) InsertOutbox(ctx context.Context, e *conv.OutboxEntry) error {
	var seq int64
	err := s.q.QueryRowContext(ctx, s.bind(`INSERT INTO outbox (sid, delivery_sid, account_sid, service_sid, conversation_sid, message_sid,
		message_index, participant_sid, channel, to_address, from_address, author, body, date_created, media_sid)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (delivery_sid) DO NOTHING RETURNING seq`),
		e.Sid, e.DeliverySid, e.AccountSid, e.ServiceSid, e.ConversationSid, e.MessageSid, e.MessageIndex, e.ParticipantSid,
		e.Channel, e.To, e.From, e.Author, nullStr(e.Body), unix(e.DateCreated), e.MediaSid).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: delivery %s is already in the outbox", conv.ErrConflict, e.DeliverySid)
	}
	if err != nil {
		return s.mapErr(err)
	}
	e.Seq = seq
	return nil
}

// GetOutboxByDelivery returns the outbox entry of a delivery or conv.ErrNotFound.
func (s *Store) GetOutboxByDelivery(ctx context.Context, deliverySid string) (*conv.OutboxEntry, error) {
	e, err := scanOutbox(s.q.QueryRowContext(ctx, s.bind(`SELECT `+outboxCols+` FROM outbox WHERE delivery_sid = ?`), deliverySid))
	return e, s.mapErr(err)
}

// ListOutbox returns one page of the account's outbox.
func (s *Store) ListOutbox(ctx context.Context, accountSid string, f conv.OutboxFilter, q conv.PageQuery) ([]*conv.OutboxEntry, error) {
	base := `SELECT ` + outboxCols + ` FROM outbox WHERE account_sid = ?`
	args := []any{accountSid}
	if f.To != "" {
		base += ` AND to_address = ?`
		args = append(args, f.To)
	}
	if f.ConversationSid != "" {
		base += ` AND conversation_sid = ?`
		args = append(args, f.ConversationSid)
	}
	return listRows(ctx, s, base, args, q, scanOutbox)
}
