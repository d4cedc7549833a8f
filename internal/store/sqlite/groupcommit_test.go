package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// openRaw opens a store with a scratch table t(k TEXT PRIMARY KEY) to write into.
func openRaw(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "gc.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.runTx(context.Background(), func(tx *sql.Tx) error {
		_, err := tx.Exec(`CREATE TABLE t (k TEXT PRIMARY KEY)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return s
}

func insert(tx *sql.Tx, k string) error {
	_, err := tx.Exec(`INSERT INTO t (k) VALUES (?)`, k)
	return err
}

func keys(t *testing.T, s *Store) map[string]bool {
	t.Helper()
	rows, err := s.read.Query(`SELECT k FROM t`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		out[k] = true
	}
	return out
}

// batch holds the writer inside a first transaction until n more requests are queued, then
// runs them: the n requests are taken as one batch. It returns each request's error (or
// panic value) in order.
func batch(t *testing.T, s *Store, fns []func(*sql.Tx) error) []any {
	t.Helper()
	release, running := make(chan struct{}), make(chan struct{})
	var once sync.Once // a function may run again if its whole batch is rolled back
	first := make(chan error, 1)
	go func() {
		first <- s.runTx(context.Background(), func(*sql.Tx) error { once.Do(func() { close(running) }); <-release; return nil })
	}()
	// Wait until the writer runs the blocker, then queue the batch behind it.
	<-running
	out := make([]any, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Go(func() {
			defer func() {
				if v := recover(); v != nil {
					out[i] = v
				}
			}()
			out[i] = s.runTx(context.Background(), fn)
		})
	}
	for deadline := time.Now().Add(10 * time.Second); len(s.gc.queue) < len(fns); {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d requests queued", len(s.gc.queue), len(fns))
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	return out
}

// TestGroupCommitBatch runs requests in one batch: the failing ones roll back alone (to their
// savepoint), a panic reaches its own caller, each function sees its own writes, and the
// others commit together.
func TestGroupCommitBatch(t *testing.T) {
	s := openRaw(t)
	if err := s.runTx(context.Background(), func(tx *sql.Tx) error { return insert(tx, "dup") }); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	var fns []func(*sql.Tx) error
	for i := range 20 {
		k := fmt.Sprint("k", i)
		fns = append(fns, func(tx *sql.Tx) error {
			if err := insert(tx, k); err != nil {
				return err
			}
			var n int
			if err := tx.QueryRow(`SELECT COUNT(*) FROM t WHERE k = ?`, k).Scan(&n); err != nil || n != 1 {
				return fmt.Errorf("own write not visible: %d %v", n, err)
			}
			switch i % 5 {
			case 1:
				return boom // after writing: must be rolled back
			case 2:
				panic("kaboom " + k)
			case 3:
				return insert(tx, "dup") // duplicate key: a store error, rolled back alone
			}
			return nil
		})
	}
	before := s.gc.batches.Load()
	res := batch(t, s, fns)
	if got := s.gc.batches.Load() - before; got != 2 { // the blocker, then the 20
		t.Fatalf("%d batches for the blocker and 20 requests, want 2", got)
	}
	have := keys(t, s)
	for i, r := range res {
		k := fmt.Sprint("k", i)
		switch i % 5 {
		case 1:
			if r != boom {
				t.Errorf("%s: got %v, want boom", k, r)
			}
		case 2:
			if r != "kaboom "+k {
				t.Errorf("%s: got %v, want its panic", k, r)
			}
		case 3:
			if err, _ := r.(error); err == nil {
				t.Errorf("%s: duplicate insert succeeded", k)
			}
		default:
			if r != nil {
				t.Errorf("%s: %v", k, r)
			}
		}
		if want := i%5 == 0 || i%5 == 4; have[k] != want {
			t.Errorf("%s stored = %v, want %v", k, have[k], want)
		}
	}
}

// TestGroupCommitAbortedTransaction makes one function end the batch transaction behind
// database/sql's back (as SQLite does on an I/O error or an interrupt): that function gets its
// error, and the others are run again in a new transaction and committed exactly once.
func TestGroupCommitAbortedTransaction(t *testing.T) {
	s := openRaw(t)
	boom := errors.New("boom")
	var runs sync.Map
	var fns []func(*sql.Tx) error
	for i := range 10 {
		k := fmt.Sprint("a", i)
		fns = append(fns, func(tx *sql.Tx) error {
			n, _ := runs.LoadOrStore(k, new(int))
			*n.(*int)++
			if err := insert(tx, k); err != nil {
				return err
			}
			if i == 4 {
				if _, err := tx.Exec(`ROLLBACK`); err != nil {
					return err
				}
				return boom
			}
			return nil
		})
	}
	res := batch(t, s, fns)
	have := keys(t, s)
	for i, r := range res {
		k := fmt.Sprint("a", i)
		if i == 4 {
			if r != boom || have[k] {
				t.Errorf("%s: got %v (stored %v), want boom and nothing stored", k, r, have[k])
			}
			continue
		}
		if r != nil || !have[k] {
			t.Errorf("%s: got %v (stored %v), want committed", k, r, have[k])
		}
	}
	// Those queued before the culprit ran in the aborted transaction and again; the others
	// once. (Queue order is the goroutines' order, so which ones is not known here.)
	for i := range 10 {
		if n, _ := runs.Load(fmt.Sprint("a", i)); i != 4 && (*n.(*int) < 1 || *n.(*int) > 2) {
			t.Errorf("a%d ran %d times, want 1 or 2", i, *n.(*int))
		}
	}
}

// TestGroupCommitFailedCommit fails the commit of a batch (a deferred foreign key violation is
// only detected at COMMIT): every request of the batch gets the commit error, none is stored.
func TestGroupCommitFailedCommit(t *testing.T) {
	s := openRaw(t)
	if err := s.runTx(context.Background(), func(tx *sql.Tx) error {
		_, err := tx.Exec(`CREATE TABLE child (p TEXT REFERENCES t(k) DEFERRABLE INITIALLY DEFERRED)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var fns []func(*sql.Tx) error
	for i := range 5 {
		fns = append(fns, func(tx *sql.Tx) error {
			if i == 2 {
				_, err := tx.Exec(`INSERT INTO child (p) VALUES ('missing')`)
				return err
			}
			return insert(tx, fmt.Sprint("c", i))
		})
	}
	res := batch(t, s, fns)
	for i, r := range res {
		if err, _ := r.(error); err == nil {
			t.Errorf("request %d succeeded though its batch did not commit", i)
		}
	}
	if have := keys(t, s); len(have) != 0 {
		t.Errorf("stored %v after a failed commit", have)
	}
}

// TestGroupCommitCancelledBeforeRun answers a request whose context ended while it was
// queued with the context's error, without running it.
func TestGroupCommitCancelledBeforeRun(t *testing.T) {
	s := openRaw(t)
	ctx, cancel := context.WithCancel(context.Background())
	ran := false
	release, running := make(chan struct{}), make(chan struct{})
	var once sync.Once // a function may run again if its whole batch is rolled back
	go func() {
		_ = s.runTx(context.Background(), func(*sql.Tx) error { once.Do(func() { close(running) }); <-release; return nil })
	}()
	<-running // the writer is busy: the next request waits in the queue
	done := make(chan error, 1)
	go func() { done <- s.runTx(ctx, func(tx *sql.Tx) error { ran = true; return insert(tx, "x") }) }()
	for len(s.gc.queue) == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	close(release)
	if err := <-done; !errors.Is(err, context.Canceled) || ran {
		t.Fatalf("err = %v, ran = %v; want context.Canceled without running", err, ran)
	}
}

// TestGroupCommitClosed refuses writes after Close.
func TestGroupCommitClosed(t *testing.T) {
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "c.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := s.runTx(context.Background(), func(*sql.Tx) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}
