package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/store"
)

// Conformance runs the store conformance suite on engine e: every conv.Store method is called
// directly (writes inside WithTx, as the Service makes them), with the ErrNotFound and
// ErrConflict cases, cascading deletes, paging order and transaction semantics every engine
// must share. Each subtest opens its own fresh store.
func Conformance(t *testing.T, e Engine) {
	cases := []struct {
		name string
		f    func(c *suite)
	}{
		{"Describe", testDescribe},
		{"Accounts", testAccounts},
		{"APIKeys", testAPIKeys},
		{"Services", testServices},
		{"ServiceConfig", testServiceConfig},
		{"Roles", testRoles},
		{"Conversations", testConversations},
		{"ConversationUniqueName", testConversationUniqueName},
		{"ConversationFilter", testConversationFilter},
		{"Participants", testParticipants},
		{"ParticipantIdentityUnique", testParticipantIdentityUnique},
		{"CountParticipants", testCountParticipants},
		{"BindingClaims", testBindingClaims},
		{"ClaimConflictKeepsTransaction", testClaimConflictKeepsTransaction},
		{"CascadeConversation", testCascadeConversation},
		{"CascadeService", testCascadeService},
		{"Paging", testPaging},
		{"WithTxRollback", testWithTxRollback},
		{"WithTxNested", testWithTxNested},
		{"LockConversation", testLockConversation},
		{"AccountConfig", testAccountConfig},
		{"ServiceNotifications", testServiceNotifications},
		{"AddressConfigs", testAddressConfigs},
		{"Credentials", testCredentials},
		{"PushBindings", testPushBindings},
		{"RoleUsage", testRoleUsage},
		{"DueConversations", testDueConversations},
		{"WebhookConfigs", testWebhookConfigs},             // webhooks.go
		{"ConversationWebhooks", testConversationWebhooks}, // webhooks.go
		{"WebhookOutbox", testWebhookOutbox},               // webhooks.go
		{"WebhookClaimConcurrent", testWebhookClaimConcurrent},
	}
	cases = append(cases, messageCases...) // conformance_messages.go
	cases = append(cases, userCases...)    // conformance_users.go
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &suite{t: t, ctx: context.Background(), s: e.Open(t), sids: &conv.SequentialSIDs{},
				base: time.Date(2021, 3, 4, 5, 6, 7, 0, time.UTC)}
			tc.f(c)
		})
	}
}

// suite is one conformance subtest's store and fixture makers.
type suite struct {
	t    *testing.T
	ctx  context.Context
	s    store.Store
	sids *conv.SequentialSIDs
	base time.Time
	tick int
}

// now returns a new second-precision time, one second after the previous one.
func (c *suite) now() time.Time {
	c.tick++
	return c.base.Add(time.Duration(c.tick) * time.Second)
}

// write runs fn in a transaction and fails the test on error.
func (c *suite) write(fn func(tx conv.Store) error) {
	c.t.Helper()
	if err := c.s.WithTx(c.ctx, fn); err != nil {
		c.t.Fatalf("WithTx: %v", err)
	}
}

// writeErr runs fn in a transaction and returns its error.
func (c *suite) writeErr(fn func(tx conv.Store) error) error {
	return c.s.WithTx(c.ctx, fn)
}

func (c *suite) account() *conv.Account {
	c.t.Helper()
	now := c.now()
	a := &conv.Account{Sid: c.sids.New(conv.PrefixAccount), AuthToken: "token", FriendlyName: "acct", DateCreated: now, DateUpdated: now}
	c.write(func(tx conv.Store) error { return tx.CreateAccount(c.ctx, a) })
	return a
}

func (c *suite) service(accountSid string) *conv.ChatService {
	c.t.Helper()
	now := c.now()
	v := &conv.ChatService{Sid: c.sids.New(conv.PrefixService), AccountSid: accountSid, FriendlyName: "svc", DateCreated: now, DateUpdated: now}
	c.write(func(tx conv.Store) error { return tx.CreateService(c.ctx, v) })
	if v.Seq <= 0 {
		c.t.Fatalf("CreateService: Seq = %d, want > 0", v.Seq)
	}
	return v
}

func (c *suite) role(svc *conv.ChatService, typ string) *conv.Role {
	c.t.Helper()
	now := c.now()
	r := &conv.Role{Sid: c.sids.New(conv.PrefixRole), AccountSid: svc.AccountSid, ServiceSid: svc.Sid, FriendlyName: "role",
		Type: typ, Permissions: []string{"sendMessage", "leaveConversation"}, DateCreated: now, DateUpdated: now}
	c.write(func(tx conv.Store) error { return tx.CreateRole(c.ctx, r) })
	if r.Seq <= 0 {
		c.t.Fatalf("CreateRole: Seq = %d, want > 0", r.Seq)
	}
	return r
}

func (c *suite) newConversation(svc *conv.ChatService) *conv.Conversation {
	now := c.now()
	return &conv.Conversation{Sid: c.sids.New(conv.PrefixConversation), AccountSid: svc.AccountSid, ServiceSid: svc.Sid,
		Attributes: "{}", State: conv.StateActive, DateCreated: now, DateUpdated: now}
}

func (c *suite) conversation(svc *conv.ChatService) *conv.Conversation {
	c.t.Helper()
	v := c.newConversation(svc)
	c.write(func(tx conv.Store) error { return tx.CreateConversation(c.ctx, v) })
	if v.Seq <= 0 {
		c.t.Fatalf("CreateConversation: Seq = %d, want > 0", v.Seq)
	}
	return v
}

func (c *suite) newParticipant(cv *conv.Conversation) *conv.Participant {
	now := c.now()
	return &conv.Participant{Sid: c.sids.New(conv.PrefixParticipant), AccountSid: cv.AccountSid, ServiceSid: cv.ServiceSid,
		ConversationSid: cv.Sid, Attributes: "{}", DateCreated: now, DateUpdated: now}
}

// chat adds a chat participant with identity id to cv.
func (c *suite) chat(cv *conv.Conversation, id string) *conv.Participant {
	c.t.Helper()
	p := c.newParticipant(cv)
	p.Identity = &id
	c.write(func(tx conv.Store) error { return tx.CreateParticipant(c.ctx, p) })
	return p
}

// sms adds an SMS participant (address, proxy) to cv.
func (c *suite) sms(cv *conv.Conversation, addr, proxy string) *conv.Participant {
	c.t.Helper()
	p := c.newParticipant(cv)
	p.Binding = &conv.Binding{Type: conv.BindingSMS, Address: addr, ProxyAddress: proxy}
	c.write(func(tx conv.Store) error { return tx.CreateParticipant(c.ctx, p) })
	return p
}

// claim records p's binding claim.
func (c *suite) claim(p *conv.Participant) *conv.BindingClaim {
	c.t.Helper()
	cl := &conv.BindingClaim{AccountSid: p.AccountSid, Address: p.Binding.Address, ProxyAddress: p.Binding.ProxyAddress,
		ConversationSid: p.ConversationSid, ParticipantSid: p.Sid}
	c.write(func(tx conv.Store) error { return tx.ClaimBinding(c.ctx, cl) })
	return cl
}

// ---- assertions ----

func (c *suite) equal(what string, got, want any) {
	c.t.Helper()
	if !reflect.DeepEqual(got, want) {
		c.t.Fatalf("%s:\n got  %s\n want %s", what, dump(got), dump(want))
	}
}

// dump formats v, following pointers one level (also inside slices).
func dump(v any) string {
	rv := reflect.ValueOf(v)
	switch {
	case !rv.IsValid():
		return "<nil>"
	case rv.Kind() == reflect.Pointer && !rv.IsNil():
		return "&" + fmt.Sprintf("%+v", rv.Elem().Interface())
	case rv.Kind() == reflect.Slice:
		s := "["
		for i := 0; i < rv.Len(); i++ {
			if i > 0 {
				s += ", "
			}
			s += dump(rv.Index(i).Interface())
		}
		return s + "]"
	}
	return fmt.Sprintf("%+v", v)
}

func (c *suite) noErr(what string, err error) {
	c.t.Helper()
	if err != nil {
		c.t.Fatalf("%s: %v", what, err)
	}
}

func (c *suite) notFound(what string, err error) {
	c.t.Helper()
	if !errors.Is(err, conv.ErrNotFound) {
		c.t.Fatalf("%s: err = %v, want conv.ErrNotFound", what, err)
	}
}

func (c *suite) conflict(what string, err error) {
	c.t.Helper()
	if !errors.Is(err, conv.ErrConflict) {
		c.t.Fatalf("%s: err = %v, want conv.ErrConflict", what, err)
	}
}

func sidsOf[T any](xs []*T, sid func(*T) string) []string {
	out := make([]string, 0, len(xs))
	for _, x := range xs {
		out = append(out, sid(x))
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// ---- accounts and API keys ----

func testDescribe(c *suite) {
	if d := c.s.Describe(); d == "" {
		c.t.Fatal("Describe() is empty")
	}
}

func testAccounts(c *suite) {
	_, err := c.s.GetAccount(c.ctx, c.sids.New(conv.PrefixAccount))
	c.notFound("GetAccount(missing)", err)
	accts, err := c.s.ListAccounts(c.ctx)
	c.noErr("ListAccounts(empty)", err)
	c.equal("ListAccounts(empty)", len(accts), 0)

	a1 := c.account()
	got, err := c.s.GetAccount(c.ctx, a1.Sid)
	c.noErr("GetAccount", err)
	c.equal("GetAccount", got, a1)

	// Created with an earlier date: listed first (oldest first, then by sid).
	early := c.base.Add(-time.Hour)
	a0 := &conv.Account{Sid: c.sids.New(conv.PrefixAccount), AuthToken: "t0", FriendlyName: "early", DateCreated: early, DateUpdated: early}
	a2 := &conv.Account{Sid: c.sids.New(conv.PrefixAccount), AuthToken: "t2", FriendlyName: "tie", DateCreated: early, DateUpdated: early}
	c.write(func(tx conv.Store) error {
		if err := tx.CreateAccount(c.ctx, a2); err != nil {
			return err
		}
		return tx.CreateAccount(c.ctx, a0)
	})
	accts, err = c.s.ListAccounts(c.ctx)
	c.noErr("ListAccounts", err)
	c.equal("ListAccounts", accts, []*conv.Account{a0, a2, a1})

	dup := &conv.Account{Sid: a1.Sid, AuthToken: "other", FriendlyName: "dup", DateCreated: c.now(), DateUpdated: c.now()}
	c.conflict("CreateAccount(duplicate)", c.writeErr(func(tx conv.Store) error { return tx.CreateAccount(c.ctx, dup) }))

	c.write(func(tx conv.Store) error { return tx.UpdateAccountToken(c.ctx, a1.Sid, "new-token") })
	svc := c.service(a1.Sid)
	c.write(func(tx conv.Store) error { return tx.SetAccountDefaultService(c.ctx, a1.Sid, svc.Sid) })
	got, err = c.s.GetAccount(c.ctx, a1.Sid)
	c.noErr("GetAccount", err)
	a1.AuthToken, a1.DefaultServiceSid = "new-token", svc.Sid
	c.equal("GetAccount after updates", got, a1)

	missing := c.sids.New(conv.PrefixAccount)
	c.notFound("UpdateAccountToken(missing)", c.writeErr(func(tx conv.Store) error { return tx.UpdateAccountToken(c.ctx, missing, "x") }))
	c.notFound("SetAccountDefaultService(missing)", c.writeErr(func(tx conv.Store) error {
		return tx.SetAccountDefaultService(c.ctx, missing, svc.Sid)
	}))
}

func testAPIKeys(c *suite) {
	a := c.account()
	_, err := c.s.GetAPIKey(c.ctx, c.sids.New(conv.PrefixAPIKey))
	c.notFound("GetAPIKey(missing)", err)

	k := &conv.APIKey{Sid: c.sids.New(conv.PrefixAPIKey), AccountSid: a.Sid, Secret: "s1", FriendlyName: "key", DateCreated: c.now()}
	c.write(func(tx conv.Store) error { return tx.PutAPIKey(c.ctx, k) })
	got, err := c.s.GetAPIKey(c.ctx, k.Sid)
	c.noErr("GetAPIKey", err)
	c.equal("GetAPIKey", got, k)

	// PutAPIKey replaces the secret (and account) of an existing key.
	b := c.account()
	k2 := *k
	k2.AccountSid, k2.Secret = b.Sid, "s2"
	c.write(func(tx conv.Store) error { return tx.PutAPIKey(c.ctx, &k2) })
	got, err = c.s.GetAPIKey(c.ctx, k.Sid)
	c.noErr("GetAPIKey", err)
	c.equal("GetAPIKey after replace", got, &k2)
}

// ---- services, configuration, roles ----

func testServices(c *suite) {
	a, b := c.account(), c.account()
	s1, s2 := c.service(a.Sid), c.service(a.Sid)
	other := c.service(b.Sid)
	if s2.Seq <= s1.Seq {
		c.t.Fatalf("service Seq not increasing: %d then %d", s1.Seq, s2.Seq)
	}
	got, err := c.s.GetService(c.ctx, a.Sid, s1.Sid)
	c.noErr("GetService", err)
	c.equal("GetService", got, s1)
	_, err = c.s.GetService(c.ctx, b.Sid, s1.Sid)
	c.notFound("GetService(other account)", err)
	_, err = c.s.GetService(c.ctx, a.Sid, c.sids.New(conv.PrefixService))
	c.notFound("GetService(missing)", err)

	list, err := c.s.ListServices(c.ctx, a.Sid, conv.PageQuery{})
	c.noErr("ListServices", err)
	c.equal("ListServices", list, []*conv.ChatService{s1, s2})

	dup := &conv.ChatService{Sid: s1.Sid, AccountSid: a.Sid, FriendlyName: "dup", DateCreated: c.now(), DateUpdated: c.now()}
	c.conflict("CreateService(duplicate sid)", c.writeErr(func(tx conv.Store) error { return tx.CreateService(c.ctx, dup) }))

	c.notFound("DeleteService(other account)", c.writeErr(func(tx conv.Store) error { return tx.DeleteService(c.ctx, b.Sid, s1.Sid) }))
	c.write(func(tx conv.Store) error { return tx.DeleteService(c.ctx, a.Sid, s1.Sid) })
	_, err = c.s.GetService(c.ctx, a.Sid, s1.Sid)
	c.notFound("GetService(deleted)", err)
	c.notFound("DeleteService(deleted)", c.writeErr(func(tx conv.Store) error { return tx.DeleteService(c.ctx, a.Sid, s1.Sid) }))
	list, err = c.s.ListServices(c.ctx, a.Sid, conv.PageQuery{})
	c.noErr("ListServices", err)
	c.equal("ListServices after delete", list, []*conv.ChatService{s2})
	list, err = c.s.ListServices(c.ctx, b.Sid, conv.PageQuery{})
	c.noErr("ListServices(b)", err)
	c.equal("ListServices(b)", list, []*conv.ChatService{other})
}

func testServiceConfig(c *suite) {
	a := c.account()
	svc := c.service(a.Sid)
	_, err := c.s.GetServiceConfig(c.ctx, svc.Sid)
	c.notFound("GetServiceConfig(missing)", err)

	cfg := &conv.ServiceConfig{ServiceSid: svc.Sid, DefaultConversationRoleSid: c.sids.New(conv.PrefixRole),
		DefaultConversationCreatorRoleSid: c.sids.New(conv.PrefixRole), DefaultChatServiceRoleSid: c.sids.New(conv.PrefixRole)}
	c.write(func(tx conv.Store) error { return tx.PutServiceConfig(c.ctx, cfg) })
	got, err := c.s.GetServiceConfig(c.ctx, svc.Sid)
	c.noErr("GetServiceConfig", err)
	c.equal("GetServiceConfig", got, cfg)

	cfg2 := &conv.ServiceConfig{ServiceSid: svc.Sid, DefaultConversationRoleSid: c.sids.New(conv.PrefixRole),
		DefaultConversationCreatorRoleSid: c.sids.New(conv.PrefixRole), DefaultChatServiceRoleSid: c.sids.New(conv.PrefixRole),
		ReachabilityEnabled: true}
	c.write(func(tx conv.Store) error { return tx.PutServiceConfig(c.ctx, cfg2) })
	got, err = c.s.GetServiceConfig(c.ctx, svc.Sid)
	c.noErr("GetServiceConfig", err)
	c.equal("GetServiceConfig after replace", got, cfg2)
}

func testRoles(c *suite) {
	a := c.account()
	svc, svc2 := c.service(a.Sid), c.service(a.Sid)
	r1, r2 := c.role(svc, conv.RoleTypeConversation), c.role(svc, conv.RoleTypeService)
	r3 := c.role(svc2, conv.RoleTypeService)

	got, err := c.s.GetRole(c.ctx, svc.Sid, r1.Sid)
	c.noErr("GetRole", err)
	c.equal("GetRole", got, r1)
	_, err = c.s.GetRole(c.ctx, svc2.Sid, r1.Sid)
	c.notFound("GetRole(other service)", err)
	_, err = c.s.GetRole(c.ctx, svc.Sid, c.sids.New(conv.PrefixRole))
	c.notFound("GetRole(missing)", err)

	list, err := c.s.ListRoles(c.ctx, svc.Sid, conv.PageQuery{})
	c.noErr("ListRoles", err)
	c.equal("ListRoles", list, []*conv.Role{r1, r2})

	dup := *r3
	dup.Seq = 0
	c.conflict("CreateRole(duplicate sid)", c.writeErr(func(tx conv.Store) error { return tx.CreateRole(c.ctx, &dup) }))

	r1.FriendlyName, r1.Permissions, r1.DateUpdated = "renamed", []string{"sendMessage"}, c.now()
	c.write(func(tx conv.Store) error { return tx.UpdateRole(c.ctx, r1) })
	got, err = c.s.GetRole(c.ctx, svc.Sid, r1.Sid)
	c.noErr("GetRole", err)
	c.equal("GetRole after update", got, r1)
	ghost := *r1
	ghost.Sid = c.sids.New(conv.PrefixRole)
	c.notFound("UpdateRole(missing)", c.writeErr(func(tx conv.Store) error { return tx.UpdateRole(c.ctx, &ghost) }))

	c.notFound("DeleteRole(other service)", c.writeErr(func(tx conv.Store) error { return tx.DeleteRole(c.ctx, svc2.Sid, r1.Sid) }))
	c.write(func(tx conv.Store) error { return tx.DeleteRole(c.ctx, svc.Sid, r1.Sid) })
	_, err = c.s.GetRole(c.ctx, svc.Sid, r1.Sid)
	c.notFound("GetRole(deleted)", err)
	c.notFound("DeleteRole(deleted)", c.writeErr(func(tx conv.Store) error { return tx.DeleteRole(c.ctx, svc.Sid, r1.Sid) }))
	list, err = c.s.ListRoles(c.ctx, svc.Sid, conv.PageQuery{})
	c.noErr("ListRoles", err)
	c.equal("ListRoles after delete", list, []*conv.Role{r2})
}

// ---- conversations ----

func testConversations(c *suite) {
	a := c.account()
	svc, svc2 := c.service(a.Sid), c.service(a.Sid)

	// Every field set.
	full := c.newConversation(svc)
	di, dc := c.base.Add(time.Hour), c.base.Add(2*time.Hour)
	full.MessagingServiceSid = "MG00000000000000000000000000000001"
	full.FriendlyName, full.UniqueName = ptr("Friendly ☃"), ptr("unique-1")
	full.Attributes, full.State = `{"a":[1,2]}`, conv.StateInactive
	full.TimerInactive, full.TimerClosed, full.DateInactive, full.DateClosed = "PT1H", "PT2H", &di, &dc
	full.EmailAddress, full.EmailName = "team@example.com", "Team"
	c.write(func(tx conv.Store) error { return tx.CreateConversation(c.ctx, full) })
	// Optional fields absent.
	bare := c.conversation(svc)
	if bare.Seq <= full.Seq {
		c.t.Fatalf("conversation Seq not increasing: %d then %d", full.Seq, bare.Seq)
	}

	for _, want := range []*conv.Conversation{full, bare} {
		got, err := c.s.GetConversation(c.ctx, svc.Sid, want.Sid)
		c.noErr("GetConversation", err)
		c.equal("GetConversation", got, want)
	}
	got, err := c.s.GetConversationByUniqueName(c.ctx, svc.Sid, "unique-1")
	c.noErr("GetConversationByUniqueName", err)
	c.equal("GetConversationByUniqueName", got, full)
	_, err = c.s.GetConversationByUniqueName(c.ctx, svc2.Sid, "unique-1")
	c.notFound("GetConversationByUniqueName(other service)", err)
	_, err = c.s.GetConversationByUniqueName(c.ctx, svc.Sid, "nope")
	c.notFound("GetConversationByUniqueName(missing)", err)
	_, err = c.s.GetConversation(c.ctx, svc2.Sid, full.Sid)
	c.notFound("GetConversation(other service)", err)
	_, err = c.s.GetConversation(c.ctx, svc.Sid, c.sids.New(conv.PrefixConversation))
	c.notFound("GetConversation(missing)", err)

	// Update every mutable field, including clearing the optional ones.
	full.MessagingServiceSid, full.FriendlyName, full.UniqueName = "", nil, nil
	full.Attributes, full.State = "{}", conv.StateClosed
	full.TimerInactive, full.TimerClosed, full.DateInactive, full.DateClosed = "", "", nil, nil
	full.EmailAddress, full.EmailName = "", ""
	full.DateCreated, full.DateUpdated = c.base.Add(-time.Hour), c.now()
	c.write(func(tx conv.Store) error { return tx.UpdateConversation(c.ctx, full) })
	got, err = c.s.GetConversation(c.ctx, svc.Sid, full.Sid)
	c.noErr("GetConversation", err)
	c.equal("GetConversation after update", got, full)
	bare.FriendlyName, bare.UniqueName, bare.DateInactive = ptr("now named"), ptr("unique-2"), &di
	c.write(func(tx conv.Store) error { return tx.UpdateConversation(c.ctx, bare) })
	got, err = c.s.GetConversation(c.ctx, svc.Sid, bare.Sid)
	c.noErr("GetConversation", err)
	c.equal("GetConversation after update", got, bare)

	ghost := *bare
	ghost.Sid, ghost.UniqueName = c.sids.New(conv.PrefixConversation), nil
	c.notFound("UpdateConversation(missing)", c.writeErr(func(tx conv.Store) error { return tx.UpdateConversation(c.ctx, &ghost) }))
	wrongSvc := *bare
	wrongSvc.ServiceSid = svc2.Sid
	c.notFound("UpdateConversation(other service)", c.writeErr(func(tx conv.Store) error { return tx.UpdateConversation(c.ctx, &wrongSvc) }))

	c.notFound("DeleteConversation(other service)", c.writeErr(func(tx conv.Store) error { return tx.DeleteConversation(c.ctx, svc2.Sid, bare.Sid) }))
	c.write(func(tx conv.Store) error { return tx.DeleteConversation(c.ctx, svc.Sid, bare.Sid) })
	_, err = c.s.GetConversation(c.ctx, svc.Sid, bare.Sid)
	c.notFound("GetConversation(deleted)", err)
	c.notFound("DeleteConversation(deleted)", c.writeErr(func(tx conv.Store) error { return tx.DeleteConversation(c.ctx, svc.Sid, bare.Sid) }))
	list, err := c.s.ListConversations(c.ctx, svc.Sid, conv.ConversationFilter{}, conv.PageQuery{})
	c.noErr("ListConversations", err)
	c.equal("ListConversations after delete", list, []*conv.Conversation{full})
}

func testConversationUniqueName(c *suite) {
	a := c.account()
	svc, svc2 := c.service(a.Sid), c.service(a.Sid)
	named := func(s *conv.ChatService, name *string) (*conv.Conversation, error) {
		v := c.newConversation(s)
		v.UniqueName = name
		return v, c.writeErr(func(tx conv.Store) error { return tx.CreateConversation(c.ctx, v) })
	}
	first, err := named(svc, ptr("room"))
	c.noErr("CreateConversation", err)
	_, err = named(svc, ptr("room"))
	c.conflict("CreateConversation(duplicate unique name)", err)
	_, err = named(svc2, ptr("room"))
	c.noErr("CreateConversation(same unique name, other service)", err)
	// Any number of conversations without a unique name.
	for i := 0; i < 3; i++ {
		_, err = named(svc, nil)
		c.noErr("CreateConversation(no unique name)", err)
	}
	other, err := named(svc, ptr("hall"))
	c.noErr("CreateConversation", err)
	other.UniqueName = ptr("room")
	c.conflict("UpdateConversation(unique name taken)", c.writeErr(func(tx conv.Store) error { return tx.UpdateConversation(c.ctx, other) }))
	got, err := c.s.GetConversationByUniqueName(c.ctx, svc.Sid, "room")
	c.noErr("GetConversationByUniqueName", err)
	c.equal("room is still the first conversation", got.Sid, first.Sid)
	// Releasing the name lets another conversation take it.
	first.UniqueName = nil
	c.write(func(tx conv.Store) error { return tx.UpdateConversation(c.ctx, first) })
	c.write(func(tx conv.Store) error { return tx.UpdateConversation(c.ctx, other) })
	got, err = c.s.GetConversationByUniqueName(c.ctx, svc.Sid, "room")
	c.noErr("GetConversationByUniqueName", err)
	c.equal("room moved", got.Sid, other.Sid)
}

func testConversationFilter(c *suite) {
	a := c.account()
	svc, svc2 := c.service(a.Sid), c.service(a.Sid)
	var all []*conv.Conversation
	for i, st := range []string{conv.StateActive, conv.StateInactive, conv.StateActive, conv.StateClosed, conv.StateActive} {
		v := c.newConversation(svc)
		v.State = st
		v.DateCreated = c.base.Add(time.Duration(i) * time.Hour)
		c.write(func(tx conv.Store) error { return tx.CreateConversation(c.ctx, v) })
		all = append(all, v)
	}
	c.conversation(svc2)
	list := func(f conv.ConversationFilter) []string {
		c.t.Helper()
		got, err := c.s.ListConversations(c.ctx, svc.Sid, f, conv.PageQuery{})
		c.noErr("ListConversations", err)
		return sidsOf(got, func(v *conv.Conversation) string { return v.Sid })
	}
	sids := func(idx ...int) []string {
		out := []string{}
		for _, i := range idx {
			out = append(out, all[i].Sid)
		}
		return out
	}
	c.equal("no filter", list(conv.ConversationFilter{}), sids(0, 1, 2, 3, 4))
	c.equal("state active", list(conv.ConversationFilter{State: conv.StateActive}), sids(0, 2, 4))
	c.equal("state closed", list(conv.ConversationFilter{State: conv.StateClosed}), sids(3))
	c.equal("state initializing", list(conv.ConversationFilter{State: conv.StateInitializing}), sids())
	start, end := c.base.Add(time.Hour), c.base.Add(3*time.Hour)
	c.equal("start date (inclusive)", list(conv.ConversationFilter{StartDate: &start}), sids(1, 2, 3, 4))
	c.equal("end date (exclusive)", list(conv.ConversationFilter{EndDate: &end}), sids(0, 1, 2))
	c.equal("both dates", list(conv.ConversationFilter{StartDate: &start, EndDate: &end}), sids(1, 2))
	c.equal("dates and state", list(conv.ConversationFilter{State: conv.StateActive, StartDate: &start, EndDate: &end}), sids(2))
}

// ---- participants and binding claims ----

func testParticipants(c *suite) {
	a := c.account()
	svc := c.service(a.Sid)
	cv, cv2 := c.conversation(svc), c.conversation(svc)

	// A chat participant with every field set.
	alice := c.newParticipant(cv)
	alice.Identity, alice.Attributes, alice.RoleSid = ptr("alice"), `{"x":1}`, c.sids.New(conv.PrefixRole)
	alice.LastReadMessageIndex, alice.LastReadTimestamp = ptr(int64(7)), ptr("2021-03-04T05:06:07Z")
	alice.Binding = &conv.Binding{Type: conv.BindingSMS, ProjectedAddress: "+15550000001"}
	c.write(func(tx conv.Store) error { return tx.CreateParticipant(c.ctx, alice) })
	bob := c.chat(cv, "bob")
	sms := c.sms(cv, "+15551110001", "+15552220001")
	group := c.newParticipant(cv) // Group MMS SMS participant: no proxy address
	group.Binding = &conv.Binding{Type: conv.BindingSMS, Address: "+15551110002"}
	c.write(func(tx conv.Store) error { return tx.CreateParticipant(c.ctx, group) })
	elsewhere := c.sms(cv2, "+15551110001", "+15552220001")
	for _, p := range []*conv.Participant{bob, sms, group, elsewhere} {
		if p.Seq <= alice.Seq {
			c.t.Fatalf("participant Seq not increasing: %d then %d", alice.Seq, p.Seq)
		}
	}

	for _, want := range []*conv.Participant{alice, bob, sms, group} {
		got, err := c.s.GetParticipant(c.ctx, cv.Sid, want.Sid)
		c.noErr("GetParticipant", err)
		c.equal("GetParticipant", got, want)
	}
	_, err := c.s.GetParticipant(c.ctx, cv2.Sid, alice.Sid)
	c.notFound("GetParticipant(other conversation)", err)
	_, err = c.s.GetParticipant(c.ctx, cv.Sid, c.sids.New(conv.PrefixParticipant))
	c.notFound("GetParticipant(missing)", err)

	got, err := c.s.GetParticipantByIdentity(c.ctx, cv.Sid, "alice")
	c.noErr("GetParticipantByIdentity", err)
	c.equal("GetParticipantByIdentity", got, alice)
	_, err = c.s.GetParticipantByIdentity(c.ctx, cv2.Sid, "alice")
	c.notFound("GetParticipantByIdentity(other conversation)", err)
	_, err = c.s.GetParticipantByIdentity(c.ctx, cv.Sid, "carol")
	c.notFound("GetParticipantByIdentity(missing)", err)

	got, err = c.s.FindParticipantByAddress(c.ctx, cv.Sid, "+15551110001", "+15552220001")
	c.noErr("FindParticipantByAddress", err)
	c.equal("FindParticipantByAddress", got, sms)
	got, err = c.s.FindParticipantByAddress(c.ctx, cv.Sid, "+15551110002", "")
	c.noErr("FindParticipantByAddress(no proxy)", err)
	c.equal("FindParticipantByAddress(no proxy)", got, group)
	_, err = c.s.FindParticipantByAddress(c.ctx, cv.Sid, "+15551110001", "")
	c.notFound("FindParticipantByAddress(proxy mismatch)", err)
	_, err = c.s.FindParticipantByAddress(c.ctx, cv.Sid, "+15551110001", "+15552229999")
	c.notFound("FindParticipantByAddress(other proxy)", err)
	_, err = c.s.FindParticipantByAddress(c.ctx, cv.Sid, "", "")
	c.notFound("FindParticipantByAddress(chat participants have no address)", err)

	list, err := c.s.ListParticipants(c.ctx, cv.Sid, conv.PageQuery{})
	c.noErr("ListParticipants", err)
	c.equal("ListParticipants", list, []*conv.Participant{alice, bob, sms, group})

	// Update every mutable field.
	alice.Attributes, alice.RoleSid, alice.Binding = "{}", "", nil
	alice.LastReadMessageIndex, alice.LastReadTimestamp = nil, nil
	alice.DateCreated, alice.DateUpdated = c.base.Add(-time.Hour), c.now()
	c.write(func(tx conv.Store) error { return tx.UpdateParticipant(c.ctx, alice) })
	got, err = c.s.GetParticipant(c.ctx, cv.Sid, alice.Sid)
	c.noErr("GetParticipant", err)
	c.equal("GetParticipant after update", got, alice)
	sms.Binding = &conv.Binding{Type: conv.BindingSMS, Address: "+15551110001", ProxyAddress: "+15552220009"}
	sms.LastReadMessageIndex, sms.LastReadTimestamp = ptr(int64(0)), ptr("2021-01-01T00:00:00Z")
	c.write(func(tx conv.Store) error { return tx.UpdateParticipant(c.ctx, sms) })
	got, err = c.s.FindParticipantByAddress(c.ctx, cv.Sid, "+15551110001", "+15552220009")
	c.noErr("FindParticipantByAddress after update", err)
	c.equal("FindParticipantByAddress after update", got, sms)
	ghost := *bob
	ghost.Sid, ghost.Identity = c.sids.New(conv.PrefixParticipant), ptr("ghost")
	c.notFound("UpdateParticipant(missing)", c.writeErr(func(tx conv.Store) error { return tx.UpdateParticipant(c.ctx, &ghost) }))

	c.notFound("DeleteParticipant(other conversation)", c.writeErr(func(tx conv.Store) error { return tx.DeleteParticipant(c.ctx, cv2.Sid, bob.Sid) }))
	c.write(func(tx conv.Store) error { return tx.DeleteParticipant(c.ctx, cv.Sid, bob.Sid) })
	_, err = c.s.GetParticipant(c.ctx, cv.Sid, bob.Sid)
	c.notFound("GetParticipant(deleted)", err)
	c.notFound("DeleteParticipant(deleted)", c.writeErr(func(tx conv.Store) error { return tx.DeleteParticipant(c.ctx, cv.Sid, bob.Sid) }))
	list, err = c.s.ListParticipants(c.ctx, cv.Sid, conv.PageQuery{})
	c.noErr("ListParticipants", err)
	c.equal("ListParticipants after delete", sidsOf(list, func(p *conv.Participant) string { return p.Sid }),
		[]string{alice.Sid, sms.Sid, group.Sid})
}

func testParticipantIdentityUnique(c *suite) {
	a := c.account()
	svc := c.service(a.Sid)
	cv, cv2 := c.conversation(svc), c.conversation(svc)
	alice := c.chat(cv, "alice")
	dup := c.newParticipant(cv)
	dup.Identity = ptr("alice")
	c.conflict("CreateParticipant(duplicate identity)", c.writeErr(func(tx conv.Store) error { return tx.CreateParticipant(c.ctx, dup) }))
	c.chat(cv2, "alice") // same identity, other conversation
	// Any number of participants without an identity.
	c.sms(cv, "+15551110001", "+15552220001")
	c.sms(cv, "+15551110002", "+15552220001")
	bob := c.chat(cv, "bob")
	bob.Identity = ptr("alice")
	c.conflict("UpdateParticipant(identity taken)", c.writeErr(func(tx conv.Store) error { return tx.UpdateParticipant(c.ctx, bob) }))
	got, err := c.s.GetParticipantByIdentity(c.ctx, cv.Sid, "alice")
	c.noErr("GetParticipantByIdentity", err)
	c.equal("alice is still alice", got.Sid, alice.Sid)
	dupSid := c.newParticipant(cv2)
	dupSid.Sid, dupSid.Identity = alice.Sid, ptr("zed")
	c.conflict("CreateParticipant(duplicate sid)", c.writeErr(func(tx conv.Store) error { return tx.CreateParticipant(c.ctx, dupSid) }))
}

func testCountParticipants(c *suite) {
	a := c.account()
	svc := c.service(a.Sid)
	cv, cv2 := c.conversation(svc), c.conversation(svc)
	count := func(cv *conv.Conversation) conv.ParticipantCounts {
		c.t.Helper()
		n, err := c.s.CountParticipants(c.ctx, cv.Sid)
		c.noErr("CountParticipants", err)
		return n
	}
	projected := func(cv *conv.Conversation) bool {
		c.t.Helper()
		return count(cv).Projected > 0
	}
	c.equal("empty conversation", count(cv), conv.ParticipantCounts{})
	c.equal("empty conversation projected", projected(cv), false)
	c.equal("missing conversation", count(&conv.Conversation{Sid: c.sids.New(conv.PrefixConversation)}), conv.ParticipantCounts{})
	c.chat(cv, "a")
	c.chat(cv, "b")
	c.sms(cv, "+15551110001", "+15552220001")
	c.chat(cv2, "a")
	c.equal("counts", count(cv), conv.ParticipantCounts{Chat: 2, NonChat: 1})
	c.equal("counts other", count(cv2), conv.ParticipantCounts{Chat: 1})
	c.equal("no projected participant", projected(cv), false)

	mms := c.newParticipant(cv)
	mms.Identity, mms.Binding = ptr("mms"), &conv.Binding{Type: conv.BindingSMS, ProjectedAddress: "+15550000001"}
	c.write(func(tx conv.Store) error { return tx.CreateParticipant(c.ctx, mms) })
	c.equal("counts with projected", count(cv), conv.ParticipantCounts{Chat: 3, NonChat: 1, Projected: 1})
	c.equal("projected participant", projected(cv), true)
	c.equal("projected participant other conversation", projected(cv2), false)
	c.write(func(tx conv.Store) error { return tx.DeleteParticipant(c.ctx, cv.Sid, mms.Sid) })
	c.equal("projected participant deleted", projected(cv), false)
	c.equal("counts after delete", count(cv), conv.ParticipantCounts{Chat: 2, NonChat: 1})

	// The counters follow updates that add or remove a projected address.
	d := c.chat(cv, "d")
	d.Binding = &conv.Binding{Type: conv.BindingSMS, ProjectedAddress: "+15550000002"}
	c.write(func(tx conv.Store) error { return tx.UpdateParticipant(c.ctx, d) })
	c.equal("counts after projected address added", count(cv), conv.ParticipantCounts{Chat: 3, NonChat: 1, Projected: 1})
	d.Attributes = `{"x":1}`
	c.write(func(tx conv.Store) error { return tx.UpdateParticipant(c.ctx, d) })
	c.equal("counts after an unrelated update", count(cv), conv.ParticipantCounts{Chat: 3, NonChat: 1, Projected: 1})
	d.Binding = nil
	c.write(func(tx conv.Store) error { return tx.UpdateParticipant(c.ctx, d) })
	c.equal("counts after projected address removed", count(cv), conv.ParticipantCounts{Chat: 3, NonChat: 1})
	// A failed write leaves them as they were.
	dup := c.newParticipant(cv)
	dup.Identity = ptr("a")
	c.conflict("CreateParticipant(duplicate identity)", c.writeErr(func(tx conv.Store) error { return tx.CreateParticipant(c.ctx, dup) }))
	c.equal("counts after a refused create", count(cv), conv.ParticipantCounts{Chat: 3, NonChat: 1})
}

func testBindingClaims(c *suite) {
	a, b := c.account(), c.account()
	svcA, svcB := c.service(a.Sid), c.service(b.Sid)
	cv1, cv2, cvB := c.conversation(svcA), c.conversation(svcA), c.conversation(svcB)
	const addr, proxy = "+15551110001", "+15552220001"

	_, err := c.s.GetBindingClaim(c.ctx, a.Sid, addr, proxy)
	c.notFound("GetBindingClaim(missing)", err)
	p1 := c.sms(cv1, addr, proxy)
	cl := c.claim(p1)
	got, err := c.s.GetBindingClaim(c.ctx, a.Sid, addr, proxy)
	c.noErr("GetBindingClaim", err)
	c.equal("GetBindingClaim", got, cl)

	p2 := c.sms(cv2, addr, proxy)
	dup := &conv.BindingClaim{AccountSid: a.Sid, Address: addr, ProxyAddress: proxy, ConversationSid: cv2.Sid, ParticipantSid: p2.Sid}
	c.conflict("ClaimBinding(duplicate)", c.writeErr(func(tx conv.Store) error { return tx.ClaimBinding(c.ctx, dup) }))
	got, err = c.s.GetBindingClaim(c.ctx, a.Sid, addr, proxy)
	c.noErr("GetBindingClaim", err)
	c.equal("claim kept by the first participant", got, cl)

	// The same pair in another account, and another proxy in the same account, are free.
	c.claim(c.sms(cvB, addr, proxy))
	other := c.claim(c.sms(cv2, addr, "+15552220002"))
	_, err = c.s.GetBindingClaim(c.ctx, a.Sid, addr, "+15559999999")
	c.notFound("GetBindingClaim(other proxy)", err)

	// Releasing by participant frees only that participant's pair.
	c.write(func(tx conv.Store) error { return tx.ReleaseParticipantClaims(c.ctx, p1.Sid) })
	_, err = c.s.GetBindingClaim(c.ctx, a.Sid, addr, proxy)
	c.notFound("GetBindingClaim(released)", err)
	got, err = c.s.GetBindingClaim(c.ctx, a.Sid, addr, "+15552220002")
	c.noErr("GetBindingClaim(other)", err)
	c.equal("other claim kept", got, other)
	c.write(func(tx conv.Store) error { return tx.ReleaseParticipantClaims(c.ctx, p1.Sid) }) // nothing left: no error
	c.write(func(tx conv.Store) error { return tx.ClaimBinding(c.ctx, dup) })                // now free

	// Releasing by conversation frees every pair held in it.
	c.write(func(tx conv.Store) error { return tx.ReleaseConversationClaims(c.ctx, cv2.Sid) })
	for _, px := range []string{proxy, "+15552220002"} {
		_, err = c.s.GetBindingClaim(c.ctx, a.Sid, addr, px)
		c.notFound("GetBindingClaim(conversation released)", err)
	}
	_, err = c.s.GetBindingClaim(c.ctx, b.Sid, addr, proxy)
	c.noErr("GetBindingClaim(other account untouched)", err)
	c.write(func(tx conv.Store) error { return tx.ReleaseConversationClaims(c.ctx, cv2.Sid) })
}

// testClaimConflictKeepsTransaction checks that a refused ClaimBinding leaves the
// transaction usable, as the Service reads the winning claim afterwards to name its
// conversation.
func testClaimConflictKeepsTransaction(c *suite) {
	a := c.account()
	svc := c.service(a.Sid)
	cv1, cv2 := c.conversation(svc), c.conversation(svc)
	cl := c.claim(c.sms(cv1, "+15551110001", "+15552220001"))
	p2 := c.sms(cv2, "+15551110001", "+15552220001")
	var seen *conv.BindingClaim
	c.write(func(tx conv.Store) error {
		err := tx.ClaimBinding(c.ctx, &conv.BindingClaim{AccountSid: a.Sid, Address: "+15551110001", ProxyAddress: "+15552220001",
			ConversationSid: cv2.Sid, ParticipantSid: p2.Sid})
		if !errors.Is(err, conv.ErrConflict) {
			return fmt.Errorf("ClaimBinding(duplicate): err = %v, want conv.ErrConflict", err)
		}
		seen, err = tx.GetBindingClaim(c.ctx, a.Sid, "+15551110001", "+15552220001")
		return err
	})
	c.equal("claim read after the conflict", seen, cl)
}

// ---- cascades ----

func testCascadeConversation(c *suite) {
	a := c.account()
	svc := c.service(a.Sid)
	cv, keep := c.conversation(svc), c.conversation(svc)
	alice := c.chat(cv, "alice")
	sms := c.sms(cv, "+15551110001", "+15552220001")
	c.claim(sms)
	kept := c.chat(keep, "alice")

	c.write(func(tx conv.Store) error { return tx.DeleteConversation(c.ctx, svc.Sid, cv.Sid) })
	for _, p := range []*conv.Participant{alice, sms} {
		_, err := c.s.GetParticipant(c.ctx, cv.Sid, p.Sid)
		c.notFound("GetParticipant(conversation deleted)", err)
	}
	_, err := c.s.GetBindingClaim(c.ctx, a.Sid, "+15551110001", "+15552220001")
	c.notFound("GetBindingClaim(conversation deleted)", err)
	list, err := c.s.ListParticipants(c.ctx, cv.Sid, conv.PageQuery{})
	c.noErr("ListParticipants", err)
	c.equal("participants of deleted conversation", len(list), 0)
	n, err := c.s.CountParticipants(c.ctx, cv.Sid)
	c.noErr("CountParticipants", err)
	c.equal("count of deleted conversation", n, conv.ParticipantCounts{})
	got, err := c.s.GetParticipant(c.ctx, keep.Sid, kept.Sid)
	c.noErr("GetParticipant(other conversation)", err)
	c.equal("other conversation untouched", got, kept)
	// The pair is free again.
	c.claim(c.sms(keep, "+15551110001", "+15552220001"))

	// Deleting a participant frees its claim.
	p := c.sms(keep, "+15551110003", "+15552220001")
	c.claim(p)
	c.write(func(tx conv.Store) error { return tx.DeleteParticipant(c.ctx, keep.Sid, p.Sid) })
	_, err = c.s.GetBindingClaim(c.ctx, a.Sid, "+15551110003", "+15552220001")
	c.notFound("GetBindingClaim(participant deleted)", err)
}

func testCascadeService(c *suite) {
	a := c.account()
	svc, keep := c.service(a.Sid), c.service(a.Sid)
	role := c.role(svc, conv.RoleTypeConversation)
	c.write(func(tx conv.Store) error {
		return tx.PutServiceConfig(c.ctx, &conv.ServiceConfig{ServiceSid: svc.Sid, DefaultConversationRoleSid: role.Sid,
			DefaultConversationCreatorRoleSid: role.Sid, DefaultChatServiceRoleSid: role.Sid})
	})
	cv := c.conversation(svc)
	alice := c.chat(cv, "alice")
	c.claim(c.sms(cv, "+15551110001", "+15552220001"))
	keptConv := c.conversation(keep)
	keptRole := c.role(keep, conv.RoleTypeService)

	c.write(func(tx conv.Store) error { return tx.DeleteService(c.ctx, a.Sid, svc.Sid) })
	_, err := c.s.GetService(c.ctx, a.Sid, svc.Sid)
	c.notFound("GetService(deleted)", err)
	_, err = c.s.GetServiceConfig(c.ctx, svc.Sid)
	c.notFound("GetServiceConfig(service deleted)", err)
	_, err = c.s.GetRole(c.ctx, svc.Sid, role.Sid)
	c.notFound("GetRole(service deleted)", err)
	_, err = c.s.GetConversation(c.ctx, svc.Sid, cv.Sid)
	c.notFound("GetConversation(service deleted)", err)
	_, err = c.s.GetParticipant(c.ctx, cv.Sid, alice.Sid)
	c.notFound("GetParticipant(service deleted)", err)
	_, err = c.s.GetBindingClaim(c.ctx, a.Sid, "+15551110001", "+15552220001")
	c.notFound("GetBindingClaim(service deleted)", err)
	convs, err := c.s.ListConversations(c.ctx, svc.Sid, conv.ConversationFilter{}, conv.PageQuery{})
	c.noErr("ListConversations", err)
	c.equal("conversations of deleted service", len(convs), 0)

	got, err := c.s.GetConversation(c.ctx, keep.Sid, keptConv.Sid)
	c.noErr("GetConversation(other service)", err)
	c.equal("other service's conversation", got, keptConv)
	gotRole, err := c.s.GetRole(c.ctx, keep.Sid, keptRole.Sid)
	c.noErr("GetRole(other service)", err)
	c.equal("other service's role", gotRole, keptRole)
}

// ---- paging ----

// checkPaging lists with several page queries and compares with want, the rows in creation
// order.
func checkPaging[T any](c *suite, what string, want []*T, seq func(*T) int64, sid func(*T) string,
	list func(q conv.PageQuery) ([]*T, error)) {
	c.t.Helper()
	n := len(want)
	if n != 7 {
		c.t.Fatalf("checkPaging needs 7 rows, got %d", n)
	}
	for i := 1; i < n; i++ {
		if seq(want[i]) <= seq(want[i-1]) {
			c.t.Fatalf("%s: Seq not increasing in creation order: %d then %d", what, seq(want[i-1]), seq(want[i]))
		}
	}
	sids := func(xs []*T) []string { return sidsOf(xs, sid) }
	cases := []struct {
		name string
		q    conv.PageQuery
		want []*T
	}{
		{"default size", conv.PageQuery{}, want},
		{"first page", conv.PageQuery{Size: 3}, want[0:3]},
		{"offset 3", conv.PageQuery{Size: 3, Offset: 3}, want[3:6]},
		{"offset 6", conv.PageQuery{Size: 3, Offset: 6}, want[6:7]},
		{"offset past end", conv.PageQuery{Size: 3, Offset: 7}, want[7:]},
		{"after first page", conv.PageQuery{Size: 3, AfterSeq: seq(want[2])}, want[3:6]},
		{"after second page", conv.PageQuery{Size: 3, AfterSeq: seq(want[5])}, want[6:7]},
		{"after last", conv.PageQuery{Size: 3, AfterSeq: seq(want[6])}, want[7:]},
		{"before last", conv.PageQuery{Size: 3, BeforeSeq: seq(want[6])}, want[3:6]},
		{"before 5th", conv.PageQuery{Size: 3, BeforeSeq: seq(want[4])}, want[1:4]},
		{"before 2nd", conv.PageQuery{Size: 3, BeforeSeq: seq(want[1])}, want[0:1]},
		{"before first", conv.PageQuery{Size: 3, BeforeSeq: seq(want[0])}, want[0:0]},
		{"cursor wins over offset", conv.PageQuery{Size: 2, AfterSeq: seq(want[0]), Offset: 4}, want[1:3]},
	}
	for _, tc := range cases {
		got, err := list(tc.q)
		c.noErr(what+" "+tc.name, err)
		c.equal(fmt.Sprintf("%s %s %+v", what, tc.name, tc.q), sids(got), sids(tc.want))
	}
	// Walking forward and backward page by page visits every row once, in order.
	var fwd []*T
	for q := (conv.PageQuery{Size: 2}); ; {
		page, err := list(q)
		c.noErr(what+" walk", err)
		fwd = append(fwd, page...)
		if len(page) < q.Size {
			break
		}
		q.AfterSeq = seq(page[len(page)-1])
	}
	c.equal(what+" forward walk", sids(fwd), sids(want))
	var back []*T
	for q := (conv.PageQuery{Size: 2, BeforeSeq: seq(want[n-1]) + 1}); ; {
		page, err := list(q)
		c.noErr(what+" walk", err)
		back = append(page, back...)
		if len(page) < q.Size {
			break
		}
		q.BeforeSeq = seq(page[0])
	}
	c.equal(what+" backward walk", sids(back), sids(want))
}

func testPaging(c *suite) {
	a, b := c.account(), c.account()
	var svcs []*conv.ChatService
	for i := 0; i < 7; i++ {
		svcs = append(svcs, c.service(a.Sid))
		c.service(b.Sid) // interleaved rows of another account
	}
	checkPaging(c, "services", svcs, func(v *conv.ChatService) int64 { return v.Seq }, func(v *conv.ChatService) string { return v.Sid },
		func(q conv.PageQuery) ([]*conv.ChatService, error) { return c.s.ListServices(c.ctx, a.Sid, q) })

	svc, other := svcs[0], svcs[1]
	var roles []*conv.Role
	var convs []*conv.Conversation
	for i := 0; i < 7; i++ {
		roles = append(roles, c.role(svc, conv.RoleTypeConversation))
		c.role(other, conv.RoleTypeConversation)
		convs = append(convs, c.conversation(svc))
		c.conversation(other)
	}
	checkPaging(c, "roles", roles, func(v *conv.Role) int64 { return v.Seq }, func(v *conv.Role) string { return v.Sid },
		func(q conv.PageQuery) ([]*conv.Role, error) { return c.s.ListRoles(c.ctx, svc.Sid, q) })
	checkPaging(c, "conversations", convs, func(v *conv.Conversation) int64 { return v.Seq }, func(v *conv.Conversation) string { return v.Sid },
		func(q conv.PageQuery) ([]*conv.Conversation, error) {
			return c.s.ListConversations(c.ctx, svc.Sid, conv.ConversationFilter{}, q)
		})
	// Paging applies after the filter.
	var active []*conv.Conversation
	for i := 0; i < 7; i++ {
		v := c.newConversation(svc)
		v.State = conv.StateInactive
		c.write(func(tx conv.Store) error { return tx.CreateConversation(c.ctx, v) })
		active = append(active, v)
		c.conversation(svc)
	}
	checkPaging(c, "inactive conversations", active, func(v *conv.Conversation) int64 { return v.Seq }, func(v *conv.Conversation) string { return v.Sid },
		func(q conv.PageQuery) ([]*conv.Conversation, error) {
			return c.s.ListConversations(c.ctx, svc.Sid, conv.ConversationFilter{State: conv.StateInactive}, q)
		})

	cv, cv2 := convs[0], convs[1]
	var parts []*conv.Participant
	for i := 0; i < 7; i++ {
		parts = append(parts, c.chat(cv, fmt.Sprintf("user-%d", i)))
		c.chat(cv2, fmt.Sprintf("user-%d", i))
	}
	checkPaging(c, "participants", parts, func(v *conv.Participant) int64 { return v.Seq }, func(v *conv.Participant) string { return v.Sid },
		func(q conv.PageQuery) ([]*conv.Participant, error) { return c.s.ListParticipants(c.ctx, cv.Sid, q) })
}

// ---- transactions ----

func testWithTxRollback(c *suite) {
	a := c.account()
	svc := c.service(a.Sid)
	cv := c.conversation(svc)
	boom := errors.New("boom")

	var na *conv.Account
	var ns *conv.ChatService
	var nc *conv.Conversation
	var np *conv.Participant
	err := c.writeErr(func(tx conv.Store) error {
		now := c.now()
		na = &conv.Account{Sid: c.sids.New(conv.PrefixAccount), AuthToken: "t", FriendlyName: "n", DateCreated: now, DateUpdated: now}
		ns = &conv.ChatService{Sid: c.sids.New(conv.PrefixService), AccountSid: na.Sid, FriendlyName: "n", DateCreated: now, DateUpdated: now}
		nc = c.newConversation(ns)
		np = c.newParticipant(cv)
		np.Binding = &conv.Binding{Type: conv.BindingSMS, Address: "+15551110001", ProxyAddress: "+15552220001"}
		steps := []func() error{
			func() error { return tx.CreateAccount(c.ctx, na) },
			func() error { return tx.CreateService(c.ctx, ns) },
			func() error { return tx.CreateConversation(c.ctx, nc) },
			func() error { return tx.CreateParticipant(c.ctx, np) },
			func() error {
				return tx.ClaimBinding(c.ctx, &conv.BindingClaim{AccountSid: a.Sid, Address: "+15551110001", ProxyAddress: "+15552220001",
					ConversationSid: cv.Sid, ParticipantSid: np.Sid})
			},
			func() error { return tx.UpdateAccountToken(c.ctx, a.Sid, "changed") },
			func() error { return tx.DeleteConversation(c.ctx, svc.Sid, cv.Sid) },
		}
		for _, step := range steps {
			if err := step(); err != nil {
				return err
			}
		}
		// The transaction sees its own writes.
		if _, err := tx.GetConversation(c.ctx, ns.Sid, nc.Sid); err != nil {
			return fmt.Errorf("read own write: %w", err)
		}
		if _, err := tx.GetConversation(c.ctx, svc.Sid, cv.Sid); !errors.Is(err, conv.ErrNotFound) {
			return fmt.Errorf("read own delete: err = %v, want ErrNotFound", err)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		c.t.Fatalf("WithTx: err = %v, want the function's error", err)
	}
	_, err = c.s.GetAccount(c.ctx, na.Sid)
	c.notFound("GetAccount(rolled back)", err)
	_, err = c.s.GetService(c.ctx, na.Sid, ns.Sid)
	c.notFound("GetService(rolled back)", err)
	_, err = c.s.GetConversation(c.ctx, ns.Sid, nc.Sid)
	c.notFound("GetConversation(rolled back)", err)
	_, err = c.s.GetParticipant(c.ctx, cv.Sid, np.Sid)
	c.notFound("GetParticipant(rolled back)", err)
	_, err = c.s.GetBindingClaim(c.ctx, a.Sid, "+15551110001", "+15552220001")
	c.notFound("GetBindingClaim(rolled back)", err)
	got, err := c.s.GetAccount(c.ctx, a.Sid)
	c.noErr("GetAccount", err)
	c.equal("token update rolled back", got.AuthToken, a.AuthToken)
	gotConv, err := c.s.GetConversation(c.ctx, svc.Sid, cv.Sid)
	c.noErr("GetConversation(delete rolled back)", err)
	c.equal("delete rolled back", gotConv, cv)

	// A store error rolls back the earlier writes of the transaction too.
	first := c.newConversation(svc)
	first.UniqueName = ptr("taken")
	c.write(func(tx conv.Store) error { return tx.CreateConversation(c.ctx, first) })
	fresh := c.newConversation(svc)
	err = c.writeErr(func(tx conv.Store) error {
		if err := tx.CreateConversation(c.ctx, fresh); err != nil {
			return err
		}
		dup := c.newConversation(svc)
		dup.UniqueName = ptr("taken")
		return tx.CreateConversation(c.ctx, dup)
	})
	c.conflict("WithTx(duplicate unique name)", err)
	_, err = c.s.GetConversation(c.ctx, svc.Sid, fresh.Sid)
	c.notFound("GetConversation(rolled back by conflict)", err)
}

func testWithTxNested(c *suite) {
	a := c.account()
	svc := c.service(a.Sid)
	boom := errors.New("boom")
	inner := c.newConversation(svc)
	err := c.writeErr(func(tx conv.Store) error {
		if err := tx.WithTx(c.ctx, func(tx2 conv.Store) error { return tx2.CreateConversation(c.ctx, inner) }); err != nil {
			return err
		}
		if _, err := tx.GetConversation(c.ctx, svc.Sid, inner.Sid); err != nil {
			return fmt.Errorf("outer transaction does not see the inner write: %w", err)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		c.t.Fatalf("WithTx: err = %v, want the function's error", err)
	}
	_, err = c.s.GetConversation(c.ctx, svc.Sid, inner.Sid)
	c.notFound("nested write rolled back with the outer transaction", err)

	c.write(func(tx conv.Store) error {
		return tx.WithTx(c.ctx, func(tx2 conv.Store) error { return tx2.CreateConversation(c.ctx, inner) })
	})
	got, err := c.s.GetConversation(c.ctx, svc.Sid, inner.Sid)
	c.noErr("GetConversation(nested commit)", err)
	c.equal("nested commit", got, inner)
}

func testLockConversation(c *suite) {
	a := c.account()
	svc := c.service(a.Sid)
	cv := c.conversation(svc)
	c.write(func(tx conv.Store) error {
		if err := tx.LockConversation(c.ctx, cv.Sid); err != nil {
			return fmt.Errorf("LockConversation: %w", err)
		}
		// Locking twice in one transaction is fine, and the locked row can be written.
		if err := tx.LockConversation(c.ctx, cv.Sid); err != nil {
			return fmt.Errorf("LockConversation again: %w", err)
		}
		cv.Attributes, cv.DateUpdated = `{"locked":true}`, c.now()
		if err := tx.UpdateConversation(c.ctx, cv); err != nil {
			return err
		}
		p := c.newParticipant(cv)
		p.Identity = ptr("locker")
		return tx.CreateParticipant(c.ctx, p)
	})
	got, err := c.s.GetConversation(c.ctx, svc.Sid, cv.Sid)
	c.noErr("GetConversation", err)
	c.equal("conversation written under lock", got, cv)
	n, err := c.s.CountParticipants(c.ctx, cv.Sid)
	c.noErr("CountParticipants", err)
	c.equal("participant added under lock", n, conv.ParticipantCounts{Chat: 1})
}
