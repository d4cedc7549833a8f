package sdkgo_test

import (
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	conversations "github.com/twilio/twilio-go/rest/conversations/v1"

	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/store/storetest"
	"github.com/parley-dev/parley/internal/testserver"
)

var userSidRE = regexp.MustCompile(`^US[0-9a-f]{32}$`)

// jsonOf decodes a raw response body, failing t when it is not a JSON object.
func jsonOf(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, body)
	}
	return m
}

// keysOf returns the sorted keys of m.
func keysOf(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// defaultService returns the default Conversation Service and its configuration.
func (e *env) defaultService(t *testing.T) (string, *conversations.ConversationsV1ServiceConfiguration) {
	t.Helper()
	is := *e.conversation(t, "").ChatServiceSid
	cfg, err := e.api.FetchServiceConfiguration(is)
	if err != nil {
		t.Fatal(err)
	}
	return is, cfg
}

func (e *env) serviceRole(t *testing.T, svc, typ string) string {
	t.Helper()
	perm := "createConversation"
	if typ == "conversation" {
		perm = "sendMessage"
	}
	r, err := e.api.CreateServiceRole(svc, (&conversations.CreateServiceRoleParams{}).SetFriendlyName("custom "+typ).
		SetType(typ).SetPermission([]string{perm}))
	if err != nil {
		t.Fatalf("create %s role: %v", typ, err)
	}
	return *r.Sid
}

func TestUsers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		env := setup(t, e)
		is, cfg := env.defaultService(t)
		start := env.srv.Clock.Now()

		// Create with every parameter but RoleSid: the default service role.
		u, err := env.api.CreateUser((&conversations.CreateUserParams{}).SetIdentity("alice").SetFriendlyName("Alice").
			SetAttributes(`{"duty":"tech"}`).SetXTwilioWebhookEnabled("true"))
		if err != nil {
			t.Fatal(err)
		}
		if !userSidRE.MatchString(str(u.Sid)) || str(u.AccountSid) != testserver.AccountSid || str(u.ChatServiceSid) != is ||
			str(u.Identity) != "alice" || str(u.FriendlyName) != "Alice" || str(u.Attributes) != `{"duty":"tech"}` ||
			str(u.RoleSid) != str(cfg.DefaultChatServiceRoleSid) || u.IsOnline != nil || u.IsNotifiable != nil {
			t.Errorf("created user = %+v", u)
		}
		if !u.DateCreated.Equal(start) || !u.DateUpdated.Equal(start) {
			t.Errorf("dates = %v %v, want %v", u.DateCreated, u.DateUpdated, start)
		}
		self := env.srv.URL + "/v1/Users/" + *u.Sid
		if str(u.Url) != self || u.Links == nil || (*u.Links)["user_conversations"] != self+"/Conversations" {
			t.Errorf("url = %s links = %v", str(u.Url), u.Links)
		}
		var added []conv.Event
		for _, ev := range env.srv.Events.Events() {
			if ev.Type == "onUserAdded" {
				added = append(added, ev)
			}
		}
		if len(added) != 1 || added[0].User == nil || added[0].User.Sid != *u.Sid || !added[0].WebhookEnabled {
			t.Errorf("onUserAdded events = %+v", added)
		}

		// Raw wire shape: every key of the spec, reachability null (not absent).
		status, body := env.srv.Do(t, "GET", "/v1/Users/"+*u.Sid, nil)
		raw := jsonOf(t, body)
		wantKeys := []string{"account_sid", "attributes", "chat_service_sid", "date_created", "date_updated", "friendly_name",
			"identity", "is_notifiable", "is_online", "links", "role_sid", "sid", "url"}
		if status != 200 || !slices.Equal(keysOf(raw), wantKeys) || raw["is_online"] != nil || raw["is_notifiable"] != nil ||
			raw["date_created"] != "2015-12-16T22:18:37Z" {
			t.Errorf("fetch: %d %s", status, body)
		}

		// Errors change nothing.
		cu := func() *conversations.CreateUserParams { return &conversations.CreateUserParams{} }
		_, err = env.api.CreateUser(cu().SetIdentity("alice"))
		restError(t, err, 409, 50201)
		_, err = env.api.CreateUser(cu().SetFriendlyName("no identity"))
		restError(t, err, 400, 20001)
		_, err = env.api.CreateUser(cu().SetIdentity(strings.Repeat("x", 257)))
		restError(t, err, 400, 50207)
		_, err = env.api.CreateUser(cu().SetIdentity("US0123456789abcdef0123456789abcdef"))
		restError(t, err, 400, 50206)
		_, err = env.api.CreateUser(cu().SetIdentity("bad").SetAttributes("{nope"))
		restError(t, err, 400, 50304)
		_, err = env.api.CreateUser(cu().SetIdentity("bad").SetAttributes(`"` + strings.Repeat("a", conv.MaxUserAttributesBytes) + `"`))
		restError(t, err, 400, 50303)
		_, err = env.api.CreateUser(cu().SetIdentity("bad").SetFriendlyName(strings.Repeat("n", 257)))
		restError(t, err, 400, 50003)
		_, err = env.api.CreateUser(cu().SetIdentity("bad").SetRoleSid(str(cfg.DefaultConversationRoleSid)))
		restError(t, err, 400, 50100)
		_, err = env.api.CreateUser(cu().SetIdentity("bad").SetRoleSid("RLffffffffffffffffffffffffffffffff"))
		restError(t, err, 400, 50100)
		_, err = env.api.CreateUser(cu().SetIdentity("bad").SetXTwilioWebhookEnabled("maybe"))
		restError(t, err, 400, 20422)
		_, err = env.api.FetchUser("bad")
		restError(t, err, 404, 20404)

		// A service-scoped role of the service is accepted; fetch by sid and by identity.
		role := env.serviceRole(t, is, "service")
		bob, err := env.api.CreateUser(cu().SetIdentity("bob@example.com").SetRoleSid(role))
		if err != nil || str(bob.RoleSid) != role || bob.FriendlyName != nil || str(bob.Attributes) != "{}" {
			t.Fatalf("create bob: %v %+v", err, bob)
		}
		for _, ref := range []string{*bob.Sid, "bob@example.com"} {
			got, err := env.api.FetchUser(ref)
			if err != nil || str(got.Sid) != *bob.Sid || str(got.Identity) != "bob@example.com" {
				t.Errorf("fetch %s: %v %+v", ref, err, got)
			}
		}

		// Update: friendly name, attributes, role; date_updated moves.
		env.srv.Clock.Advance(time.Minute)
		up, err := env.api.UpdateUser("alice", (&conversations.UpdateUserParams{}).SetFriendlyName("Alice B").
			SetAttributes(`{"duty":"lead"}`).SetRoleSid(role).SetXTwilioWebhookEnabled("false"))
		if err != nil {
			t.Fatal(err)
		}
		if str(up.FriendlyName) != "Alice B" || str(up.Attributes) != `{"duty":"lead"}` || str(up.RoleSid) != role ||
			!up.DateCreated.Equal(start) || !up.DateUpdated.Equal(start.Add(time.Minute)) || str(up.Identity) != "alice" {
			t.Errorf("updated = %+v", up)
		}
		_, err = env.api.UpdateUser(*u.Sid, (&conversations.UpdateUserParams{}).SetFriendlyName("X").SetRoleSid(str(cfg.DefaultConversationRoleSid)))
		restError(t, err, 400, 50100)
		_, err = env.api.UpdateUser(*u.Sid, (&conversations.UpdateUserParams{}).SetAttributes("[1,"))
		restError(t, err, 400, 50304)
		got, err := env.api.FetchUser(*u.Sid)
		if err != nil || str(got.FriendlyName) != "Alice B" || str(got.RoleSid) != role {
			t.Errorf("a refused update changed the user: %v %+v", err, got)
		}
		up, err = env.api.UpdateUser(*u.Sid, (&conversations.UpdateUserParams{}).SetFriendlyName(""))
		if err != nil || up.FriendlyName != nil {
			t.Errorf("clearing the friendly name: %v %+v", err, up)
		}
		_, err = env.api.UpdateUser("nobody", (&conversations.UpdateUserParams{}).SetFriendlyName("x"))
		restError(t, err, 404, 20404)

		// A role held by a user cannot be deleted.
		err = env.api.DeleteServiceRole(is, role)
		restError(t, err, 409, 20409)

		// Deleting, by sid or identity.
		if err := env.api.DeleteUser("bob@example.com", (&conversations.DeleteUserParams{}).SetXTwilioWebhookEnabled("true")); err != nil {
			t.Fatal(err)
		}
		_, err = env.api.FetchUser(*bob.Sid)
		restError(t, err, 404, 20404)
		err = env.api.DeleteUser(*bob.Sid, nil)
		restError(t, err, 404, 20404)
		err = env.api.DeleteUser("USffffffffffffffffffffffffffffffff", nil)
		restError(t, err, 404, 20404)
	})
}

func TestUsersList(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		env := setup(t, e)
		var want []string
		for _, id := range []string{"u1", "u2", "u3", "u4", "u5"} {
			u, err := env.api.CreateUser((&conversations.CreateUserParams{}).SetIdentity(id))
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, *u.Sid)
		}
		users, err := env.api.ListUser((&conversations.ListUserParams{}).SetPageSize(2))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, u := range users {
			got = append(got, str(u.Sid))
			if u.IsOnline != nil || u.IsNotifiable != nil {
				t.Errorf("list: reachability of %s should be null", str(u.Sid))
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("list = %v, want %v (creation order)", got, want)
		}
		page, err := env.api.PageUser((&conversations.ListUserParams{}).SetPageSize(2), "", "")
		if err != nil || len(page.Users) != 2 || page.Meta.Key != "users" || page.Meta.NextPageUrl == nil ||
			!strings.HasPrefix(*page.Meta.NextPageUrl, env.srv.URL+"/v1/Users?PageSize=2&Page=1&PageToken=") {
			t.Fatalf("page: %v %+v", err, page)
		}
		// PageSize over the spec's maximum of 50 is clamped.
		status, body := env.srv.Do(t, "GET", "/v1/Users?PageSize=500", nil)
		meta, _ := jsonOf(t, body)["meta"].(map[string]any)
		if status != 200 || meta["page_size"] != float64(50) || meta["first_page_url"] != env.srv.URL+"/v1/Users?PageSize=50&Page=0" {
			t.Errorf("PageSize=500: %d %s", status, body)
		}
		status, _ = env.srv.Do(t, "GET", "/v1/Users?PageSize=0", nil)
		if status != 400 {
			t.Errorf("PageSize=0: %d", status)
		}
	})
}

func TestUsersServiceForm(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		env := setup(t, e)
		defaultIS, _ := env.defaultService(t)
		other, err := env.api.CreateService((&conversations.CreateServiceParams{}).SetFriendlyName("other"))
		if err != nil {
			t.Fatal(err)
		}
		is := *other.Sid
		ocfg, err := env.api.FetchServiceConfiguration(is)
		if err != nil {
			t.Fatal(err)
		}
		u, err := env.api.CreateServiceUser(is, (&conversations.CreateServiceUserParams{}).SetIdentity("alice").SetXTwilioWebhookEnabled("true"))
		if err != nil {
			t.Fatal(err)
		}
		self := env.srv.URL + "/v1/Services/" + is + "/Users/" + *u.Sid
		if str(u.ChatServiceSid) != is || str(u.RoleSid) != str(ocfg.DefaultChatServiceRoleSid) || str(u.Url) != self ||
			(*u.Links)["user_conversations"] != self+"/Conversations" {
			t.Errorf("service user = %+v", u)
		}
		// The same identity is free in the default service; each service lists its own.
		d, err := env.api.CreateUser((&conversations.CreateUserParams{}).SetIdentity("alice"))
		if err != nil || *d.Sid == *u.Sid {
			t.Fatalf("default-service alice: %v", err)
		}
		_, err = env.api.CreateServiceUser(is, (&conversations.CreateServiceUserParams{}).SetIdentity("alice"))
		restError(t, err, 409, 50201)
		list, err := env.api.ListServiceUser(is, nil)
		if err != nil || len(list) != 1 || str(list[0].Sid) != *u.Sid {
			t.Errorf("service list: %v %+v", err, list)
		}
		_, err = env.api.FetchServiceUser(is, *d.Sid)
		restError(t, err, 404, 20404)
		// The default service's users are reachable on the service form too, with its URLs.
		got, err := env.api.FetchServiceUser(defaultIS, "alice")
		if err != nil || str(got.Sid) != *d.Sid || str(got.Url) != env.srv.URL+"/v1/Services/"+defaultIS+"/Users/"+*d.Sid {
			t.Errorf("default user on the service form: %v %+v", err, got)
		}
		// Roles of another service are not roles of this one.
		foreign := env.serviceRole(t, defaultIS, "service")
		_, err = env.api.UpdateServiceUser(is, "alice", (&conversations.UpdateServiceUserParams{}).SetRoleSid(foreign))
		restError(t, err, 400, 50100)
		mine := env.serviceRole(t, is, "service")
		up, err := env.api.UpdateServiceUser(is, "alice", (&conversations.UpdateServiceUserParams{}).SetRoleSid(mine).SetFriendlyName("A"))
		if err != nil || str(up.RoleSid) != mine || str(up.FriendlyName) != "A" {
			t.Errorf("update: %v %+v", err, up)
		}
		if err := env.api.DeleteServiceUser(is, *u.Sid, nil); err != nil {
			t.Fatal(err)
		}
		_, err = env.api.FetchServiceUser(is, "alice")
		restError(t, err, 404, 20404)
		if _, err := env.api.FetchUser("alice"); err != nil {
			t.Errorf("the default service's alice is gone too: %v", err)
		}
		_, err = env.api.ListServiceUser("ISffffffffffffffffffffffffffffffff", nil)
		restError(t, err, 404, 20404)
		// Another account sees none of it.
		stranger := newClient(t, env.srv.URL, testserver.Account2Sid, testserver.Auth2Token, testserver.Account2Sid).ConversationsV1
		_, err = stranger.FetchServiceUser(defaultIS, *d.Sid)
		restError(t, err, 404, 20404)
	})
}

// TestUsersFromParticipants: adding a chat participant creates its User once per service;
// deleting the User removes it from every conversation.
func TestUsersFromParticipants(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		env := setup(t, e)
		_, cfg := env.defaultService(t)
		a, b := *env.conversation(t, "ua").Sid, *env.conversation(t, "ub").Sid
		pa := env.chat(t, a, "carol")
		pb := env.chat(t, b, "carol")
		u, err := env.api.FetchUser("carol")
		if err != nil {
			t.Fatal(err)
		}
		if str(u.RoleSid) != str(cfg.DefaultChatServiceRoleSid) || u.FriendlyName != nil || str(u.Attributes) != "{}" {
			t.Errorf("implicit user = %+v", u)
		}
		users, err := env.api.ListUser(nil)
		if err != nil || len(users) != 1 {
			t.Errorf("users after two participants with one identity: %v %d", err, len(users))
		}
		// SMS participants have no User; an existing User is kept as it is.
		if _, err := env.api.CreateConversationParticipant(a, (&conversations.CreateConversationParticipantParams{}).
			SetMessagingBindingAddress("+15555050001").SetMessagingBindingProxyAddress("+15555050901")); err != nil {
			t.Fatal(err)
		}
		named, err := env.api.CreateUser((&conversations.CreateUserParams{}).SetIdentity("dan").SetFriendlyName("Dan"))
		if err != nil {
			t.Fatal(err)
		}
		env.chat(t, a, "dan")
		if got, err := env.api.FetchUser("dan"); err != nil || str(got.Sid) != *named.Sid || str(got.FriendlyName) != "Dan" {
			t.Errorf("dan after joining: %v %+v", err, got)
		}
		if users, _ := env.api.ListUser(nil); len(users) != 2 {
			t.Errorf("%d users, want 2 (carol, dan)", len(users))
		}

		// Deleting carol removes both of her participants; the conversations stay.
		if err := env.api.DeleteUser("carol", (&conversations.DeleteUserParams{}).SetXTwilioWebhookEnabled("true")); err != nil {
			t.Fatal(err)
		}
		for _, p := range []*conversations.ConversationsV1ConversationParticipant{pa, pb} {
			_, err := env.api.FetchConversationParticipant(*p.ConversationSid, *p.Sid)
			restError(t, err, 404, 20404)
		}
		if _, err := env.api.FetchConversation(a); err != nil {
			t.Errorf("conversation gone with the user: %v", err)
		}
		removed := 0
		for _, ev := range env.srv.Events.Events() {
			if ev.Type == "onParticipantRemoved" && ev.Participant != nil && str(ev.Participant.Identity) == "carol" && ev.WebhookEnabled {
				removed++
			}
		}
		if removed != 2 {
			t.Errorf("%d onParticipantRemoved events for carol, want 2", removed)
		}
		ps, err := env.api.ListConversationParticipant(a, nil)
		if err != nil || len(ps) != 2 { // the SMS participant and dan
			t.Errorf("participants of a: %v %d", err, len(ps))
		}
		// Joining again creates a new User.
		env.chat(t, b, "carol")
		again, err := env.api.FetchUser("carol")
		if err != nil || *again.Sid == *u.Sid {
			t.Errorf("carol after rejoining: %v %+v", err, again)
		}
	})
}

// TestUserReachability: is_notifiable is true on single-user reads when the service has
// reachability enabled and the identity has a push registration; otherwise null.
func TestUserReachability(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		env := setup(t, e)
		is, _ := env.defaultService(t)
		u, err := env.api.CreateUser((&conversations.CreateUserParams{}).SetIdentity("erin"))
		if err != nil {
			t.Fatal(err)
		}
		now := env.srv.Clock.Now()
		b := &conv.PushBinding{Sid: "BS0123456789abcdef0123456789abcdef", AccountSid: testserver.AccountSid, ServiceSid: is,
			Endpoint: "endpoint", Identity: "erin", BindingType: "apn", MessageTypes: []string{}, DateCreated: now, DateUpdated: now}
		if err := env.srv.Store.WithTx(context.Background(), func(tx conv.Store) error { return tx.CreatePushBinding(context.Background(), b) }); err != nil {
			t.Fatal(err)
		}
		if got, _ := env.api.FetchUser(*u.Sid); got.IsNotifiable != nil || got.IsOnline != nil {
			t.Errorf("reachability disabled: is_notifiable=%v is_online=%v, want null", got.IsNotifiable, got.IsOnline)
		}
		if _, err := env.api.UpdateServiceConfiguration(is, (&conversations.UpdateServiceConfigurationParams{}).SetReachabilityEnabled(true)); err != nil {
			t.Fatal(err)
		}
		got, err := env.api.FetchUser(*u.Sid)
		if err != nil || got.IsNotifiable == nil || !*got.IsNotifiable || got.IsOnline != nil {
			t.Errorf("reachability enabled, registered: %v is_notifiable=%v is_online=%v", err, got.IsNotifiable, got.IsOnline)
		}
		list, err := env.api.ListUser(nil)
		if err != nil || len(list) != 1 || list[0].IsNotifiable != nil {
			t.Errorf("list reports reachability: %v %+v", err, list)
		}
		other, _ := env.api.CreateUser((&conversations.CreateUserParams{}).SetIdentity("no-push"))
		if other.IsNotifiable != nil {
			t.Errorf("never registered: is_notifiable = %v, want null", *other.IsNotifiable)
		}
	})
}

func TestUserConversations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		env := setup(t, e)
		a := env.conversation(t, "uc-a")
		b := env.conversation(t, "uc-b")
		pa := env.chat(t, *a.Sid, "erin")
		env.srv.Clock.Advance(time.Minute)
		pb := env.chat(t, *b.Sid, "erin")
		env.chat(t, *b.Sid, "other")
		u, err := env.api.FetchUser("erin")
		if err != nil {
			t.Fatal(err)
		}

		list, err := env.api.ListUserConversation("erin", nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 || str(list[0].ConversationSid) != *a.Sid || str(list[1].ConversationSid) != *b.Sid {
			t.Fatalf("list = %+v", list)
		}
		uc := list[0]
		if str(uc.AccountSid) != testserver.AccountSid || str(uc.ChatServiceSid) != str(a.ChatServiceSid) ||
			str(uc.ParticipantSid) != *pa.Sid || str(uc.UserSid) != *u.Sid || str(uc.FriendlyName) != "Test uc-a" ||
			str(uc.UniqueName) != "uc-a" || str(uc.ConversationState) != "active" || str(uc.Attributes) != "{}" ||
			str(uc.NotificationLevel) != "default" || str(uc.CreatedBy) != "system" || uc.UnreadMessagesCount != nil ||
			uc.LastReadMessageIndex != nil || !uc.DateCreated.Equal(*a.DateCreated) {
			t.Errorf("user conversation = %+v", uc)
		}
		self := env.srv.URL + "/v1/Users/" + *u.Sid + "/Conversations/" + *a.Sid
		cu := env.srv.URL + "/v1/Conversations/" + *a.Sid
		if str(uc.Url) != self || (*uc.Links)["conversation"] != cu || (*uc.Links)["participant"] != cu+"/Participants/"+*pa.Sid {
			t.Errorf("url = %s links = %v", str(uc.Url), uc.Links)
		}
		status, body := env.srv.Do(t, "GET", "/v1/Users/erin/Conversations/uc-a", nil)
		raw := jsonOf(t, body)
		wantKeys := []string{"account_sid", "attributes", "chat_service_sid", "conversation_sid", "conversation_state", "created_by",
			"date_created", "date_updated", "friendly_name", "last_read_message_index", "links", "notification_level", "participant_sid",
			"timers", "unique_name", "unread_messages_count", "url", "user_sid"}
		if status != 200 || !slices.Equal(keysOf(raw), wantKeys) || raw["unread_messages_count"] != nil {
			t.Errorf("fetch by identity and unique name: %d %s", status, body)
		}

		// The read horizon is the participant's: written through both ways.
		for i := range 3 {
			if _, err := env.api.CreateConversationMessage(*a.Sid, (&conversations.CreateConversationMessageParams{}).SetBody("m"+itoa(i+1))); err != nil {
				t.Fatal(err)
			}
		}
		ts := time.Date(2016, 1, 2, 3, 4, 5, 0, time.UTC)
		got, err := env.api.UpdateUserConversation(*u.Sid, *a.Sid, (&conversations.UpdateUserConversationParams{}).
			SetLastReadMessageIndex(0).SetLastReadTimestamp(ts).SetNotificationLevel("muted"))
		if err != nil {
			t.Fatal(err)
		}
		if got.LastReadMessageIndex == nil || *got.LastReadMessageIndex != 0 || got.UnreadMessagesCount == nil ||
			*got.UnreadMessagesCount != 2 || str(got.NotificationLevel) != "muted" {
			t.Errorf("updated = %+v", got)
		}
		p, err := env.api.FetchConversationParticipant(*a.Sid, *pa.Sid)
		if err != nil || p.LastReadMessageIndex == nil || *p.LastReadMessageIndex != 0 || str(p.LastReadTimestamp) != "2016-01-02T03:04:05Z" {
			t.Errorf("participant after the user conversation update: %v %+v", err, p)
		}
		if _, err := env.api.UpdateConversationParticipant(*a.Sid, *pa.Sid, (&conversations.UpdateConversationParticipantParams{}).
			SetLastReadMessageIndex(2)); err != nil {
			t.Fatal(err)
		}
		got, err = env.api.FetchUserConversation("erin", "uc-a")
		if err != nil || *got.LastReadMessageIndex != 2 || *got.UnreadMessagesCount != 0 || str(got.NotificationLevel) != "muted" {
			t.Errorf("after the participant update: %v %+v", err, got)
		}
		// null clears the horizon; the other conversation keeps its level.
		status, body = env.srv.Do(t, "POST", "/v1/Users/erin/Conversations/"+*a.Sid, map[string]string{"LastReadMessageIndex": "null"})
		raw = jsonOf(t, body)
		if status != 200 || raw["last_read_message_index"] != nil || raw["unread_messages_count"] != nil || raw["notification_level"] != "muted" {
			t.Errorf("clearing: %d %s", status, body)
		}
		if got, _ := env.api.FetchUserConversation("erin", *b.Sid); str(got.NotificationLevel) != "default" {
			t.Errorf("b's level = %s", str(got.NotificationLevel))
		}

		// Bad input changes nothing.
		upd := func() *conversations.UpdateUserConversationParams {
			return &conversations.UpdateUserConversationParams{}
		}
		_, err = env.api.UpdateUserConversation("erin", *a.Sid, upd().SetNotificationLevel("loud"))
		restError(t, err, 400, 50210)
		status, _ = env.srv.Do(t, "POST", "/v1/Users/erin/Conversations/"+*a.Sid, map[string]string{"LastReadMessageIndex": "-1", "NotificationLevel": "default"})
		if status != 400 {
			t.Errorf("LastReadMessageIndex=-1: %d", status)
		}
		status, _ = env.srv.Do(t, "POST", "/v1/Users/erin/Conversations/"+*a.Sid, map[string]string{"LastReadTimestamp": "yesterday"})
		if status != 400 {
			t.Errorf("LastReadTimestamp=yesterday: %d", status)
		}
		if got, _ := env.api.FetchUserConversation("erin", *a.Sid); str(got.NotificationLevel) != "muted" {
			t.Errorf("refused updates changed the level: %s", str(got.NotificationLevel))
		}
		_, err = env.api.FetchUserConversation("erin", "nope")
		restError(t, err, 404, 20404)
		_, err = env.api.FetchUserConversation("nobody", *a.Sid)
		restError(t, err, 404, 20404)
		_, err = env.api.ListUserConversation("nobody", nil)
		restError(t, err, 404, 20404)
		solo := env.conversation(t, "uc-solo")
		_, err = env.api.FetchUserConversation("erin", *solo.Sid)
		restError(t, err, 404, 20404)

		// A closed conversation stays listed (state closed) and refuses updates.
		if _, err := env.api.UpdateConversation(*b.Sid, (&conversations.UpdateConversationParams{}).SetState("closed")); err != nil {
			t.Fatal(err)
		}
		list, err = env.api.ListUserConversation(*u.Sid, nil)
		if err != nil || len(list) != 2 || str(list[1].ConversationState) != "closed" {
			t.Errorf("list with a closed conversation: %v %+v", err, list)
		}
		_, err = env.api.UpdateUserConversation("erin", *b.Sid, upd().SetNotificationLevel("muted"))
		restError(t, err, 400, 50377)

		// Leaving: the participant is removed, the user stays.
		if err := env.api.DeleteUserConversation("erin", *b.Sid); err != nil {
			t.Fatal(err)
		}
		_, err = env.api.FetchConversationParticipant(*b.Sid, *pb.Sid)
		restError(t, err, 404, 20404)
		err = env.api.DeleteUserConversation("erin", *b.Sid)
		restError(t, err, 404, 20404)
		list, err = env.api.ListUserConversation("erin", nil)
		if err != nil || len(list) != 1 || str(list[0].ConversationSid) != *a.Sid {
			t.Errorf("list after leaving: %v %+v", err, list)
		}
		if _, err := env.api.FetchUser("erin"); err != nil {
			t.Errorf("user gone after leaving a conversation: %v", err)
		}
	})
}

func TestUserConversationsPagingAndServiceForm(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		env := setup(t, e)
		svc, err := env.api.CreateService((&conversations.CreateServiceParams{}).SetFriendlyName("uc"))
		if err != nil {
			t.Fatal(err)
		}
		is := *svc.Sid
		var want []string
		for range 5 {
			c, err := env.api.CreateServiceConversation(is, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := env.api.CreateServiceConversationParticipant(is, *c.Sid, (&conversations.CreateServiceConversationParticipantParams{}).SetIdentity("gus")); err != nil {
				t.Fatal(err)
			}
			want = append(want, *c.Sid)
		}
		u, err := env.api.FetchServiceUser(is, "gus")
		if err != nil {
			t.Fatal(err)
		}
		list, err := env.api.ListServiceUserConversation(is, "gus", (&conversations.ListServiceUserConversationParams{}).SetPageSize(2))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, uc := range list {
			got = append(got, str(uc.ConversationSid))
		}
		if !slices.Equal(got, want) {
			t.Errorf("paged list = %v, want %v", got, want)
		}
		first := list[0]
		self := env.srv.URL + "/v1/Services/" + is + "/Users/" + *u.Sid + "/Conversations/" + want[0]
		cu := env.srv.URL + "/v1/Services/" + is + "/Conversations/" + want[0]
		if str(first.Url) != self || (*first.Links)["conversation"] != cu || str(first.UserSid) != *u.Sid || first.FriendlyName != nil {
			t.Errorf("service-form user conversation = %+v", first)
		}
		page, err := env.api.PageServiceUserConversation(is, *u.Sid, (&conversations.ListServiceUserConversationParams{}).SetPageSize(2), "", "")
		if err != nil || page.Meta.Key != "conversations" || page.Meta.NextPageUrl == nil ||
			!strings.HasPrefix(*page.Meta.NextPageUrl, env.srv.URL+"/v1/Services/"+is+"/Users/"+*u.Sid+"/Conversations?PageSize=2&Page=1&PageToken=") {
			t.Errorf("page: %v %+v", err, page)
		}
		status, body := env.srv.Do(t, "GET", "/v1/Services/"+is+"/Users/gus/Conversations?PageSize=51", nil)
		if meta, _ := jsonOf(t, body)["meta"].(map[string]any); status != 200 || meta["page_size"] != float64(50) {
			t.Errorf("PageSize=51: %d %s", status, body)
		}
		got1, err := env.api.UpdateServiceUserConversation(is, "gus", want[1], (&conversations.UpdateServiceUserConversationParams{}).SetNotificationLevel("muted"))
		if err != nil || str(got1.NotificationLevel) != "muted" {
			t.Errorf("service-form update: %v %+v", err, got1)
		}
		if f, err := env.api.FetchServiceUserConversation(is, *u.Sid, want[1]); err != nil || str(f.NotificationLevel) != "muted" {
			t.Errorf("service-form fetch: %v %+v", err, f)
		}
		if err := env.api.DeleteServiceUserConversation(is, "gus", want[0]); err != nil {
			t.Fatal(err)
		}
		if list, _ := env.api.ListServiceUserConversation(is, "gus", nil); len(list) != 4 {
			t.Errorf("%d conversations after leaving one, want 4", len(list))
		}
		// The default service does not know gus.
		_, err = env.api.ListUserConversation("gus", nil)
		restError(t, err, 404, 20404)
	})
}

func TestParticipantConversations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		env := setup(t, e)
		var chats []*conversations.ConversationsV1ConversationParticipant
		var smss []*conversations.ConversationsV1ConversationParticipant
		convs := map[string]*conversations.ConversationsV1Conversation{}
		for i, name := range []string{"pc-1", "pc-2", "pc-3"} {
			c := env.conversation(t, name)
			convs[*c.Sid] = c
			chats = append(chats, env.chat(t, *c.Sid, "hank"))
			sms, err := env.api.CreateConversationParticipant(*c.Sid, (&conversations.CreateConversationParticipantParams{}).
				SetMessagingBindingAddress("+15555050002").SetMessagingBindingProxyAddress("+1555505091"+itoa(i+1)))
			if err != nil {
				t.Fatal(err)
			}
			smss = append(smss, sms)
		}
		env.chat(t, *env.conversation(t, "pc-other").Sid, "not-hank")
		// A closed conversation is still listed.
		if _, err := env.api.UpdateConversation("pc-2", (&conversations.UpdateConversationParams{}).SetState("closed")); err != nil {
			t.Fatal(err)
		}
		u, err := env.api.FetchUser("hank")
		if err != nil {
			t.Fatal(err)
		}
		bySid := func(ps []*conversations.ConversationsV1ConversationParticipant) []string {
			var out []string
			for _, p := range ps {
				out = append(out, *p.ConversationSid)
			}
			sort.Strings(out)
			return out
		}

		list, err := env.api.ListParticipantConversation((&conversations.ListParticipantConversationParams{}).SetIdentity("hank").SetPageSize(2))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, pc := range list {
			got = append(got, str(pc.ConversationSid))
			c := convs[str(pc.ConversationSid)]
			cu := env.srv.URL + "/v1/Conversations/" + str(pc.ConversationSid)
			if str(pc.ParticipantUserSid) != *u.Sid || str(pc.ParticipantIdentity) != "hank" ||
				pc.ParticipantMessagingBinding != nil && *pc.ParticipantMessagingBinding != nil || str(pc.ConversationUniqueName) != str(c.UniqueName) ||
				str(pc.ConversationFriendlyName) != str(c.FriendlyName) || str(pc.ConversationAttributes) != "{}" ||
				str(pc.ConversationCreatedBy) != "system" || str(pc.AccountSid) != testserver.AccountSid ||
				str(pc.ChatServiceSid) != str(c.ChatServiceSid) || !pc.ConversationDateCreated.Equal(*c.DateCreated) ||
				(*pc.Links)["conversation"] != cu || (*pc.Links)["participant"] != cu+"/Participants/"+str(pc.ParticipantSid) {
				t.Errorf("participant conversation = %+v", pc)
			}
			wantState := "active"
			if str(c.UniqueName) == "pc-2" {
				wantState = "closed"
			}
			if str(pc.ConversationState) != wantState {
				t.Errorf("%s: state %s, want %s", str(c.UniqueName), str(pc.ConversationState), wantState)
			}
		}
		if !slices.Equal(got, bySid(chats)) {
			t.Errorf("by identity = %v, want %v (sorted by conversation sid)", got, bySid(chats))
		}

		// By address: the SMS participants, with the whole binding.
		list, err = env.api.ListParticipantConversation((&conversations.ListParticipantConversationParams{}).SetAddress("+15555050002"))
		if err != nil {
			t.Fatal(err)
		}
		got = nil
		for _, pc := range list {
			got = append(got, str(pc.ConversationSid))
			if pc.ParticipantIdentity != nil || pc.ParticipantUserSid != nil {
				t.Errorf("sms participant conversation = %+v", pc)
			}
		}
		if !slices.Equal(got, bySid(smss)) {
			t.Errorf("by address = %v, want %v", got, bySid(smss))
		}
		status, body := env.srv.Do(t, "GET", "/v1/ParticipantConversations?Address=%2B15555050002", nil)
		var page struct {
			Conversations []map[string]any `json:"conversations"`
			Meta          map[string]any   `json:"meta"`
		}
		if err := json.Unmarshal(body, &page); err != nil || status != 200 || len(page.Conversations) != 3 {
			t.Fatalf("raw list: %d %v %s", status, err, body)
		}
		b, _ := page.Conversations[0]["participant_messaging_binding"].(map[string]any)
		wantBinding := []string{"address", "level", "name", "projected_address", "proxy_address", "type"}
		if !slices.Equal(keysOf(b), wantBinding) || b["type"] != "sms" || b["address"] != "+15555050002" || b["level"] != nil ||
			b["projected_address"] != nil {
			t.Errorf("participant_messaging_binding = %v", b)
		}
		if page.Meta["key"] != "conversations" || page.Meta["url"] != env.srv.URL+"/v1/ParticipantConversations?Address=%2B15555050002&PageSize=50&Page=0" {
			t.Errorf("meta = %v", page.Meta)
		}

		// Exactly one of Identity and Address.
		_, err = env.api.ListParticipantConversation((&conversations.ListParticipantConversationParams{}).SetIdentity("hank").SetAddress("+15555050002"))
		restError(t, err, 400, 50451)
		_, err = env.api.ListParticipantConversation(nil)
		restError(t, err, 400, 20001)
		if list, err := env.api.ListParticipantConversation((&conversations.ListParticipantConversationParams{}).SetIdentity("nobody")); err != nil || len(list) != 0 {
			t.Errorf("unknown identity: %v %d", err, len(list))
		}
		status, body = env.srv.Do(t, "GET", "/v1/ParticipantConversations?Identity=hank&PageSize=100", nil)
		if meta, _ := jsonOf(t, body)["meta"].(map[string]any); status != 200 || meta["page_size"] != float64(50) {
			t.Errorf("PageSize=100: %d %s", status, body)
		}
		_, err = env.api.PageParticipantConversation((&conversations.ListParticipantConversationParams{}).SetIdentity("hank"), "XX1", "1")
		restError(t, err, 400, 21481)

		// Service form: only that service's participants, service-form links.
		svc, err := env.api.CreateService((&conversations.CreateServiceParams{}).SetFriendlyName("pc"))
		if err != nil {
			t.Fatal(err)
		}
		is := *svc.Sid
		sc, err := env.api.CreateServiceConversation(is, nil)
		if err != nil {
			t.Fatal(err)
		}
		sp, err := env.api.CreateServiceConversationParticipant(is, *sc.Sid, (&conversations.CreateServiceConversationParticipantParams{}).SetIdentity("hank"))
		if err != nil {
			t.Fatal(err)
		}
		slist, err := env.api.ListServiceParticipantConversation(is, (&conversations.ListServiceParticipantConversationParams{}).SetIdentity("hank"))
		if err != nil || len(slist) != 1 {
			t.Fatalf("service list: %v %+v", err, slist)
		}
		cu := env.srv.URL + "/v1/Services/" + is + "/Conversations/" + *sc.Sid
		if str(slist[0].ParticipantSid) != *sp.Sid || (*slist[0].Links)["participant"] != cu+"/Participants/"+*sp.Sid ||
			slist[0].ConversationFriendlyName != nil {
			t.Errorf("service participant conversation = %+v", slist[0])
		}
		_, err = env.api.ListServiceParticipantConversation(is, (&conversations.ListServiceParticipantConversationParams{}).SetAddress("+1").SetIdentity("x"))
		restError(t, err, 400, 50451)
	})
}

// TestUserWebhooks: user create and update with X-Twilio-Webhook-Enabled: true send
// onUserAdded and onUserUpdated to the service-level post-event URL; without the header
// nothing is sent.
func TestUserWebhooks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		env := setup(t, e)
		rc := newHookReceiver(t)
		is, _ := env.defaultService(t)
		if _, err := env.api.UpdateServiceWebhookConfiguration(is, (&conversations.UpdateServiceWebhookConfigurationParams{}).
			SetPostWebhookUrl(rc.srv.URL+"/post").SetFilters([]string{"onUserAdded", "onUserUpdated"})); err != nil {
			t.Fatal(err)
		}
		if _, err := env.api.CreateUser((&conversations.CreateUserParams{}).SetIdentity("quiet")); err != nil {
			t.Fatal(err)
		}
		u, err := env.api.CreateUser((&conversations.CreateUserParams{}).SetIdentity("ivy").SetFriendlyName("Ivy").
			SetXTwilioWebhookEnabled("true"))
		if err != nil {
			t.Fatal(err)
		}
		env.srv.Clock.Advance(time.Second)
		if _, err := env.api.UpdateUser("ivy", (&conversations.UpdateUserParams{}).SetAttributes(`{"a":1}`).SetXTwilioWebhookEnabled("true")); err != nil {
			t.Fatal(err)
		}
		if _, err := env.api.UpdateUser("ivy", (&conversations.UpdateUserParams{}).SetAttributes(`{"a":2}`)); err != nil {
			t.Fatal(err)
		}
		rc.waitFor(t, 2)
		time.Sleep(100 * time.Millisecond) // nothing else may come
		got := rc.requests()
		if len(got) != 2 {
			t.Fatalf("%d webhook requests, want 2: %+v", len(got), got)
		}
		added, updated := got[0].params, got[1].params
		if added.Get("EventType") != "onUserAdded" || added.Get("UserSid") != *u.Sid || added.Get("Identity") != "ivy" ||
			added.Get("FriendlyName") != "Ivy" || added.Get("Attributes") != "{}" || added.Get("ChatServiceSid") != is ||
			added.Get("RoleSid") != str(u.RoleSid) || added.Get("DateCreated") != "2015-12-16T22:18:37Z" ||
			added.Get("Source") != "API" || !got[0].valid {
			t.Errorf("onUserAdded: %v (signature valid: %v)", added, got[0].valid)
		}
		if updated.Get("EventType") != "onUserUpdated" || updated.Get("Attributes") != `{"a":1}` ||
			updated.Get("DateUpdated") != "2015-12-16T22:18:38Z" || updated.Get("DateCreated") != "2015-12-16T22:18:37Z" {
			t.Errorf("onUserUpdated: %v", updated)
		}
	})
}
