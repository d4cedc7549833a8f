package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/store/sqlstore"
)

// TestDriverErrorsMappedByCode checks the SQLSTATEs the store maps: 53100 disk_full is
// conv.ErrStorageFull, 23503 foreign_key_violation conv.ErrNotFound, 23505 conv.ErrConflict,
// whether the statement or the commit fails; other codes stay errors of their own.
func TestDriverErrorsMappedByCode(t *testing.T) {
	for code, want := range map[string]error{"53100": conv.ErrStorageFull, "23503": conv.ErrNotFound, "23505": conv.ErrConflict, "22021": nil} {
		failing := func(ctx context.Context, fn func(*sql.Tx) error) error {
			return fmt.Errorf("postgres: commit: %w", &pgconn.PgError{Code: code, Message: "simulated"})
		}
		st := sqlstore.New(nil, failing, dialect{})
		err := st.WithTx(context.Background(), func(conv.Store) error { return nil })
		for _, sentinel := range []error{conv.ErrStorageFull, conv.ErrNotFound, conv.ErrConflict} {
			if got := errors.Is(err, sentinel); got != (sentinel == want) {
				t.Errorf("SQLSTATE %s: errors.Is(%v, %v) = %v", code, err, sentinel, got)
			}
		}
	}
}
