-- Media Content Service (MCS): uploaded media and their bytes; the push outbox. The other engine has the same
-- tables in internal/store/postgres/migrations/0009_media.sql.

-- One row per media item. complete is 0 while the upload streams in (such a row is never
-- served and is removed when the upload fails); an acknowledged upload has complete = 1.
-- message_sid and conversation_sid are NULL until a message attaches the media; deleting the
-- message (or its conversation) deletes the media with it.
CREATE TABLE media (
	seq INTEGER PRIMARY KEY AUTOINCREMENT,
	sid TEXT NOT NULL UNIQUE,
	account_sid TEXT NOT NULL,
	service_sid TEXT NOT NULL,
	conversation_sid TEXT,
	message_sid TEXT REFERENCES messages(sid) ON DELETE CASCADE,
	content_type TEXT NOT NULL,
	size INTEGER NOT NULL DEFAULT 0,
	filename TEXT,
	author TEXT NOT NULL,
	category TEXT NOT NULL,
	complete INTEGER NOT NULL DEFAULT 0,
	-- An inbound MMS's media: where its content is (a redirect); it has no chunks.
	external_url TEXT NOT NULL DEFAULT '',
	date_created INTEGER NOT NULL,
	date_updated INTEGER NOT NULL
);
CREATE INDEX media_message ON media(message_sid);
CREATE INDEX media_account ON media(account_sid, seq);

-- The bytes of a media item, in chunks of at most 256 KiB written as the upload streams in and
-- read back one by one, so neither side holds a whole file in memory.
CREATE TABLE media_chunks (
	media_sid TEXT NOT NULL REFERENCES media(sid) ON DELETE CASCADE,
	n INTEGER NOT NULL,
	data BLOB NOT NULL,
	PRIMARY KEY (media_sid, n)
);

-- The media of a message as its JSON shows them: a JSON array of {sid, size, content_type,
-- filename}, '' when the message has none.
ALTER TABLE messages ADD COLUMN media TEXT NOT NULL DEFAULT '';

-- The media item an SMS/WhatsApp recipient gets (one at most, as at Twilio), '' for none.
ALTER TABLE outbox ADD COLUMN media_sid TEXT NOT NULL DEFAULT '';

-- The device token of a push binding (the chat gateway's registrations); pushes go to it.
ALTER TABLE push_bindings ADD COLUMN address TEXT NOT NULL DEFAULT '';
CREATE INDEX push_bindings_device ON push_bindings(service_sid, identity, binding_type, address);

-- The push outbox: every push Parley would have sent to FCM or APNs, written in the
-- transaction of the change that caused it. A log: no foreign keys.
CREATE TABLE push_notifications (
	seq INTEGER PRIMARY KEY AUTOINCREMENT,
	sid TEXT NOT NULL UNIQUE,
	account_sid TEXT NOT NULL,
	service_sid TEXT NOT NULL,
	conversation_sid TEXT NOT NULL,
	message_sid TEXT NOT NULL DEFAULT '',
	binding_sid TEXT NOT NULL,
	binding_type TEXT NOT NULL,
	credential_sid TEXT NOT NULL,
	identity TEXT NOT NULL,
	address TEXT NOT NULL,
	message_type TEXT NOT NULL,
	body TEXT NOT NULL,
	sound TEXT,
	badge INTEGER,
	data TEXT NOT NULL, -- JSON object of strings
	date_created INTEGER NOT NULL
);
CREATE INDEX push_notifications_account ON push_notifications(account_sid, seq);
