package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parley-dev/parley/internal/conv"
)

// The control plane (/parley/v1/Reset, Snapshot, Clock) of one account.

// Ping runs a trivial query on the read pool.
func (s *Store) Ping(ctx context.Context) error {
	var n int
	return s.mapErr(s.read.QueryRowContext(ctx, `SELECT 1`).Scan(&n))
}

// GetClockOffset returns the stored clock offset (0 when never set).
func (s *Store) GetClockOffset(ctx context.Context) (time.Duration, error) {
	var ms int64
	err := s.q.QueryRowContext(ctx, s.bind(`SELECT offset_ms FROM control_clock WHERE id = 1`)).Scan(&ms)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, s.mapErr(err)
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// SetClockOffset stores the clock offset (call it in WithTx after GetClockOffset to keep it
// growing).
func (s *Store) SetClockOffset(ctx context.Context, d time.Duration) error {
	res, err := s.exec(ctx, `UPDATE control_clock SET offset_ms = ? WHERE id = 1`, d.Milliseconds())
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return s.mapErr(err)
	} else if n > 0 {
		return nil
	}
	_, err = s.exec(ctx, `INSERT INTO control_clock (id, offset_ms) VALUES (1, ?)`, d.Milliseconds())
	return err
}

// snapshotTable is one table of an account's state, in insertion order (parents first).
type snapshotTable struct {
	name  string
	where string // selects the account's rows; one '?' for the account sid
}

const ofAccountServices = "service_sid IN (SELECT sid FROM services WHERE account_sid = ?)"

// snapshotTables are the tables a snapshot holds. Deliveries, the outbox, the webhook delivery
// log and push bindings are transient and left out; credentials and API keys are kept.
var snapshotTables = []snapshotTable{
	{"services", "account_sid = ?"},
	{"service_configs", ofAccountServices},
	{"service_notifications", ofAccountServices},
	{"service_webhook_configs", "account_sid = ?"},
	{"roles", "account_sid = ?"},
	{"users", "account_sid = ?"},
	{"account_configs", "account_sid = ?"},
	{"account_webhook_configs", "account_sid = ?"},
	{"address_configs", "account_sid = ?"},
	{"conversations", "account_sid = ?"},
	{"conversation_webhooks", "account_sid = ?"},
	{"participants", "account_sid = ?"},
	{"binding_claims", "account_sid = ?"},
	{"messages", "account_sid = ?"},
}

// resetTables is every table Reset empties, children first.
var resetTables = []snapshotTable{
	// The client SDK's Sync view (syncview); rebuilt from the data when next read.
	{"sync_events", "object_sid IN (SELECT sid FROM sync_objects WHERE account_sid = ?)"},
	{"sync_items", "object_sid IN (SELECT sid FROM sync_objects WHERE account_sid = ?)"},
	{"sync_objects", "account_sid = ?"},
	{"media_chunks", "media_sid IN (SELECT sid FROM media WHERE account_sid = ?)"},
	{"media", "account_sid = ?"},
	{"push_notifications", "account_sid = ?"},
	{"webhook_delivery_attempts", "account_sid = ?"},
	{"webhook_deliveries", "account_sid = ?"},
	{"outbox", "account_sid = ?"},
	{"deliveries", "account_sid = ?"},
	{"messages", "account_sid = ?"},
	{"binding_claims", "account_sid = ?"},
	{"participants", "account_sid = ?"},
	{"conversation_webhooks", "account_sid = ?"},
	{"conversations", "account_sid = ?"},
	{"users", "account_sid = ?"},
	{"roles", "account_sid = ?"},
	{"push_bindings", "account_sid = ?"},
	{"service_webhook_configs", "account_sid = ?"},
	{"service_notifications", ofAccountServices},
	{"service_configs", ofAccountServices},
	{"services", "account_sid = ?"},
	{"address_configs", "account_sid = ?"},
	{"account_configs", "account_sid = ?"},
	{"account_webhook_configs", "account_sid = ?"},
}

// derivedColumns are kept by triggers (or generated) and so neither exported nor imported.
var derivedColumns = map[string]bool{
	"seq": true, "participants_chat": true, "participants_non_chat": true, "participants_projected": true,
}

// ResetAccount deletes every resource of the account except the account row, its API keys
// and its credentials, and clears its default service. Call it inside WithTx.
func (s *Store) ResetAccount(ctx context.Context, accountSid string) error {
	for _, t := range resetTables {
		if _, err := s.exec(ctx, `DELETE FROM `+t.name+` WHERE `+t.where, accountSid); err != nil {
			return fmt.Errorf("reset %s: %w", t.name, err)
		}
	}
	_, err := s.exec(ctx, `UPDATE accounts SET default_service_sid = '' WHERE sid = ?`, accountSid)
	return err
}

// column is a column of a snapshot table and how its values are converted.
type column struct {
	name string
	kind byte // 'b' boolean, 'd' date (Unix seconds, exported as RFC 3339), 'i' integer, 's' other
}

// columns returns the columns of table t.
func (s *Store) columns(ctx context.Context, t string) ([]column, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT * FROM `+t+` WHERE 1 = 0`)
	if err != nil {
		return nil, s.mapErr(err)
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, s.mapErr(err)
	}
	var out []column
	for _, ct := range types {
		c := column{name: ct.Name(), kind: 's'}
		typ := strings.ToUpper(ct.DatabaseTypeName())
		switch {
		case typ == "BOOLEAN" || typ == "BOOL":
			c.kind = 'b'
		case strings.Contains(typ, "INT"):
			c.kind = 'i'
			if strings.HasPrefix(c.name, "date_") {
				c.kind = 'd'
			}
		}
		out = append(out, c)
	}
	return out, nil
}

// ExportAccount returns the rows of every snapshot table of the account. Called first in a
// WithTx transaction, it reads one consistent state (PostgreSQL: the transaction is made
// REPEATABLE READ; SQLite's write transactions are serial).
func (s *Store) ExportAccount(ctx context.Context, accountSid string) (*conv.Snapshot, error) {
	if s.inTx && s.d.Name() == "postgres" {
		if _, err := s.exec(ctx, `SET TRANSACTION ISOLATION LEVEL REPEATABLE READ`); err != nil {
			return nil, err
		}
	}
	a, err := s.GetAccount(ctx, accountSid)
	if err != nil {
		return nil, err
	}
	snap := &conv.Snapshot{Version: conv.SnapshotVersion, AccountSid: accountSid, DefaultServiceSid: a.DefaultServiceSid, Tables: map[string][]conv.SnapshotRow{}}
	for _, t := range snapshotTables {
		cols, err := s.columns(ctx, t.name)
		if err != nil {
			return nil, err
		}
		var names []string
		hasSeq := false
		for _, c := range cols {
			if c.name == "seq" {
				hasSeq = true
			}
			if !derivedColumns[c.name] {
				names = append(names, c.name)
			}
		}
		order := strings.Join(names, ", ")
		if hasSeq {
			order = "seq"
		}
		q := `SELECT ` + strings.Join(names, ", ") + ` FROM ` + t.name + ` WHERE ` + t.where + ` ORDER BY ` + order
		rows, err := s.q.QueryContext(ctx, s.bind(q), accountSid)
		if err != nil {
			return nil, s.mapErr(err)
		}
		var kept []column
		for _, c := range cols {
			if !derivedColumns[c.name] {
				kept = append(kept, c)
			}
		}
		out := []conv.SnapshotRow{}
		for rows.Next() {
			vals := make([]any, len(kept))
			ptrs := make([]any, len(kept))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return nil, s.mapErr(err)
			}
			row := conv.SnapshotRow{}
			for i, c := range kept {
				row[c.name] = exportValue(c, vals[i])
			}
			out = append(out, row)
		}
		if err := rows.Err(); err != nil {
			rows.Close()
			return nil, s.mapErr(err)
		}
		rows.Close()
		snap.Tables[t.name] = out
	}
	return snap, nil
}

// exportValue turns a driver value into a string, int64, bool or nil.
func exportValue(c column, v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case []byte:
		return string(x)
	case int32:
		v = int64(x)
	case bool:
		return x
	}
	switch c.kind {
	case 'b':
		if n, ok := v.(int64); ok {
			return n != 0
		}
	case 'd':
		if n, ok := v.(int64); ok {
			return time.Unix(n, 0).UTC().Format(time.RFC3339)
		}
	}
	return v
}

// importValue converts a snapshot value (string, bool, integer, json.Number-like Stringer,
// float64 or nil) for column c.
func importValue(c column, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch c.kind {
	case 'b':
		if b, ok := v.(bool); ok {
			return b, nil
		}
		return nil, fmt.Errorf("must be true or false, not %v", v)
	case 'd':
		if str, ok := v.(string); ok {
			t, err := time.Parse(time.RFC3339, str)
			if err != nil {
				return nil, fmt.Errorf("must be an RFC 3339 date, not %q", str)
			}
			return t.Unix(), nil
		}
		return toInt(v)
	case 'i':
		return toInt(v)
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case fmt.Stringer:
		return x.String(), nil
	}
	return nil, fmt.Errorf("must be a string, not %v", v)
}

func toInt(v any) (any, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case int:
		return int64(x), nil
	case uint64:
		return int64(x), nil
	case float64:
		if x == float64(int64(x)) {
			return int64(x), nil
		}
	case fmt.Stringer: // json.Number
		if n, err := strconv.ParseInt(x.String(), 10, 64); err == nil {
			return n, nil
		}
	}
	return nil, fmt.Errorf("must be an integer, not %v", v)
}

// ImportAccount inserts snap's rows for the account (whose tables must be empty, e.g. after
// ResetAccount in the same transaction) and sets its default service. A row that does not
// fit its table is refused with an error wrapping conv.ErrSnapshotInvalid.
func (s *Store) ImportAccount(ctx context.Context, accountSid string, snap *conv.Snapshot) error {
	known := map[string]bool{}
	for _, t := range snapshotTables {
		known[t.name] = true
	}
	for name := range snap.Tables {
		if !known[name] {
			return fmt.Errorf("%w: unknown table %q", conv.ErrSnapshotInvalid, name)
		}
	}
	for _, t := range snapshotTables {
		rows := snap.Tables[t.name]
		if len(rows) == 0 {
			continue
		}
		cols, err := s.columns(ctx, t.name)
		if err != nil {
			return err
		}
		byName := map[string]column{}
		for _, c := range cols {
			if !derivedColumns[c.name] {
				byName[c.name] = c
			}
		}
		for i, row := range rows {
			if err := s.importRow(ctx, t.name, byName, accountSid, row); err != nil {
				return fmt.Errorf("%w: %s[%d]: %v", conv.ErrSnapshotInvalid, t.name, i, err)
			}
		}
	}
	_, err := s.exec(ctx, `UPDATE accounts SET default_service_sid = ? WHERE sid = ?`, snap.DefaultServiceSid, accountSid)
	return err
}

func (s *Store) importRow(ctx context.Context, table string, cols map[string]column, accountSid string, row conv.SnapshotRow) error {
	names := make([]string, 0, len(row))
	for k := range row {
		names = append(names, k)
	}
	slices.Sort(names)
	args := make([]any, 0, len(row)+1)
	for _, k := range names {
		c, ok := cols[k]
		if !ok {
			return fmt.Errorf("unknown column %q", k)
		}
		v, err := importValue(c, row[k])
		if err != nil {
			return fmt.Errorf("%s %v", k, err)
		}
		if k == "account_sid" && v != accountSid {
			return fmt.Errorf("account_sid %v is not the account restored (%s)", v, accountSid)
		}
		args = append(args, v)
	}
	if _, ok := cols["account_sid"]; ok {
		if _, given := row["account_sid"]; !given {
			names = append(names, "account_sid")
			args = append(args, accountSid)
		}
	}
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(names)), ", ")
	if _, err := s.exec(ctx, `INSERT INTO `+table+` (`+strings.Join(names, ", ")+`) VALUES (`+marks+`)`, args...); err != nil {
		if errors.Is(err, conv.ErrConflict) {
			return errors.New("a row with that sid or key already exists (in this snapshot or in another account)")
		}
		return err
	}
	return nil
}
