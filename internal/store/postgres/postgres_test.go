package postgres_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/store"
	"github.com/parley-dev/parley/internal/store/postgres"
	"github.com/parley-dev/parley/internal/store/storetest"
)

// TestConformance runs the store conformance suite on PostgreSQL.
func TestConformance(t *testing.T) {
	storetest.Conformance(t, storetest.NeedPostgres(t))
}

// open opens a store on schemaURL, closed when the test ends.
func open(t *testing.T, schemaURL string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), schemaURL, postgres.Options{})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestConcurrentOpenMigratesOnce starts several replicas at once on a fresh schema: every
// Open succeeds and each migration is applied exactly once.
func TestConcurrentOpenMigratesOnce(t *testing.T) {
	_, schemaURL := storetest.PostgresSchema(t)
	const replicas = 4
	stores := make([]*postgres.Store, replicas)
	errs := make([]error, replicas)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range replicas {
		wg.Go(func() {
			<-start
			stores[i], errs[i] = postgres.Open(context.Background(), schemaURL, postgres.Options{})
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: Open: %v", i, err)
		}
		t.Cleanup(func() { stores[i].Close() })
	}

	files, err := os.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("pgx", schemaURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rows, versions int
	if err := db.QueryRow(`SELECT COUNT(*), COUNT(DISTINCT version) FROM schema_migrations`).Scan(&rows, &versions); err != nil {
		t.Fatal(err)
	}
	if rows != len(files) || versions != len(files) {
		t.Fatalf("schema_migrations has %d rows (%d versions), want one per migration file (%d)", rows, versions, len(files))
	}

	// Every replica works, and a later start finds nothing to do.
	svc := conv.NewService(stores[0], conv.Options{})
	a, err := svc.EnsureAccount(context.Background(), conv.RandomSIDs{}.New(conv.PrefixAccount), "token")
	if err != nil {
		t.Fatalf("EnsureAccount: %v", err)
	}
	for i, s := range stores {
		if _, err := s.GetAccount(context.Background(), a.Sid); err != nil {
			t.Fatalf("replica %d: GetAccount: %v", i, err)
		}
	}
	open(t, schemaURL)
}

// TestDescribe checks that Describe names the server and database without credentials.
func TestDescribe(t *testing.T) {
	_, schemaURL := storetest.PostgresSchema(t)
	u, err := url.Parse(schemaURL)
	if err != nil {
		t.Fatal(err)
	}
	pw, has := u.User.Password()
	if !has && u.User != nil {
		// Trust authentication ignores a password the server does not ask for.
		pw = "s3cret-pw"
		u.User = url.UserPassword(u.User.Username(), pw)
	}
	s := open(t, u.String())
	d := s.Describe()
	db := strings.TrimPrefix(u.Path, "/")
	if !strings.HasPrefix(d, "postgres ") || !strings.Contains(d, u.Port()) || !strings.Contains(d, "/"+db) ||
		!strings.Contains(d, u.Query().Get("search_path")) {
		t.Errorf("Describe() = %q, want postgres host:port/%s with the search path", d, db)
	}
	if pw != "" && strings.Contains(d, pw) {
		t.Errorf("Describe() = %q contains the password", d)
	}
}

// TestOpenUnreachable needs no server: Open fails, without leaking the password.
func TestOpenUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := postgres.Open(ctx, "postgres://parley:hunter2-secret@127.0.0.1:1/parley?sslmode=disable&connect_timeout=2", postgres.Options{})
	if err == nil {
		t.Fatal("Open of an unreachable server succeeded")
	}
	if strings.Contains(err.Error(), "hunter2-secret") {
		t.Errorf("error leaks the password: %v", err)
	}
	_, err = postgres.Open(ctx, "postgres://parley:hunter2-secret@127.0.0.1:notaport/parley", postgres.Options{})
	if err == nil || strings.Contains(err.Error(), "hunter2-secret") {
		t.Errorf("Open of a malformed URL: err = %v, want an error without the password", err)
	}
}

// TestStoreOpenSelectsPostgres checks that store.Open routes postgres:// URLs here.
func TestStoreOpenSelectsPostgres(t *testing.T) {
	_, schemaURL := storetest.PostgresSchema(t)
	for _, u := range []string{schemaURL, strings.Replace(schemaURL, "postgres://", "postgresql://", 1)} {
		s, err := store.Open(context.Background(), u, store.Options{})
		if err != nil {
			t.Fatalf("store.Open(%s): %v", u, err)
		}
		if _, ok := s.(*postgres.Store); !ok {
			t.Errorf("store.Open(%s) = %T, want *postgres.Store", u, s)
		}
		s.Close()
	}
}

// TestReadsRefuseWrites checks that a write outside WithTx fails, as on SQLite: every write
// must go through a transaction.
func TestReadsRefuseWrites(t *testing.T) {
	s := storetest.NeedPostgres(t).Open(t)
	now := time.Now()
	err := s.CreateAccount(context.Background(), &conv.Account{Sid: conv.RandomSIDs{}.New(conv.PrefixAccount), AuthToken: "t",
		DateCreated: now, DateUpdated: now})
	if err == nil {
		t.Fatal("CreateAccount outside WithTx succeeded")
	}
}

// fixture is an account with its default service and one conversation.
type fixture struct {
	svc   *conv.Service
	scope conv.Scope
	conv  *conv.Conversation
}

func newFixture(t *testing.T, st conv.Store) *fixture {
	t.Helper()
	ctx := context.Background()
	svc := conv.NewService(st, conv.Options{})
	a, err := svc.EnsureAccount(ctx, conv.RandomSIDs{}.New(conv.PrefixAccount), "token")
	if err != nil {
		t.Fatalf("EnsureAccount: %v", err)
	}
	f := &fixture{svc: svc, scope: conv.Scope{AccountSid: a.Sid}}
	f.conv = f.conversation(t)
	return f
}

func (f *fixture) conversation(t *testing.T) *conv.Conversation {
	t.Helper()
	c, err := f.svc.CreateConversation(context.Background(), f.scope, conv.ConversationParams{}, conv.WriteOptions{})
	if err != nil {
		t.Fatalf("CreateConversation: %v", err)
	}
	return c
}

// wantConflict fails t unless err is a *conv.Error of kind conflict with the given code.
func wantConflict(t *testing.T, err error, code int) *conv.Error {
	t.Helper()
	e, ok := conv.AsError(err)
	if !ok || e.Kind != conv.KindConflict || e.Code != code {
		t.Errorf("err = %v (%T), want a conflict *conv.Error with code %d", err, err, code)
		return nil
	}
	return e
}

// TestConcurrentParticipantIdentities has 16 goroutines add the same identities to one
// conversation at once: each identity joins exactly once, every other attempt gets 50433.
func TestConcurrentParticipantIdentities(t *testing.T) {
	f := newFixture(t, storetest.NeedPostgres(t).Open(t))
	ctx := context.Background()
	const workers, identities = 16, 8
	var wins [identities]atomic.Int32
	start := make(chan struct{})
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			<-start
			for k := range identities {
				i := (k + w) % identities
				id := fmt.Sprintf("user-%d", i)
				_, err := f.svc.CreateParticipant(ctx, f.scope, f.conv.Sid, conv.ParticipantCreate{Identity: &id}, conv.WriteOptions{})
				if err == nil {
					wins[i].Add(1)
					continue
				}
				wantConflict(t, err, 50433)
			}
		})
	}
	close(start)
	wg.Wait()
	for i := range wins {
		if n := wins[i].Load(); n != 1 {
			t.Errorf("identity user-%d added %d times, want 1", i, n)
		}
	}
	ps, err := f.svc.ListParticipants(ctx, f.scope, f.conv.Sid, conv.PageQuery{Size: 100})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, p := range ps {
		seen[*p.Identity]++
	}
	if len(ps) != identities || len(seen) != identities {
		t.Errorf("conversation has %d participants with %d identities, want %d each: %v", len(ps), len(seen), identities, seen)
	}
}

// TestConcurrentBindingClaim has 16 goroutines add the same (address, proxy address) pair to
// 16 conversations at once: exactly one succeeds, the others get 50416 naming its
// conversation.
func TestConcurrentBindingClaim(t *testing.T) {
	st := storetest.NeedPostgres(t).Open(t)
	f := newFixture(t, st)
	ctx := context.Background()
	const workers, rounds = 16, 5
	for r := range rounds {
		convs := make([]*conv.Conversation, workers)
		for i := range convs {
			convs[i] = f.conversation(t)
		}
		addr, proxy := fmt.Sprintf("+1555111%04d", r), fmt.Sprintf("+1555222%04d", r)
		var winners atomic.Int32
		errs := make([]error, workers)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range workers {
			wg.Go(func() {
				<-start
				_, errs[i] = f.svc.CreateParticipant(ctx, f.scope, convs[i].Sid,
					conv.ParticipantCreate{Address: &addr, ProxyAddress: &proxy}, conv.WriteOptions{})
				if errs[i] == nil {
					winners.Add(1)
				}
			})
		}
		close(start)
		wg.Wait()
		if n := winners.Load(); n != 1 {
			t.Fatalf("round %d: %d participants got the pair, want 1 (errors: %v)", r, n, errs)
		}
		claim, err := st.GetBindingClaim(ctx, f.scope.AccountSid, addr, proxy)
		if err != nil {
			t.Fatalf("round %d: GetBindingClaim: %v", r, err)
		}
		for i, err := range errs {
			n, cerr := st.CountParticipants(ctx, convs[i].Sid)
			if cerr != nil {
				t.Fatal(cerr)
			}
			if err == nil {
				if convs[i].Sid != claim.ConversationSid || n.NonChat != 1 {
					t.Errorf("round %d: winner %s: claim held by %s, %d participants", r, convs[i].Sid, claim.ConversationSid, n.NonChat)
				}
				continue
			}
			if e := wantConflict(t, err, 50416); e != nil && !strings.Contains(e.Message, claim.ConversationSid) {
				t.Errorf("round %d: message %q does not name the conversation holding the pair (%s)", r, e.Message, claim.ConversationSid)
			}
			if n.NonChat != 0 {
				t.Errorf("round %d: loser %s kept %d participants", r, convs[i].Sid, n.NonChat)
			}
		}
	}
}

// TestConcurrentEnsureAccount starts the same account on several replicas (stores on one
// schema) at once: every EnsureAccount succeeds and the account gets one default service.
func TestConcurrentEnsureAccount(t *testing.T) {
	_, schemaURL := storetest.PostgresSchema(t)
	const replicas, perReplica, rounds = 4, 4, 5
	svcs := make([]*conv.Service, replicas)
	for i := range svcs {
		svcs[i] = conv.NewService(open(t, schemaURL), conv.Options{})
	}
	ctx := context.Background()
	for r := range rounds {
		sid := conv.RandomSIDs{}.New(conv.PrefixAccount)
		got := make([]*conv.Account, replicas*perReplica)
		errs := make([]error, len(got))
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range got {
			wg.Go(func() {
				<-start
				got[i], errs[i] = svcs[i%replicas].EnsureAccount(ctx, sid, "token")
			})
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d: EnsureAccount %d: %v", r, i, err)
			}
			if got[i].DefaultServiceSid != got[0].DefaultServiceSid {
				t.Errorf("round %d: default services differ: %s and %s", r, got[i].DefaultServiceSid, got[0].DefaultServiceSid)
			}
		}
		services, err := svcs[0].ListServices(ctx, sid, conv.PageQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if len(services) != 1 || services[0].Sid != got[0].DefaultServiceSid {
			t.Errorf("round %d: account has %d services, want only its default %s", r, len(services), got[0].DefaultServiceSid)
		}
	}
}

// TestLockConversationBlocks checks that LockConversation holds the row until the
// transaction ends: a second transaction waits for it.
func TestLockConversationBlocks(t *testing.T) {
	st := storetest.NeedPostgres(t).Open(t)
	f := newFixture(t, st)
	ctx := context.Background()
	locked, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- st.WithTx(ctx, func(tx conv.Store) error {
			if err := tx.LockConversation(ctx, f.conv.Sid); err != nil {
				return err
			}
			close(locked)
			<-release
			return nil
		})
	}()
	<-locked
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	err := st.WithTx(short, func(tx conv.Store) error { return tx.LockConversation(short, f.conv.Sid) })
	cancel()
	if err == nil {
		t.Fatal("a second transaction locked the conversation while the first held it")
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("first transaction: %v", err)
	}
	if err := st.WithTx(ctx, func(tx conv.Store) error { return tx.LockConversation(ctx, f.conv.Sid) }); err != nil {
		t.Fatalf("LockConversation after release: %v", err)
	}
	err = st.WithTx(ctx, func(tx conv.Store) error {
		return tx.LockConversation(ctx, conv.RandomSIDs{}.New(conv.PrefixConversation))
	})
	if !errors.Is(err, conv.ErrNotFound) {
		t.Fatalf("LockConversation(missing): err = %v, want conv.ErrNotFound", err)
	}
}

// TestDeadlockRetried makes two transactions lock two conversations in opposite orders.
// PostgreSQL aborts one with a deadlock error and WithTx runs it again, so both succeed.
func TestDeadlockRetried(t *testing.T) {
	st := storetest.NeedPostgres(t).Open(t)
	f := newFixture(t, st)
	c1, c2 := f.conv, f.conversation(t)
	ctx := context.Background()
	var calls atomic.Int32
	var firstLocks sync.WaitGroup
	firstLocks.Add(2)
	run := func(a, b string) error {
		first := true
		return st.WithTx(ctx, func(tx conv.Store) error {
			calls.Add(1)
			if err := tx.LockConversation(ctx, a); err != nil {
				return err
			}
			if first {
				first = false
				firstLocks.Done()
				firstLocks.Wait() // both hold their first lock: the second locks deadlock
			}
			return tx.LockConversation(ctx, b)
		})
	}
	errs := make(chan error, 2)
	go func() { errs <- run(c1.Sid, c2.Sid) }()
	go func() { errs <- run(c2.Sid, c1.Sid) }()
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatalf("WithTx: %v", err)
		}
	}
	if n := calls.Load(); n < 3 {
		t.Fatalf("transaction functions ran %d times, want at least 3 (a deadlock victim retried)", n)
	}
}
