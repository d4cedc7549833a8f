package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/store/storetest"
)

// TestConcurrentImplicitUsers has 8 goroutines add 8 identities to 8 conversations at once,
// each trying every pair (each participant in its own transaction, the conversations locked
// separately): every pair joins once and each identity ends up with exactly one User.
func TestConcurrentImplicitUsers(t *testing.T) {
	f := newFixture(t, storetest.NeedPostgres(t).Open(t))
	ctx := context.Background()
	const workers, identities, conversations = 8, 8, 8
	convs := []*conv.Conversation{f.conv}
	for len(convs) < conversations {
		convs = append(convs, f.conversation(t))
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	added := map[string]int{}
	for w := range workers {
		wg.Go(func() {
			<-start
			for k := range identities * conversations {
				n := (k + w*identities) % (identities * conversations)
				id, c := fmt.Sprintf("user-%d", n%identities), convs[n/identities]
				_, err := f.svc.CreateParticipant(ctx, f.scope, c.Sid, conv.ParticipantCreate{Identity: &id}, conv.WriteOptions{})
				if e, ok := conv.AsError(err); ok && e.Code == 50433 {
					continue // another worker added this one
				}
				if err != nil {
					t.Errorf("add %s to %s: %v", id, c.Sid, err)
					continue
				}
				mu.Lock()
				added[id]++
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	users, err := f.svc.ListUsers(ctx, f.scope, conv.PageQuery{Size: 100})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, u := range users {
		seen[u.Identity]++
	}
	for i := range identities {
		id := fmt.Sprintf("user-%d", i)
		if seen[id] != 1 || added[id] != conversations {
			t.Errorf("%s: %d users, %d participants; want 1 and %d", id, seen[id], added[id], conversations)
		}
	}
	if len(users) != identities {
		t.Errorf("%d users, want %d", len(users), identities)
	}
}

// TestDeleteUserWhileJoining deletes a user while other goroutines keep adding participants
// with its identity: whatever the interleaving, no chat participant is left without its User.
func TestDeleteUserWhileJoining(t *testing.T) {
	f := newFixture(t, storetest.NeedPostgres(t).Open(t))
	ctx := context.Background()
	const joiners, rounds = 4, 6
	id := "dora"
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range joiners {
		wg.Go(func() {
			<-start
			for range rounds {
				c, err := f.svc.CreateConversation(ctx, f.scope, conv.ConversationParams{}, conv.WriteOptions{})
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := f.svc.CreateParticipant(ctx, f.scope, c.Sid, conv.ParticipantCreate{Identity: &id}, conv.WriteOptions{}); err != nil {
					t.Errorf("join: %v", err)
				}
			}
		})
	}
	wg.Go(func() {
		<-start
		for range rounds {
			err := f.svc.DeleteUser(ctx, f.scope, id, conv.WriteOptions{})
			if e, ok := conv.AsError(err); err != nil && !(ok && e.Code == 20404) {
				t.Errorf("delete: %v", err)
			}
		}
	})
	close(start)
	wg.Wait()
	ms, err := f.svc.ListParticipantConversations(ctx, f.scope, conv.ParticipantConversationFilter{Identity: id}, conv.PageQuery{Size: 50})
	if err != nil {
		t.Fatal(err)
	}
	u, uerr := f.svc.FetchUser(ctx, f.scope, id)
	for _, m := range ms {
		if uerr != nil || m.UserSid != u.Sid {
			t.Errorf("participant %s in %s has user %q (user: %v)", m.Participant.Sid, m.Conversation.Sid, m.UserSid, uerr)
		}
	}
	// The user exists exactly when participants with its identity do.
	if (len(ms) == 0) != (uerr != nil) {
		t.Errorf("%d participants left, user lookup error %v", len(ms), uerr)
	}
}

// TestShareLockUserBlocksDelete: a transaction holding a user with ShareLockUser (as one
// adding a participant with its identity does) lets others share it but makes DeleteUser wait
// until it ends.
func TestShareLockUserBlocksDelete(t *testing.T) {
	st := storetest.NeedPostgres(t).Open(t)
	f := newFixture(t, st)
	ctx := context.Background()
	id := "erin"
	u, err := f.svc.CreateUser(ctx, f.scope, conv.UserCreate{Identity: &id}, conv.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	locked, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- st.WithTx(ctx, func(tx conv.Store) error {
			if err := tx.ShareLockUser(ctx, u.ServiceSid, id); err != nil {
				return err
			}
			close(locked)
			<-release
			return nil
		})
	}()
	<-locked
	if err := st.WithTx(ctx, func(tx conv.Store) error { return tx.ShareLockUser(ctx, u.ServiceSid, id) }); err != nil {
		t.Fatalf("a second shared lock: %v", err)
	}
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	err = st.WithTx(short, func(tx conv.Store) error { return tx.DeleteUser(short, u.ServiceSid, u.Sid) })
	cancel()
	if err == nil {
		t.Fatal("DeleteUser did not wait for the transaction holding the user")
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("first transaction: %v", err)
	}
	if err := st.WithTx(ctx, func(tx conv.Store) error { return tx.DeleteUser(ctx, u.ServiceSid, u.Sid) }); err != nil {
		t.Fatalf("DeleteUser after release: %v", err)
	}
}
