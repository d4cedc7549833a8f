-- The webhook delivery log's per-attempt history and resends. The other engine has the same tables in
-- internal/store/postgres/migrations/0010_webhook_attempts.sql.

-- One row per settled attempt of a webhook delivery: the request as sent (URL, method, the signed headers,
-- the form body; never the auth token), the answer (status, the first 4 KiB of the body) or the error, and
-- how long it took. Deleted with its delivery (retention, Reset).
CREATE TABLE webhook_delivery_attempts (
	seq INTEGER PRIMARY KEY AUTOINCREMENT,
	delivery_sid TEXT NOT NULL REFERENCES webhook_deliveries(sid) ON DELETE CASCADE,
	account_sid TEXT NOT NULL,
	attempt INTEGER NOT NULL,
	date_created INTEGER NOT NULL, -- Unix milliseconds, Parley's clock
	request_url TEXT NOT NULL,
	request_method TEXT NOT NULL,
	request_headers TEXT NOT NULL, -- JSON object of strings
	request_body TEXT NOT NULL,
	response_status INTEGER NOT NULL DEFAULT 0,
	response_body TEXT NOT NULL DEFAULT '',
	error TEXT NOT NULL DEFAULT '',
	duration_ms INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX webhook_delivery_attempts_delivery ON webhook_delivery_attempts(delivery_sid, seq);

-- The delivery a resend copied ('' for a delivery of a change).
ALTER TABLE webhook_deliveries ADD COLUMN resent_from TEXT NOT NULL DEFAULT '';
