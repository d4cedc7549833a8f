-- Conversation Users (US) and the per-participant notification level, SQLite. PostgreSQL has
-- the same tables in internal/store/postgres/migrations/0005_users.sql.

-- A User is the service-wide identity behind chat participants: unique per service, created
-- explicitly (/v1/Users) or with the first chat participant of its identity.
CREATE TABLE users (
	seq INTEGER PRIMARY KEY AUTOINCREMENT,
	sid TEXT NOT NULL UNIQUE,
	account_sid TEXT NOT NULL,
	service_sid TEXT NOT NULL REFERENCES services(sid) ON DELETE CASCADE,
	identity TEXT NOT NULL,
	friendly_name TEXT,
	attributes TEXT NOT NULL,
	role_sid TEXT NOT NULL DEFAULT '',
	date_created INTEGER NOT NULL,
	date_updated INTEGER NOT NULL,
	UNIQUE (service_sid, identity)
);
CREATE INDEX users_service ON users(service_sid, seq);
CREATE INDEX users_role ON users(role_sid);

-- The User Conversation's notification_level (default or muted) lives on the participant row.
ALTER TABLE participants ADD COLUMN notification_level TEXT NOT NULL DEFAULT 'default';

-- Lookups of a user's (identity's) and an address's conversations across a service.
CREATE INDEX participants_service_identity ON participants(service_sid, identity, seq);
CREATE INDEX participants_service_address ON participants(service_sid, binding_address, conversation_sid);

-- Chat participants created before this migration get their User, with the service's default
-- service role, dated like the identity's first participant.
INSERT INTO users (sid, account_sid, service_sid, identity, friendly_name, attributes, role_sid, date_created, date_updated)
SELECT 'US' || lower(hex(randomblob(16))), p.account_sid, p.service_sid, p.identity, NULL, '{}',
	COALESCE((SELECT c.default_chat_service_role_sid FROM service_configs c WHERE c.service_sid = p.service_sid), ''),
	MIN(p.date_created), MIN(p.date_created)
FROM participants p
WHERE p.identity IS NOT NULL
GROUP BY p.account_sid, p.service_sid, p.identity
ORDER BY MIN(p.seq);
