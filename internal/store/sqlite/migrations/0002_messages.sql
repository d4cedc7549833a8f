-- Messages, their per-recipient deliveries and the carrier outbox, SQLite. PostgreSQL has the
-- same tables in internal/store/postgres/migrations/0002_messages.sql.

-- The next message index of each conversation: incremented in the transaction that creates a
-- message, never decremented, so indexes only grow and a deleted message leaves a gap.
ALTER TABLE conversations ADD COLUMN next_message_index INTEGER NOT NULL DEFAULT 0;

CREATE TABLE messages (
	seq INTEGER PRIMARY KEY AUTOINCREMENT,
	sid TEXT NOT NULL UNIQUE,
	account_sid TEXT NOT NULL,
	service_sid TEXT NOT NULL,
	conversation_sid TEXT NOT NULL REFERENCES conversations(sid) ON DELETE CASCADE,
	idx INTEGER NOT NULL,
	author TEXT NOT NULL,
	body TEXT,
	attributes TEXT NOT NULL,
	-- The author participant, kept after that participant is removed (no foreign key).
	participant_sid TEXT NOT NULL DEFAULT '',
	content_sid TEXT NOT NULL DEFAULT '',
	content_variables TEXT NOT NULL DEFAULT '',
	subject TEXT NOT NULL DEFAULT '',
	date_created INTEGER NOT NULL,
	date_updated INTEGER NOT NULL,
	UNIQUE (conversation_sid, idx)
);
CREATE INDEX messages_conversation ON messages(conversation_sid, seq);

-- One row per recipient participant present when the message was created, written in the
-- message's transaction. The recipient is a snapshot (no foreign key to participants): removing
-- the participant keeps the row, and a pending delivery is still made.
CREATE TABLE deliveries (
	seq INTEGER PRIMARY KEY AUTOINCREMENT,
	sid TEXT NOT NULL UNIQUE,
	account_sid TEXT NOT NULL,
	service_sid TEXT NOT NULL,
	conversation_sid TEXT NOT NULL,
	message_sid TEXT NOT NULL REFERENCES messages(sid) ON DELETE CASCADE,
	message_index INTEGER NOT NULL,
	participant_sid TEXT NOT NULL,
	channel TEXT NOT NULL,
	identity TEXT,
	address TEXT NOT NULL DEFAULT '',
	proxy_address TEXT NOT NULL DEFAULT '',
	status TEXT NOT NULL,
	attempts INTEGER NOT NULL DEFAULT 0,
	next_attempt_at INTEGER NOT NULL, -- Unix milliseconds
	lease_owner TEXT NOT NULL DEFAULT '',
	lease_until INTEGER NOT NULL DEFAULT 0, -- Unix milliseconds
	channel_message_sid TEXT NOT NULL DEFAULT '',
	error_code INTEGER NOT NULL DEFAULT 0,
	error_message TEXT NOT NULL DEFAULT '',
	date_created INTEGER NOT NULL,
	date_updated INTEGER NOT NULL
);
CREATE INDEX deliveries_message ON deliveries(message_sid, seq);
CREATE INDEX deliveries_identity ON deliveries(service_sid, identity, seq);
CREATE INDEX deliveries_pending ON deliveries(next_attempt_at) WHERE status = 'pending';

-- What the log carrier "sent": one row per delivery at most (delivery_sid is unique), so a
-- delivery retried after a crash is never recorded twice. A log: no foreign keys.
CREATE TABLE outbox (
	seq INTEGER PRIMARY KEY AUTOINCREMENT,
	sid TEXT NOT NULL UNIQUE,
	delivery_sid TEXT NOT NULL UNIQUE,
	account_sid TEXT NOT NULL,
	service_sid TEXT NOT NULL,
	conversation_sid TEXT NOT NULL,
	message_sid TEXT NOT NULL,
	message_index INTEGER NOT NULL,
	participant_sid TEXT NOT NULL,
	channel TEXT NOT NULL,
	to_address TEXT NOT NULL,
	from_address TEXT NOT NULL,
	author TEXT NOT NULL,
	body TEXT,
	date_created INTEGER NOT NULL
);
CREATE INDEX outbox_account ON outbox(account_sid, seq);
