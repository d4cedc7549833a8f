package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"github.com/parley-dev/parley/internal/conv"
)

// ShareLocker is implemented by dialects that can take a shared row lock with a SELECT
// suffix (PostgreSQL's FOR SHARE). A dialect with a LockSuffix but no ShareLocker gets its
// exclusive lock instead.
type ShareLocker interface {
	ShareLockSuffix() string
}

// scanList decodes a JSON list column; an empty list is nil.
func scanList(s string, dst *[]string) error {
	var xs []string
	if err := json.Unmarshal([]byte(s), &xs); err != nil {
		return err
	}
	if len(xs) == 0 {
		xs = nil
	}
	*dst = xs
	return nil
}

// jsonList encodes a JSON list column; nil is stored as [].
func jsonList(xs []string) (string, error) {
	if xs == nil {
		xs = []string{}
	}
	b, err := json.Marshal(xs)
	return string(b), err
}

func int64Ptr(n sql.NullInt64) *int64 {
	if !n.Valid {
		return nil
	}
	v := n.Int64
	return &v
}

// ---- account configuration ----

// GetAccountConfig returns the account's configuration or conv.ErrNotFound.
func (s *Store) GetAccountConfig(ctx context.Context, accountSid string) (*conv.AccountConfig, error) {
	var c conv.AccountConfig
	err := s.q.QueryRowContext(ctx, s.bind(`SELECT account_sid, default_messaging_service_sid, default_inactive_timer, default_closed_timer
		FROM account_configs WHERE account_sid = ?`), accountSid).
		Scan(&c.AccountSid, &c.DefaultMessagingServiceSid, &c.DefaultInactiveTimer, &c.DefaultClosedTimer)
	if err != nil {
		return nil, s.mapErr(err)
	}
	return &c, nil
}

// PutAccountConfig creates or replaces the account's configuration.
func (s *Store) PutAccountConfig(ctx context.Context, c *conv.AccountConfig) error {
	_, err := s.exec(ctx, `INSERT INTO account_configs (account_sid, default_messaging_service_sid, default_inactive_timer, default_closed_timer)
		VALUES (?, ?, ?, ?)
		ON CONFLICT (account_sid) DO UPDATE SET default_messaging_service_sid = excluded.default_messaging_service_sid,
		default_inactive_timer = excluded.default_inactive_timer, default_closed_timer = excluded.default_closed_timer`,
		c.AccountSid, c.DefaultMessagingServiceSid, c.DefaultInactiveTimer, c.DefaultClosedTimer)
	return err
}

// ---- service notifications ----

const notificationCols = `service_sid, log_enabled, new_message_enabled, new_message_template, new_message_sound,
	new_message_badge_count_enabled, new_message_with_media_enabled, new_message_with_media_template,
	added_enabled, added_template, added_sound, removed_enabled, removed_template, removed_sound`

// GetServiceNotifications returns the service's notification settings or conv.ErrNotFound.
func (s *Store) GetServiceNotifications(ctx context.Context, serviceSid string) (*conv.ServiceNotifications, error) {
	var n conv.ServiceNotifications
	var nmT, nmS, wmT, adT, adS, rmT, rmS sql.NullString
	err := s.q.QueryRowContext(ctx, s.bind(`SELECT `+notificationCols+` FROM service_notifications WHERE service_sid = ?`), serviceSid).
		Scan(&n.ServiceSid, &n.LogEnabled, &n.NewMessage.Enabled, &nmT, &nmS, &n.NewMessageBadgeCount, &n.NewMessageWithMedia.Enabled, &wmT,
			&n.AddedToConversation.Enabled, &adT, &adS, &n.RemovedFromConversation.Enabled, &rmT, &rmS)
	if err != nil {
		return nil, s.mapErr(err)
	}
	n.NewMessage.Template, n.NewMessage.Sound = strPtr(nmT), strPtr(nmS)
	n.NewMessageWithMedia.Template = strPtr(wmT)
	n.AddedToConversation.Template, n.AddedToConversation.Sound = strPtr(adT), strPtr(adS)
	n.RemovedFromConversation.Template, n.RemovedFromConversation.Sound = strPtr(rmT), strPtr(rmS)
	return &n, nil
}

// PutServiceNotifications creates or replaces the service's notification settings.
func (s *Store) PutServiceNotifications(ctx context.Context, n *conv.ServiceNotifications) error {
	_, err := s.exec(ctx, `INSERT INTO service_notifications (`+notificationCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (service_sid) DO UPDATE SET log_enabled = excluded.log_enabled,
		new_message_enabled = excluded.new_message_enabled, new_message_template = excluded.new_message_template,
		new_message_sound = excluded.new_message_sound, new_message_badge_count_enabled = excluded.new_message_badge_count_enabled,
		new_message_with_media_enabled = excluded.new_message_with_media_enabled,
		new_message_with_media_template = excluded.new_message_with_media_template,
		added_enabled = excluded.added_enabled, added_template = excluded.added_template, added_sound = excluded.added_sound,
		removed_enabled = excluded.removed_enabled, removed_template = excluded.removed_template, removed_sound = excluded.removed_sound`,
		n.ServiceSid, n.LogEnabled, n.NewMessage.Enabled, nullStr(n.NewMessage.Template), nullStr(n.NewMessage.Sound),
		n.NewMessageBadgeCount, n.NewMessageWithMedia.Enabled, nullStr(n.NewMessageWithMedia.Template),
		n.AddedToConversation.Enabled, nullStr(n.AddedToConversation.Template), nullStr(n.AddedToConversation.Sound),
		n.RemovedFromConversation.Enabled, nullStr(n.RemovedFromConversation.Template), nullStr(n.RemovedFromConversation.Sound))
	return err
}

// ---- address configurations ----

const addressCols = `seq, sid, account_sid, type, address, friendly_name, address_country, auto_enabled, auto_type, auto_service_sid,
	auto_webhook_url, auto_webhook_method, auto_webhook_filters, auto_studio_flow_sid, auto_studio_retry_count, date_created, date_updated`

func scanAddressConfig(r rowScanner) (*conv.AddressConfig, error) {
	var a conv.AddressConfig
	var fn, country sql.NullString
	var filters string
	var retry sql.NullInt64
	var dc, du int64
	ac := &a.AutoCreation
	if err := r.Scan(&a.Seq, &a.Sid, &a.AccountSid, &a.Type, &a.Address, &fn, &country, &ac.Enabled, &ac.Type, &ac.ServiceSid,
		&ac.WebhookURL, &ac.WebhookMethod, &filters, &ac.StudioFlowSid, &retry, &dc, &du); err != nil {
		return nil, err
	}
	if err := scanList(filters, &ac.WebhookFilters); err != nil {
		return nil, err
	}
	a.FriendlyName, a.AddressCountry, ac.StudioRetryCount = strPtr(fn), strPtr(country), int64Ptr(retry)
	a.DateCreated, a.DateUpdated = fromUnix(dc), fromUnix(du)
	return &a, nil
}

// CreateAddressConfig inserts an address configuration and sets its Seq.
func (s *Store) CreateAddressConfig(ctx context.Context, a *conv.AddressConfig) error {
	filters, err := jsonList(a.AutoCreation.WebhookFilters)
	if err != nil {
		return err
	}
	ac := a.AutoCreation
	a.Seq, err = s.insertSeq(ctx, `INSERT INTO address_configs (sid, account_sid, type, address, friendly_name, address_country, auto_enabled,
		auto_type, auto_service_sid, auto_webhook_url, auto_webhook_method, auto_webhook_filters, auto_studio_flow_sid, auto_studio_retry_count,
		date_created, date_updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.Sid, a.AccountSid, a.Type, a.Address, nullStr(a.FriendlyName), nullStr(a.AddressCountry), ac.Enabled,
		ac.Type, ac.ServiceSid, ac.WebhookURL, ac.WebhookMethod, filters, ac.StudioFlowSid, nullInt(ac.StudioRetryCount),
		unix(a.DateCreated), unix(a.DateUpdated))
	return err
}

// GetAddressConfig returns the account's address configuration or conv.ErrNotFound.
func (s *Store) GetAddressConfig(ctx context.Context, accountSid, sid string) (*conv.AddressConfig, error) {
	a, err := scanAddressConfig(s.q.QueryRowContext(ctx, s.bind(`SELECT `+addressCols+` FROM address_configs WHERE sid = ? AND account_sid = ?`), sid, accountSid))
	return a, s.mapErr(err)
}

// FindAddressConfig returns the oldest configuration of address in the account or
// conv.ErrNotFound.
func (s *Store) FindAddressConfig(ctx context.Context, accountSid, address string) (*conv.AddressConfig, error) {
	a, err := scanAddressConfig(s.q.QueryRowContext(ctx, s.bind(`SELECT `+addressCols+` FROM address_configs
		WHERE account_sid = ? AND address = ? ORDER BY seq LIMIT 1`), accountSid, address))
	return a, s.mapErr(err)
}

// ListAddressConfigs returns one page of the account's address configurations.
func (s *Store) ListAddressConfigs(ctx context.Context, accountSid, typ string, q conv.PageQuery) ([]*conv.AddressConfig, error) {
	base := `SELECT ` + addressCols + ` FROM address_configs WHERE account_sid = ?`
	args := []any{accountSid}
	if typ != "" {
		base += ` AND type = ?`
		args = append(args, typ)
	}
	return listRows(ctx, s, base, args, q, scanAddressConfig)
}

// UpdateAddressConfig writes every mutable field of a.
func (s *Store) UpdateAddressConfig(ctx context.Context, a *conv.AddressConfig) error {
	filters, err := jsonList(a.AutoCreation.WebhookFilters)
	if err != nil {
		return err
	}
	ac := a.AutoCreation
	return s.execOne(ctx, `UPDATE address_configs SET friendly_name = ?, address_country = ?, auto_enabled = ?, auto_type = ?, auto_service_sid = ?,
		auto_webhook_url = ?, auto_webhook_method = ?, auto_webhook_filters = ?, auto_studio_flow_sid = ?, auto_studio_retry_count = ?, date_updated = ?
		WHERE sid = ? AND account_sid = ?`,
		nullStr(a.FriendlyName), nullStr(a.AddressCountry), ac.Enabled, ac.Type, ac.ServiceSid, ac.WebhookURL, ac.WebhookMethod, filters,
		ac.StudioFlowSid, nullInt(ac.StudioRetryCount), unix(a.DateUpdated), a.Sid, a.AccountSid)
}

// DeleteAddressConfig deletes an address configuration.
func (s *Store) DeleteAddressConfig(ctx context.Context, accountSid, sid string) error {
	return s.execOne(ctx, `DELETE FROM address_configs WHERE sid = ? AND account_sid = ?`, sid, accountSid)
}

// ---- credentials ----

const credentialCols = `seq, sid, account_sid, friendly_name, type, sandbox, certificate, private_key, api_key, secret, date_created, date_updated`

func scanCredential(r rowScanner) (*conv.Credential, error) {
	var c conv.Credential
	var fn sql.NullString
	var dc, du int64
	if err := r.Scan(&c.Seq, &c.Sid, &c.AccountSid, &fn, &c.Type, &c.Sandbox, &c.Certificate, &c.PrivateKey, &c.APIKey, &c.Secret, &dc, &du); err != nil {
		return nil, err
	}
	c.FriendlyName = strPtr(fn)
	c.DateCreated, c.DateUpdated = fromUnix(dc), fromUnix(du)
	return &c, nil
}

// CreateCredential inserts a credential and sets its Seq.
func (s *Store) CreateCredential(ctx context.Context, c *conv.Credential) error {
	seq, err := s.insertSeq(ctx, `INSERT INTO credentials (sid, account_sid, friendly_name, type, sandbox, certificate, private_key, api_key, secret,
		date_created, date_updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.Sid, c.AccountSid, nullStr(c.FriendlyName), c.Type, c.Sandbox, c.Certificate, c.PrivateKey, c.APIKey, c.Secret,
		unix(c.DateCreated), unix(c.DateUpdated))
	c.Seq = seq
	return err
}

// GetCredential returns the account's credential or conv.ErrNotFound.
func (s *Store) GetCredential(ctx context.Context, accountSid, sid string) (*conv.Credential, error) {
	c, err := scanCredential(s.q.QueryRowContext(ctx, s.bind(`SELECT `+credentialCols+` FROM credentials WHERE sid = ? AND account_sid = ?`), sid, accountSid))
	return c, s.mapErr(err)
}

// ListCredentials returns one page of the account's credentials.
func (s *Store) ListCredentials(ctx context.Context, accountSid string, q conv.PageQuery) ([]*conv.Credential, error) {
	return listRows(ctx, s, `SELECT `+credentialCols+` FROM credentials WHERE account_sid = ?`, []any{accountSid}, q, scanCredential)
}

// UpdateCredential writes every mutable field of c.
func (s *Store) UpdateCredential(ctx context.Context, c *conv.Credential) error {
	return s.execOne(ctx, `UPDATE credentials SET friendly_name = ?, type = ?, sandbox = ?, certificate = ?, private_key = ?, api_key = ?, secret = ?,
		date_updated = ? WHERE sid = ? AND account_sid = ?`,
		nullStr(c.FriendlyName), c.Type, c.Sandbox, c.Certificate, c.PrivateKey, c.APIKey, c.Secret, unix(c.DateUpdated), c.Sid, c.AccountSid)
}

// DeleteCredential deletes a credential.
func (s *Store) DeleteCredential(ctx context.Context, accountSid, sid string) error {
	return s.execOne(ctx, `DELETE FROM credentials WHERE sid = ? AND account_sid = ?`, sid, accountSid)
}

// ---- push bindings ----

const pushBindingCols = `seq, sid, account_sid, service_sid, credential_sid, endpoint, identity, binding_type, message_types, date_created, date_updated, address`

func scanPushBinding(r rowScanner) (*conv.PushBinding, error) {
	var b conv.PushBinding
	var types string
	var dc, du int64
	if err := r.Scan(&b.Seq, &b.Sid, &b.AccountSid, &b.ServiceSid, &b.CredentialSid, &b.Endpoint, &b.Identity, &b.BindingType, &types, &dc, &du, &b.Address); err != nil {
		return nil, err
	}
	if err := scanList(types, &b.MessageTypes); err != nil {
		return nil, err
	}
	b.DateCreated, b.DateUpdated = fromUnix(dc), fromUnix(du)
	return &b, nil
}

// CreatePushBinding inserts a push binding and sets its Seq.
func (s *Store) CreatePushBinding(ctx context.Context, b *conv.PushBinding) error {
	types, err := jsonList(b.MessageTypes)
	if err != nil {
		return err
	}
	b.Seq, err = s.insertSeq(ctx, `INSERT INTO push_bindings (sid, account_sid, service_sid, credential_sid, endpoint, identity, binding_type,
		message_types, date_created, date_updated, address) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		b.Sid, b.AccountSid, b.ServiceSid, b.CredentialSid, b.Endpoint, b.Identity, b.BindingType, types, unix(b.DateCreated), unix(b.DateUpdated), b.Address)
	return err
}

// GetPushBinding returns the service's push binding or conv.ErrNotFound.
func (s *Store) GetPushBinding(ctx context.Context, serviceSid, sid string) (*conv.PushBinding, error) {
	b, err := scanPushBinding(s.q.QueryRowContext(ctx, s.bind(`SELECT `+pushBindingCols+` FROM push_bindings WHERE sid = ? AND service_sid = ?`), sid, serviceSid))
	return b, s.mapErr(err)
}

// inList appends " AND col IN (?, ...)" for vals (nothing when vals is empty).
func inList(base string, args []any, col string, vals []string) (string, []any) {
	if len(vals) == 0 {
		return base, args
	}
	base += ` AND ` + col + ` IN (?` + strings.Repeat(", ?", len(vals)-1) + `)`
	for _, v := range vals {
		args = append(args, v)
	}
	return base, args
}

// ListPushBindings returns one page of the service's push bindings matching f.
func (s *Store) ListPushBindings(ctx context.Context, serviceSid string, f conv.PushBindingFilter, q conv.PageQuery) ([]*conv.PushBinding, error) {
	base := `SELECT ` + pushBindingCols + ` FROM push_bindings WHERE service_sid = ?`
	args := []any{serviceSid}
	base, args = inList(base, args, "binding_type", f.BindingTypes)
	base, args = inList(base, args, "identity", f.Identities)
	return listRows(ctx, s, base, args, q, scanPushBinding)
}

// DeletePushBinding deletes a push binding.
func (s *Store) DeletePushBinding(ctx context.Context, serviceSid, sid string) error {
	return s.execOne(ctx, `DELETE FROM push_bindings WHERE sid = ? AND service_sid = ?`, sid, serviceSid)
}

// ---- roles in use ----

// RoleAssigned reports whether a participant or a user holds the role.
func (s *Store) RoleAssigned(ctx context.Context, roleSid string) (bool, error) {
	var n int
	err := s.q.QueryRowContext(ctx, s.bind(`SELECT COUNT(*) FROM (SELECT 1 FROM participants WHERE role_sid = ?
		UNION ALL SELECT 1 FROM users WHERE role_sid = ? LIMIT 1) r`), roleSid, roleSid).Scan(&n)
	return n > 0, s.mapErr(err)
}

// lockRole selects the role row with suffix appended (a no-op when suffix is "").
func (s *Store) lockRole(ctx context.Context, sid, suffix string) error {
	if suffix == "" {
		return nil
	}
	var one int
	err := s.q.QueryRowContext(ctx, s.bind(`SELECT 1 FROM roles WHERE sid = ?`+suffix), sid).Scan(&one)
	return s.mapErr(err)
}

// LockRole locks the role row until the transaction ends.
func (s *Store) LockRole(ctx context.Context, sid string) error {
	return s.lockRole(ctx, sid, s.d.LockSuffix())
}

// ShareLockRole takes a shared lock on the role row until the transaction ends.
func (s *Store) ShareLockRole(ctx context.Context, sid string) error {
	suffix := s.d.LockSuffix()
	if sl, ok := s.d.(ShareLocker); ok && suffix != "" {
		suffix = sl.ShareLockSuffix()
	}
	return s.lockRole(ctx, sid, suffix)
}

// ---- timers ----

// FindConversation returns the conversation with that SID in any service, or
// conv.ErrNotFound.
func (s *Store) FindConversation(ctx context.Context, sid string) (*conv.Conversation, error) {
	c, err := scanConversation(s.q.QueryRowContext(ctx, s.bind(`SELECT `+conversationCols+` FROM conversations WHERE sid = ?`), sid))
	return c, s.mapErr(err)
}

// DueConversations returns up to limit conversations whose inactive or closed timer is due.
func (s *Store) DueConversations(ctx context.Context, serviceSid string, now time.Time, limit int) ([]*conv.Conversation, error) {
	q := `SELECT ` + conversationCols + ` FROM conversations WHERE (date_inactive <= ? OR date_closed <= ?)`
	args := []any{unix(now), unix(now)}
	if serviceSid != "" {
		q += ` AND service_sid = ?`
		args = append(args, serviceSid)
	}
	q += ` ORDER BY seq LIMIT ?`
	args = append(args, limit)
	rows, err := s.q.QueryContext(ctx, s.bind(q), args...)
	if err != nil {
		return nil, s.mapErr(err)
	}
	defer rows.Close()
	var out []*conv.Conversation
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			return nil, s.mapErr(err)
		}
		out = append(out, c)
	}
	return out, s.mapErr(rows.Err())
}
