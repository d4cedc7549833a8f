// Package syncview is the client SDK's view of Parley's conversations as Twilio Sync objects
// (documents, lists, maps), persisted in the store: the projector that writes it inside the
// transaction of every change, the cds routes the SDK reads it through, and subscriptions with
// replay and live fan-out. See internal/gateway/DESIGN.md.
package syncview

import (
	"context"
	"encoding/json"
	"time"

	"github.com/parley-dev/parley/internal/conv"
)

// Kinds of Sync objects.
const (
	KindDocument = "document"
	KindList     = "list"
	KindMap      = "map"
)

// Object is a Sync object. Data is the document's data (an empty JSON object for lists and
// maps).
type Object struct {
	Sid         string
	AccountSid  string
	ServiceSid  string
	Kind        string
	UniqueName  string
	Revision    int64
	LastEventID int64
	Data        json.RawMessage
	DateCreated time.Time
	DateUpdated time.Time
}

// Item is an item of a list (Index) or a map (Key).
type Item struct {
	ObjectSid   string
	Key         string
	Index       int64
	Data        json.RawMessage
	Revision    int64
	LastEventID int64
	DateCreated time.Time
	DateUpdated time.Time
}

// Event is one row of the event log. Payload is the event as the SDK receives it (without
// event_type).
type Event struct {
	Seq         int64
	ObjectSid   string
	ID          int64
	Type        string
	Payload     json.RawMessage
	DateCreated time.Time
}

// ItemQuery selects items of one object in order: by Index for lists, by Key for maps.
type ItemQuery struct {
	ByIndex   bool
	From      *string // inclusive start key (maps)
	FromIndex *int64  // inclusive start index (lists)
	Desc      bool
	Limit     int
}

// Store is what the view needs of the store; the SQL stores (sqlstore.Store) implement it, in
// and outside transactions. Lookups return conv.ErrNotFound when nothing matches.
type Store interface {
	conv.Store
	SyncObject(ctx context.Context, serviceSid, ref string) (*Object, error)
	PutSyncObject(ctx context.Context, o *Object) error
	CreateSyncObject(ctx context.Context, o *Object) error
	DeleteSyncObject(ctx context.Context, sid string) error
	SyncItem(ctx context.Context, objectSid, key string) (*Item, error)
	PutSyncItem(ctx context.Context, it *Item) error
	DeleteSyncItem(ctx context.Context, objectSid, key string) error
	ListSyncItems(ctx context.Context, objectSid string, q ItemQuery) ([]*Item, error)
	AppendSyncEvent(ctx context.Context, e *Event) error
	SyncEvents(ctx context.Context, objectSid string, afterID int64, limit int) ([]*Event, error)
	SyncEventsSince(ctx context.Context, afterSeq int64, limit int) ([]*Event, error)
	LastSyncEventSeq(ctx context.Context) (int64, error)
	// NotifySyncChange, inside a transaction, wakes the other processes' fan-outs at commit.
	NotifySyncChange(ctx context.Context) error
}

// Listener is implemented by stores whose other processes' changes can be waited for
// (PostgreSQL LISTEN): ListenSyncChanges calls wake on each notification until ctx is done
// or the connection fails.
type Listener interface {
	ListenSyncChanges(ctx context.Context, wake func()) error
}
