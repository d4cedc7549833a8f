package postgres_test

import (
	"database/sql"
	"os"
	"testing"

	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/store/sqlstore"
	"github.com/parley-dev/parley/internal/store/storetest"
)

// TestUsersMigrationBackfill migrates a schema made before the users migration: its chat
// participants get their Users.
func TestUsersMigrationBackfill(t *testing.T) {
	storetest.NeedPostgres(t)
	_, schemaURL := storetest.PostgresSchema(t)
	db, err := sql.Open("pgx", schemaURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	storetest.UserBackfill(t, db, sqlstore.RebindDollar, os.DirFS("migrations"), func(t *testing.T) conv.Store {
		return open(t, schemaURL)
	})
}
