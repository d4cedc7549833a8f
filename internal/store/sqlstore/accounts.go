package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/parley-dev/parley/internal/conv"
)

func unix(t time.Time) int64 { return t.Unix() }

func fromUnix(n int64) time.Time { return time.Unix(n, 0).UTC() }

func nullUnix(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.Unix(), Valid: true}
}

func timePtr(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := fromUnix(n.Int64)
	return &t
}

func nullStr(s *string) sql.NullString {
	if s == nil {
		return sql.NullString{}
	}
	return sql.NullString{String: *s, Valid: true}
}

func strPtr(n sql.NullString) *string {
	if !n.Valid {
		return nil
	}
	s := n.String
	return &s
}

// CreateAccount inserts an account.
func (s *Store) CreateAccount(ctx context.Context, a *conv.Account) error {
	_, err := s.exec(ctx, `INSERT INTO accounts (sid, auth_token, friendly_name, default_service_sid, date_created, date_updated) VALUES (?, ?, ?, ?, ?, ?)`,
		a.Sid, a.AuthToken, a.FriendlyName, a.DefaultServiceSid, unix(a.DateCreated), unix(a.DateUpdated))
	return err
}

const accountCols = `sid, auth_token, friendly_name, default_service_sid, date_created, date_updated`

func scanAccount(r rowScanner) (*conv.Account, error) {
	var a conv.Account
	var dc, du int64
	if err := r.Scan(&a.Sid, &a.AuthToken, &a.FriendlyName, &a.DefaultServiceSid, &dc, &du); err != nil {
		return nil, err
	}
	a.DateCreated, a.DateUpdated = fromUnix(dc), fromUnix(du)
	return &a, nil
}

// GetAccount returns an account or conv.ErrNotFound.
func (s *Store) GetAccount(ctx context.Context, sid string) (*conv.Account, error) {
	a, err := scanAccount(s.q.QueryRowContext(ctx, s.bind(`SELECT `+accountCols+` FROM accounts WHERE sid = ?`), sid))
	return a, s.mapErr(err)
}

// ListAccounts returns every account, oldest first.
func (s *Store) ListAccounts(ctx context.Context) ([]*conv.Account, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT `+accountCols+` FROM accounts ORDER BY date_created, sid`)
	if err != nil {
		return nil, s.mapErr(err)
	}
	defer rows.Close()
	var out []*conv.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, s.mapErr(err)
		}
		out = append(out, a)
	}
	return out, s.mapErr(rows.Err())
}

// SetAccountDefaultService records the account's default service.
func (s *Store) SetAccountDefaultService(ctx context.Context, accountSid, serviceSid string) error {
	return s.execOne(ctx, `UPDATE accounts SET default_service_sid = ? WHERE sid = ?`, serviceSid, accountSid)
}

// UpdateAccountToken replaces an account's auth token.
func (s *Store) UpdateAccountToken(ctx context.Context, accountSid, token string) error {
	return s.execOne(ctx, `UPDATE accounts SET auth_token = ? WHERE sid = ?`, token, accountSid)
}

// PutAPIKey creates or replaces an API key.
func (s *Store) PutAPIKey(ctx context.Context, k *conv.APIKey) error {
	_, err := s.exec(ctx, `INSERT INTO api_keys (sid, account_sid, secret, friendly_name, date_created) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (sid) DO UPDATE SET account_sid = excluded.account_sid, secret = excluded.secret`,
		k.Sid, k.AccountSid, k.Secret, k.FriendlyName, unix(k.DateCreated))
	return err
}

// GetAPIKey returns an API key or conv.ErrNotFound.
func (s *Store) GetAPIKey(ctx context.Context, sid string) (*conv.APIKey, error) {
	var k conv.APIKey
	var dc int64
	err := s.q.QueryRowContext(ctx, s.bind(`SELECT sid, account_sid, secret, friendly_name, date_created FROM api_keys WHERE sid = ?`), sid).
		Scan(&k.Sid, &k.AccountSid, &k.Secret, &k.FriendlyName, &dc)
	if err != nil {
		return nil, s.mapErr(err)
	}
	k.DateCreated = fromUnix(dc)
	return &k, nil
}

// ---- services ----

// CreateService inserts a service and sets its Seq.
func (s *Store) CreateService(ctx context.Context, v *conv.ChatService) error {
	seq, err := s.insertSeq(ctx, `INSERT INTO services (sid, account_sid, friendly_name, date_created, date_updated) VALUES (?, ?, ?, ?, ?)`,
		v.Sid, v.AccountSid, v.FriendlyName, unix(v.DateCreated), unix(v.DateUpdated))
	v.Seq = seq
	return err
}

const serviceCols = `seq, sid, account_sid, friendly_name, date_created, date_updated`

func scanService(r rowScanner) (*conv.ChatService, error) {
	var v conv.ChatService
	var dc, du int64
	if err := r.Scan(&v.Seq, &v.Sid, &v.AccountSid, &v.FriendlyName, &dc, &du); err != nil {
		return nil, err
	}
	v.DateCreated, v.DateUpdated = fromUnix(dc), fromUnix(du)
	return &v, nil
}

// GetService returns the account's service or conv.ErrNotFound.
func (s *Store) GetService(ctx context.Context, accountSid, sid string) (*conv.ChatService, error) {
	v, err := scanService(s.q.QueryRowContext(ctx, s.bind(`SELECT `+serviceCols+` FROM services WHERE sid = ? AND account_sid = ?`), sid, accountSid))
	return v, s.mapErr(err)
}

// ListServices returns one page of the account's services.
func (s *Store) ListServices(ctx context.Context, accountSid string, q conv.PageQuery) ([]*conv.ChatService, error) {
	return listRows(ctx, s, `SELECT `+serviceCols+` FROM services WHERE account_sid = ?`, []any{accountSid}, q, scanService)
}

// DeleteService deletes a service; its roles, conversations and participants cascade.
func (s *Store) DeleteService(ctx context.Context, accountSid, sid string) error {
	return s.execOne(ctx, `DELETE FROM services WHERE sid = ? AND account_sid = ?`, sid, accountSid)
}

// PutServiceConfig creates or replaces a service configuration.
func (s *Store) PutServiceConfig(ctx context.Context, c *conv.ServiceConfig) error {
	_, err := s.exec(ctx, `INSERT INTO service_configs (service_sid, default_conversation_role_sid, default_conversation_creator_role_sid, default_chat_service_role_sid, reachability_enabled)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (service_sid) DO UPDATE SET default_conversation_role_sid = excluded.default_conversation_role_sid,
		default_conversation_creator_role_sid = excluded.default_conversation_creator_role_sid,
		default_chat_service_role_sid = excluded.default_chat_service_role_sid, reachability_enabled = excluded.reachability_enabled`,
		c.ServiceSid, c.DefaultConversationRoleSid, c.DefaultConversationCreatorRoleSid, c.DefaultChatServiceRoleSid, c.ReachabilityEnabled)
	return err
}

// GetServiceConfig returns a service configuration or conv.ErrNotFound.
func (s *Store) GetServiceConfig(ctx context.Context, serviceSid string) (*conv.ServiceConfig, error) {
	var c conv.ServiceConfig
	err := s.q.QueryRowContext(ctx, s.bind(`SELECT service_sid, default_conversation_role_sid, default_conversation_creator_role_sid, default_chat_service_role_sid, reachability_enabled FROM service_configs WHERE service_sid = ?`), serviceSid).
		Scan(&c.ServiceSid, &c.DefaultConversationRoleSid, &c.DefaultConversationCreatorRoleSid, &c.DefaultChatServiceRoleSid, &c.ReachabilityEnabled)
	if err != nil {
		return nil, s.mapErr(err)
	}
	return &c, nil
}

// ---- roles ----

// CreateRole inserts a role and sets its Seq.
func (s *Store) CreateRole(ctx context.Context, r *conv.Role) error {
	perms, err := json.Marshal(r.Permissions)
	if err != nil {
		return err
	}
	r.Seq, err = s.insertSeq(ctx, `INSERT INTO roles (sid, account_sid, service_sid, friendly_name, type, permissions, builtin, date_created, date_updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.Sid, r.AccountSid, r.ServiceSid, r.FriendlyName, r.Type, string(perms), r.Builtin, unix(r.DateCreated), unix(r.DateUpdated))
	return err
}

const roleCols = `seq, sid, account_sid, service_sid, friendly_name, type, permissions, builtin, date_created, date_updated`

func scanRole(r rowScanner) (*conv.Role, error) {
	var v conv.Role
	var perms string
	var dc, du int64
	if err := r.Scan(&v.Seq, &v.Sid, &v.AccountSid, &v.ServiceSid, &v.FriendlyName, &v.Type, &perms, &v.Builtin, &dc, &du); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(perms), &v.Permissions); err != nil {
		return nil, err
	}
	v.DateCreated, v.DateUpdated = fromUnix(dc), fromUnix(du)
	return &v, nil
}

// GetRole returns a role of the service or conv.ErrNotFound.
func (s *Store) GetRole(ctx context.Context, serviceSid, sid string) (*conv.Role, error) {
	v, err := scanRole(s.q.QueryRowContext(ctx, s.bind(`SELECT `+roleCols+` FROM roles WHERE sid = ? AND service_sid = ?`), sid, serviceSid))
	return v, s.mapErr(err)
}

// ListRoles returns one page of the service's roles.
func (s *Store) ListRoles(ctx context.Context, serviceSid string, q conv.PageQuery) ([]*conv.Role, error) {
	return listRows(ctx, s, `SELECT `+roleCols+` FROM roles WHERE service_sid = ?`, []any{serviceSid}, q, scanRole)
}

// UpdateRole writes a role's name and permissions.
func (s *Store) UpdateRole(ctx context.Context, r *conv.Role) error {
	perms, err := json.Marshal(r.Permissions)
	if err != nil {
		return err
	}
	return s.execOne(ctx, `UPDATE roles SET friendly_name = ?, permissions = ?, date_updated = ? WHERE sid = ? AND service_sid = ?`,
		r.FriendlyName, string(perms), unix(r.DateUpdated), r.Sid, r.ServiceSid)
}

// DeleteRole deletes a role.
func (s *Store) DeleteRole(ctx context.Context, serviceSid, sid string) error {
	return s.execOne(ctx, `DELETE FROM roles WHERE sid = ? AND service_sid = ?`, sid, serviceSid)
}
