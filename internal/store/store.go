// Package store opens the storage engine a database URL names.
package store

import (
	"context"
	"strings"

	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/store/postgres"
	"github.com/parley-dev/parley/internal/store/sqlite"
)

// Options tune the engines.
type Options struct {
	// SQLiteSynchronous is SQLite's synchronous pragma (NORMAL or FULL).
	SQLiteSynchronous string
	// PostgresMaxOpenConns caps each PostgreSQL connection pool (0: the engine's default).
	PostgresMaxOpenConns int
}

// Store is an opened engine.
type Store interface {
	conv.Store
	// Describe names the engine and where its data is, for the start-up banner.
	Describe() string
	Close() error
}

// IsPostgresURL reports whether db names a PostgreSQL database (a postgres:// or
// postgresql:// URL, scheme case-insensitive).
func IsPostgresURL(db string) bool {
	l := strings.ToLower(db)
	return strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://")
}

// Open opens the engine db names: a postgres:// or postgresql:// URL selects PostgreSQL,
// anything else (optionally "sqlite:" prefixed) is a SQLite file path. It returns the
// engine's open or migration error.
func Open(ctx context.Context, db string, opts Options) (Store, error) {
	if IsPostgresURL(db) {
		s, err := postgres.Open(ctx, db, postgres.Options{MaxOpenConns: opts.PostgresMaxOpenConns})
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	path := strings.TrimPrefix(db, "sqlite:")
	s, err := sqlite.Open(ctx, path, sqlite.Options{Synchronous: opts.SQLiteSynchronous})
	if err != nil {
		return nil, err
	}
	return s, nil
}
