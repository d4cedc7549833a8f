package storetest

import (
	"fmt"
	"slices"

	"github.com/parley-dev/parley/internal/conv"
)

// userCases are the conformance cases of the user store (conv.UserStore), run by Conformance.
var userCases = []struct {
	name string
	f    func(c *suite)
}{
	{"Users", testUsersCRUD},
	{"UsersInsertIfAbsent", testUsersInsertIfAbsent},
	{"UsersPaging", testUsersPaging},
	{"UsersCascade", testUsersCascade},
	{"UsersRoleAssigned", testUsersRoleAssigned},
	{"UserMemberships", testUserMemberships},
	{"ParticipantMemberships", testParticipantMemberships},
	{"NotificationLevel", testNotificationLevel},
}

// storeUser creates a user with identity id in svc.
func (c *suite) storeUser(svc *conv.ChatService, id string) *conv.User {
	c.t.Helper()
	now := c.now()
	u := &conv.User{Sid: c.sids.New(conv.PrefixUser), AccountSid: svc.AccountSid, ServiceSid: svc.Sid, Identity: id,
		Attributes: "{}", DateCreated: now, DateUpdated: now}
	c.write(func(tx conv.Store) error { return tx.CreateUser(c.ctx, u) })
	if u.Seq <= 0 {
		c.t.Fatalf("CreateUser: Seq = %d, want > 0", u.Seq)
	}
	return u
}

func testUsersCRUD(c *suite) {
	a := c.account()
	svc, other := c.service(a.Sid), c.service(a.Sid)
	_, err := c.s.GetUser(c.ctx, svc.Sid, c.sids.New(conv.PrefixUser))
	c.notFound("GetUser(missing)", err)
	_, err = c.s.GetUserByIdentity(c.ctx, svc.Sid, "alice")
	c.notFound("GetUserByIdentity(missing)", err)

	role := c.role(svc, conv.RoleTypeService)
	now := c.now()
	u := &conv.User{Sid: c.sids.New(conv.PrefixUser), AccountSid: a.Sid, ServiceSid: svc.Sid, Identity: "alice",
		FriendlyName: ptr("Alice"), Attributes: `{"a":1}`, RoleSid: role.Sid, DateCreated: now, DateUpdated: now}
	c.write(func(tx conv.Store) error { return tx.CreateUser(c.ctx, u) })
	got, err := c.s.GetUser(c.ctx, svc.Sid, u.Sid)
	c.noErr("GetUser", err)
	c.equal("GetUser", got, u)
	got, err = c.s.GetUserByIdentity(c.ctx, svc.Sid, "alice")
	c.noErr("GetUserByIdentity", err)
	c.equal("GetUserByIdentity", got, u)
	_, err = c.s.GetUser(c.ctx, other.Sid, u.Sid)
	c.notFound("GetUser(other service)", err)
	_, err = c.s.GetUserByIdentity(c.ctx, svc.Sid, "Alice")
	c.notFound("GetUserByIdentity(identity is case-sensitive)", err)

	// The identity is unique per service, not across services.
	dup := &conv.User{Sid: c.sids.New(conv.PrefixUser), AccountSid: a.Sid, ServiceSid: svc.Sid, Identity: "alice", Attributes: "{}", DateCreated: now, DateUpdated: now}
	c.conflict("CreateUser(identity taken)", c.writeErr(func(tx conv.Store) error { return tx.CreateUser(c.ctx, dup) }))
	_, err = c.s.GetUser(c.ctx, svc.Sid, dup.Sid)
	c.notFound("GetUser(refused duplicate)", err)
	elsewhere := c.storeUser(other, "alice")
	if elsewhere.Sid == u.Sid {
		c.t.Fatal("users of two services share a sid")
	}

	// Update writes friendly name (also back to null), attributes, role and dates.
	u.FriendlyName, u.Attributes, u.RoleSid, u.DateUpdated = nil, `{"b":2}`, "", c.now()
	c.write(func(tx conv.Store) error { return tx.UpdateUser(c.ctx, u) })
	got, err = c.s.GetUser(c.ctx, svc.Sid, u.Sid)
	c.noErr("GetUser after update", err)
	c.equal("GetUser after update", got, u)
	ghost := *u
	ghost.Sid = c.sids.New(conv.PrefixUser)
	c.notFound("UpdateUser(missing)", c.writeErr(func(tx conv.Store) error { return tx.UpdateUser(c.ctx, &ghost) }))
	wrongSvc := *u
	wrongSvc.ServiceSid = other.Sid
	c.notFound("UpdateUser(other service)", c.writeErr(func(tx conv.Store) error { return tx.UpdateUser(c.ctx, &wrongSvc) }))

	c.write(func(tx conv.Store) error { return tx.ShareLockUser(c.ctx, svc.Sid, "alice") })
	c.notFound("ShareLockUser(missing)", c.writeErr(func(tx conv.Store) error { return tx.ShareLockUser(c.ctx, svc.Sid, "nobody") }))

	c.notFound("DeleteUser(other service)", c.writeErr(func(tx conv.Store) error { return tx.DeleteUser(c.ctx, other.Sid, u.Sid) }))
	c.write(func(tx conv.Store) error { return tx.DeleteUser(c.ctx, svc.Sid, u.Sid) })
	_, err = c.s.GetUser(c.ctx, svc.Sid, u.Sid)
	c.notFound("GetUser(deleted)", err)
	c.notFound("DeleteUser(again)", c.writeErr(func(tx conv.Store) error { return tx.DeleteUser(c.ctx, svc.Sid, u.Sid) }))
	c.notFound("ShareLockUser(deleted)", c.writeErr(func(tx conv.Store) error { return tx.ShareLockUser(c.ctx, svc.Sid, "alice") }))
	// The identity is free again.
	c.storeUser(svc, "alice")
	got, err = c.s.GetUser(c.ctx, other.Sid, elsewhere.Sid)
	c.noErr("GetUser(other service's user)", err)
	c.equal("other service's user untouched", got, elsewhere)
}

func testUsersInsertIfAbsent(c *suite) {
	a := c.account()
	svc := c.service(a.Sid)
	mk := func(id string) *conv.User {
		now := c.now()
		return &conv.User{Sid: c.sids.New(conv.PrefixUser), AccountSid: a.Sid, ServiceSid: svc.Sid, Identity: id, Attributes: "{}",
			DateCreated: now, DateUpdated: now}
	}
	first := mk("bob")
	var inserted bool
	c.write(func(tx conv.Store) (err error) {
		inserted, err = tx.InsertUserIfAbsent(c.ctx, first)
		return err
	})
	c.equal("InsertUserIfAbsent(new)", inserted, true)
	if first.Seq <= 0 {
		c.t.Fatalf("InsertUserIfAbsent: Seq = %d, want > 0", first.Seq)
	}
	got, err := c.s.GetUserByIdentity(c.ctx, svc.Sid, "bob")
	c.noErr("GetUserByIdentity", err)
	c.equal("inserted user", got, first)

	// A taken identity is skipped without an error, and the transaction stays usable: the
	// write after it commits.
	second, carol := mk("bob"), mk("carol")
	c.write(func(tx conv.Store) error {
		ok, err := tx.InsertUserIfAbsent(c.ctx, second)
		if err != nil {
			return err
		}
		if ok {
			return fmt.Errorf("InsertUserIfAbsent(taken identity) = true")
		}
		return tx.CreateUser(c.ctx, carol)
	})
	got, err = c.s.GetUserByIdentity(c.ctx, svc.Sid, "bob")
	c.noErr("GetUserByIdentity", err)
	c.equal("user kept after InsertUserIfAbsent(taken)", got, first)
	_, err = c.s.GetUser(c.ctx, svc.Sid, second.Sid)
	c.notFound("GetUser(skipped insert)", err)
	_, err = c.s.GetUser(c.ctx, svc.Sid, carol.Sid)
	c.noErr("GetUser(written after the skipped insert)", err)
}

func testUsersPaging(c *suite) {
	a := c.account()
	svc, other := c.service(a.Sid), c.service(a.Sid)
	var users []*conv.User
	for i := range 7 {
		users = append(users, c.storeUser(svc, fmt.Sprintf("user-%d", i)))
		c.storeUser(other, fmt.Sprintf("user-%d", i)) // interleaved rows of another service
	}
	checkPaging(c, "users", users, func(u *conv.User) int64 { return u.Seq }, func(u *conv.User) string { return u.Sid },
		func(q conv.PageQuery) ([]*conv.User, error) { return c.s.ListUsers(c.ctx, svc.Sid, q) })
	list, err := c.s.ListUsers(c.ctx, svc.Sid, conv.PageQuery{Size: 1})
	c.noErr("ListUsers", err)
	c.equal("ListUsers row", list, users[:1])
}

func testUsersCascade(c *suite) {
	a := c.account()
	svc, kept := c.service(a.Sid), c.service(a.Sid)
	u := c.storeUser(svc, "dora")
	k := c.storeUser(kept, "dora")
	cv := c.conversation(svc)
	p := c.chat(cv, "dora")
	// Deleting the user leaves its participants to the Service (the store only persists).
	c.write(func(tx conv.Store) error { return tx.DeleteUser(c.ctx, svc.Sid, u.Sid) })
	_, err := c.s.GetParticipant(c.ctx, cv.Sid, p.Sid)
	c.noErr("GetParticipant after DeleteUser", err)
	u = c.storeUser(svc, "dora")
	c.write(func(tx conv.Store) error { return tx.DeleteService(c.ctx, a.Sid, svc.Sid) })
	_, err = c.s.GetUser(c.ctx, svc.Sid, u.Sid)
	c.notFound("GetUser(service deleted)", err)
	got, err := c.s.GetUser(c.ctx, kept.Sid, k.Sid)
	c.noErr("GetUser(other service)", err)
	c.equal("other service's user", got, k)
}

func testUsersRoleAssigned(c *suite) {
	a := c.account()
	svc := c.service(a.Sid)
	role := c.role(svc, conv.RoleTypeService)
	used, err := c.s.RoleAssigned(c.ctx, role.Sid)
	c.noErr("RoleAssigned", err)
	c.equal("RoleAssigned(free)", used, false)
	u := c.storeUser(svc, "erin")
	u.RoleSid = role.Sid
	c.write(func(tx conv.Store) error { return tx.UpdateUser(c.ctx, u) })
	used, err = c.s.RoleAssigned(c.ctx, role.Sid)
	c.noErr("RoleAssigned", err)
	c.equal("RoleAssigned(held by a user)", used, true)
	c.write(func(tx conv.Store) error { return tx.DeleteUser(c.ctx, svc.Sid, u.Sid) })
	used, err = c.s.RoleAssigned(c.ctx, role.Sid)
	c.noErr("RoleAssigned", err)
	c.equal("RoleAssigned(user deleted)", used, false)
}

// stored returns the participant and conversation as the store reads them now.
func (c *suite) stored(p *conv.Participant) (*conv.Participant, *conv.Conversation) {
	c.t.Helper()
	sp, err := c.s.GetParticipant(c.ctx, p.ConversationSid, p.Sid)
	c.noErr("GetParticipant", err)
	sc, err := c.s.GetConversation(c.ctx, p.ServiceSid, p.ConversationSid)
	c.noErr("GetConversation", err)
	return sp, sc
}

func testUserMemberships(c *suite) {
	a := c.account()
	svc, other := c.service(a.Sid), c.service(a.Sid)
	var want []*conv.Participant
	for range 7 {
		cv := c.conversation(svc)
		c.chat(cv, "bob")
		want = append(want, c.chat(cv, "alice"))
		c.chat(c.conversation(other), "alice") // the same identity in another service
	}
	// A closed conversation is listed too.
	closed := c.newConversation(svc)
	closed.State = conv.StateClosed
	c.write(func(tx conv.Store) error { return tx.CreateConversation(c.ctx, closed) })
	want = append(want, c.chat(closed, "alice"))

	list := func(q conv.PageQuery) ([]*conv.Membership, error) {
		return c.s.ListUserMemberships(c.ctx, svc.Sid, "alice", q)
	}
	all, err := list(conv.PageQuery{Size: 100})
	c.noErr("ListUserMemberships", err)
	if len(all) != len(want) {
		c.t.Fatalf("ListUserMemberships: %d rows, want %d", len(all), len(want))
	}
	for i, m := range all {
		p, cv := c.stored(want[i])
		c.equal(fmt.Sprintf("membership %d participant", i), m.Participant, p)
		c.equal(fmt.Sprintf("membership %d conversation", i), m.Conversation, cv)
		c.equal(fmt.Sprintf("membership %d cursor", i), m.Seq, p.Seq)
		c.equal(fmt.Sprintf("membership %d notification level", i), m.NotificationLevel, conv.NotificationLevelDefault)
		c.equal(fmt.Sprintf("membership %d user (none yet)", i), m.UserSid, "")
	}
	checkPaging(c, "user memberships", all[:7], func(m *conv.Membership) int64 { return m.Seq },
		func(m *conv.Membership) string { return m.Participant.Sid },
		func(q conv.PageQuery) ([]*conv.Membership, error) {
			ms, err := list(q)
			// checkPaging's rows are the first 7; the closed conversation's row comes last.
			return slices.DeleteFunc(ms, func(m *conv.Membership) bool { return m.Participant.Sid == want[7].Sid }), err
		})
	u := c.storeUser(svc, "alice")
	all, err = list(conv.PageQuery{})
	c.noErr("ListUserMemberships", err)
	c.equal("membership user", all[0].UserSid, u.Sid)
	none, err := c.s.ListUserMemberships(c.ctx, svc.Sid, "nobody", conv.PageQuery{})
	c.noErr("ListUserMemberships(nobody)", err)
	c.equal("ListUserMemberships(nobody)", len(none), 0)
}

func testParticipantMemberships(c *suite) {
	a := c.account()
	svc, other := c.service(a.Sid), c.service(a.Sid)
	var convs []*conv.Conversation
	for range 7 {
		convs = append(convs, c.conversation(svc))
	}
	// Joined in reverse order, so that join order and conversation sid order differ.
	var byIdentity, byAddress []*conv.Participant
	for i := len(convs) - 1; i >= 0; i-- {
		byIdentity = append(byIdentity, c.chat(convs[i], "carol"))
		byAddress = append(byAddress, c.sms(convs[i], "+15550101", fmt.Sprintf("+1555020%d", i)))
		c.sms(convs[i], "+15550102", "+15550300") // another address
		c.chat(c.conversation(other), "carol")    // another service
	}
	// The address as an identity, and a second participant with the address (another proxy)
	// in one conversation.
	c.chat(convs[0], "+15550101")
	byAddress = append(byAddress, c.sms(convs[3], "+15550101", "+15550299"))
	u := c.storeUser(svc, "carol")

	sortKey := func(ps []*conv.Participant) []string {
		var keys []string
		for _, p := range ps {
			keys = append(keys, p.ConversationSid+"/"+p.Sid)
		}
		slices.Sort(keys)
		return keys
	}
	for _, tc := range []struct {
		name string
		f    conv.ParticipantConversationFilter
		want []*conv.Participant
		user string
	}{
		{"identity", conv.ParticipantConversationFilter{Identity: "carol"}, byIdentity, u.Sid},
		{"address", conv.ParticipantConversationFilter{Address: "+15550101"}, byAddress, ""},
	} {
		list := func(q conv.PageQuery) ([]*conv.Membership, error) {
			return c.s.ListParticipantMemberships(c.ctx, svc.Sid, tc.f, q)
		}
		all, err := list(conv.PageQuery{Size: 100})
		c.noErr("ListParticipantMemberships "+tc.name, err)
		var keys []string
		for i, m := range all {
			keys = append(keys, m.Conversation.Sid+"/"+m.Participant.Sid)
			p, cv := c.stored(m.Participant)
			c.equal(tc.name+" participant", m.Participant, p)
			c.equal(tc.name+" conversation", m.Conversation, cv)
			c.equal(tc.name+" position", m.Seq, int64(i+1))
			c.equal(tc.name+" user", m.UserSid, tc.user)
		}
		c.equal(tc.name+": ordered by conversation sid, then participant sid", keys, sortKey(tc.want))
		checkPaging(c, "participant memberships by "+tc.name, all[:7], func(m *conv.Membership) int64 { return m.Seq },
			func(m *conv.Membership) string { return m.Participant.Sid },
			func(q conv.PageQuery) ([]*conv.Membership, error) {
				ms, err := list(q)
				return slices.DeleteFunc(ms, func(m *conv.Membership) bool { return m.Seq > 7 }), err
			})
	}
	none, err := c.s.ListParticipantMemberships(c.ctx, svc.Sid, conv.ParticipantConversationFilter{Address: "+15550999"}, conv.PageQuery{})
	c.noErr("ListParticipantMemberships(unknown address)", err)
	c.equal("ListParticipantMemberships(unknown address)", len(none), 0)
}

func testNotificationLevel(c *suite) {
	a := c.account()
	svc := c.service(a.Sid)
	cv, cv2 := c.conversation(svc), c.conversation(svc)
	p, p2 := c.chat(cv, "frank"), c.chat(cv2, "frank")
	level, err := c.s.GetNotificationLevel(c.ctx, cv.Sid, p.Sid)
	c.noErr("GetNotificationLevel", err)
	c.equal("GetNotificationLevel(new participant)", level, conv.NotificationLevelDefault)
	c.write(func(tx conv.Store) error {
		return tx.SetNotificationLevel(c.ctx, cv.Sid, p.Sid, conv.NotificationLevelMuted)
	})
	level, err = c.s.GetNotificationLevel(c.ctx, cv.Sid, p.Sid)
	c.noErr("GetNotificationLevel", err)
	c.equal("GetNotificationLevel(muted)", level, conv.NotificationLevelMuted)
	level, err = c.s.GetNotificationLevel(c.ctx, cv2.Sid, p2.Sid)
	c.noErr("GetNotificationLevel", err)
	c.equal("GetNotificationLevel(other participant)", level, conv.NotificationLevelDefault)
	// A participant update keeps the level.
	idx := int64(3)
	p.LastReadMessageIndex, p.DateUpdated = &idx, c.now()
	c.write(func(tx conv.Store) error { return tx.UpdateParticipant(c.ctx, p) })
	level, err = c.s.GetNotificationLevel(c.ctx, cv.Sid, p.Sid)
	c.noErr("GetNotificationLevel", err)
	c.equal("GetNotificationLevel(after UpdateParticipant)", level, conv.NotificationLevelMuted)
	ms, err := c.s.ListUserMemberships(c.ctx, svc.Sid, "frank", conv.PageQuery{})
	c.noErr("ListUserMemberships", err)
	c.equal("membership levels", []string{ms[0].NotificationLevel, ms[1].NotificationLevel},
		[]string{conv.NotificationLevelMuted, conv.NotificationLevelDefault})

	_, err = c.s.GetNotificationLevel(c.ctx, cv2.Sid, p.Sid)
	c.notFound("GetNotificationLevel(other conversation)", err)
	c.notFound("SetNotificationLevel(missing)", c.writeErr(func(tx conv.Store) error {
		return tx.SetNotificationLevel(c.ctx, cv.Sid, c.sids.New(conv.PrefixParticipant), conv.NotificationLevelMuted)
	}))
}
