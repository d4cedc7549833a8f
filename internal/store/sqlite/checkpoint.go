package sqlite

import (
	"context"
	"database/sql"
	"time"
)

// checkpointEvery is how often the background checkpointer copies the WAL into the database.
const checkpointEvery = 100 * time.Millisecond

// checkpointer runs SQLite's WAL checkpoints on a connection of its own, so that the writer
// seldom stops after a commit to copy pages and fsync: a PASSIVE checkpoint runs beside the
// writer and the readers. Under a steady write load it never catches up completely (commits
// land while it copies), so the writer's own automatic checkpoint stays on with a higher
// threshold, finishes the little that is left and lets the WAL restart. Durability does not
// depend on either: a committed transaction is in the WAL.
type checkpointer struct {
	db   *sql.DB
	stop chan struct{}
	done chan struct{}
}

func startCheckpointer(db *sql.DB) *checkpointer {
	c := &checkpointer{db: db, stop: make(chan struct{}), done: make(chan struct{})}
	go c.loop()
	return c
}

func (c *checkpointer) loop() {
	defer close(c.done)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			// Errors (SQLITE_BUSY while another checkpoint runs, say) are retried next tick.
			_, _ = c.db.ExecContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`)
		}
	}
}

// close stops the loop, then runs a last checkpoint and closes the connection.
func (c *checkpointer) close() error {
	close(c.stop)
	<-c.done
	_, _ = c.db.Exec(`PRAGMA wal_checkpoint(PASSIVE)`)
	return c.db.Close()
}
