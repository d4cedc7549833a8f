// Package sqlite is Parley's embedded default store: one SQLite file in WAL mode, a single
// writer connection (BEGIN IMMEDIATE) whose transactions are group-committed, a pool of
// read-only connections and a background checkpointer, with the schema migrations embedded.
// It uses modernc.org/sqlite, a pure-Go driver, so that CGO_ENABLED=0 builds work.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path/filepath"
	"runtime"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/parley-dev/parley/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Options tune the store.
type Options struct {
	// Synchronous is SQLite's synchronous pragma: "NORMAL" (default; an acknowledged write
	// survives a crash of the process) or "FULL" (also survives power loss).
	Synchronous string
	// Readers is the size of the read pool (default: 2 × GOMAXPROCS, at least 4).
	Readers int
	// MaxBatch is the most write transactions group commit runs in one SQLite transaction
	// (default DefaultMaxBatch; 1 turns group commit off).
	MaxBatch int
	// WALLimitFrames is the WAL size, in pages, above which the checkpointer truncates it
	// (default DefaultWALLimitFrames).
	WALLimitFrames int
	// CheckpointRounds, when set, replaces the checkpointer's timer (a round every 100 ms):
	// it runs one round for each channel received and closes that channel once the round is
	// done. Tests use it to checkpoint at a known moment instead of racing the timer.
	CheckpointRounds <-chan chan struct{}
}

// Store is the SQLite engine: the shared SQL store plus the connections it owns.
type Store struct {
	*sqlstore.Store
	path  string
	write *sql.DB
	read  *sql.DB
	gc    *committer
	ckpt  *checkpointer
}

type dialect struct{}

func (dialect) Name() string                     { return "sqlite" }
func (dialect) Rebind(q string) string           { return q }
func (dialect) LockSuffix() string               { return "" } // the single writer serialises writes
func (dialect) IsUniqueViolation(err error) bool { return isUniqueViolation(err) }
func (dialect) IsForeignKeyViolation(err error) bool {
	return sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}
func (dialect) IsStorageFull(err error) bool {
	return sqliteCode(err)&0xff == sqlite3.SQLITE_FULL // the primary code of any extended one
}

// sqliteCode is the extended result code of a SQLite error, or 0.
func sqliteCode(err error) int {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return 0
	}
	return e.Code()
}

// pragmas returns the connection settings of a writer (readOnly false) or reader connection.
func pragmas(sync string, readOnly bool) [][2]string {
	p := [][2]string{
		{"busy_timeout", "10000"},
		{"foreign_keys", "1"},
		{"synchronous", sync},
		// Statement and savepoint journals (group commit runs each function in a savepoint)
		// in memory rather than in temporary files: they are only needed until the
		// transaction ends.
		{"temp_store", "MEMORY"},
	}
	// Page caches (negative: KiB): the writer's holds the index pages every insert touches;
	// readers share the OS page cache.
	if readOnly {
		return append(p, [2]string{"cache_size", "-4096"}, [2]string{"query_only", "1"})
	}
	return append(p, [2]string{"cache_size", "-16384"},
		// The checkpointer runs every checkpoint, on its own connection (checkpoint.go).
		[2]string{"wal_autocheckpoint", "0"},
		[2]string{"journal_mode", "WAL"})
}

// openDB opens a pool of writer (readOnly false) or reader connections to the file at path.
func openDB(path string, sync string, readOnly bool) (*sql.DB, error) {
	return sql.Open("sqlite", dsn(path, sync, readOnly))
}

// dsn returns the data source name of a writer (readOnly false) or reader connection.
func dsn(path string, sync string, readOnly bool) string {
	q := url.Values{}
	for _, p := range pragmas(sync, readOnly) {
		q.Add("_pragma", p[0]+"("+p[1]+")")
	}
	if !readOnly {
		q.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + q.Encode()
}

// isUniqueViolation reports whether err is SQLite's UNIQUE or PRIMARY KEY constraint error,
// by its extended result code.
func isUniqueViolation(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return true
	}
	return false
}

// Open opens (creating if needed) the SQLite database at path, applies the embedded
// migrations and returns the store. It returns an error when the file cannot be opened or a
// migration fails.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if opts.Synchronous == "" {
		opts.Synchronous = "NORMAL"
	}
	switch opts.Synchronous {
	case "NORMAL", "FULL", "EXTRA":
	default:
		return nil, fmt.Errorf("sqlite: synchronous must be NORMAL, FULL or EXTRA, not %q", opts.Synchronous)
	}
	if opts.Readers <= 0 {
		opts.Readers = max(4, 2*runtime.GOMAXPROCS(0))
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	write, err := openDB(abs, opts.Synchronous, false)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	if err := write.PingContext(ctx); err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}
	sub, _ := fs.Sub(migrations, "migrations")
	if err := sqlstore.Migrate(ctx, write, dialect{}, sub); err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	read, err := openDB(abs, opts.Synchronous, true)
	if err != nil {
		write.Close()
		return nil, err
	}
	ckdb, err := openDB(abs, opts.Synchronous, false)
	if err != nil {
		write.Close()
		read.Close()
		return nil, err
	}
	ckdb.SetMaxOpenConns(1)
	ckdb.SetMaxIdleConns(1)
	ckdb.SetConnMaxLifetime(0)
	read.SetMaxOpenConns(opts.Readers)
	read.SetMaxIdleConns(opts.Readers)
	read.SetConnMaxLifetime(0)
	s := &Store{path: abs, write: write, read: read, gc: newCommitter(write, opts.MaxBatch), ckpt: startCheckpointer(ckdb, opts.WALLimitFrames, opts.CheckpointRounds)}
	s.Store = sqlstore.New(read, s.runTx, dialect{})
	s.Store.CacheStatements(write) // modernc.org/sqlite prepares every query anew otherwise
	return s, nil
}

// runTx runs fn in a write transaction on the single writer connection, through group
// commit: concurrent calls share one SQLite transaction (each in its own savepoint) and each
// returns only after that transaction committed (see committer). fn may be run again when
// another function of its batch made SQLite abort the whole transaction, so it must be safe
// to run more than once (as on PostgreSQL, which retries serialization failures).
func (s *Store) runTx(ctx context.Context, fn func(*sql.Tx) error) error {
	return s.gc.do(ctx, fn)
}

// IntegrityCheck runs PRAGMA integrity_check and returns an error unless it answers "ok".
func (s *Store) IntegrityCheck(ctx context.Context) error {
	var res string
	if err := s.write.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&res); err != nil {
		return err
	}
	if res != "ok" {
		return fmt.Errorf("sqlite: integrity check: %s", res)
	}
	return nil
}

// Close waits for the queued write transactions, then closes both pools.
func (s *Store) Close() error {
	s.gc.close()
	s.Store.CloseStatements()
	return errors.Join(s.ckpt.close(), s.read.Close(), s.write.Close())
}

// Describe names the engine and the file.
func (s *Store) Describe() string { return "sqlite " + s.path }

// PacksRows makes participant reads select one packed column (sqlstore.RowPacker): each
// column read costs several calls into the driver, each taking the connection's mutex.
func (dialect) PacksRows() bool { return true }
