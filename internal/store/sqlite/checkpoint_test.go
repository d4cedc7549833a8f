package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/store/sqlite"
)

// TestWALBounded checks that the WAL does not keep what was written once the checkpointer
// has run: the writer never checkpoints (wal_autocheckpoint off), so without the
// checkpointer's TRUNCATE the file would keep the size the writes gave it.
func TestWALBounded(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "wal.db")
	st, err := sqlite.Open(ctx, path, sqlite.Options{WALLimitFrames: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc := conv.NewService(st, conv.Options{})
	acct, err := svc.EnsureDevAccount(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sc := conv.Scope{AccountSid: acct.Sid}
	c, err := svc.CreateConversation(ctx, sc, conv.ConversationParams{}, conv.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wal := func() int64 {
		fi, err := os.Stat(path + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	for i := 0; i < 200; i++ {
		id := fmt.Sprint("user-", i)
		if _, err := svc.CreateParticipant(ctx, sc, c.Sid, conv.ParticipantCreate{Identity: &id}, conv.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if n := wal(); n < 64*4096 {
		t.Fatalf("WAL after 200 creates: %d bytes, want more than the 64-frame limit to test with", n)
	}
	deadline := time.Now().Add(5 * time.Second)
	for wal() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("WAL still %d bytes 5 s after the writes stopped; the checkpointer should have truncated it", wal())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Nothing was lost on the way.
	got, err := svc.ListParticipants(ctx, sc, c.Sid, conv.PageQuery{Size: 1000})
	if err != nil || len(got) != 200 {
		t.Fatalf("participants after the truncation: %d, %v", len(got), err)
	}
}
