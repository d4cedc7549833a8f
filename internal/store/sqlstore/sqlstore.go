// Package sqlstore is the SQL implementation of conv.Store shared by every engine. Queries are
// written once with '?' placeholders; an engine supplies a Dialect for what really differs
// (placeholder syntax, row locks, driver error codes).
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/parley-dev/parley/internal/conv"
)

// Dialect is what differs between SQL engines.
type Dialect interface {
	// Name names the engine ("sqlite", "postgres").
	Name() string
	// Rebind rewrites '?' placeholders into the engine's syntax.
	Rebind(query string) string
	// LockSuffix is appended to a SELECT that must lock the row it reads ("" when write
	// transactions are already serial).
	LockSuffix() string
	// IsUniqueViolation reports, by driver error code, whether err is a unique or primary
	// key constraint violation.
	IsUniqueViolation(err error) bool
	// IsForeignKeyViolation reports, by driver error code, whether err is a foreign key
	// violation: a row was written under a parent that a concurrent transaction deleted.
	IsForeignKeyViolation(err error) bool
	// IsStorageFull reports, by driver error code, whether err says the storage is full.
	IsStorageFull(err error) bool
}

// querier is the part of *sql.DB and *sql.Tx the store uses.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// TxRunner runs fn inside one write transaction and commits it; engines provide it so they
// can pick the connection and BEGIN mode (and batch commits).
type TxRunner func(ctx context.Context, fn func(tx *sql.Tx) error) error

// Store implements conv.Store over database/sql.
type Store struct {
	read    *sql.DB
	runTx   TxRunner
	d       Dialect
	q       querier // the transaction inside WithTx, else the read pool
	inTx    bool
	rebinds *sync.Map
	// packed: participant rows are read as one packed column (the dialect is a RowPacker).
	packed bool
	// readStmts and writeStmts, when set (CacheStatements), prepare each query once per pool.
	readStmts, writeStmts *stmtCache
}

var _ conv.Store = (*Store)(nil)

// New returns a Store that reads through read and writes through runTx.
func New(read *sql.DB, runTx TxRunner, d Dialect) *Store {
	rp, ok := d.(RowPacker)
	return &Store{read: read, runTx: runTx, d: d, q: read, rebinds: &sync.Map{}, packed: ok && rp.PacksRows()}
}

// Dialect returns the store's dialect.
func (s *Store) Dialect() Dialect { return s.d }

// WithTx runs fn in one write transaction (nested calls reuse the outer transaction).
// Driver errors that reach it unmapped (a failed BEGIN or COMMIT, say) are mapped by code as
// mapErr maps them.
func (s *Store) WithTx(ctx context.Context, fn func(tx conv.Store) error) error {
	if s.inTx {
		return fn(s)
	}
	return s.mapDriverErr(s.runTx(ctx, func(tx *sql.Tx) error {
		inner := *s
		inner.q, inner.inTx = s.txQuerier(tx), true
		return fn(&inner)
	}))
}

// mapDriverErr maps the driver error codes the engine knows to conv's sentinels and leaves
// every other error as it is: a unique violation is ErrConflict; a foreign key violation is
// ErrNotFound (the parent row was deleted concurrently, so the resource is gone); a full
// storage is ErrStorageFull.
func (s *Store) mapDriverErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, conv.ErrConflict), errors.Is(err, conv.ErrNotFound), errors.Is(err, conv.ErrStorageFull):
		return err // already mapped
	case s.d.IsUniqueViolation(err):
		return fmt.Errorf("%w: %v", conv.ErrConflict, err)
	case s.d.IsForeignKeyViolation(err):
		return fmt.Errorf("%w: %v", conv.ErrNotFound, err)
	case s.d.IsStorageFull(err):
		return fmt.Errorf("%w: %s: %v", conv.ErrStorageFull, s.d.Name(), err)
	}
	return err
}

func (s *Store) bind(q string) string {
	if v, ok := s.rebinds.Load(q); ok {
		return v.(string)
	}
	b := s.d.Rebind(q)
	s.rebinds.Store(q, b)
	return b
}

func (s *Store) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	res, err := s.q.ExecContext(ctx, s.bind(q), args...)
	return res, s.mapErr(err)
}

func (s *Store) mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return conv.ErrNotFound
	}
	if m := s.mapDriverErr(err); m != err {
		return m
	}
	return fmt.Errorf("%s: %w", s.d.Name(), err)
}

// execOne runs a statement that must touch exactly one row (else ErrNotFound).
func (s *Store) execOne(ctx context.Context, q string, args ...any) error {
	res, err := s.exec(ctx, q, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return s.mapErr(err)
	}
	if n == 0 {
		return conv.ErrNotFound
	}
	return nil
}

// insertSeq runs an INSERT ... RETURNING seq and returns the seq.
func (s *Store) insertSeq(ctx context.Context, q string, args ...any) (int64, error) {
	var seq int64
	err := s.q.QueryRowContext(ctx, s.bind(q+" RETURNING seq"), args...).Scan(&seq)
	return seq, s.mapErr(err)
}

// page appends the keyset/offset clause of q to a query whose WHERE is already open, and
// reports whether the rows come back in descending order (to be reversed).
func page(sb *strings.Builder, args []any, q conv.PageQuery) ([]any, bool) {
	return pageOn(sb, args, q, "seq")
}

// pageOn is page on the sequence column col (qualified in joins, e.g. "p.seq").
func pageOn(sb *strings.Builder, args []any, q conv.PageQuery, col string) ([]any, bool) {
	size := q.Size
	if size <= 0 {
		size = 50
	}
	switch {
	case q.AfterSeq > 0:
		sb.WriteString(" AND " + col + " > ? ORDER BY " + col + " ASC LIMIT ?")
		return append(args, q.AfterSeq, size), false
	case q.BeforeSeq > 0:
		sb.WriteString(" AND " + col + " < ? ORDER BY " + col + " DESC LIMIT ?")
		return append(args, q.BeforeSeq, size), true
	default:
		sb.WriteString(" ORDER BY " + col + " ASC LIMIT ? OFFSET ?")
		return append(args, size, q.Offset), false
	}
}

func reverse[T any](xs []T) {
	for i, j := 0, len(xs)-1; i < j; i, j = i+1, j-1 {
		xs[i], xs[j] = xs[j], xs[i]
	}
}

// listRows runs a paged query and scans each row with scan.
func listRows[T any](ctx context.Context, s *Store, base string, args []any, q conv.PageQuery, scan func(rowScanner) (*T, error)) ([]*T, error) {
	var sb strings.Builder
	sb.WriteString(base)
	args, desc := page(&sb, args, q)
	return queryRows(ctx, s, sb.String(), args, desc, scan)
}

type rowScanner interface{ Scan(dest ...any) error }

// RebindDollar rewrites '?' placeholders as $1, $2, ... (PostgreSQL). Question marks inside
// single-quoted literals are left alone.
func RebindDollar(q string) string {
	var b strings.Builder
	n, inQuote := 0, false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'':
			inQuote = !inQuote
		case c == '?' && !inQuote:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
