package storetest

import (
	"context"
	"database/sql"
	"io/fs"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/store/sqlstore"
)

// usersMigration is the migration that adds users (and creates those of existing chat
// participants).
const usersMigration = "0005_users.sql"

// migrationDialect is the part of a Dialect sqlstore.Migrate uses.
type migrationDialect struct{ rebind func(string) string }

func (d migrationDialect) Name() string                     { return "migration-test" }
func (d migrationDialect) Rebind(q string) string           { return d.rebind(q) }
func (d migrationDialect) LockSuffix() string               { return "" }
func (d migrationDialect) IsUniqueViolation(error) bool     { return false }
func (d migrationDialect) IsForeignKeyViolation(error) bool { return false }
func (d migrationDialect) IsStorageFull(error) bool         { return false }

// UserBackfill checks the users migration of an engine on a database that predates it: it
// applies the engine's migrations before 0005_users.sql (from migrations) to db, writes chat
// and SMS participants as those versions stored them, then open, which migrates the rest,
// must show one User per (service, identity) of a chat participant, with the service's
// default service role and the date of the identity's first participant, and none for the
// SMS participant. rebind rewrites '?' placeholders for the engine.
func UserBackfill(t *testing.T, db *sql.DB, rebind func(string) string, migrations fs.FS, open func(t *testing.T) conv.Store) {
	t.Helper()
	ctx := context.Background()
	before := fstest.MapFS{}
	names, err := fs.Glob(migrations, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if n >= usersMigration {
			continue
		}
		body, err := fs.ReadFile(migrations, n)
		if err != nil {
			t.Fatal(err)
		}
		before[n] = &fstest.MapFile{Data: body}
	}
	if len(before) == 0 || len(before) == len(names) {
		t.Fatalf("migrations: %v, want some before and %s", names, usersMigration)
	}
	if err := sqlstore.Migrate(ctx, db, migrationDialect{rebind}, before); err != nil {
		t.Fatalf("migrate to before %s: %v", usersMigration, err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, rebind(q), args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	const (
		acct  = "AC00000000000000000000000000000001"
		svc   = "IS00000000000000000000000000000001"
		other = "IS00000000000000000000000000000002"
		role  = "RL00000000000000000000000000000004"
	)
	exec(`INSERT INTO accounts (sid, auth_token, friendly_name, default_service_sid, date_created, date_updated) VALUES (?, 't', 'a', ?, 1, 1)`, acct, svc)
	for _, s := range []string{svc, other} {
		exec(`INSERT INTO services (sid, account_sid, friendly_name, date_created, date_updated) VALUES (?, ?, 's', 1, 1)`, s, acct)
	}
	exec(`INSERT INTO service_configs (service_sid, default_conversation_role_sid, default_conversation_creator_role_sid, default_chat_service_role_sid)
		VALUES (?, 'RL1', 'RL2', ?)`, svc, role)
	for i, c := range []struct{ sid, service string }{
		{"CH00000000000000000000000000000001", svc}, {"CH00000000000000000000000000000002", svc}, {"CH00000000000000000000000000000003", other},
	} {
		exec(`INSERT INTO conversations (sid, account_sid, service_sid, attributes, state, date_created, date_updated) VALUES (?, ?, ?, '{}', 'active', ?, ?)`,
			c.sid, acct, c.service, 10+i, 10+i)
	}
	for _, p := range []struct {
		sid, conversation, service string
		identity                   any // nil for the SMS participant
		typ, address, proxy        string
		created                    int64
	}{
		{"MB00000000000000000000000000000001", "CH00000000000000000000000000000002", svc, "old", "", "", "", 200},
		{"MB00000000000000000000000000000002", "CH00000000000000000000000000000001", svc, "old", "", "", "", 100},
		{"MB00000000000000000000000000000003", "CH00000000000000000000000000000001", svc, nil, "sms", "+15550001", "+15550002", 50},
		{"MB00000000000000000000000000000004", "CH00000000000000000000000000000003", other, "old", "", "", "", 300},
	} {
		exec(`INSERT INTO participants (sid, account_sid, service_sid, conversation_sid, identity, attributes, binding_type, binding_address,
			binding_proxy_address, date_created, date_updated) VALUES (?, ?, ?, ?, ?, '{}', ?, ?, ?, ?, ?)`,
			p.sid, acct, p.service, p.conversation, p.identity, p.typ, p.address, p.proxy, p.created, p.created)
	}

	st := open(t)
	sidRE := regexp.MustCompile(`^US[0-9a-f]{32}$`)
	u, err := st.GetUserByIdentity(ctx, svc, "old")
	if err != nil {
		t.Fatalf("user of the existing participants: %v", err)
	}
	if !sidRE.MatchString(u.Sid) || u.AccountSid != acct || u.RoleSid != role || u.Attributes != "{}" || u.FriendlyName != nil ||
		u.DateCreated.Unix() != 100 || u.DateUpdated.Unix() != 100 {
		t.Errorf("backfilled user = %+v", u)
	}
	o, err := st.GetUserByIdentity(ctx, other, "old")
	if err != nil {
		t.Fatalf("user in the other service: %v", err)
	}
	if o.Sid == u.Sid || o.RoleSid != "" || o.DateCreated.Unix() != 300 {
		t.Errorf("other service's backfilled user = %+v (first: %s)", o, u.Sid)
	}
	users, err := st.ListUsers(ctx, svc, conv.PageQuery{})
	if err != nil || len(users) != 1 {
		t.Errorf("users of the service: %v %d, want 1 (none for the SMS participant)", err, len(users))
	}
	level, err := st.GetNotificationLevel(ctx, "CH00000000000000000000000000000001", "MB00000000000000000000000000000002")
	if err != nil || level != conv.NotificationLevelDefault {
		t.Errorf("notification level of an existing participant: %q %v", level, err)
	}
	ms, err := st.ListParticipantMemberships(ctx, svc, conv.ParticipantConversationFilter{Identity: "old"}, conv.PageQuery{})
	if err != nil || len(ms) != 2 || ms[0].UserSid != u.Sid || !strings.HasSuffix(ms[0].Conversation.Sid, "1") {
		t.Errorf("memberships after the migration: %v %+v", err, ms)
	}
	// Migration 0006 counted the participants that were already stored.
	for sid, want := range map[string]conv.ParticipantCounts{
		"CH00000000000000000000000000000001": {Chat: 1, NonChat: 1},
		"CH00000000000000000000000000000002": {Chat: 1},
		"CH00000000000000000000000000000003": {Chat: 1},
	} {
		if got, err := st.CountParticipants(ctx, sid); err != nil || got != want {
			t.Errorf("participant counters of %s after the migrations: %+v %v, want %+v", sid, got, err, want)
		}
	}
}
