// Package storetest gives tests a fresh, empty store on every engine Parley supports, so that
// one suite runs on SQLite and on PostgreSQL.
package storetest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/parley-dev/parley/internal/store"
	"github.com/parley-dev/parley/internal/store/sqlite"
)

// PostgresEnv names the environment variable holding the PostgreSQL URL tests use.
const PostgresEnv = "PARLEY_TEST_POSTGRES_URL"

// Engine opens fresh stores of one kind.
type Engine struct {
	Name string
	// Open returns a new, empty, migrated store, closed when the test ends.
	Open func(t testing.TB) store.Store
}

// SQLite is the embedded engine: a new database file in the test's temporary directory.
var SQLite = Engine{Name: "sqlite", Open: func(t testing.TB) store.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "parley.db"), sqlite.Options{})
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}}

// Engines returns every engine to run a suite on: SQLite always, PostgreSQL when
// PARLEY_TEST_POSTGRES_URL is set (otherwise it logs how to enable it).
func Engines(t testing.TB) []Engine {
	t.Helper()
	engines := []Engine{SQLite}
	if pg, ok := postgresEngine(t); ok {
		engines = append(engines, pg)
	}
	return engines
}

// postgresEngine returns the PostgreSQL engine when it is configured.
func postgresEngine(t testing.TB) (Engine, bool) {
	t.Helper()
	t.Logf("PostgreSQL tests skipped: set %s=postgres://user@127.0.0.1:5432/db to run them", PostgresEnv)
	return Engine{}, false
}

// Each runs f once per engine as a subtest named after the engine.
func Each(t *testing.T, f func(t *testing.T, e Engine)) {
	for _, e := range Engines(t) {
		t.Run(e.Name, func(t *testing.T) { f(t, e) })
	}
}
