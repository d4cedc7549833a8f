package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// maxCachedStatements bounds a statement cache; queries beyond it run unprepared.
const maxCachedStatements = 512

// stmtCache prepares each query text once per pool: database/sql then keeps the statement
// prepared on every connection that runs it, so a query is parsed and planned once per
// connection instead of once per call. Engines whose driver already caches statements
// (pgx) do not need it.
type stmtCache struct {
	db      *sql.DB
	mu      sync.RWMutex
	m       map[string]*sql.Stmt
	pending map[string]bool // being prepared in the background
	closed  bool
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, m: map[string]*sql.Stmt{}, pending: map[string]bool{}}
}

// getAsync returns the prepared statement of q when it is cached, else nil after starting
// to prepare it in the background. Inside a transaction the pool's only connection may be
// the transaction's (SQLite's writer), so preparing on the pool must wait for it to be free.
func (c *stmtCache) getAsync(q string) *sql.Stmt {
	c.mu.RLock()
	st, ok := c.m[q]
	c.mu.RUnlock()
	if ok {
		return st
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[q]; ok {
		return st
	}
	if c.closed || c.pending[q] || len(c.m)+len(c.pending) >= maxCachedStatements {
		return nil
	}
	c.pending[q] = true
	go func() {
		st, err := c.db.PrepareContext(context.Background(), q)
		c.mu.Lock()
		defer c.mu.Unlock()
		delete(c.pending, q)
		switch {
		case err != nil:
		case c.closed:
			st.Close()
		default:
			c.m[q] = st
		}
	}()
	return nil
}

// get returns the prepared statement of q, or nil when it cannot be prepared (the caller
// then runs q directly, which reports the error) or the cache is full.
func (c *stmtCache) get(ctx context.Context, q string) *sql.Stmt {
	c.mu.RLock()
	st, ok := c.m[q]
	c.mu.RUnlock()
	if ok {
		return st
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[q]; ok {
		return st
	}
	if c.closed || len(c.m) >= maxCachedStatements {
		return nil
	}
	st, err := c.db.PrepareContext(ctx, q)
	if err != nil {
		return nil
	}
	c.m[q] = st
	return st
}

// close closes every cached statement.
func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	for q, st := range c.m {
		st.Close()
		delete(c.m, q)
	}
}

// cachedDB runs queries on a pool through its statement cache.
type cachedDB struct{ c *stmtCache }

func (d cachedDB) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if st := d.c.get(ctx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return d.c.db.ExecContext(ctx, q, args...)
}

func (d cachedDB) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := d.c.get(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return d.c.db.QueryContext(ctx, q, args...)
}

func (d cachedDB) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if st := d.c.get(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return d.c.db.QueryRowContext(ctx, q, args...)
}

// cachedTx runs queries in a transaction through the statement cache of the transaction's
// pool (Tx.StmtContext reuses the statement already prepared on the connection). The
// queries are not interrupted when the caller's context ends: with group commit the
// transaction carries other callers' writes too, and SQLite rolls a whole transaction back
// when a write statement in it is interrupted. (Whether to run at all is decided before: the
// group committer skips functions whose context has ended.)
type cachedTx struct {
	tx *sql.Tx
	c  *stmtCache
}

func (t cachedTx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	ctx = context.WithoutCancel(ctx)
	if st := t.c.getAsync(q); st != nil {
		return t.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, q, args...)
}

func (t cachedTx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	ctx = context.WithoutCancel(ctx)
	if st := t.c.getAsync(q); st != nil {
		return t.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, q, args...)
}

func (t cachedTx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	ctx = context.WithoutCancel(ctx)
	if st := t.c.getAsync(q); st != nil {
		return t.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, q, args...)
}

// CacheStatements makes the store run its queries as prepared statements cached per query
// text: reads on the read pool, and writes on write, the pool the engine's TxRunner begins
// its transactions on. Call it right after New, before the store is used; the statements
// are closed by CloseStatements.
func (s *Store) CacheStatements(write *sql.DB) {
	s.readStmts, s.writeStmts = newStmtCache(s.read), newStmtCache(write)
	s.q = cachedDB{s.readStmts}
}

// CloseStatements closes the cached statements (before the engine closes its pools).
func (s *Store) CloseStatements() {
	if s.readStmts != nil {
		s.readStmts.close()
		s.writeStmts.close()
	}
}

// txQuerier is what the store's queries run on inside a transaction.
func (s *Store) txQuerier(tx *sql.Tx) querier {
	if s.writeStmts != nil {
		return cachedTx{tx: tx, c: s.writeStmts}
	}
	return tx
}
