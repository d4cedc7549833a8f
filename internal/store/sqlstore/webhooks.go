package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"github.com/parley-dev/parley/internal/conv"
)

// SkipLocker is implemented by dialects whose row locks can skip rows another transaction
// holds (PostgreSQL's FOR UPDATE SKIP LOCKED), so that several dispatchers claim different
// outbox rows. Engines with a single writer (SQLite) do not need it.
type SkipLocker interface {
	// SkipLockedSuffix is appended to a SELECT that claims rows.
	SkipLockedSuffix() string
}

func encodeList(xs []string) sql.NullString {
	if xs == nil {
		return sql.NullString{}
	}
	b, _ := json.Marshal(xs)
	return sql.NullString{String: string(b), Valid: true}
}

func decodeList(s sql.NullString) ([]string, error) {
	if !s.Valid {
		return nil, nil
	}
	xs := []string{}
	if err := json.Unmarshal([]byte(s.String), &xs); err != nil {
		return nil, err
	}
	return xs, nil
}

func unixMilli(t time.Time) int64 { return t.UnixMilli() }

func fromUnixMilli(n int64) time.Time { return time.UnixMilli(n).UTC() }

// ---- account-level and service-level configuration ----

// GetWebhookConfig returns the account-level (serviceSid "") or service-level webhook
// configuration, or conv.ErrNotFound when it was never set.
func (s *Store) GetWebhookConfig(ctx context.Context, accountSid, serviceSid string) (*conv.WebhookConfig, error) {
	var row *sql.Row
	if serviceSid == "" {
		row = s.q.QueryRowContext(ctx, s.bind(`SELECT account_sid, '', pre_webhook_url, post_webhook_url, method, filters, target, date_updated
			FROM account_webhook_configs WHERE account_sid = ?`), accountSid)
	} else {
		row = s.q.QueryRowContext(ctx, s.bind(`SELECT account_sid, service_sid, pre_webhook_url, post_webhook_url, method, filters, target, date_updated
			FROM service_webhook_configs WHERE service_sid = ? AND account_sid = ?`), serviceSid, accountSid)
	}
	var c conv.WebhookConfig
	var filters sql.NullString
	var du int64
	if err := row.Scan(&c.AccountSid, &c.ServiceSid, &c.PreWebhookURL, &c.PostWebhookURL, &c.Method, &filters, &c.Target, &du); err != nil {
		return nil, s.mapErr(err)
	}
	var err error
	if c.Filters, err = decodeList(filters); err != nil {
		return nil, err
	}
	c.DateUpdated = fromUnix(du)
	return &c, nil
}

// PutWebhookConfig creates or replaces a webhook configuration.
func (s *Store) PutWebhookConfig(ctx context.Context, c *conv.WebhookConfig) error {
	if c.ServiceSid == "" {
		_, err := s.exec(ctx, `INSERT INTO account_webhook_configs (account_sid, pre_webhook_url, post_webhook_url, method, filters, target, date_updated)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (account_sid) DO UPDATE SET pre_webhook_url = excluded.pre_webhook_url, post_webhook_url = excluded.post_webhook_url,
			method = excluded.method, filters = excluded.filters, target = excluded.target, date_updated = excluded.date_updated`,
			c.AccountSid, c.PreWebhookURL, c.PostWebhookURL, c.Method, encodeList(c.Filters), c.Target, unix(c.DateUpdated))
		return err
	}
	_, err := s.exec(ctx, `INSERT INTO service_webhook_configs (service_sid, account_sid, pre_webhook_url, post_webhook_url, method, filters, target, date_updated)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (service_sid) DO UPDATE SET pre_webhook_url = excluded.pre_webhook_url, post_webhook_url = excluded.post_webhook_url,
		method = excluded.method, filters = excluded.filters, target = excluded.target, date_updated = excluded.date_updated`,
		c.ServiceSid, c.AccountSid, c.PreWebhookURL, c.PostWebhookURL, c.Method, encodeList(c.Filters), c.Target, unix(c.DateUpdated))
	return err
}

// ---- conversation-scoped webhooks ----

const conversationWebhookCols = `seq, sid, account_sid, service_sid, conversation_sid, target, url, method, filters, triggers, flow_sid,
	replay_after, date_created, date_updated`

func scanConversationWebhook(r rowScanner) (*conv.ConversationWebhook, error) {
	var w conv.ConversationWebhook
	var filters, triggers sql.NullString
	var replay sql.NullInt64
	var dc, du int64
	if err := r.Scan(&w.Seq, &w.Sid, &w.AccountSid, &w.ServiceSid, &w.ConversationSid, &w.Target, &w.URL, &w.Method,
		&filters, &triggers, &w.FlowSid, &replay, &dc, &du); err != nil {
		return nil, err
	}
	var err error
	if w.Filters, err = decodeList(filters); err != nil {
		return nil, err
	}
	if w.Triggers, err = decodeList(triggers); err != nil {
		return nil, err
	}
	if replay.Valid {
		n := replay.Int64
		w.ReplayAfter = &n
	}
	w.DateCreated, w.DateUpdated = fromUnix(dc), fromUnix(du)
	return &w, nil
}

func listOrEmpty(xs []string) string {
	if xs == nil {
		return "[]"
	}
	return encodeList(xs).String
}

// CreateConversationWebhook inserts a conversation-scoped webhook and sets its Seq.
func (s *Store) CreateConversationWebhook(ctx context.Context, w *conv.ConversationWebhook) error {
	seq, err := s.insertSeq(ctx, `INSERT INTO conversation_webhooks (sid, account_sid, service_sid, conversation_sid, target, url, method,
		filters, triggers, flow_sid, replay_after, date_created, date_updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		w.Sid, w.AccountSid, w.ServiceSid, w.ConversationSid, w.Target, w.URL, w.Method, listOrEmpty(w.Filters), listOrEmpty(w.Triggers),
		w.FlowSid, nullInt(w.ReplayAfter), unix(w.DateCreated), unix(w.DateUpdated))
	w.Seq = seq
	return err
}

// GetConversationWebhook returns a webhook of the conversation or conv.ErrNotFound.
func (s *Store) GetConversationWebhook(ctx context.Context, conversationSid, sid string) (*conv.ConversationWebhook, error) {
	w, err := scanConversationWebhook(s.q.QueryRowContext(ctx, s.bind(`SELECT `+conversationWebhookCols+`
		FROM conversation_webhooks WHERE sid = ? AND conversation_sid = ?`), sid, conversationSid))
	return w, s.mapErr(err)
}

// ListConversationWebhooks returns one page of the conversation's webhooks in creation order.
func (s *Store) ListConversationWebhooks(ctx context.Context, conversationSid string, q conv.PageQuery) ([]*conv.ConversationWebhook, error) {
	return listRows(ctx, s, `SELECT `+conversationWebhookCols+` FROM conversation_webhooks WHERE conversation_sid = ?`,
		[]any{conversationSid}, q, scanConversationWebhook)
}

// CountConversationWebhooks returns how many webhooks the conversation has.
func (s *Store) CountConversationWebhooks(ctx context.Context, conversationSid string) (int, error) {
	var n int
	err := s.q.QueryRowContext(ctx, s.bind(`SELECT COUNT(*) FROM conversation_webhooks WHERE conversation_sid = ?`), conversationSid).Scan(&n)
	return n, s.mapErr(err)
}

// UpdateConversationWebhook writes every mutable field of w.
func (s *Store) UpdateConversationWebhook(ctx context.Context, w *conv.ConversationWebhook) error {
	return s.execOne(ctx, `UPDATE conversation_webhooks SET url = ?, method = ?, filters = ?, triggers = ?, flow_sid = ?, replay_after = ?,
		date_updated = ? WHERE sid = ? AND conversation_sid = ?`,
		w.URL, w.Method, listOrEmpty(w.Filters), listOrEmpty(w.Triggers), w.FlowSid, nullInt(w.ReplayAfter), unix(w.DateUpdated),
		w.Sid, w.ConversationSid)
}

// DeleteConversationWebhook deletes a webhook of the conversation (conv.ErrNotFound when
// there is none).
func (s *Store) DeleteConversationWebhook(ctx context.Context, conversationSid, sid string) error {
	return s.execOne(ctx, `DELETE FROM conversation_webhooks WHERE sid = ? AND conversation_sid = ?`, sid, conversationSid)
}

// ---- the delivery outbox ----

const deliveryCols = `seq, sid, account_sid, service_sid, conversation_sid, event_type, scope, webhook_sid, url, method, params,
	status, attempts, last_status_code, last_error, next_attempt_at, lease_owner, date_created, date_updated, date_delivered, resent_from`

func scanDelivery(r rowScanner) (*conv.WebhookDelivery, error) {
	var d conv.WebhookDelivery
	var next, dc, du int64
	var dd sql.NullInt64
	if err := r.Scan(&d.Seq, &d.Sid, &d.AccountSid, &d.ServiceSid, &d.ConversationSid, &d.EventType, &d.Scope, &d.WebhookSid,
		&d.URL, &d.Method, &d.Params, &d.Status, &d.Attempts, &d.LastStatusCode, &d.LastError, &next, &d.LeaseOwner, &dc, &du, &dd, &d.ResentFrom); err != nil {
		return nil, err
	}
	d.NextAttemptAt = fromUnixMilli(next)
	d.DateCreated, d.DateUpdated, d.DateDelivered = fromUnix(dc), fromUnix(du), timePtr(dd)
	return &d, nil
}

// EnqueueWebhookDeliveries inserts deliveries and sets their Seq.
func (s *Store) EnqueueWebhookDeliveries(ctx context.Context, ds []*conv.WebhookDelivery) error {
	for _, d := range ds {
		seq, err := s.insertSeq(ctx, `INSERT INTO webhook_deliveries (sid, account_sid, service_sid, conversation_sid, event_type, scope,
			webhook_sid, url, method, params, status, attempts, last_status_code, last_error, next_attempt_at, lease_owner, date_created, date_updated, date_delivered, resent_from)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			d.Sid, d.AccountSid, d.ServiceSid, d.ConversationSid, d.EventType, d.Scope, d.WebhookSid, d.URL, d.Method, d.Params,
			d.Status, d.Attempts, d.LastStatusCode, d.LastError, unixMilli(d.NextAttemptAt), d.LeaseOwner, unix(d.DateCreated), unix(d.DateUpdated),
			nullUnix(d.DateDelivered), d.ResentFrom)
		if err != nil {
			return err
		}
		d.Seq = seq
	}
	return nil
}

// NextWebhookDeliveryDue returns the earliest due time of a pending delivery.
func (s *Store) NextWebhookDeliveryDue(ctx context.Context) (time.Time, bool, error) {
	var next sql.NullInt64
	err := s.q.QueryRowContext(ctx, s.bind(`SELECT MIN(next_attempt_at) FROM webhook_deliveries WHERE status = ?`), conv.WebhookPending).Scan(&next)
	if err != nil {
		return time.Time{}, false, s.mapErr(err)
	}
	if !next.Valid {
		return time.Time{}, false, nil
	}
	return fromUnixMilli(next.Int64), true, nil
}

// ClaimWebhookDeliveries claims due pending deliveries (see conv.WebhookStore). On
// PostgreSQL the rows are locked FOR UPDATE SKIP LOCKED, so concurrent dispatchers of
// several replicas take different rows; SQLite's single writer serialises claims.
func (s *Store) ClaimWebhookDeliveries(ctx context.Context, owner string, now time.Time, limit int, leaseUntil time.Time) ([]*conv.WebhookDelivery, error) {
	suffix := ""
	if sl, ok := s.d.(SkipLocker); ok {
		suffix = sl.SkipLockedSuffix()
	}
	rows, err := s.q.QueryContext(ctx, s.bind(`SELECT `+deliveryCols+` FROM webhook_deliveries
		WHERE status = ? AND next_attempt_at <= ? ORDER BY next_attempt_at, seq LIMIT ?`+suffix),
		conv.WebhookPending, unixMilli(now), limit)
	if err != nil {
		return nil, s.mapErr(err)
	}
	var out []*conv.WebhookDelivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			rows.Close()
			return nil, s.mapErr(err)
		}
		out = append(out, d)
	}
	if err := rows.Close(); err != nil {
		return nil, s.mapErr(err)
	}
	if err := rows.Err(); err != nil {
		return nil, s.mapErr(err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	var in strings.Builder
	args := []any{unixMilli(leaseUntil), owner}
	for i, d := range out {
		if i > 0 {
			in.WriteString(", ")
		}
		in.WriteByte('?')
		args = append(args, d.Seq)
		d.Attempts++
		d.NextAttemptAt = fromUnixMilli(unixMilli(leaseUntil))
		d.LeaseOwner = owner
	}
	if _, err := s.exec(ctx, `UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = ?, lease_owner = ? WHERE seq IN (`+in.String()+`)`, args...); err != nil {
		return nil, err
	}
	return out, nil
}

// SettleWebhookDelivery writes the outcome of d's attempt and ends its lease, provided the
// delivery is still pending and leased to owner (else conv.ErrNotFound).
func (s *Store) SettleWebhookDelivery(ctx context.Context, d *conv.WebhookDelivery, owner string) error {
	err := s.execOne(ctx, `UPDATE webhook_deliveries SET status = ?, last_status_code = ?, last_error = ?, next_attempt_at = ?,
		lease_owner = '', date_updated = ?, date_delivered = ? WHERE sid = ? AND status = ? AND lease_owner = ?`,
		d.Status, d.LastStatusCode, d.LastError, unixMilli(d.NextAttemptAt), unix(d.DateUpdated), nullUnix(d.DateDelivered),
		d.Sid, conv.WebhookPending, owner)
	if err == nil {
		d.LeaseOwner = ""
	}
	return err
}

// GetWebhookDelivery returns a delivery of the account or conv.ErrNotFound.
func (s *Store) GetWebhookDelivery(ctx context.Context, accountSid, sid string) (*conv.WebhookDelivery, error) {
	d, err := scanDelivery(s.q.QueryRowContext(ctx, s.bind(`SELECT `+deliveryCols+` FROM webhook_deliveries WHERE sid = ? AND account_sid = ?`), sid, accountSid))
	return d, s.mapErr(err)
}

// ListWebhookDeliveries returns one page of the account's deliveries in creation order.
func (s *Store) ListWebhookDeliveries(ctx context.Context, accountSid string, f conv.WebhookDeliveryFilter, q conv.PageQuery) ([]*conv.WebhookDelivery, error) {
	base := `SELECT ` + deliveryCols + ` FROM webhook_deliveries WHERE account_sid = ?`
	args := []any{accountSid}
	if f.Status != "" {
		base += ` AND status = ?`
		args = append(args, f.Status)
	}
	if f.EventType != "" {
		base += ` AND event_type = ?`
		args = append(args, f.EventType)
	}
	if f.ConversationSid != "" {
		base += ` AND conversation_sid = ?`
		args = append(args, f.ConversationSid)
	}
	return listRows(ctx, s, base, args, q, scanDelivery)
}

// PruneWebhookDeliveries deletes finished deliveries last updated before before, with their
// attempts.
func (s *Store) PruneWebhookDeliveries(ctx context.Context, before time.Time) (int64, error) {
	if _, err := s.exec(ctx, `DELETE FROM webhook_delivery_attempts WHERE delivery_sid IN (SELECT sid FROM webhook_deliveries
		WHERE status IN (?, ?) AND date_updated < ?)`, conv.WebhookDelivered, conv.WebhookFailed, unix(before)); err != nil {
		return 0, err
	}
	res, err := s.exec(ctx, `DELETE FROM webhook_deliveries WHERE status IN (?, ?) AND date_updated < ?`,
		conv.WebhookDelivered, conv.WebhookFailed, unix(before))
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return n, s.mapErr(err)
}

// ---- the attempts of a delivery ----

const attemptCols = `seq, delivery_sid, account_sid, attempt, date_created, request_url, request_method, request_headers,
	request_body, response_status, response_body, error, duration_ms`

func scanAttempt(r rowScanner) (*conv.WebhookAttempt, error) {
	var a conv.WebhookAttempt
	var date, dur int64
	var headers string
	if err := r.Scan(&a.Seq, &a.DeliverySid, &a.AccountSid, &a.Attempt, &date, &a.RequestURL, &a.RequestMethod, &headers,
		&a.RequestBody, &a.ResponseStatus, &a.ResponseBody, &a.Error, &dur); err != nil {
		return nil, err
	}
	a.Date, a.Duration = fromUnixMilli(date), time.Duration(dur)*time.Millisecond
	a.RequestHeaders = map[string]string{}
	if err := json.Unmarshal([]byte(headers), &a.RequestHeaders); err != nil {
		return nil, err
	}
	return &a, nil
}

// AddWebhookAttempt inserts a settled attempt and sets a.Seq.
func (s *Store) AddWebhookAttempt(ctx context.Context, a *conv.WebhookAttempt) error {
	h := a.RequestHeaders
	if h == nil {
		h = map[string]string{}
	}
	headers, err := json.Marshal(h)
	if err != nil {
		return err
	}
	seq, err := s.insertSeq(ctx, `INSERT INTO webhook_delivery_attempts (delivery_sid, account_sid, attempt, date_created, request_url,
		request_method, request_headers, request_body, response_status, response_body, error, duration_ms)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.DeliverySid, a.AccountSid, a.Attempt, unixMilli(a.Date), a.RequestURL, a.RequestMethod, string(headers), a.RequestBody,
		a.ResponseStatus, a.ResponseBody, a.Error, a.Duration.Milliseconds())
	a.Seq = seq
	return err
}

// ListWebhookAttempts returns one page of the attempts of the account's delivery in the order
// they were made.
func (s *Store) ListWebhookAttempts(ctx context.Context, accountSid, deliverySid string, q conv.PageQuery) ([]*conv.WebhookAttempt, error) {
	return listRows(ctx, s, `SELECT `+attemptCols+` FROM webhook_delivery_attempts WHERE delivery_sid = ? AND account_sid = ?`,
		[]any{deliverySid, accountSid}, q, scanAttempt)
}
