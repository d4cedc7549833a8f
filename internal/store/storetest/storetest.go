// Package storetest gives tests a fresh, empty store on every engine Parley supports, so that
// one suite runs on SQLite and on PostgreSQL.
//
// PostgreSQL runs when PARLEY_TEST_POSTGRES_URL names a database the tests may create schemas
// in; each store gets its own schema t_<random hex>, dropped when the test ends. Without the
// variable PostgreSQL tests are skipped (with a message saying how to run them), unless
// PARLEY_REQUIRE_POSTGRES=1, which makes a missing or unreachable PostgreSQL fail the test.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver

	"github.com/parley-dev/parley/internal/store"
	"github.com/parley-dev/parley/internal/store/postgres"
	"github.com/parley-dev/parley/internal/store/sqlite"
)

// PostgresEnv names the environment variable holding the PostgreSQL URL tests use.
const PostgresEnv = "PARLEY_TEST_POSTGRES_URL"

// RequirePostgresEnv names the environment variable that, set to 1, makes a missing or
// unreachable PostgreSQL fail the tests instead of skipping them (CI sets it).
const RequirePostgresEnv = "PARLEY_REQUIRE_POSTGRES"

// howTo says how to run the PostgreSQL tests.
const howTo = "set " + PostgresEnv + "=postgres://user@127.0.0.1:5432/db?sslmode=disable to run them"

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
// PARLEY_TEST_POSTGRES_URL is set (otherwise it logs how to enable it, or fails t when
// PARLEY_REQUIRE_POSTGRES=1).
func Engines(t testing.TB) []Engine {
	t.Helper()
	engines := []Engine{SQLite}
	if pg, ok := postgresEngine(t); ok {
		engines = append(engines, pg)
	}
	return engines
}

// Each runs f once per engine as a subtest named after the engine.
func Each(t *testing.T, f func(t *testing.T, e Engine)) {
	for _, e := range Engines(t) {
		t.Run(e.Name, func(t *testing.T) { f(t, e) })
	}
}

// Postgres returns the PostgreSQL engine and true when PARLEY_TEST_POSTGRES_URL is set. When
// it is not, Postgres logs how to set it and returns false, or fails t (t.Fatal) when
// PARLEY_REQUIRE_POSTGRES=1. A configured but unreachable server fails the tests that open
// stores.
func Postgres(t testing.TB) (Engine, bool) {
	t.Helper()
	return postgresEngine(t)
}

// NeedPostgres returns the PostgreSQL engine, skipping t (with how to run it) when
// PARLEY_TEST_POSTGRES_URL is unset, or failing it when PARLEY_REQUIRE_POSTGRES=1.
func NeedPostgres(t testing.TB) Engine {
	t.Helper()
	if _, ok := postgresBaseURL(t); !ok {
		t.Skip("PostgreSQL tests skipped: " + howTo)
	}
	return Engine{Name: "postgres", Open: openPostgres}
}

// postgresEngine returns the PostgreSQL engine when it is configured.
func postgresEngine(t testing.TB) (Engine, bool) {
	t.Helper()
	if _, ok := postgresBaseURL(t); !ok {
		t.Logf("PostgreSQL tests skipped: %s", howTo)
		return Engine{}, false
	}
	return Engine{Name: "postgres", Open: openPostgres}, true
}

// postgresBaseURL returns PARLEY_TEST_POSTGRES_URL and true, or "" and false when it is
// unset, or fails t when it is unset and PARLEY_REQUIRE_POSTGRES=1.
func postgresBaseURL(t testing.TB) (string, bool) {
	t.Helper()
	u := os.Getenv(PostgresEnv)
	if u != "" {
		return u, true
	}
	if os.Getenv(RequirePostgresEnv) == "1" {
		t.Fatalf("PostgreSQL is required (%s=1) but %s is not set", RequirePostgresEnv, PostgresEnv)
	}
	return "", false
}

// openPostgres opens a store on a fresh schema; the store is closed and the schema dropped
// when the test ends.
func openPostgres(t testing.TB) store.Store {
	t.Helper()
	_, schemaURL := newSchema(t)
	s, err := postgres.Open(context.Background(), schemaURL, postgres.Options{})
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// PostgresSchema creates a fresh, empty schema t_<random hex> on the PARLEY_TEST_POSTGRES_URL
// database and returns that URL and the URL that selects the schema (search_path), for tests
// that open several stores, or start several server processes, on one schema. The schema is
// dropped (CASCADE) when the test ends, after the cleanups registered later (close stores
// and stop processes in those). It skips t when PostgreSQL is not configured, or fails it
// when PARLEY_REQUIRE_POSTGRES=1; it fails t when the server cannot be reached.
func PostgresSchema(t testing.TB) (baseURL, schemaURL string) {
	t.Helper()
	if _, ok := postgresBaseURL(t); !ok {
		t.Skip("PostgreSQL tests skipped: " + howTo)
	}
	return newSchema(t)
}

// newSchema creates a fresh schema on the configured database and registers its drop.
func newSchema(t testing.TB) (baseURL, schemaURL string) {
	t.Helper()
	baseURL, ok := postgresBaseURL(t)
	if !ok {
		t.Fatalf("PostgreSQL is not configured: %s", howTo)
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("random schema name: %v", err)
	}
	schema := "t_" + hex.EncodeToString(b[:])
	schemaURL, err := WithSearchPath(baseURL, schema)
	if err != nil {
		t.Fatalf("%s: %v", PostgresEnv, err)
	}
	if err := adminExec(baseURL, `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("PostgreSQL at %s=%s is unreachable or refuses to create a schema: %v", PostgresEnv, redact(baseURL), err)
	}
	t.Cleanup(func() {
		if err := adminExec(baseURL, `DROP SCHEMA IF EXISTS `+schema+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return baseURL, schemaURL
}

// WithSearchPath returns the PostgreSQL connection string u (URL or key=value form) with its
// search_path runtime parameter set to schema. It returns an error when u is a URL that does
// not parse.
func WithSearchPath(u, schema string) (string, error) {
	if store.IsPostgresURL(u) {
		pu, err := url.Parse(u)
		if err != nil {
			return "", fmt.Errorf("parse PostgreSQL URL: %w", err)
		}
		q := pu.Query()
		q.Set("search_path", schema)
		pu.RawQuery = q.Encode()
		return pu.String(), nil
	}
	return strings.TrimSpace(u) + " search_path=" + schema, nil
}

// adminExec runs one statement on a short-lived connection to the base database.
func adminExec(baseURL, stmt string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := sql.Open("pgx", baseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, stmt)
	return err
}

// redact hides the password of a PostgreSQL connection string.
func redact(u string) string {
	if !store.IsPostgresURL(u) {
		return "(key=value connection string)"
	}
	pu, err := url.Parse(u)
	if err != nil || pu.User == nil {
		return u
	}
	if _, has := pu.User.Password(); has {
		pu.User = url.UserPassword(pu.User.Username(), "xxxxx")
	}
	return pu.String()
}
