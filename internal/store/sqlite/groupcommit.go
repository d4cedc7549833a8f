package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

// ErrClosed is returned by a write transaction submitted after the store was closed.
var ErrClosed = errors.New("sqlite: store closed")

// errAborted wraps the error that made SQLite roll back a whole batch transaction; the
// requests of the batch other than the one that caused it are run again in a new batch.
var errAborted = errors.New("sqlite: batch transaction aborted")

// DefaultMaxBatch is how many write transactions the group committer runs in one SQLite
// transaction at most.
const DefaultMaxBatch = 256

// maxAttempts bounds how often a request is run again after another request of its batch
// made SQLite roll the whole transaction back.
const maxAttempts = 3

// txReq is one WithTx call waiting for the writer.
type txReq struct {
	ctx      context.Context
	fn       func(*sql.Tx) error
	done     chan txResult // buffered: the writer never blocks on it
	attempts int
}

// txResult is the outcome of a request: its error (nil only after the commit), or the value
// its function panicked with, re-raised in the caller's goroutine.
type txResult struct {
	err      error
	panicked bool
	panicVal any
}

// committer is SQLite's group commit. Write transactions are queued; one writer goroutine
// takes everything queued (up to maxBatch), runs each function inside its own SAVEPOINT of
// one BEGIN IMMEDIATE transaction and commits once. A function that fails is rolled back to
// its savepoint and gets its own error; the others commit together and each caller is
// released only after that commit, with its result (a failed commit fails all of them). Since
// the functions run one after another on the single writer connection, the batch is
// equivalent to running them as serial transactions in queue order; what costs SQLite most
// per transaction (writing the WAL frames of every touched page) is paid once per batch.
type committer struct {
	db       *sql.DB
	maxBatch int
	queue    chan *txReq
	quit     chan struct{}
	stopped  chan struct{}

	mu     sync.RWMutex // held for reading while sending on queue; Close takes it to close
	closed bool

	batches atomic.Int64 // transactions begun
	txs     atomic.Int64 // functions run

	// The savepoint statements, prepared once on the writer connection (nil when preparing
	// failed: then run unprepared); used by the writer goroutine only.
	stmts [numSavepointStmts]*sql.Stmt
}

// The savepoint statements group commit runs around each function of a batch.
const (
	stmtSavepoint = iota
	stmtRelease
	stmtRollbackTo
	numSavepointStmts
)

var savepointSQL = [numSavepointStmts]string{`SAVEPOINT gc`, `RELEASE gc`, `ROLLBACK TO gc`}

func newCommitter(db *sql.DB, maxBatch int) *committer {
	if maxBatch <= 0 {
		maxBatch = DefaultMaxBatch
	}
	c := &committer{db: db, maxBatch: maxBatch, queue: make(chan *txReq, 4*maxBatch),
		quit: make(chan struct{}), stopped: make(chan struct{})}
	for i, q := range savepointSQL {
		c.stmts[i], _ = db.Prepare(q) // an error shows again, where it matters, in exec
	}
	go c.loop()
	return c
}

// do queues fn and waits for its outcome. It returns fn's error, ctx.Err() when ctx ended
// before fn was run, the commit error, or ErrClosed. A panic in fn is re-raised here.
func (c *committer) do(ctx context.Context, fn func(*sql.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := &txReq{ctx: ctx, fn: fn, done: make(chan txResult, 1)}
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return ErrClosed
	}
	select {
	case c.queue <- r:
	case <-ctx.Done():
		c.mu.RUnlock()
		return ctx.Err()
	}
	c.mu.RUnlock()
	// Once queued the outcome must be awaited even if ctx ends: the write may commit.
	res := <-r.done
	if res.panicked {
		panic(res.panicVal)
	}
	return res.err
}

// close stops accepting requests, lets the writer finish what is queued and waits for it.
func (c *committer) close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		<-c.stopped
		return
	}
	c.closed = true
	c.mu.Unlock()
	close(c.quit)
	<-c.stopped
	for _, st := range c.stmts {
		if st != nil {
			_ = st.Close()
		}
	}
}

// exec runs savepoint statement i in tx: prepared once, rather than parsed for every
// function of every batch.
func (c *committer) exec(tx *sql.Tx, i int) error {
	var err error
	if st := c.stmts[i]; st != nil {
		_, err = tx.Stmt(st).Exec()
	} else {
		_, err = tx.Exec(savepointSQL[i])
	}
	return err
}

func (c *committer) loop() {
	batch := make([]*txReq, 0, c.maxBatch)
	for {
		batch = batch[:0]
		select {
		case r := <-c.queue:
			batch = append(batch, r)
		case <-c.quit:
			// No sender can be mid-send now (close holds the lock until closed is set).
			for {
				select {
				case r := <-c.queue:
					c.runBatch([]*txReq{r})
				default:
					close(c.stopped)
					return
				}
			}
		}
		// Let the goroutines that are about to queue a write do so before the batch is
		// closed: on few cores the writer would otherwise take one request at a time while
		// the others wait for CPU, and pay a commit for each.
		runtime.Gosched()
	drain:
		for len(batch) < c.maxBatch {
			select {
			case r := <-c.queue:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		c.runBatch(batch)
	}
}

// runBatch runs the batch until every request has its outcome.
func (c *committer) runBatch(batch []*txReq) {
	for len(batch) > 0 {
		batch = c.runOnce(batch)
	}
}

// call runs fn, turning a panic into a result. (fn runs on the writer goroutine, so it must
// not call runtime.Goexit, t.FailNow for instance.)
func call(fn func(*sql.Tx) error, tx *sql.Tx) (res txResult) {
	defer func() {
		if v := recover(); v != nil {
			res = txResult{panicked: true, panicVal: v}
		}
	}()
	return txResult{err: fn(tx)}
}

// outcome is a request with its known result.
type outcome struct {
	r   *txReq
	res txResult
}

// runOnce runs the requests in one transaction, answers those whose outcome is known and
// returns those to run again (after SQLite rolled the whole transaction back).
func (c *committer) runOnce(batch []*txReq) (retry []*txReq) {
	live := batch[:0:0]
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.done <- txResult{err: err}
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return nil
	}
	// The transaction is not bound to any caller's context: one caller going away must not
	// roll back the others' writes.
	tx, err := c.db.BeginTx(context.Background(), nil)
	if err != nil {
		for _, r := range live {
			r.done <- txResult{err: fmt.Errorf("sqlite: begin: %w", err)}
		}
		return nil
	}
	c.batches.Add(1)
	c.txs.Add(int64(len(live)))
	if len(live) == 1 { // no savepoint needed
		r := live[0]
		res := call(r.fn, tx)
		if res.err != nil || res.panicked {
			_ = tx.Rollback()
			r.done <- res
			return nil
		}
		if err := tx.Commit(); err != nil {
			res.err = fmt.Errorf("sqlite: commit: %w", err)
		}
		r.done <- res
		return nil
	}

	var ok []*txReq      // released savepoints: commit with the transaction
	var failed []outcome // rolled back to their savepoint: answered after the commit
	for i, r := range live {
		if err := r.ctx.Err(); err != nil {
			failed = append(failed, outcome{r, txResult{err: err}})
			continue
		}
		if err := c.exec(tx, stmtSavepoint); err != nil {
			return c.abort(tx, live[i:], ok, failed, nil, err)
		}
		res := call(r.fn, tx)
		if res.err == nil && !res.panicked {
			if err := c.exec(tx, stmtRelease); err != nil {
				// fn swallowed an error after which SQLite rolled the transaction back.
				return c.abort(tx, live[i+1:], append(ok, r), failed, nil, err)
			}
			ok = append(ok, r)
			continue
		}
		if err := c.exec(tx, stmtRollbackTo); err != nil {
			// SQLite rolled the whole transaction back (I/O error, interrupt, ...).
			return c.abort(tx, live[i+1:], ok, failed, &outcome{r, res}, err)
		}
		if err := c.exec(tx, stmtRelease); err != nil {
			return c.abort(tx, live[i+1:], ok, failed, &outcome{r, res}, err)
		}
		failed = append(failed, outcome{r, res})
	}
	var commitErr error
	if err := tx.Commit(); err != nil {
		commitErr = fmt.Errorf("sqlite: commit: %w", err)
	}
	for _, r := range ok {
		r.done <- txResult{err: commitErr}
	}
	for _, f := range failed {
		f.r.done <- f.res
	}
	return nil
}

// abort handles a batch transaction SQLite rolled back: the request that caused it (culprit,
// when known) gets its own result, those already answered keep theirs, and the others (done
// but not committed, or not yet run) are returned to run again, or fail after maxAttempts.
func (c *committer) abort(tx *sql.Tx, notRun, ran []*txReq, failed []outcome, culprit *outcome, cause error) []*txReq {
	_ = tx.Rollback()
	for _, f := range failed {
		f.r.done <- f.res
	}
	if culprit != nil {
		culprit.r.done <- culprit.res
	}
	var retry []*txReq
	for _, group := range [][]*txReq{ran, notRun} {
		for _, r := range group {
			r.attempts++
			if r.attempts >= maxAttempts {
				r.done <- txResult{err: fmt.Errorf("%w: %w", errAborted, cause)}
				continue
			}
			retry = append(retry, r)
		}
	}
	return retry
}

// GroupCommitStats returns how many write transactions (WithTx calls) the store has run and
// in how many SQLite transactions (batches), counting re-runs after an aborted batch.
func (s *Store) GroupCommitStats() (txs, batches int64) {
	return s.gc.txs.Load(), s.gc.batches.Load()
}
