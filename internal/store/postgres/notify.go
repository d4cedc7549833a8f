package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// notifyChannel is the LISTEN/NOTIFY channel replicas wake each other's live streams on.
const notifyChannel = "parley_wake"

// Notify sends payload to every Listen on the database (this replica's too), with pg_notify.
func (s *Store) Notify(ctx context.Context, payload string) error {
	_, err := s.write.ExecContext(ctx, `SELECT pg_notify($1, $2)`, notifyChannel, payload)
	return err
}

// Listen holds one connection that LISTENs on the wake channel and calls fn with each
// notification's payload until ctx ends. After every (re)connection it calls fn("") first, as
// notifications sent while it was not listening are lost; a lost connection is retried with
// back-off (up to 30 s). It returns when ctx ends.
func (s *Store) Listen(ctx context.Context, fn func(payload string)) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := s.listenOnce(ctx, fn)
		if ctx.Err() != nil {
			return
		}
		_ = err // the caller's safety-net polling covers the gap
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(backoff*2, 30*time.Second)
	}
}

func (s *Store) listenOnce(ctx context.Context, fn func(string)) error {
	conn, err := pgx.ConnectConfig(ctx, s.cfg.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		return err
	}
	fn("")
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		fn(n.Payload)
	}
}
