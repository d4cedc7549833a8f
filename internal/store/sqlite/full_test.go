package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley-dev/parley/internal/conv"
)

// TestStorageFullIsMappedByCode fills a database capped with max_page_count: the write fails
// with SQLITE_FULL, which the store returns as conv.ErrStorageFull; a write to a deleted parent
// (foreign key) is conv.ErrNotFound.
func TestStorageFullIsMappedByCode(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "full.db"), Options{MaxBatch: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var pages int
	if err := s.write.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := s.write.ExecContext(ctx, `PRAGMA max_page_count = `+strconv.Itoa(pages+2)); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	var full error
	for i := 0; i < 1000 && full == nil; i++ {
		full = s.WithTx(ctx, func(tx conv.Store) error {
			return tx.CreateAccount(ctx, &conv.Account{Sid: "AC" + strings.Repeat("0", 28) + fmt.Sprintf("%04d", i), AuthToken: strings.Repeat("t", 2000),
				FriendlyName: strings.Repeat("f", 2000), DateCreated: now, DateUpdated: now})
		})
	}
	if !errors.Is(full, conv.ErrStorageFull) {
		t.Fatalf("writing past max_page_count: %v, want conv.ErrStorageFull", full)
	}
	if _, err := s.write.ExecContext(ctx, `PRAGMA max_page_count = 1073741823`); err != nil {
		t.Fatal(err)
	}

	// A foreign key violation: a service of an account that does not exist.
	err = s.WithTx(ctx, func(tx conv.Store) error {
		return tx.CreateService(ctx, &conv.ChatService{Sid: "IS" + strings.Repeat("0", 32), AccountSid: "AC" + strings.Repeat("9", 32), DateCreated: now, DateUpdated: now})
	})
	if !errors.Is(err, conv.ErrNotFound) {
		t.Fatalf("write under a missing parent: %v, want conv.ErrNotFound", err)
	}
}
