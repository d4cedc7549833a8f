-- Parley schema, SQLite. Dates are Unix seconds (Twilio's wire format has second precision).
-- PostgreSQL has the same tables in internal/store/postgres/migrations with matching numbers.
CREATE TABLE accounts (
	sid TEXT PRIMARY KEY,
	auth_token TEXT NOT NULL,
	friendly_name TEXT NOT NULL,
	default_service_sid TEXT NOT NULL DEFAULT '',
	date_created INTEGER NOT NULL,
	date_updated INTEGER NOT NULL
);

CREATE TABLE api_keys (
	sid TEXT PRIMARY KEY,
	account_sid TEXT NOT NULL REFERENCES accounts(sid) ON DELETE CASCADE,
	secret TEXT NOT NULL,
	friendly_name TEXT NOT NULL,
	date_created INTEGER NOT NULL
);

CREATE TABLE services (
	seq INTEGER PRIMARY KEY AUTOINCREMENT,
	sid TEXT NOT NULL UNIQUE,
	account_sid TEXT NOT NULL REFERENCES accounts(sid) ON DELETE CASCADE,
	friendly_name TEXT NOT NULL,
	date_created INTEGER NOT NULL,
	date_updated INTEGER NOT NULL
);
CREATE INDEX services_account ON services(account_sid, seq);

CREATE TABLE service_configs (
	service_sid TEXT PRIMARY KEY REFERENCES services(sid) ON DELETE CASCADE,
	default_conversation_role_sid TEXT NOT NULL,
	default_conversation_creator_role_sid TEXT NOT NULL,
	default_chat_service_role_sid TEXT NOT NULL,
	reachability_enabled BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE roles (
	seq INTEGER PRIMARY KEY AUTOINCREMENT,
	sid TEXT NOT NULL UNIQUE,
	account_sid TEXT NOT NULL,
	service_sid TEXT NOT NULL REFERENCES services(sid) ON DELETE CASCADE,
	friendly_name TEXT NOT NULL,
	type TEXT NOT NULL,
	permissions TEXT NOT NULL,
	date_created INTEGER NOT NULL,
	date_updated INTEGER NOT NULL
);
CREATE INDEX roles_service ON roles(service_sid, seq);

CREATE TABLE conversations (
	seq INTEGER PRIMARY KEY AUTOINCREMENT,
	sid TEXT NOT NULL UNIQUE,
	account_sid TEXT NOT NULL,
	service_sid TEXT NOT NULL REFERENCES services(sid) ON DELETE CASCADE,
	messaging_service_sid TEXT NOT NULL DEFAULT '',
	friendly_name TEXT,
	unique_name TEXT,
	attributes TEXT NOT NULL,
	state TEXT NOT NULL,
	timer_inactive TEXT NOT NULL DEFAULT '',
	timer_closed TEXT NOT NULL DEFAULT '',
	date_inactive INTEGER,
	date_closed INTEGER,
	email_address TEXT NOT NULL DEFAULT '',
	email_name TEXT NOT NULL DEFAULT '',
	date_created INTEGER NOT NULL,
	date_updated INTEGER NOT NULL,
	UNIQUE (service_sid, unique_name)
);
CREATE INDEX conversations_service ON conversations(service_sid, seq);

CREATE TABLE participants (
	seq INTEGER PRIMARY KEY AUTOINCREMENT,
	sid TEXT NOT NULL UNIQUE,
	account_sid TEXT NOT NULL,
	service_sid TEXT NOT NULL,
	conversation_sid TEXT NOT NULL REFERENCES conversations(sid) ON DELETE CASCADE,
	identity TEXT,
	attributes TEXT NOT NULL,
	binding_type TEXT NOT NULL DEFAULT '',
	binding_address TEXT NOT NULL DEFAULT '',
	binding_proxy_address TEXT NOT NULL DEFAULT '',
	binding_projected_address TEXT NOT NULL DEFAULT '',
	role_sid TEXT NOT NULL DEFAULT '',
	last_read_message_index INTEGER,
	last_read_timestamp TEXT,
	date_created INTEGER NOT NULL,
	date_updated INTEGER NOT NULL,
	UNIQUE (conversation_sid, identity)
);
CREATE INDEX participants_conversation ON participants(conversation_sid, seq);
CREATE INDEX participants_address ON participants(conversation_sid, binding_address, binding_proxy_address);

-- An (address, proxy address) pair may be held by one participant of one non-closed
-- conversation per account; closing or deleting frees it.
CREATE TABLE binding_claims (
	account_sid TEXT NOT NULL,
	address TEXT NOT NULL,
	proxy_address TEXT NOT NULL,
	conversation_sid TEXT NOT NULL REFERENCES conversations(sid) ON DELETE CASCADE,
	participant_sid TEXT NOT NULL REFERENCES participants(sid) ON DELETE CASCADE,
	PRIMARY KEY (account_sid, address, proxy_address)
);
CREATE INDEX binding_claims_conversation ON binding_claims(conversation_sid);
CREATE INDEX binding_claims_participant ON binding_claims(participant_sid);
