package sqlstore

import (
	"context"
	"strings"

	"github.com/parley-dev/parley/internal/conv"
)

var _ conv.CredentialStore = (*Store)(nil)

// SetAccountOrigin records how the account came to be ("configured" or "generated").
func (s *Store) SetAccountOrigin(ctx context.Context, sid, origin string) error {
	return s.execOne(ctx, `UPDATE accounts SET origin = ? WHERE sid = ?`, origin, sid)
}

// AccountByOrigin returns the oldest account of that origin, or conv.ErrNotFound. With
// active set, only an account whose auth token is not cleared qualifies.
func (s *Store) AccountByOrigin(ctx context.Context, origin string, active bool) (*conv.Account, error) {
	q := `SELECT ` + accountCols + ` FROM accounts WHERE origin = ?`
	if active {
		q += ` AND auth_token <> ''`
	}
	a, err := scanAccount(s.q.QueryRowContext(ctx, s.bind(q+` ORDER BY date_created, sid LIMIT 1`), origin))
	return a, s.mapErr(err)
}

// notIn appends " AND col NOT IN (?, …)" for keep (nothing when keep is empty).
func notIn(q, col string, keep []string) (string, []any) {
	if len(keep) == 0 {
		return q, nil
	}
	args := make([]any, len(keep))
	for i, k := range keep {
		args[i] = k
	}
	return q + " AND " + col + " NOT IN (?" + strings.Repeat(", ?", len(keep)-1) + ")", args
}

// RetireAccountsExcept clears the auth token of every account not in keep, so that it no
// longer authenticates; its rows stay. It returns the SIDs retired.
func (s *Store) RetireAccountsExcept(ctx context.Context, keep []string) ([]string, error) {
	q, args := notIn(`SELECT sid FROM accounts WHERE auth_token <> ''`, "sid", keep)
	rows, err := s.q.QueryContext(ctx, s.bind(q+` ORDER BY sid`), args...)
	if err != nil {
		return nil, s.mapErr(err)
	}
	var sids []string
	for rows.Next() {
		var sid string
		if err := rows.Scan(&sid); err != nil {
			rows.Close()
			return nil, s.mapErr(err)
		}
		sids = append(sids, sid)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, s.mapErr(err)
	}
	for _, sid := range sids {
		if _, err := s.exec(ctx, `UPDATE accounts SET auth_token = '' WHERE sid = ?`, sid); err != nil {
			return nil, err
		}
	}
	return sids, nil
}

// DeleteAPIKeysExcept deletes every API key not in keep and returns how many it deleted.
func (s *Store) DeleteAPIKeysExcept(ctx context.Context, keep []string) (int64, error) {
	q, args := notIn(`DELETE FROM api_keys WHERE 1 = 1`, "sid", keep)
	res, err := s.exec(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return n, s.mapErr(err)
}
