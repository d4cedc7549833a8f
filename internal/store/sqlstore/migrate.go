package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
)

// MigrationLocker is implemented by dialects that must serialise migrations across processes
// (several replicas starting at once). The returned func releases the lock.
type MigrationLocker interface {
	LockMigrations(ctx context.Context, conn *sql.Conn) (unlock func(), err error)
}

// Migrate applies, in the order of their numbers, every "NNNN_name.sql" file of fsys that the
// schema_migrations table does not list yet, each in its own transaction. It returns the first
// failure; two files with one number are refused before any runs.
func Migrate(ctx context.Context, db *sql.DB, d Dialect, fsys fs.FS) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Close()
	if l, ok := d.(MigrationLocker); ok {
		unlock, err := l.LockMigrations(ctx, conn)
		if err != nil {
			return fmt.Errorf("migrate: lock: %w", err)
		}
		defer unlock()
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	migrations, err := migrationFiles(fsys)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, m := range migrations {
		v, name := m.version, m.name
		var n int
		if err := conn.QueryRowContext(ctx, d.Rebind(`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`), v).Scan(&n); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if n > 0 {
			continue
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			_ = tx.Rollback()
			return fmt.Errorf("migrate: %s: %w", name, err)
		}
		if _, err := tx.ExecContext(ctx, d.Rebind(`INSERT INTO schema_migrations (version, name) VALUES (?, ?)`), v, name); err != nil {
			_ = tx.Rollback()
			return fmt.Errorf("migrate: %s: %w", name, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migrate: %s: %w", name, err)
		}
	}
	return nil
}

// migration is one "NNNN_name.sql" file.
type migration struct {
	version int64
	name    string
}

// migrationFiles returns the migrations of fsys ordered by number. Two files with one number
// are refused: the schema_migrations table records numbers, so the second would never run.
func migrationFiles(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, err
	}
	out := make([]migration, 0, len(names))
	seen := map[int64]string{}
	for _, name := range names {
		v, err := strconv.ParseInt(strings.SplitN(name, "_", 2)[0], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: file name must start with a number", name)
		}
		if other, ok := seen[v]; ok {
			return nil, fmt.Errorf("%s and %s have the same number", other, name)
		}
		seen[v] = name
		out = append(out, migration{v, name})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}
