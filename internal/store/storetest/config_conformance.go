package storetest

import (
	"time"

	"github.com/parley-dev/parley/internal/conv"
)

// Conformance cases of the configuration store (conv.ConfigurationStore), listed in
// Conformance.

func testAccountConfig(c *suite) {
	a, b := c.account(), c.account()
	_, err := c.s.GetAccountConfig(c.ctx, a.Sid)
	c.notFound("GetAccountConfig(never set)", err)

	cfg := &conv.AccountConfig{AccountSid: a.Sid, DefaultMessagingServiceSid: "MG" + "0123456789abcdef0123456789abcdef", DefaultInactiveTimer: "PT5M"}
	c.write(func(tx conv.Store) error { return tx.PutAccountConfig(c.ctx, cfg) })
	got, err := c.s.GetAccountConfig(c.ctx, a.Sid)
	c.noErr("GetAccountConfig", err)
	c.equal("GetAccountConfig", got, cfg)
	_, err = c.s.GetAccountConfig(c.ctx, b.Sid)
	c.notFound("GetAccountConfig(other account)", err)

	cfg2 := &conv.AccountConfig{AccountSid: a.Sid, DefaultClosedTimer: "PT1H"}
	c.write(func(tx conv.Store) error { return tx.PutAccountConfig(c.ctx, cfg2) })
	got, err = c.s.GetAccountConfig(c.ctx, a.Sid)
	c.noErr("GetAccountConfig", err)
	c.equal("GetAccountConfig after replace", got, cfg2)
}

func testServiceNotifications(c *suite) {
	a := c.account()
	svc := c.service(a.Sid)
	_, err := c.s.GetServiceNotifications(c.ctx, svc.Sid)
	c.notFound("GetServiceNotifications(never set)", err)

	n := &conv.ServiceNotifications{ServiceSid: svc.Sid, LogEnabled: true,
		NewMessage:              conv.NotificationSetting{Enabled: true, Template: ptr("${MESSAGE}"), Sound: ptr("ring")},
		NewMessageBadgeCount:    true,
		NewMessageWithMedia:     conv.NotificationSetting{Enabled: true, Template: ptr("${MEDIA}")},
		AddedToConversation:     conv.NotificationSetting{Template: ptr("added")},
		RemovedFromConversation: conv.NotificationSetting{Enabled: true, Sound: ptr("bell")}}
	c.write(func(tx conv.Store) error { return tx.PutServiceNotifications(c.ctx, n) })
	got, err := c.s.GetServiceNotifications(c.ctx, svc.Sid)
	c.noErr("GetServiceNotifications", err)
	c.equal("GetServiceNotifications", got, n)

	n2 := &conv.ServiceNotifications{ServiceSid: svc.Sid, AddedToConversation: conv.NotificationSetting{Enabled: true}}
	c.write(func(tx conv.Store) error { return tx.PutServiceNotifications(c.ctx, n2) })
	got, err = c.s.GetServiceNotifications(c.ctx, svc.Sid)
	c.noErr("GetServiceNotifications", err)
	c.equal("GetServiceNotifications after replace", got, n2)

	c.write(func(tx conv.Store) error { return tx.DeleteService(c.ctx, a.Sid, svc.Sid) })
	_, err = c.s.GetServiceNotifications(c.ctx, svc.Sid)
	c.notFound("GetServiceNotifications(service deleted)", err)
}

func (c *suite) addressConfig(accountSid, typ, addr string) *conv.AddressConfig {
	c.t.Helper()
	now := c.now()
	a := &conv.AddressConfig{Sid: c.sids.New(conv.PrefixAddressConfig), AccountSid: accountSid, Type: typ, Address: addr,
		AutoCreation: conv.AutoCreation{Type: conv.AutoCreationDefault}, DateCreated: now, DateUpdated: now}
	c.write(func(tx conv.Store) error { return tx.CreateAddressConfig(c.ctx, a) })
	if a.Seq <= 0 {
		c.t.Fatalf("CreateAddressConfig: Seq = %d, want > 0", a.Seq)
	}
	return a
}

func testAddressConfigs(c *suite) {
	acct, other := c.account(), c.account()
	a1 := c.addressConfig(acct.Sid, "sms", "+15550001111")
	a2 := c.addressConfig(acct.Sid, "whatsapp", "+15550001111") // same address, other type
	a3 := c.addressConfig(other.Sid, "sms", "+15550001111")     // other account

	dup := *a1
	dup.Sid, dup.Seq = c.sids.New(conv.PrefixAddressConfig), 0
	c.conflict("CreateAddressConfig(same type and address)", c.writeErr(func(tx conv.Store) error { return tx.CreateAddressConfig(c.ctx, &dup) }))

	got, err := c.s.GetAddressConfig(c.ctx, acct.Sid, a1.Sid)
	c.noErr("GetAddressConfig", err)
	c.equal("GetAddressConfig", got, a1)
	_, err = c.s.GetAddressConfig(c.ctx, other.Sid, a1.Sid)
	c.notFound("GetAddressConfig(other account)", err)

	found, err := c.s.FindAddressConfig(c.ctx, acct.Sid, "+15550001111")
	c.noErr("FindAddressConfig", err)
	c.equal("FindAddressConfig (oldest)", found.Sid, a1.Sid)
	_, err = c.s.FindAddressConfig(c.ctx, acct.Sid, "+15550009999")
	c.notFound("FindAddressConfig(unknown)", err)

	list, err := c.s.ListAddressConfigs(c.ctx, acct.Sid, "", conv.PageQuery{})
	c.noErr("ListAddressConfigs", err)
	c.equal("ListAddressConfigs", sidsOf(list, func(x *conv.AddressConfig) string { return x.Sid }), []string{a1.Sid, a2.Sid})
	list, err = c.s.ListAddressConfigs(c.ctx, acct.Sid, "whatsapp", conv.PageQuery{})
	c.noErr("ListAddressConfigs(whatsapp)", err)
	c.equal("ListAddressConfigs(whatsapp)", sidsOf(list, func(x *conv.AddressConfig) string { return x.Sid }), []string{a2.Sid})

	retry := int64(2)
	a1.FriendlyName, a1.AddressCountry = ptr("front desk"), ptr("US")
	a1.AutoCreation = conv.AutoCreation{Enabled: true, Type: conv.AutoCreationWebhook, ServiceSid: c.sids.New(conv.PrefixService),
		WebhookURL: "https://example.com/hook", WebhookMethod: "POST", WebhookFilters: []string{"onMessageAdded", "onParticipantAdded"},
		StudioFlowSid: "FW0123456789abcdef0123456789abcdef", StudioRetryCount: &retry}
	a1.DateUpdated = c.now()
	c.write(func(tx conv.Store) error { return tx.UpdateAddressConfig(c.ctx, a1) })
	got, err = c.s.GetAddressConfig(c.ctx, acct.Sid, a1.Sid)
	c.noErr("GetAddressConfig", err)
	c.equal("GetAddressConfig after update", got, a1)

	ghost := *a1
	ghost.Sid = c.sids.New(conv.PrefixAddressConfig)
	c.notFound("UpdateAddressConfig(missing)", c.writeErr(func(tx conv.Store) error { return tx.UpdateAddressConfig(c.ctx, &ghost) }))
	c.notFound("DeleteAddressConfig(other account)", c.writeErr(func(tx conv.Store) error { return tx.DeleteAddressConfig(c.ctx, other.Sid, a1.Sid) }))
	c.write(func(tx conv.Store) error { return tx.DeleteAddressConfig(c.ctx, acct.Sid, a1.Sid) })
	_, err = c.s.GetAddressConfig(c.ctx, acct.Sid, a1.Sid)
	c.notFound("GetAddressConfig(deleted)", err)
	_, err = c.s.GetAddressConfig(c.ctx, other.Sid, a3.Sid)
	c.noErr("GetAddressConfig(other account's)", err)
}

func testCredentials(c *suite) {
	acct, other := c.account(), c.account()
	now := c.now()
	cr := &conv.Credential{Sid: c.sids.New(conv.PrefixCredential), AccountSid: acct.Sid, FriendlyName: ptr("ios"), Type: conv.CredentialAPN,
		Sandbox: true, Certificate: "-----BEGIN CERTIFICATE-----", PrivateKey: "-----BEGIN RSA PRIVATE KEY-----", DateCreated: now, DateUpdated: now}
	c.write(func(tx conv.Store) error { return tx.CreateCredential(c.ctx, cr) })
	if cr.Seq <= 0 {
		c.t.Fatalf("CreateCredential: Seq = %d, want > 0", cr.Seq)
	}
	cr2 := &conv.Credential{Sid: c.sids.New(conv.PrefixCredential), AccountSid: acct.Sid, Type: conv.CredentialFCM, Secret: "server-key",
		DateCreated: now, DateUpdated: now}
	c.write(func(tx conv.Store) error { return tx.CreateCredential(c.ctx, cr2) })

	got, err := c.s.GetCredential(c.ctx, acct.Sid, cr.Sid)
	c.noErr("GetCredential", err)
	c.equal("GetCredential", got, cr)
	_, err = c.s.GetCredential(c.ctx, other.Sid, cr.Sid)
	c.notFound("GetCredential(other account)", err)
	list, err := c.s.ListCredentials(c.ctx, acct.Sid, conv.PageQuery{})
	c.noErr("ListCredentials", err)
	c.equal("ListCredentials", list, []*conv.Credential{cr, cr2})
	list, err = c.s.ListCredentials(c.ctx, other.Sid, conv.PageQuery{})
	c.noErr("ListCredentials(other account)", err)
	c.equal("ListCredentials(other account)", len(list), 0)

	cr.FriendlyName, cr.Type, cr.Sandbox, cr.APIKey, cr.DateUpdated = nil, conv.CredentialGCM, false, "gcm-key", c.now()
	c.write(func(tx conv.Store) error { return tx.UpdateCredential(c.ctx, cr) })
	got, err = c.s.GetCredential(c.ctx, acct.Sid, cr.Sid)
	c.noErr("GetCredential", err)
	c.equal("GetCredential after update", got, cr)

	c.notFound("DeleteCredential(other account)", c.writeErr(func(tx conv.Store) error { return tx.DeleteCredential(c.ctx, other.Sid, cr.Sid) }))
	c.write(func(tx conv.Store) error { return tx.DeleteCredential(c.ctx, acct.Sid, cr.Sid) })
	_, err = c.s.GetCredential(c.ctx, acct.Sid, cr.Sid)
	c.notFound("GetCredential(deleted)", err)
}

func testPushBindings(c *suite) {
	a := c.account()
	svc, svc2 := c.service(a.Sid), c.service(a.Sid)
	mk := func(s *conv.ChatService, typ, identity string) *conv.PushBinding {
		now := c.now()
		b := &conv.PushBinding{Sid: c.sids.New(conv.PrefixPushBinding), AccountSid: a.Sid, ServiceSid: s.Sid, Endpoint: identity + "-endpoint",
			Identity: identity, BindingType: typ, MessageTypes: []string{"new_message", "added_to_conversation"}, DateCreated: now, DateUpdated: now}
		if typ == "fcm" {
			b.CredentialSid = c.sids.New(conv.PrefixCredential)
		}
		c.write(func(tx conv.Store) error { return tx.CreatePushBinding(c.ctx, b) })
		if b.Seq <= 0 {
			c.t.Fatalf("CreatePushBinding: Seq = %d, want > 0", b.Seq)
		}
		return b
	}
	b1, b2, b3 := mk(svc, "fcm", "alice"), mk(svc, "apn", "bob"), mk(svc, "fcm", "bob")
	b4 := mk(svc2, "fcm", "alice")

	got, err := c.s.GetPushBinding(c.ctx, svc.Sid, b1.Sid)
	c.noErr("GetPushBinding", err)
	c.equal("GetPushBinding", got, b1)
	_, err = c.s.GetPushBinding(c.ctx, svc2.Sid, b1.Sid)
	c.notFound("GetPushBinding(other service)", err)

	sids := func(f conv.PushBindingFilter) []string {
		c.t.Helper()
		list, err := c.s.ListPushBindings(c.ctx, svc.Sid, f, conv.PageQuery{})
		c.noErr("ListPushBindings", err)
		return sidsOf(list, func(x *conv.PushBinding) string { return x.Sid })
	}
	c.equal("ListPushBindings()", sids(conv.PushBindingFilter{}), []string{b1.Sid, b2.Sid, b3.Sid})
	c.equal("ListPushBindings(fcm)", sids(conv.PushBindingFilter{BindingTypes: []string{"fcm"}}), []string{b1.Sid, b3.Sid})
	c.equal("ListPushBindings(bob)", sids(conv.PushBindingFilter{Identities: []string{"bob"}}), []string{b2.Sid, b3.Sid})
	c.equal("ListPushBindings(fcm, bob)", sids(conv.PushBindingFilter{BindingTypes: []string{"fcm"}, Identities: []string{"bob"}}), []string{b3.Sid})
	c.equal("ListPushBindings(apn|gcm, alice|bob)", sids(conv.PushBindingFilter{BindingTypes: []string{"apn", "gcm"}, Identities: []string{"alice", "bob"}}), []string{b2.Sid})

	c.notFound("DeletePushBinding(other service)", c.writeErr(func(tx conv.Store) error { return tx.DeletePushBinding(c.ctx, svc2.Sid, b1.Sid) }))
	c.write(func(tx conv.Store) error { return tx.DeletePushBinding(c.ctx, svc.Sid, b1.Sid) })
	_, err = c.s.GetPushBinding(c.ctx, svc.Sid, b1.Sid)
	c.notFound("GetPushBinding(deleted)", err)

	c.write(func(tx conv.Store) error { return tx.DeleteService(c.ctx, a.Sid, svc2.Sid) })
	_, err = c.s.GetPushBinding(c.ctx, svc2.Sid, b4.Sid)
	c.notFound("GetPushBinding(service deleted)", err)
}

func testRoleUsage(c *suite) {
	a := c.account()
	svc := c.service(a.Sid)
	r, free := c.role(svc, conv.RoleTypeConversation), c.role(svc, conv.RoleTypeConversation)
	builtin := &conv.Role{Sid: c.sids.New(conv.PrefixRole), AccountSid: a.Sid, ServiceSid: svc.Sid, FriendlyName: "channel user",
		Type: conv.RoleTypeConversation, Permissions: []string{"sendMessage"}, Builtin: true, DateCreated: c.now(), DateUpdated: c.now()}
	c.write(func(tx conv.Store) error { return tx.CreateRole(c.ctx, builtin) })
	got, err := c.s.GetRole(c.ctx, svc.Sid, builtin.Sid)
	c.noErr("GetRole(builtin)", err)
	c.equal("GetRole(builtin).Builtin", got.Builtin, true)
	got, err = c.s.GetRole(c.ctx, svc.Sid, r.Sid)
	c.noErr("GetRole", err)
	c.equal("GetRole.Builtin", got.Builtin, false)

	cv := c.conversation(svc)
	p := c.newParticipant(cv)
	p.Identity, p.RoleSid = ptr("alice"), r.Sid
	c.write(func(tx conv.Store) error { return tx.CreateParticipant(c.ctx, p) })
	used, err := c.s.RoleAssigned(c.ctx, r.Sid)
	c.noErr("RoleAssigned", err)
	c.equal("RoleAssigned(held)", used, true)
	used, err = c.s.RoleAssigned(c.ctx, free.Sid)
	c.noErr("RoleAssigned", err)
	c.equal("RoleAssigned(free)", used, false)

	c.write(func(tx conv.Store) error {
		if err := tx.ShareLockRole(c.ctx, r.Sid); err != nil {
			return err
		}
		return tx.LockRole(c.ctx, free.Sid)
	})
	c.write(func(tx conv.Store) error { return tx.DeleteParticipant(c.ctx, cv.Sid, p.Sid) })
	used, err = c.s.RoleAssigned(c.ctx, r.Sid)
	c.noErr("RoleAssigned", err)
	c.equal("RoleAssigned(after the participant left)", used, false)
}

func testDueConversations(c *suite) {
	a := c.account()
	svc, svc2 := c.service(a.Sid), c.service(a.Sid)
	at := func(d time.Duration) *time.Time { t := c.base.Add(d); return &t }
	mk := func(s *conv.ChatService, inactive, closed *time.Time) *conv.Conversation {
		v := c.newConversation(s)
		v.DateInactive, v.DateClosed = inactive, closed
		c.write(func(tx conv.Store) error { return tx.CreateConversation(c.ctx, v) })
		return v
	}
	mk(svc, nil, nil) // no timer: never due
	inact := mk(svc, at(time.Hour), nil)
	closed := mk(svc, nil, at(2*time.Hour))
	both := mk(svc, at(3*time.Hour), at(4*time.Hour))
	other := mk(svc2, at(time.Hour), nil)

	due := func(serviceSid string, now time.Duration, limit int) []string {
		c.t.Helper()
		list, err := c.s.DueConversations(c.ctx, serviceSid, c.base.Add(now), limit)
		c.noErr("DueConversations", err)
		return sidsOf(list, func(x *conv.Conversation) string { return x.Sid })
	}
	c.equal("DueConversations(before any)", due("", 30*time.Minute, 10), []string{})
	c.equal("DueConversations(at the inactive date)", due("", time.Hour, 10), []string{inact.Sid, other.Sid})
	c.equal("DueConversations(service)", due(svc.Sid, time.Hour, 10), []string{inact.Sid})
	c.equal("DueConversations(later)", due("", 3*time.Hour, 10), []string{inact.Sid, closed.Sid, both.Sid, other.Sid})
	c.equal("DueConversations(limit)", due("", 5*time.Hour, 2), []string{inact.Sid, closed.Sid})

	found, err := c.s.FindConversation(c.ctx, other.Sid)
	c.noErr("FindConversation", err)
	c.equal("FindConversation", found, other)
	_, err = c.s.FindConversation(c.ctx, c.sids.New(conv.PrefixConversation))
	c.notFound("FindConversation(missing)", err)
}
