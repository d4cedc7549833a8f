package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/store/sqlite"
)

// BenchmarkCreateParticipant measures durable participant creates through conv.Service on
// SQLite, without HTTP, from parallel goroutines (group commit batches them):
//
//	go test -run '^$' -bench CreateParticipant -cpu 1,2 ./internal/store/sqlite
func BenchmarkCreateParticipant(b *testing.B) {
	for _, batch := range []int{1, 0} {
		name := "group-commit"
		if batch == 1 {
			name = "one-tx-per-create"
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"), sqlite.Options{MaxBatch: batch})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			svc := conv.NewService(st, conv.Options{})
			acct, err := svc.EnsureDevAccount(ctx)
			if err != nil {
				b.Fatal(err)
			}
			sc := conv.Scope{AccountSid: acct.Sid}
			var convs []string
			for range b.N/500 + 64 {
				c, err := svc.CreateConversation(ctx, sc, conv.ConversationParams{}, conv.WriteOptions{})
				if err != nil {
					b.Fatal(err)
				}
				convs = append(convs, c.Sid)
			}
			var next atomic.Int64
			attrs := `{"team":"support","tier":"gold"}`
			b.SetParallelism(8)
			tx0, batches0 := st.GroupCommitStats()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					n := next.Add(1)
					id := fmt.Sprint("user-", n)
					if _, err := svc.CreateParticipant(ctx, sc, convs[n/500], conv.ParticipantCreate{Identity: &id, Attributes: &attrs}, conv.WriteOptions{}); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			tx1, batches1 := st.GroupCommitStats()
			b.ReportMetric(float64(tx1-tx0)/float64(max(1, batches1-batches0)), "creates/commit")
		})
	}
}

// BenchmarkListParticipants measures reading pages of 50 participants (of 1,000 in one
// conversation) through conv.Service, without HTTP, from parallel goroutines:
//
//	go test -run '^$' -bench ListParticipants ./internal/store/sqlite
func BenchmarkListParticipants(b *testing.B) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	svc := conv.NewService(st, conv.Options{})
	acct, err := svc.EnsureDevAccount(ctx)
	if err != nil {
		b.Fatal(err)
	}
	sc := conv.Scope{AccountSid: acct.Sid}
	c, err := svc.CreateConversation(ctx, sc, conv.ConversationParams{}, conv.WriteOptions{})
	if err != nil {
		b.Fatal(err)
	}
	attrs := `{"team":"support","tier":"gold"}`
	var seqs []int64
	for i := range 1000 {
		id := fmt.Sprint("user-", i)
		p, err := svc.CreateParticipant(ctx, sc, c.Sid, conv.ParticipantCreate{Identity: &id, Attributes: &attrs}, conv.WriteOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if i%50 == 49 {
			seqs = append(seqs, p.Seq)
		}
	}
	var next atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := next.Add(1)
			ps, err := svc.ListParticipants(ctx, sc, c.Sid, conv.PageQuery{Size: 50, AfterSeq: seqs[int(n)%(len(seqs)-1)]})
			if err != nil || len(ps) != 50 {
				b.Errorf("%d participants, %v", len(ps), err)
				return
			}
		}
	})
}
