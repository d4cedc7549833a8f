package sdkgo_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	conversations "github.com/twilio/twilio-go/rest/conversations/v1"

	"github.com/parley-dev/parley/internal/store/storetest"
	"github.com/parley-dev/parley/internal/testserver"
)

var (
	sidRE  = regexp.MustCompile(`^MB[0-9a-f]{32}$`)
	roleRE = regexp.MustCompile(`^RL[0-9a-f]{32}$`)
)

func binding(t *testing.T, p *conversations.ConversationsV1ConversationParticipant) map[string]any {
	t.Helper()
	if p.MessagingBinding == nil || *p.MessagingBinding == nil {
		return nil
	}
	m, ok := (*p.MessagingBinding).(map[string]interface{})
	if !ok {
		t.Fatalf("messaging_binding is %T", *p.MessagingBinding)
	}
	return m
}

// TestSeedExamples runs every example of the Participant resource page through twilio-go.
func TestSeedExamples(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		env := setup(t, e)
		ch := env.conversation(t, "").Sid

		// Add a Conversation Participant (SMS).
		sms, err := env.api.CreateConversationParticipant(*ch, (&conversations.CreateConversationParticipantParams{}).
			SetMessagingBindingAddress("+15558675310").SetMessagingBindingProxyAddress("+15017122661"))
		if err != nil {
			t.Fatal(err)
		}
		if !sidRE.MatchString(str(sms.Sid)) || sms.Identity != nil || str(sms.Attributes) != "{}" || !roleRE.MatchString(str(sms.RoleSid)) {
			t.Errorf("sms participant: sid=%s identity=%s attributes=%s role=%s", str(sms.Sid), str(sms.Identity), str(sms.Attributes), str(sms.RoleSid))
		}
		if b := binding(t, sms); b["type"] != "sms" || b["address"] != "+15558675310" || b["proxy_address"] != "+15017122661" || len(b) != 3 {
			t.Errorf("sms binding = %v", b)
		}
		if str(sms.AccountSid) != testserver.AccountSid || str(sms.ConversationSid) != *ch {
			t.Errorf("account/conversation = %s/%s", str(sms.AccountSid), str(sms.ConversationSid))
		}
		wantURL := env.srv.URL + "/v1/Conversations/" + *ch + "/Participants/" + *sms.Sid
		if str(sms.Url) != wantURL {
			t.Errorf("url = %s, want %s", str(sms.Url), wantURL)
		}
		if sms.LastReadMessageIndex != nil || sms.LastReadTimestamp != nil {
			t.Errorf("read horizon should be null")
		}
		if !sms.DateCreated.Equal(time.Date(2015, 12, 16, 22, 18, 37, 0, time.UTC)) {
			t.Errorf("date_created = %v", sms.DateCreated)
		}

		// Add a Conversation Participant (Chat).
		chat := env.chat(t, *ch, "<Chat User Identity>")
		if str(chat.Identity) != "<Chat User Identity>" || binding(t, chat) != nil {
			t.Errorf("chat participant = %+v", chat)
		}

		// Fetch by SID and by identity.
		got, err := env.api.FetchConversationParticipant(*ch, *sms.Sid)
		if err != nil || str(got.Sid) != *sms.Sid {
			t.Fatalf("fetch: %v %v", err, got)
		}
		alice := env.chat(t, *ch, "alice")
		got, err = env.api.FetchConversationParticipant(*ch, "alice")
		if err != nil || str(got.Sid) != *alice.Sid || str(got.Identity) != "alice" {
			t.Fatalf("fetch by identity: %v %+v", err, got)
		}

		// Read multiple.
		list, err := env.api.ListConversationParticipant(*ch, (&conversations.ListConversationParticipantParams{}).SetLimit(20))
		if err != nil || len(list) != 3 {
			t.Fatalf("list: %v, %d", err, len(list))
		}
		for i, want := range []string{*sms.Sid, *chat.Sid, *alice.Sid} {
			if str(list[i].Sid) != want {
				t.Errorf("list[%d] = %s, want %s (creation order)", i, str(list[i].Sid), want)
			}
		}

		// Update date_updated, then attributes.
		when := time.Date(2019, 5, 15, 13, 37, 35, 0, time.UTC)
		up, err := env.api.UpdateConversationParticipant(*ch, *sms.Sid, (&conversations.UpdateConversationParticipantParams{}).SetDateUpdated(when))
		if err != nil || !up.DateUpdated.Equal(when) || !up.DateCreated.Equal(*sms.DateCreated) {
			t.Fatalf("update date: %v %+v", err, up)
		}
		attrs, _ := json.Marshal(map[string]string{"role": "driver"})
		up, err = env.api.UpdateConversationParticipant(*ch, *sms.Sid, (&conversations.UpdateConversationParticipantParams{}).SetAttributes(string(attrs)))
		if err != nil || str(up.Attributes) != `{"role":"driver"}` {
			t.Fatalf("update attributes: %v %s", err, str(up.Attributes))
		}

		// Delete.
		res, err := env.api.DeleteConversationParticipantWithMetadata(*ch, *sms.Sid, nil)
		if err != nil || res.StatusCode != http.StatusNoContent {
			t.Fatalf("delete: %v %+v", err, res)
		}
		_, err = env.api.FetchConversationParticipant(*ch, *sms.Sid)
		re := restError(t, err, 404, 20404)
		if want := "The requested resource /Conversations/" + *ch + "/Participants/" + *sms.Sid + " was not found"; re.Message != want {
			t.Errorf("404 message = %q, want %q", re.Message, want)
		}
	})
}

func TestPagingAcrossPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		env := setup(t, e)
		ch := *env.conversation(t, "paging").Sid
		var want []string
		for i := 0; i < 7; i++ {
			want = append(want, *env.chat(t, ch, "user"+string(rune('a'+i))).Sid)
		}
		all, err := env.api.ListConversationParticipant(ch, (&conversations.ListConversationParticipantParams{}).SetPageSize(2))
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 7 {
			t.Fatalf("listed %d, want 7", len(all))
		}
		for i := range want {
			if *all[i].Sid != want[i] {
				t.Fatalf("order: got %s at %d, want %s", *all[i].Sid, i, want[i])
			}
		}
		// Limit stops early.
		some, err := env.api.ListConversationParticipant(ch, (&conversations.ListConversationParticipantParams{}).SetPageSize(2).SetLimit(3))
		if err != nil || len(some) != 3 {
			t.Fatalf("limit: %v %d", err, len(some))
		}
		// Stream through the unique name.
		recs, errs := env.api.StreamConversationParticipant("paging", (&conversations.ListConversationParticipantParams{}).SetPageSize(3))
		n := 0
		for range recs {
			n++
		}
		if err := <-errs; err != nil || n != 7 {
			t.Fatalf("stream: %v %d", err, n)
		}
		// Page by page: meta links are absolute, on this host, and followable both ways.
		page, err := env.api.PageConversationParticipant(ch, (&conversations.ListConversationParticipantParams{}).SetPageSize(3), "", "")
		if err != nil {
			t.Fatal(err)
		}
		if page.Meta.Key != "participants" || page.Meta.PageSize != 3 || page.Meta.Page != 0 {
			t.Fatalf("meta = %+v", page.Meta)
		}
		next := str(page.Meta.NextPageUrl)
		if !strings.HasPrefix(next, env.srv.URL+"/v1/Conversations/"+ch+"/Participants?PageSize=3&Page=1&PageToken=") {
			t.Fatalf("next_page_url = %s", next)
		}
		if page.Meta.PreviousPageUrl != nil {
			t.Errorf("previous_page_url on page 0 = %s", *page.Meta.PreviousPageUrl)
		}
		st, body := env.srv.Do(t, "GET", strings.TrimPrefix(next, env.srv.URL), nil)
		var p2 struct {
			Participants []struct{ Sid string }
			Meta         struct {
				Page            int     `json:"page"`
				PreviousPageURL *string `json:"previous_page_url"`
				NextPageURL     *string `json:"next_page_url"`
			}
		}
		if err := json.Unmarshal(body, &p2); err != nil || st != 200 || len(p2.Participants) != 3 || p2.Participants[0].Sid != want[3] || p2.Meta.Page != 1 {
			t.Fatalf("page 2: %d %s", st, body)
		}
		if p2.Meta.PreviousPageURL == nil {
			t.Fatal("page 2 has no previous_page_url")
		}
		st, body = env.srv.Do(t, "GET", strings.TrimPrefix(*p2.Meta.PreviousPageURL, env.srv.URL), nil)
		var p1 struct{ Participants []struct{ Sid string } }
		if err := json.Unmarshal(body, &p1); err != nil || st != 200 || len(p1.Participants) != 3 || p1.Participants[0].Sid != want[0] {
			t.Fatalf("back to page 1: %d %s", st, body)
		}
		// PageSize over the participant list's maximum (100, the spec's) is read as it; bad
		// values are refused.
		st, body = env.srv.Do(t, "GET", "/v1/Conversations/"+ch+"/Participants?PageSize=5000", nil)
		if st != 200 || !strings.Contains(string(body), `"page_size":100,`) {
			t.Errorf("PageSize=5000: %d %s", st, body)
		}
		for _, q := range []string{"PageSize=0", "PageSize=x", "Page=-1", "PageToken=bogus", "PageToken=PA-1"} {
			st, _ := env.srv.Do(t, "GET", "/v1/Conversations/"+ch+"/Participants?"+q, nil)
			if st != 400 {
				t.Errorf("%s: status %d, want 400", q, st)
			}
		}
	})
}

func TestServiceURLForm(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		env := setup(t, e)
		svc, err := env.api.CreateService((&conversations.CreateServiceParams{}).SetFriendlyName("second"))
		if err != nil {
			t.Fatal(err)
		}
		is := *svc.Sid
		c, err := env.api.CreateServiceConversation(is, (&conversations.CreateServiceConversationParams{}).SetUniqueName("svc-room"))
		if err != nil {
			t.Fatal(err)
		}
		p, err := env.api.CreateServiceConversationParticipant(is, *c.Sid, (&conversations.CreateServiceConversationParticipantParams{}).SetIdentity("bob"))
		if err != nil {
			t.Fatal(err)
		}
		if str(p.ChatServiceSid) != is || str(p.Url) != env.srv.URL+"/v1/Services/"+is+"/Conversations/"+*c.Sid+"/Participants/"+*p.Sid {
			t.Errorf("service form participant: %s %s", str(p.ChatServiceSid), str(p.Url))
		}
		got, err := env.api.FetchServiceConversationParticipant(is, "svc-room", "bob")
		if err != nil || *got.Sid != *p.Sid {
			t.Fatalf("fetch by identity via service form: %v", err)
		}
		ps, err := env.api.ListServiceConversationParticipant(is, *c.Sid, nil)
		if err != nil || len(ps) != 1 {
			t.Fatalf("list: %v %d", err, len(ps))
		}
		if _, err := env.api.UpdateServiceConversationParticipant(is, *c.Sid, *p.Sid, (&conversations.UpdateServiceConversationParticipantParams{}).SetLastReadMessageIndex(4)); err != nil {
			t.Fatal(err)
		}
		// The conversation is not in the default service: the shortened URL does not see it.
		_, err = env.api.FetchConversationParticipant(*c.Sid, *p.Sid)
		restError(t, err, 404, 20404)
		// The default service is reachable on the long form too.
		def := env.conversation(t, "default-room")
		q, err := env.api.CreateServiceConversationParticipant(*def.ChatServiceSid, *def.Sid, (&conversations.CreateServiceConversationParticipantParams{}).SetIdentity("carol"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := env.api.FetchConversationParticipant(*def.Sid, *q.Sid); err != nil {
			t.Fatal(err)
		}
		if err := env.api.DeleteServiceConversationParticipant(is, *c.Sid, *p.Sid, nil); err != nil {
			t.Fatal(err)
		}
		_, err = env.api.FetchServiceConversationParticipant(is, *c.Sid, *p.Sid)
		restError(t, err, 404, 20404)
		// An unknown service is a 404.
		_, err = env.api.ListServiceConversationParticipant("IS00000000000000000000000000000000", *c.Sid, nil)
		restError(t, err, 404, 20404)
	})
}

func TestParticipantRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		env := setup(t, e)
		ch := *env.conversation(t, "rules").Sid
		create := func(p *conversations.CreateConversationParticipantParams) error {
			_, err := env.api.CreateConversationParticipant(ch, p)
			return err
		}
		cp := func() *conversations.CreateConversationParticipantParams {
			return &conversations.CreateConversationParticipantParams{}
		}
		restError(t, create(cp()), 400, 50204)
		restError(t, create(cp().SetIdentity("x").SetMessagingBindingAddress("+15550001111")), 400, 50211)
		restError(t, create(cp().SetIdentity(strings.Repeat("a", 257))), 400, 50207)
		restError(t, create(cp().SetIdentity("ok").SetAttributes("{not json")), 400, 50304)
		restError(t, create(cp().SetIdentity("ok").SetAttributes(`{"a":"`+strings.Repeat("x", 5000)+`"}`)), 400, 50303)
		restError(t, create(cp().SetMessagingBindingProxyAddress("+15017122661")), 400, 50411)
		restError(t, create(cp().SetMessagingBindingAddress("+15550001111")), 400, 50412)
		restError(t, create(cp().SetMessagingBindingAddress("not a number").SetMessagingBindingProxyAddress("+15017122661")), 400, 50407)
		restError(t, create(cp().SetMessagingBindingAddress("+15550001111").SetMessagingBindingProxyAddress("nope")), 400, 50408)
		restError(t, create(cp().SetMessagingBindingAddress("+15017122661").SetMessagingBindingProxyAddress("+15017122661")), 400, 50409)
		restError(t, create(cp().SetMessagingBindingAddress("whatsapp:+15550001111").SetMessagingBindingProxyAddress("+15017122661")), 400, 50414)
		restError(t, create(cp().SetIdentity("ok").SetRoleSid("RL00000000000000000000000000000000")), 400, 50109)
		restError(t, create(cp().SetIdentity("ok").SetDateCreated(time.Time{}).SetRoleSid("nope")), 400, 50109)
		// Nothing above was stored.
		if ps, err := env.api.ListConversationParticipant(ch, nil); err != nil || len(ps) != 0 {
			t.Fatalf("after refused creates: %v %d participants", err, len(ps))
		}
		// A service-scoped role is not a conversation role.
		roles, err := env.api.ListRole(nil)
		if err != nil {
			t.Fatal(err)
		}
		var serviceRole, convRole string
		for _, r := range roles {
			if *r.Type == "service" && serviceRole == "" {
				serviceRole = *r.Sid
			}
			if *r.Type == "conversation" && *r.FriendlyName == "channel admin" {
				convRole = *r.Sid
			}
		}
		restError(t, create(cp().SetIdentity("ok").SetRoleSid(serviceRole)), 400, 50109)
		p, err := env.api.CreateConversationParticipant(ch, cp().SetIdentity("admin").SetRoleSid(convRole))
		if err != nil || *p.RoleSid != convRole {
			t.Fatalf("explicit role: %v", err)
		}
		// The omitted role is the service's default conversation role.
		cfg, err := env.api.FetchServiceConfiguration(*env.conversation(t, "").ChatServiceSid)
		if err != nil {
			t.Fatal(err)
		}
		plain := env.chat(t, ch, "plain")
		if *plain.RoleSid != *cfg.DefaultConversationRoleSid {
			t.Errorf("default role = %s, want %s", *plain.RoleSid, *cfg.DefaultConversationRoleSid)
		}
		// One identity once per conversation; the same identity elsewhere is fine.
		restError(t, create(cp().SetIdentity("plain")), 409, 50433)
		other := *env.conversation(t, "other").Sid
		env.chat(t, other, "plain")
		// An (address, proxy) pair: once per conversation, and in one non-closed conversation.
		sms := cp().SetMessagingBindingAddress("+15558675310").SetMessagingBindingProxyAddress("+15017122661")
		if err := create(sms); err != nil {
			t.Fatal(err)
		}
		if re := restError(t, create(sms), 409, 50416); !strings.HasSuffix(re.Message, ch) {
			t.Errorf("50416 message should name %s: %q", ch, re.Message)
		}
		_, err = env.api.CreateConversationParticipant(other, sms)
		re := restError(t, err, 409, 50416)
		if !strings.Contains(re.Message, ch) {
			t.Errorf("50416 message should name %s: %q", ch, re.Message)
		}
		// The same address with another proxy address may join another conversation.
		if _, err := env.api.CreateConversationParticipant(other, cp().SetMessagingBindingAddress("+15558675310").SetMessagingBindingProxyAddress("+15017122662")); err != nil {
			t.Fatal(err)
		}
		// Closing the first conversation frees the pair; closed refuses new participants.
		if _, err := env.api.UpdateConversation(ch, (&conversations.UpdateConversationParams{}).SetState("closed")); err != nil {
			t.Fatal(err)
		}
		restError(t, create(cp().SetIdentity("late")), 400, 50377)
		third := *env.conversation(t, "third").Sid
		if _, err := env.api.CreateConversationParticipant(third, sms); err != nil {
			t.Fatalf("pair should be free after close: %v", err)
		}
	})
}

func TestParticipantUpdateRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		env := setup(t, e)
		ch := *env.conversation(t, "upd").Sid
		chat := env.chat(t, ch, "dave")
		up := func(sid string, p *conversations.UpdateConversationParticipantParams) (*conversations.ConversationsV1ConversationParticipant, error) {
			return env.api.UpdateConversationParticipant(ch, sid, p)
		}
		u := func() *conversations.UpdateConversationParticipantParams {
			return &conversations.UpdateConversationParticipantParams{}
		}
		for i := 0; i < 8; i++ { // messages 0..7 for the read horizon to point at
			env.send(t, ch, "", "m")
		}
		got, err := up(*chat.Sid, u().SetLastReadMessageIndex(7).SetLastReadTimestamp("2020-01-02T03:04:05.678Z"))
		if err != nil || got.LastReadMessageIndex == nil || *got.LastReadMessageIndex != 7 || str(got.LastReadTimestamp) != "2020-01-02T03:04:05Z" {
			t.Fatalf("read horizon: %v %+v", err, got)
		}
		_, err = up(*chat.Sid, u().SetAttributes("[1,"))
		restError(t, err, 400, 50304)
		if f, _ := env.api.FetchConversationParticipant(ch, *chat.Sid); str(f.Attributes) != "{}" {
			t.Errorf("failed update changed attributes: %s", str(f.Attributes))
		}
		_, err = up(*chat.Sid, u().SetIdentity("someone-else"))
		restError(t, err, 400, 50444)
		_, err = up(*chat.Sid, u().SetMessagingBindingProxyAddress("+15017122661"))
		restError(t, err, 400, 50441)
		got, err = up(*chat.Sid, u().SetMessagingBindingProjectedAddress("+15017122661"))
		if err != nil || binding(t, got)["projected_address"] != "+15017122661" {
			t.Fatalf("projected address: %v", err)
		}
		got, err = up(*chat.Sid, u().SetMessagingBindingProjectedAddress("null"))
		if err != nil || binding(t, got) != nil {
			t.Fatalf("remove projected address: %v %v", err, binding(t, got))
		}
		// Update by identity works too.
		if _, err := up("dave", u().SetAttributes(`{"x":1}`)); err != nil {
			t.Fatal(err)
		}
		// SMS participant: change proxy address (re-claims the pair); removing it is
		// participant_fidelity_test.go's.
		sms, err := env.api.CreateConversationParticipant(ch, (&conversations.CreateConversationParticipantParams{}).
			SetMessagingBindingAddress("+15558675310").SetMessagingBindingProxyAddress("+15017122661"))
		if err != nil {
			t.Fatal(err)
		}
		got, err = up(*sms.Sid, u().SetMessagingBindingProxyAddress("+15017122662"))
		if err != nil || binding(t, got)["proxy_address"] != "+15017122662" {
			t.Fatalf("change proxy: %v", err)
		}
		// The old pair is free again.
		other := *env.conversation(t, "").Sid
		if _, err := env.api.CreateConversationParticipant(other, (&conversations.CreateConversationParticipantParams{}).
			SetMessagingBindingAddress("+15558675310").SetMessagingBindingProxyAddress("+15017122661")); err != nil {
			t.Fatalf("old pair should be free: %v", err)
		}
		_, err = up("MB00000000000000000000000000000000", u().SetAttributes("{}"))
		restError(t, err, 404, 20404)
		for _, bad := range []map[string]string{{"LastReadMessageIndex": "-1"}, {"LastReadMessageIndex": "x"}, {"LastReadTimestamp": "yesterday"}, {"DateUpdated": "soon"}, {"DateCreated": "2020-13-45"}} {
			st, body := env.srv.Do(t, "POST", "/v1/Conversations/"+ch+"/Participants/"+*chat.Sid, bad)
			if st != 400 {
				t.Errorf("%v: %d %s", bad, st, body)
			}
		}
	})
}

func TestGroupMMS(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		env := setup(t, e)
		ch := *env.conversation(t, "gmms").Sid
		// An address-only participant needs a Group MMS conversation first.
		_, err := env.api.CreateConversationParticipant(ch, (&conversations.CreateConversationParticipantParams{}).SetMessagingBindingAddress("+15550000001"))
		restError(t, err, 400, 50412)
		agent, err := env.api.CreateConversationParticipant(ch, (&conversations.CreateConversationParticipantParams{}).SetIdentity("agent").SetMessagingBindingProjectedAddress("+15017122661"))
		if err != nil {
			t.Fatal(err)
		}
		if b := binding(t, agent); b["type"] != "sms" || b["projected_address"] != "+15017122661" || len(b) != 2 {
			t.Errorf("gmms chat binding = %v", b)
		}
		for i := 1; i <= 9; i++ {
			p, err := env.api.CreateConversationParticipant(ch, (&conversations.CreateConversationParticipantParams{}).SetMessagingBindingAddress("+1555000000"+string(rune('0'+i))))
			if err != nil {
				t.Fatalf("member %d: %v", i, err)
			}
			if p.RoleSid != nil || len(binding(t, p)) != 2 {
				t.Errorf("gmms sms participant: role %s binding %v", str(p.RoleSid), binding(t, p))
			}
		}
		_, err = env.api.CreateConversationParticipant(ch, (&conversations.CreateConversationParticipantParams{}).SetIdentity("eleventh"))
		restError(t, err, 400, 50436)
	})
}

func TestNonChatLimit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		env := setup(t, e)
		ch := *env.conversation(t, "big").Sid
		for i := 0; i < 50; i++ {
			st, body := env.srv.Do(t, "POST", "/v1/Conversations/"+ch+"/Participants", map[string]string{
				"MessagingBinding.Address": "+1555100" + pad4(i), "MessagingBinding.ProxyAddress": "+15017122661"})
			if st != 201 {
				t.Fatalf("participant %d: %d %s", i, st, body)
			}
		}
		_, err := env.api.CreateConversationParticipant(ch, (&conversations.CreateConversationParticipantParams{}).
			SetMessagingBindingAddress("+15552000000").SetMessagingBindingProxyAddress("+15017122661"))
		restError(t, err, 400, 50418)
		env.chat(t, ch, "chat-still-fits")
	})
}

func pad4(i int) string {
	s := itoa(i)
	if i == 0 {
		s = "0"
	}
	return strings.Repeat("0", 4-len(s)) + s
}

func TestDeleteConversationRemovesParticipants(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		env := setup(t, e)
		ch := *env.conversation(t, "gone").Sid
		env.chat(t, ch, "a")
		if _, err := env.api.CreateConversationParticipant(ch, (&conversations.CreateConversationParticipantParams{}).
			SetMessagingBindingAddress("+15558675310").SetMessagingBindingProxyAddress("+15017122661")); err != nil {
			t.Fatal(err)
		}
		if err := env.api.DeleteConversation(ch, nil); err != nil {
			t.Fatal(err)
		}
		_, err := env.api.ListConversationParticipant(ch, nil)
		restError(t, err, 404, 20404)
		// The pair is free again.
		ch2 := *env.conversation(t, "gone").Sid // the unique name is free too
		if _, err := env.api.CreateConversationParticipant(ch2, (&conversations.CreateConversationParticipantParams{}).
			SetMessagingBindingAddress("+15558675310").SetMessagingBindingProxyAddress("+15017122661")); err != nil {
			t.Fatal(err)
		}
	})
}

func TestWebhookEnabledHeader(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		env := setup(t, e)
		ch := *env.conversation(t, "hooks").Sid
		p, err := env.api.CreateConversationParticipant(ch, (&conversations.CreateConversationParticipantParams{}).SetIdentity("w").SetXTwilioWebhookEnabled("true"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := env.api.UpdateConversationParticipant(ch, *p.Sid, (&conversations.UpdateConversationParticipantParams{}).SetAttributes("{}").SetXTwilioWebhookEnabled("false")); err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"yes", "1", ""} {
			st, body := env.srv.DoAs(t, testserver.AccountSid, testserver.AuthToken, "POST", "/v1/Conversations/"+ch+"/Participants",
				map[string]string{"Identity": "bad-" + bad}, map[string]string{"X-Twilio-Webhook-Enabled": bad})
			if bad == "" {
				continue // an empty header is the same as none
			}
			if st != 400 {
				t.Errorf("header %q: %d %s", bad, st, body)
			}
		}
		if err := env.api.DeleteConversationParticipant(ch, *p.Sid, (&conversations.DeleteConversationParticipantParams{}).SetXTwilioWebhookEnabled("true")); err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for _, ev := range env.srv.Events.Events() {
			if ev.Participant != nil && *ev.Participant.Identity == "w" {
				kinds = append(kinds, string(ev.Type)+"="+map[bool]string{true: "on", false: "off"}[ev.WebhookEnabled])
			}
		}
		want := "onParticipantAdded=on onParticipantUpdated=off onParticipantRemoved=on"
		if strings.Join(kinds, " ") != want {
			t.Errorf("events = %v, want %s", kinds, want)
		}
	})
}
