package sqlite

import (
	"context"
	"database/sql"
	"time"
)

// checkpointEvery is how often the background checkpointer copies the WAL into the database.
const checkpointEvery = 100 * time.Millisecond

// DefaultWALLimitFrames is the WAL size, in frames (pages), above which the checkpointer
// truncates the WAL: 16,384 frames are 64 MiB with 4 KiB pages.
const DefaultWALLimitFrames = 16384

// checkpointer runs all of SQLite's WAL checkpoints, on a connection of its own, so that the
// writer never stops after a commit to copy pages and fsync the database file (the writer's
// automatic checkpoint is off: it was what made the p99 of writes 2-3 times their p50).
// Every checkpointEvery it runs a PASSIVE checkpoint beside the writer and the readers; when
// that one copied everything, the writer's next transaction starts the WAL again from its
// beginning. Under a steady write load it never quite catches up (commits land while it
// copies), so once the WAL holds limit frames it runs a TRUNCATE checkpoint, which makes new
// writers wait (through their busy timeout) while it copies the few frames left and empties
// the file: one short pause per limit frames written, instead of one per 1,000. Durability
// depends on neither: a committed transaction is in the WAL.
type checkpointer struct {
	db     *sql.DB
	limit  int                  // frames
	rounds <-chan chan struct{} // nil: every checkpointEvery
	stop   chan struct{}
	done   chan struct{}
}

// startCheckpointer starts the checkpointer on db. With rounds nil it runs a round every
// checkpointEvery; otherwise one per channel received from rounds, closing that channel when
// the round is done.
func startCheckpointer(db *sql.DB, limitFrames int, rounds <-chan chan struct{}) *checkpointer {
	if limitFrames <= 0 {
		limitFrames = DefaultWALLimitFrames
	}
	c := &checkpointer{db: db, limit: limitFrames, rounds: rounds, stop: make(chan struct{}), done: make(chan struct{})}
	go c.loop()
	return c
}

func (c *checkpointer) loop() {
	defer close(c.done)
	var tick <-chan time.Time // stays nil (never ready) when rounds drive the checkpointer
	if c.rounds == nil {
		t := time.NewTicker(checkpointEvery)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-c.stop:
			return
		case <-tick:
			c.once(context.Background())
		case done := <-c.rounds:
			c.once(context.Background())
			close(done)
		}
	}
}

// once runs a PASSIVE checkpoint, then a TRUNCATE one when the WAL holds limit frames or
// more. Errors (SQLITE_BUSY while another checkpoint runs, say) are left for the next tick.
func (c *checkpointer) once(ctx context.Context) {
	var busy, frames, copied int
	if err := c.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &copied); err != nil {
		return
	}
	if frames >= c.limit {
		_, _ = c.db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	}
}

// close stops the loop, then empties the WAL into the database and closes the connection.
func (c *checkpointer) close() error {
	close(c.stop)
	<-c.done
	_, _ = c.db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	return c.db.Close()
}
