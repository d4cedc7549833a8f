-- Webhooks, SQLite: account-level and service-level configuration, conversation-scoped
-- webhooks and the delivery outbox. PostgreSQL has the same tables in
-- internal/store/postgres/migrations/0004_webhooks.sql.
CREATE TABLE account_webhook_configs (
	account_sid TEXT PRIMARY KEY REFERENCES accounts(sid) ON DELETE CASCADE,
	pre_webhook_url TEXT NOT NULL DEFAULT '',
	post_webhook_url TEXT NOT NULL DEFAULT '',
	method TEXT NOT NULL DEFAULT '',
	filters TEXT, -- JSON array; NULL when never set
	target TEXT NOT NULL DEFAULT '',
	date_updated INTEGER NOT NULL
);

CREATE TABLE service_webhook_configs (
	service_sid TEXT PRIMARY KEY REFERENCES services(sid) ON DELETE CASCADE,
	account_sid TEXT NOT NULL,
	pre_webhook_url TEXT NOT NULL DEFAULT '',
	post_webhook_url TEXT NOT NULL DEFAULT '',
	method TEXT NOT NULL DEFAULT '',
	filters TEXT,
	target TEXT NOT NULL DEFAULT '',
	date_updated INTEGER NOT NULL
);

CREATE TABLE conversation_webhooks (
	seq INTEGER PRIMARY KEY AUTOINCREMENT,
	sid TEXT NOT NULL UNIQUE,
	account_sid TEXT NOT NULL,
	service_sid TEXT NOT NULL,
	conversation_sid TEXT NOT NULL REFERENCES conversations(sid) ON DELETE CASCADE,
	target TEXT NOT NULL,
	url TEXT NOT NULL DEFAULT '',
	method TEXT NOT NULL DEFAULT '',
	filters TEXT NOT NULL DEFAULT '[]',
	triggers TEXT NOT NULL DEFAULT '[]',
	flow_sid TEXT NOT NULL DEFAULT '',
	replay_after INTEGER,
	date_created INTEGER NOT NULL,
	date_updated INTEGER NOT NULL
);
CREATE INDEX conversation_webhooks_conversation ON conversation_webhooks(conversation_sid, seq);

-- The outbox: one row per post-event webhook request, written in the transaction of the
-- change. next_attempt_at is Unix milliseconds: when a pending row is due, or while an attempt
-- is in flight (lease_owner set) when its lease ends. conversation_sid has no foreign key: the
-- deliveries of a deleted conversation (onConversationRemoved) must survive it.
CREATE TABLE webhook_deliveries (
	seq INTEGER PRIMARY KEY AUTOINCREMENT,
	sid TEXT NOT NULL UNIQUE,
	account_sid TEXT NOT NULL REFERENCES accounts(sid) ON DELETE CASCADE,
	service_sid TEXT NOT NULL DEFAULT '',
	conversation_sid TEXT NOT NULL DEFAULT '',
	event_type TEXT NOT NULL,
	scope TEXT NOT NULL,
	webhook_sid TEXT NOT NULL DEFAULT '',
	url TEXT NOT NULL,
	method TEXT NOT NULL,
	params TEXT NOT NULL,
	status TEXT NOT NULL,
	attempts INTEGER NOT NULL DEFAULT 0,
	last_status_code INTEGER NOT NULL DEFAULT 0,
	last_error TEXT NOT NULL DEFAULT '',
	next_attempt_at INTEGER NOT NULL,
	lease_owner TEXT NOT NULL DEFAULT '', -- the dispatcher whose attempt is in flight
	date_created INTEGER NOT NULL,
	date_updated INTEGER NOT NULL,
	date_delivered INTEGER
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_attempt_at);
CREATE INDEX webhook_deliveries_account ON webhook_deliveries(account_sid, seq);
