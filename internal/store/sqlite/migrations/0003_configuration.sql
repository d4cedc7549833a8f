-- 0003: account configuration, service notification settings, address configurations, push
-- credentials and bindings, built-in roles, and the indexes that find due conversation timers
-- and the participants holding a role. PostgreSQL has the same tables in
-- internal/store/postgres/migrations/0003_configuration.sql.

-- Roles created with a service (channel admin, channel user, service admin, service user) are
-- built in and cannot be deleted. Before this migration no other role could be created.
ALTER TABLE roles ADD COLUMN builtin BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE roles SET builtin = TRUE;

-- /v1/Configuration; the default Conversation Service stays in accounts.default_service_sid.
CREATE TABLE account_configs (
	account_sid TEXT PRIMARY KEY REFERENCES accounts(sid) ON DELETE CASCADE,
	default_messaging_service_sid TEXT NOT NULL DEFAULT '',
	default_inactive_timer TEXT NOT NULL DEFAULT '',
	default_closed_timer TEXT NOT NULL DEFAULT ''
);

-- /v1/Services/{IS}/Configuration/Notifications (stored; Parley sends no push notifications).
CREATE TABLE service_notifications (
	service_sid TEXT PRIMARY KEY REFERENCES services(sid) ON DELETE CASCADE,
	log_enabled BOOLEAN NOT NULL DEFAULT FALSE,
	new_message_enabled BOOLEAN NOT NULL DEFAULT FALSE,
	new_message_template TEXT,
	new_message_sound TEXT,
	new_message_badge_count_enabled BOOLEAN NOT NULL DEFAULT FALSE,
	new_message_with_media_enabled BOOLEAN NOT NULL DEFAULT FALSE,
	new_message_with_media_template TEXT,
	added_enabled BOOLEAN NOT NULL DEFAULT FALSE,
	added_template TEXT,
	added_sound TEXT,
	removed_enabled BOOLEAN NOT NULL DEFAULT FALSE,
	removed_template TEXT,
	removed_sound TEXT
);

-- /v1/Configuration/Addresses (IG): one configuration per (type, address) of an account.
CREATE TABLE address_configs (
	seq INTEGER PRIMARY KEY AUTOINCREMENT,
	sid TEXT NOT NULL UNIQUE,
	account_sid TEXT NOT NULL REFERENCES accounts(sid) ON DELETE CASCADE,
	type TEXT NOT NULL,
	address TEXT NOT NULL,
	friendly_name TEXT,
	address_country TEXT,
	auto_enabled BOOLEAN NOT NULL DEFAULT FALSE,
	auto_type TEXT NOT NULL DEFAULT '',
	auto_service_sid TEXT NOT NULL DEFAULT '',
	auto_webhook_url TEXT NOT NULL DEFAULT '',
	auto_webhook_method TEXT NOT NULL DEFAULT '',
	auto_webhook_filters TEXT NOT NULL DEFAULT '[]',
	auto_studio_flow_sid TEXT NOT NULL DEFAULT '',
	auto_studio_retry_count INTEGER,
	date_created INTEGER NOT NULL,
	date_updated INTEGER NOT NULL,
	UNIQUE (account_sid, type, address)
);
CREATE INDEX address_configs_account ON address_configs(account_sid, seq);

-- /v1/Credentials (CR): push credentials. Secrets are stored, never returned.
CREATE TABLE credentials (
	seq INTEGER PRIMARY KEY AUTOINCREMENT,
	sid TEXT NOT NULL UNIQUE,
	account_sid TEXT NOT NULL REFERENCES accounts(sid) ON DELETE CASCADE,
	friendly_name TEXT,
	type TEXT NOT NULL,
	sandbox BOOLEAN NOT NULL DEFAULT FALSE,
	certificate TEXT NOT NULL DEFAULT '',
	private_key TEXT NOT NULL DEFAULT '',
	api_key TEXT NOT NULL DEFAULT '',
	secret TEXT NOT NULL DEFAULT '',
	date_created INTEGER NOT NULL,
	date_updated INTEGER NOT NULL
);
CREATE INDEX credentials_account ON credentials(account_sid, seq);

-- /v1/Services/{IS}/Bindings (BS): push registrations made by client SDKs.
CREATE TABLE push_bindings (
	seq INTEGER PRIMARY KEY AUTOINCREMENT,
	sid TEXT NOT NULL UNIQUE,
	account_sid TEXT NOT NULL,
	service_sid TEXT NOT NULL REFERENCES services(sid) ON DELETE CASCADE,
	credential_sid TEXT NOT NULL DEFAULT '',
	endpoint TEXT NOT NULL,
	identity TEXT NOT NULL,
	binding_type TEXT NOT NULL,
	message_types TEXT NOT NULL DEFAULT '[]',
	date_created INTEGER NOT NULL,
	date_updated INTEGER NOT NULL
);
CREATE INDEX push_bindings_service ON push_bindings(service_sid, seq);

CREATE INDEX conversations_date_inactive ON conversations(date_inactive);
CREATE INDEX conversations_date_closed ON conversations(date_closed);
CREATE INDEX participants_role ON participants(role_sid);
