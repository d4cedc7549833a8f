-- The client SDK's Sync view (internal/syncview), SQLite. PostgreSQL has the same tables in
-- internal/store/postgres/migrations/0011_syncview.sql. Written by the projector inside the
-- transaction of every change, so the view can never miss or precede a change.

-- A Sync object: a document (data set), a list or a map, with its revision and the id of
-- its last event.
CREATE TABLE sync_objects (
	sid TEXT PRIMARY KEY,
	account_sid TEXT NOT NULL,
	service_sid TEXT NOT NULL,
	kind TEXT NOT NULL,
	unique_name TEXT NOT NULL,
	revision INTEGER NOT NULL,
	last_event_id INTEGER NOT NULL,
	data TEXT NOT NULL,
	date_created INTEGER NOT NULL,
	date_updated INTEGER NOT NULL,
	UNIQUE (service_sid, unique_name)
);

-- An item of a list (item_index) or a map (item_key).
CREATE TABLE sync_items (
	object_sid TEXT NOT NULL REFERENCES sync_objects(sid) ON DELETE CASCADE,
	item_key TEXT NOT NULL,
	item_index INTEGER NOT NULL,
	data TEXT NOT NULL,
	revision INTEGER NOT NULL,
	last_event_id INTEGER NOT NULL,
	date_created INTEGER NOT NULL,
	date_updated INTEGER NOT NULL,
	PRIMARY KEY (object_sid, item_key)
);
CREATE INDEX sync_items_index ON sync_items(object_sid, item_index);

-- The event log: per object, event_id is monotonic (the object's last_event_id + 1); seq is
-- the global order in which the fan-out reads new events. Rows outlive a removed object, so
-- its removal event can still be delivered and replayed.
CREATE TABLE sync_events (
	seq INTEGER PRIMARY KEY AUTOINCREMENT,
	object_sid TEXT NOT NULL,
	event_id INTEGER NOT NULL,
	event_type TEXT NOT NULL,
	payload TEXT NOT NULL,
	date_created INTEGER NOT NULL,
	UNIQUE (object_sid, event_id)
);
