// Package postgres is Parley's PostgreSQL store, for several replicas sharing one database.
// It runs the shared SQL of package sqlstore through github.com/jackc/pgx/v5/stdlib, with two
// database/sql pools (write transactions, plain reads), READ COMMITTED write transactions that
// are retried on serialization failures and deadlocks, and the schema migrations embedded and
// applied under an advisory lock so that replicas starting together migrate once.
package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/parley-dev/parley/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Defaults of Options.
const (
	DefaultMaxOpenConns = 16
	DefaultTxAttempts   = 5
)

// SQLSTATE codes the engine acts on.
const (
	codeUniqueViolation      = "23505"
	codeForeignKeyViolation  = "23503"
	codeDiskFull             = "53100"
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
)

// migrationLockKey is the pg_advisory_lock key held while migrating ("parley" in ASCII). It
// is the same for every schema of a database, so migrations of different schemas also wait
// for each other, which is harmless.
const migrationLockKey int64 = 0x7061726c6579

// Options tune the store; zero values get the defaults.
type Options struct {
	// MaxOpenConns caps each of the two pools, write transactions and plain reads (default
	// DefaultMaxOpenConns), so one store opens at most 2×MaxOpenConns server connections.
	MaxOpenConns int
	// TxAttempts is how many times a write transaction is run before a serialization failure
	// or deadlock is returned to the caller (default DefaultTxAttempts).
	TxAttempts int
}

// Store is the PostgreSQL engine: the shared SQL store plus the pools it owns.
type Store struct {
	*sqlstore.Store
	desc     string
	write    *sql.DB
	read     *sql.DB
	attempts int
	cfg      *pgx.ConnConfig // for the LISTEN connection (notify.go)
}

type dialect struct{}

func (dialect) Name() string           { return "postgres" }
func (dialect) Rebind(q string) string { return sqlstore.RebindDollar(q) }
func (dialect) LockSuffix() string     { return " FOR UPDATE" }

// SkipLockedSuffix lets concurrent webhook dispatchers claim different outbox rows.
func (dialect) SkipLockedSuffix() string { return " FOR UPDATE SKIP LOCKED" }

// NotifySyncStatement wakes the Sync fan-outs of every replica when the transaction commits.
func (dialect) NotifySyncStatement() string { return `SELECT pg_notify('` + syncChannel + `', '')` }

// syncChannel is the LISTEN/NOTIFY channel of Sync view changes.
const syncChannel = "parley_sync"

// ListenSyncChanges listens on its own connection and calls wake on every committed Sync view
// change of any replica, until ctx is done or the connection fails (syncview.Listener).
func (s *Store) ListenSyncChanges(ctx context.Context, wake func()) error {
	conn, err := pgx.ConnectConfig(ctx, s.cfg)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+syncChannel); err != nil {
		return err
	}
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		wake()
	}
}

// ShareLockSuffix takes a shared row lock (sqlstore.ShareLocker).
func (dialect) ShareLockSuffix() string              { return " FOR SHARE" }
func (dialect) IsForeignKeyViolation(err error) bool { return pgCode(err) == codeForeignKeyViolation }
func (dialect) IsStorageFull(err error) bool         { return pgCode(err) == codeDiskFull }

// pgCode is the SQLSTATE of a PostgreSQL error, or "".
func pgCode(err error) string {
	var e *pgconn.PgError
	if !errors.As(err, &e) {
		return ""
	}
	return e.Code
}

func (dialect) IsUniqueViolation(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == codeUniqueViolation
}

// LockMigrations takes the session-level advisory lock on conn; unlock releases it. When the
// unlock fails the connection is discarded, which ends the session and so the lock.
func (dialect) LockMigrations(ctx context.Context, conn *sql.Conn) (func(), error) {
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrationLockKey); err != nil {
		return nil, err
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_unlock($1)`, migrationLockKey); err != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}, nil
}

var (
	_ sqlstore.MigrationLocker = dialect{}
	_ sqlstore.SkipLocker      = dialect{}
)

// Open connects to the PostgreSQL database url names (a postgres:// or postgresql:// URL, or
// a key=value connection string; runtime parameters such as search_path=<schema> are sent to
// the server), applies the embedded migrations to the first schema of the search path and
// returns the store. It returns an error when url does not parse, the server cannot be
// reached or a migration fails; errors never include the password.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	if opts.MaxOpenConns <= 0 {
		opts.MaxOpenConns = DefaultMaxOpenConns
	}
	if opts.TxAttempts <= 0 {
		opts.TxAttempts = DefaultTxAttempts
	}
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err) // pgconn redacts the password
	}
	loc := location(cfg)
	// The read pool refuses writes, as SQLite's query_only readers do: every write must go
	// through WithTx.
	rcfg := cfg.Copy()
	if rcfg.RuntimeParams == nil {
		rcfg.RuntimeParams = map[string]string{}
	}
	rcfg.RuntimeParams["default_transaction_read_only"] = "on"

	write := stdlib.OpenDB(*cfg)
	read := stdlib.OpenDB(*rcfg)
	for _, db := range []*sql.DB{write, read} {
		db.SetMaxOpenConns(opts.MaxOpenConns)
		// Keep every connection the pool opened: with fewer idle slots than open connections,
		// a burst of concurrent requests closes connections it then reopens (a new backend
		// process each), which parley-bench measured as 25–125 ms p99 at 16 clients.
		// ConnMaxIdleTime still closes them once the load is gone.
		db.SetMaxIdleConns(opts.MaxOpenConns)
		db.SetConnMaxIdleTime(5 * time.Minute)
		db.SetConnMaxLifetime(time.Hour)
	}
	fail := func(err error) (*Store, error) {
		_ = errors.Join(write.Close(), read.Close())
		return nil, err
	}
	if err := write.PingContext(ctx); err != nil {
		return fail(fmt.Errorf("postgres: connect to %s: %w", loc, err))
	}
	sub, _ := fs.Sub(migrations, "migrations")
	if err := sqlstore.Migrate(ctx, write, dialect{}, sub); err != nil {
		return fail(fmt.Errorf("postgres: %s: %w", loc, err))
	}
	s := &Store{desc: "postgres " + loc, write: write, read: read, attempts: opts.TxAttempts, cfg: cfg}
	s.Store = sqlstore.New(read, s.runTx, dialect{})
	return s, nil
}

// location names the server, database and search path of cfg, without credentials.
func location(cfg *pgx.ConnConfig) string {
	d := net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))) + "/" + cfg.Database
	if sp := cfg.RuntimeParams["search_path"]; sp != "" {
		d += " (search_path " + sp + ")"
	}
	return d
}

// runTx runs fn in a READ COMMITTED transaction on the write pool, running it again (up to
// s.attempts times in all, with a short randomised back-off) when the transaction fails with
// a serialization failure or a deadlock. fn must therefore be safe to run more than once.
func (s *Store) runTx(ctx context.Context, fn func(*sql.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.tryTx(ctx, fn)
		if err == nil || attempt >= s.attempts || !retryable(err) {
			return err
		}
		backoff := time.Duration(1<<min(attempt, 6)) * time.Millisecond
		t := time.NewTimer(backoff + rand.N(backoff))
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

func (s *Store) tryTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.write.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	if err != nil {
		return fmt.Errorf("postgres: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("postgres: commit: %w", err)
	}
	return nil
}

// retryable reports whether err is a serialization failure or a deadlock, after which the
// whole transaction may simply be run again.
func retryable(err error) bool {
	var e *pgconn.PgError
	if !errors.As(err, &e) {
		return false
	}
	return e.Code == codeSerializationFailure || e.Code == codeDeadlockDetected
}

// Close closes both pools and returns their errors.
func (s *Store) Close() error {
	return errors.Join(s.read.Close(), s.write.Close())
}

// Describe returns "postgres host:port/database", with the search path when one is set; it
// never includes credentials.
func (s *Store) Describe() string { return s.desc }
