package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"github.com/parley-dev/parley/internal/syncview"
)

// The client SDK's Sync view (syncview.Store), tables of migration 0011_syncview.

var _ syncview.Store = (*Store)(nil)

const syncObjectCols = `sid, account_sid, service_sid, kind, unique_name, revision, last_event_id, data, date_created, date_updated`

func scanSyncObject(r rowScanner) (*syncview.Object, error) {
	var o syncview.Object
	var data string
	var dc, du int64
	if err := r.Scan(&o.Sid, &o.AccountSid, &o.ServiceSid, &o.Kind, &o.UniqueName, &o.Revision, &o.LastEventID, &data, &dc, &du); err != nil {
		return nil, err
	}
	o.Data, o.DateCreated, o.DateUpdated = json.RawMessage(data), time.Unix(dc, 0).UTC(), time.Unix(du, 0).UTC()
	return &o, nil
}

// SyncObject returns the object of the service whose SID or unique name is ref. Inside a
// transaction it locks the row, so that concurrent changes of one object take turns (its
// revision and event ids stay gapless and unique).
func (s *Store) SyncObject(ctx context.Context, serviceSid, ref string) (*syncview.Object, error) {
	q := `SELECT ` + syncObjectCols + ` FROM sync_objects WHERE service_sid = ? AND (sid = ? OR unique_name = ?)`
	if s.inTx {
		q += s.d.LockSuffix()
	}
	o, err := scanSyncObject(s.q.QueryRowContext(ctx, s.bind(q), serviceSid, ref, ref))
	return o, s.mapErr(err)
}

// CreateSyncObject inserts o unless an object with its SID exists (created concurrently).
func (s *Store) CreateSyncObject(ctx context.Context, o *syncview.Object) error {
	_, err := s.exec(ctx, `INSERT INTO sync_objects (`+syncObjectCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (sid) DO NOTHING`,
		o.Sid, o.AccountSid, o.ServiceSid, o.Kind, o.UniqueName, o.Revision, o.LastEventID, string(o.Data), o.DateCreated.Unix(), o.DateUpdated.Unix())
	return err
}

// PutSyncObject inserts or replaces an object.
func (s *Store) PutSyncObject(ctx context.Context, o *syncview.Object) error {
	_, err := s.exec(ctx, `INSERT INTO sync_objects (`+syncObjectCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (sid) DO UPDATE SET revision = excluded.revision, last_event_id = excluded.last_event_id,
		data = excluded.data, date_updated = excluded.date_updated`,
		o.Sid, o.AccountSid, o.ServiceSid, o.Kind, o.UniqueName, o.Revision, o.LastEventID, string(o.Data), o.DateCreated.Unix(), o.DateUpdated.Unix())
	return err
}

// DeleteSyncObject deletes an object and its items (its events stay).
func (s *Store) DeleteSyncObject(ctx context.Context, sid string) error {
	if _, err := s.exec(ctx, `DELETE FROM sync_items WHERE object_sid = ?`, sid); err != nil {
		return err
	}
	_, err := s.exec(ctx, `DELETE FROM sync_objects WHERE sid = ?`, sid)
	return err
}

const syncItemCols = `object_sid, item_key, item_index, data, revision, last_event_id, date_created, date_updated`

func scanSyncItem(r rowScanner) (*syncview.Item, error) {
	var it syncview.Item
	var data string
	var dc, du int64
	if err := r.Scan(&it.ObjectSid, &it.Key, &it.Index, &data, &it.Revision, &it.LastEventID, &dc, &du); err != nil {
		return nil, err
	}
	it.Data, it.DateCreated, it.DateUpdated = json.RawMessage(data), time.Unix(dc, 0).UTC(), time.Unix(du, 0).UTC()
	return &it, nil
}

// SyncItem returns one item.
func (s *Store) SyncItem(ctx context.Context, objectSid, key string) (*syncview.Item, error) {
	it, err := scanSyncItem(s.q.QueryRowContext(ctx, s.bind(`SELECT `+syncItemCols+` FROM sync_items WHERE object_sid = ? AND item_key = ?`), objectSid, key))
	return it, s.mapErr(err)
}

// PutSyncItem inserts or replaces an item.
func (s *Store) PutSyncItem(ctx context.Context, it *syncview.Item) error {
	_, err := s.exec(ctx, `INSERT INTO sync_items (`+syncItemCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (object_sid, item_key) DO UPDATE SET data = excluded.data, revision = excluded.revision,
		last_event_id = excluded.last_event_id, date_updated = excluded.date_updated`,
		it.ObjectSid, it.Key, it.Index, string(it.Data), it.Revision, it.LastEventID, it.DateCreated.Unix(), it.DateUpdated.Unix())
	return err
}

// DeleteSyncItem deletes one item.
func (s *Store) DeleteSyncItem(ctx context.Context, objectSid, key string) error {
	return s.execOne(ctx, `DELETE FROM sync_items WHERE object_sid = ? AND item_key = ?`, objectSid, key)
}

// ListSyncItems returns the items q selects.
func (s *Store) ListSyncItems(ctx context.Context, objectSid string, q syncview.ItemQuery) ([]*syncview.Item, error) {
	var sb strings.Builder
	sb.WriteString(`SELECT ` + syncItemCols + ` FROM sync_items WHERE object_sid = ?`)
	args := []any{objectSid}
	col, op, dir := "item_key", " >= ?", " ASC"
	if q.ByIndex {
		col = "item_index"
	}
	if q.Desc {
		op, dir = " <= ?", " DESC"
	}
	switch {
	case q.ByIndex && q.FromIndex != nil:
		sb.WriteString(" AND " + col + op)
		args = append(args, *q.FromIndex)
	case !q.ByIndex && q.From != nil:
		sb.WriteString(" AND " + col + op)
		args = append(args, *q.From)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	sb.WriteString(" ORDER BY " + col + dir + " LIMIT ?")
	args = append(args, limit)
	return queryRows(ctx, s, sb.String(), args, false, scanSyncItem)
}

func scanSyncEvent(r rowScanner) (*syncview.Event, error) {
	var e syncview.Event
	var payload string
	var dc int64
	if err := r.Scan(&e.Seq, &e.ObjectSid, &e.ID, &e.Type, &payload, &dc); err != nil {
		return nil, err
	}
	e.Payload, e.DateCreated = json.RawMessage(payload), time.Unix(dc, 0).UTC()
	return &e, nil
}

const syncEventCols = `seq, object_sid, event_id, event_type, payload, date_created`

// AppendSyncEvent appends an event and sets its Seq.
func (s *Store) AppendSyncEvent(ctx context.Context, e *syncview.Event) error {
	seq, err := s.insertSeq(ctx, `INSERT INTO sync_events (object_sid, event_id, event_type, payload, date_created) VALUES (?, ?, ?, ?, ?)`,
		e.ObjectSid, e.ID, e.Type, string(e.Payload), e.DateCreated.Unix())
	e.Seq = seq
	return err
}

// SyncEvents returns up to limit events of an object after event id afterID, in order.
func (s *Store) SyncEvents(ctx context.Context, objectSid string, afterID int64, limit int) ([]*syncview.Event, error) {
	return queryRows(ctx, s, `SELECT `+syncEventCols+` FROM sync_events WHERE object_sid = ? AND event_id > ? ORDER BY event_id ASC LIMIT ?`,
		[]any{objectSid, afterID, limit}, false, scanSyncEvent)
}

// SyncEventsSince returns up to limit events of every object after seq afterSeq, in order.
func (s *Store) SyncEventsSince(ctx context.Context, afterSeq int64, limit int) ([]*syncview.Event, error) {
	return queryRows(ctx, s, `SELECT `+syncEventCols+` FROM sync_events WHERE seq > ? ORDER BY seq ASC LIMIT ?`,
		[]any{afterSeq, limit}, false, scanSyncEvent)
}

// LastSyncEventSeq returns the seq of the newest event (0 when none).
func (s *Store) LastSyncEventSeq(ctx context.Context) (int64, error) {
	var n sql.NullInt64
	err := s.q.QueryRowContext(ctx, s.bind(`SELECT MAX(seq) FROM sync_events`)).Scan(&n)
	return n.Int64, s.mapErr(err)
}

// SyncNotifier is implemented by dialects that can wake other processes when a transaction
// that changed the Sync view commits (PostgreSQL: NOTIFY, delivered at commit only).
type SyncNotifier interface {
	NotifySyncStatement() string
}

// NotifySyncChange, inside a transaction, asks for other processes to be woken when it
// commits; a no-op for engines without notifications (SQLite has one process).
func (s *Store) NotifySyncChange(ctx context.Context) error {
	n, ok := s.d.(SyncNotifier)
	if !ok || !s.inTx {
		return nil
	}
	_, err := s.exec(ctx, n.NotifySyncStatement())
	return err
}
