package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/store/sqlite"
)

// TestWALBounded checks that the WAL does not keep what was written once the checkpointer
// has run: the writer never checkpoints (wal_autocheckpoint off), so without the
// checkpointer's TRUNCATE the file would keep the size the writes gave it. The test drives
// the checkpointer's rounds itself (Options.CheckpointRounds), so nothing checkpoints while
// it writes and the round it asks for has finished when it looks.
func TestWALBounded(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "wal.db")
	rounds := make(chan chan struct{})
	st, err := sqlite.Open(ctx, path, sqlite.Options{WALLimitFrames: 64, CheckpointRounds: rounds})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	round := func() {
		done := make(chan struct{})
		rounds <- done
		<-done
	}
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
	round()
	if n := wal(); n != 0 {
		t.Fatalf("WAL after a checkpoint round past the limit: %d bytes, want 0 (truncated)", n)
	}
	// Nothing was lost on the way.
	got, err := svc.ListParticipants(ctx, sc, c.Sid, conv.PageQuery{Size: 1000})
	if err != nil || len(got) != 200 {
		t.Fatalf("participants after the truncation: %d, %v", len(got), err)
	}
}
