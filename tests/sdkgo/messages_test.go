package sdkgo_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	conversations "github.com/twilio/twilio-go/rest/conversations/v1"

	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/store/storetest"
	"github.com/parley-dev/parley/internal/testserver"
)

// scope is the first account's default service, as the shortened URLs use it.
func scope() conv.Scope { return conv.Scope{AccountSid: testserver.AccountSid} }

var (
	messageSidRE = regexp.MustCompile(`^IM[0-9a-f]{32}$`)
	receiptSidRE = regexp.MustCompile(`^DY[0-9a-f]{32}$`)
)

// eventually polls cond every 10 ms until it holds, failing t after 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// summary returns a message's delivery summary as a map (nil when null).
func summary(t *testing.T, d *interface{}) map[string]any {
	t.Helper()
	if d == nil || *d == nil {
		return nil
	}
	m, ok := (*d).(map[string]interface{})
	if !ok {
		t.Fatalf("delivery is %T", *d)
	}
	return m
}

func (e *env) sms(t *testing.T, ch, addr, proxy string) *conversations.ConversationsV1ConversationParticipant {
	t.Helper()
	p, err := e.api.CreateConversationParticipant(ch, (&conversations.CreateConversationParticipantParams{}).
		SetMessagingBindingAddress(addr).SetMessagingBindingProxyAddress(proxy))
	if err != nil {
		t.Fatalf("create SMS participant %s: %v", addr, err)
	}
	return p
}

func (e *env) send(t *testing.T, ch, author, body string) *conversations.ConversationsV1ConversationMessage {
	t.Helper()
	p := (&conversations.CreateConversationMessageParams{}).SetBody(body)
	if author != "" {
		p.SetAuthor(author)
	}
	m, err := e.api.CreateConversationMessage(ch, p)
	if err != nil {
		t.Fatalf("create message %q: %v", body, err)
	}
	return m
}

func TestMessageLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		env := setup(t, e)
		ch := *env.conversation(t, "msgs").Sid
		alice := env.chat(t, ch, "alice")
		env.chat(t, ch, "bob")
		sms := env.sms(t, ch, "+15557770001", "+15557770002")

		// Create, attributed to a chat participant by identity.
		m0, err := env.api.CreateConversationMessage(ch, (&conversations.CreateConversationMessageParams{}).
			SetAuthor("alice").SetBody("Hello & <welcome>").SetAttributes(`{"importance":"high"}`).SetXTwilioWebhookEnabled("true"))
		if err != nil {
			t.Fatal(err)
		}
		if !messageSidRE.MatchString(str(m0.Sid)) || m0.Index != 0 || str(m0.Author) != "alice" || str(m0.ParticipantSid) != *alice.Sid ||
			str(m0.Body) != "Hello & <welcome>" || str(m0.Attributes) != `{"importance":"high"}` || m0.Media != nil || m0.ContentSid != nil {
			t.Fatalf("created message = %+v", m0)
		}
		if str(m0.AccountSid) != testserver.AccountSid || str(m0.ConversationSid) != ch {
			t.Errorf("account/conversation = %s/%s", str(m0.AccountSid), str(m0.ConversationSid))
		}
		wantURL := env.srv.URL + "/v1/Conversations/" + ch + "/Messages/" + *m0.Sid
		if str(m0.Url) != wantURL || (*m0.Links)["delivery_receipts"] != wantURL+"/Receipts" || (*m0.Links)["channel_metadata"] != wantURL+"/ChannelMetadata" {
			t.Errorf("url = %s, links = %v", str(m0.Url), *m0.Links)
		}
		clock := time.Date(2015, 12, 16, 22, 18, 37, 0, time.UTC)
		if !m0.DateCreated.Equal(clock) || !m0.DateUpdated.Equal(clock) {
			t.Errorf("dates = %v %v", m0.DateCreated, m0.DateUpdated)
		}
		// One SMS recipient, not sent yet when the create answers.
		if got := summary(t, m0.Delivery); got["total"] != float64(1) || got["sent"] != "none" || got["read"] != "none" || len(got) != 6 {
			t.Errorf("delivery summary at create = %v", got)
		}
		var added bool
		for _, ev := range env.srv.Events.Events() {
			if ev.Type == "onMessageAdded" && ev.Message != nil && ev.Message.Sid == *m0.Sid && ev.WebhookEnabled {
				added = true
			}
		}
		if !added {
			t.Error("no onMessageAdded event with WebhookEnabled for the message")
		}

		// Defaults: author "system", no participant, attributes "{}".
		m1 := env.send(t, ch, "", "system notice")
		if m1.Index != 1 || str(m1.Author) != "system" || m1.ParticipantSid != nil || str(m1.Attributes) != "{}" {
			t.Errorf("system message = index %d author %s participant %s attributes %s", m1.Index, str(m1.Author), str(m1.ParticipantSid), str(m1.Attributes))
		}
		// An SMS participant's address as author; an author naming nobody.
		m2 := env.send(t, ch, "+15557770001", "from the phone")
		if str(m2.ParticipantSid) != *sms.Sid {
			t.Errorf("address author: participant_sid = %s, want %s", str(m2.ParticipantSid), *sms.Sid)
		}
		if summary(t, m2.Delivery) != nil {
			t.Errorf("a message from the only SMS participant has no SMS recipient: delivery = %v", summary(t, m2.Delivery))
		}
		m3 := env.send(t, ch, "nobody", "who?")
		if m3.ParticipantSid != nil || str(m3.Author) != "nobody" {
			t.Errorf("unknown author: %s %s", str(m3.Author), str(m3.ParticipantSid))
		}

		// Fetch: the SMS delivery of m0 goes out through the outbox.
		eventually(t, "m0 sent to the SMS participant", func() bool {
			f, err := env.api.FetchConversationMessage(ch, *m0.Sid)
			return err == nil && summary(t, f.Delivery)["sent"] == "all"
		})
		f, err := env.api.FetchConversationMessage(ch, *m0.Sid)
		if err != nil || str(f.Body) != "Hello & <welcome>" || f.Index != 0 || str(f.ParticipantSid) != *alice.Sid {
			t.Fatalf("fetch: %v %+v", err, f)
		}

		// List ascending (default) and descending.
		list, err := env.api.ListConversationMessage(ch, nil)
		if err != nil || len(list) != 4 {
			t.Fatalf("list: %v %d", err, len(list))
		}
		for i, m := range list {
			if m.Index != i {
				t.Errorf("asc list[%d].index = %d", i, m.Index)
			}
		}
		desc, err := env.api.ListConversationMessage(ch, (&conversations.ListConversationMessageParams{}).SetOrder("desc").SetPageSize(3))
		if err != nil || len(desc) != 4 || desc[0].Index != 3 || desc[3].Index != 0 {
			t.Fatalf("desc list: %v %d", err, len(desc))
		}
		page, err := env.api.PageConversationMessage(ch, (&conversations.ListConversationMessageParams{}).SetOrder("desc").SetPageSize(3), "", "")
		if err != nil {
			t.Fatal(err)
		}
		if page.Meta.Key != "messages" || len(page.Messages) != 3 || page.Messages[0].Index != 3 ||
			page.Meta.Url != env.srv.URL+"/v1/Conversations/"+ch+"/Messages?Order=desc&PageSize=3&Page=0" ||
			!strings.HasPrefix(str(page.Meta.NextPageUrl), env.srv.URL+"/v1/Conversations/"+ch+"/Messages?Order=desc&PageSize=3&Page=1&PageToken=") {
			t.Errorf("desc page 0: %d messages, meta %+v", len(page.Messages), page.Meta)
		}

		// Update: body, attributes and author (attributed again).
		up, err := env.api.UpdateConversationMessage(ch, *m3.Sid, (&conversations.UpdateConversationMessageParams{}).
			SetBody("edited").SetAttributes(`{"edited":true}`).SetAuthor("bob").SetXTwilioWebhookEnabled("false"))
		if err != nil || str(up.Body) != "edited" || str(up.Attributes) != `{"edited":true}` || str(up.Author) != "bob" || up.ParticipantSid == nil || up.Index != 3 {
			t.Fatalf("update: %v %+v", err, up)
		}
		env.srv.Clock.Advance(time.Minute)
		when := time.Date(2020, 7, 1, 22, 18, 37, 0, time.UTC)
		up, err = env.api.UpdateConversationMessage(ch, *m3.Sid, (&conversations.UpdateConversationMessageParams{}).SetDateUpdated(when))
		if err != nil || !up.DateUpdated.Equal(when) || !up.DateCreated.Equal(clock) {
			t.Fatalf("update date: %v %+v", err, up)
		}
		up, err = env.api.UpdateConversationMessage(ch, *m3.Sid, (&conversations.UpdateConversationMessageParams{}).SetBody("again"))
		if err != nil || !up.DateUpdated.Equal(clock.Add(time.Minute)) {
			t.Fatalf("update stamps date_updated: %v %+v", err, up)
		}

		// Delete leaves a gap: the next message gets index 4, not 3.
		res, err := env.api.DeleteConversationMessageWithMetadata(ch, *m3.Sid, (&conversations.DeleteConversationMessageParams{}).SetXTwilioWebhookEnabled("true"))
		if err != nil || res.StatusCode != http.StatusNoContent {
			t.Fatalf("delete: %v %+v", err, res)
		}
		_, err = env.api.FetchConversationMessage(ch, *m3.Sid)
		re := restError(t, err, 404, 20404)
		if want := "The requested resource /Conversations/" + ch + "/Messages/" + *m3.Sid + " was not found"; re.Message != want {
			t.Errorf("404 message = %q", re.Message)
		}
		err = env.api.DeleteConversationMessage(ch, *m3.Sid, nil)
		restError(t, err, 404, 20404)
		m4 := env.send(t, ch, "alice", "after the gap")
		if m4.Index != 4 {
			t.Errorf("index after delete = %d, want 4", m4.Index)
		}
		list, _ = env.api.ListConversationMessage(ch, nil)
		var idx []int
		for _, m := range list {
			idx = append(idx, m.Index)
		}
		if len(idx) != 4 || idx[2] != 2 || idx[3] != 4 {
			t.Errorf("indexes after delete = %v, want [0 1 2 4]", idx)
		}
		var types []string
		for _, ev := range env.srv.Events.Events() {
			if strings.HasPrefix(string(ev.Type), "onMessage") {
				types = append(types, string(ev.Type))
			}
		}
		if got := strings.Join(types, ","); got != "onMessageAdded,onMessageAdded,onMessageAdded,onMessageAdded,onMessageUpdated,onMessageUpdated,onMessageUpdated,onMessageRemoved,onMessageAdded" {
			t.Errorf("message events = %s", got)
		}
	})
}

func TestMessageErrors(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		env := setup(t, e)
		ch := *env.conversation(t, "errs").Sid
		m := env.send(t, ch, "", "one")
		create := func(p *conversations.CreateConversationMessageParams) error {
			_, err := env.api.CreateConversationMessage(ch, p)
			return err
		}
		p := func() *conversations.CreateConversationMessageParams {
			return &conversations.CreateConversationMessageParams{}
		}
		restError(t, create(p()), 400, 50503)
		restError(t, create(p().SetAttributes(`{}`)), 400, 50503)
		restError(t, create(p().SetBody("x").SetAttributes("{nope")), 400, 50304)
		restError(t, create(p().SetBody(strings.Repeat("é", 1601))), 400, 50504)
		restError(t, create(p().SetBody("x").SetAuthor(strings.Repeat("a", 257))), 400, 50310)
		restError(t, create(p().SetMediaSid("MEaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")), 400, 50507)
		restError(t, create(p().SetBody("x").SetXTwilioWebhookEnabled("maybe")), 400, 20422)
		// A ContentSid message needs no body.
		if err := create(p().SetContentSid("HXaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa").SetContentVariables(`{"1":"x"}`)); err != nil {
			t.Errorf("content message: %v", err)
		}
		// Nothing failed was stored: the counter moved only for the two messages.
		list, _ := env.api.ListConversationMessage(ch, nil)
		if len(list) != 2 || list[1].Index != 1 {
			t.Fatalf("after failed creates: %d messages", len(list))
		}

		_, err := env.api.CreateConversationMessage("CHffffffffffffffffffffffffffffffff", p().SetBody("x"))
		restError(t, err, 404, 20404)
		_, err = env.api.FetchConversationMessage(ch, "IMffffffffffffffffffffffffffffffff")
		restError(t, err, 404, 20404)
		_, err = env.api.FetchConversationMessage(ch, "not-a-sid")
		restError(t, err, 404, 20404)
		_, err = env.api.UpdateConversationMessage(ch, *m.Sid, (&conversations.UpdateConversationMessageParams{}).SetBody(""))
		restError(t, err, 400, 50503)
		_, err = env.api.UpdateConversationMessage(ch, *m.Sid, (&conversations.UpdateConversationMessageParams{}).SetAttributes("[1,"))
		restError(t, err, 400, 50304)
		if f, _ := env.api.FetchConversationMessage(ch, *m.Sid); str(f.Body) != "one" || str(f.Attributes) != "{}" {
			t.Errorf("failed updates changed the message: %+v", f)
		}
		_, err = env.api.ListConversationMessage(ch, (&conversations.ListConversationMessageParams{}).SetOrder("sideways"))
		restError(t, err, 400, 20422)
		// Order is case-insensitive.
		if _, err := env.api.ListConversationMessage(ch, (&conversations.ListConversationMessageParams{}).SetOrder("DeSc")); err != nil {
			t.Errorf("Order=DeSc: %v", err)
		}

		// A closed conversation takes no messages and no edits; deleting still works.
		if _, err := env.api.UpdateConversation(ch, (&conversations.UpdateConversationParams{}).SetState("closed")); err != nil {
			t.Fatal(err)
		}
		_, err = env.api.CreateConversationMessage(ch, p().SetBody("late"))
		restError(t, err, 400, 50377)
		_, err = env.api.UpdateConversationMessage(ch, *m.Sid, (&conversations.UpdateConversationMessageParams{}).SetBody("late"))
		restError(t, err, 400, 50377)
		if err := env.api.DeleteConversationMessage(ch, *m.Sid, nil); err != nil {
			t.Errorf("delete in a closed conversation: %v", err)
		}
	})
}

func TestMessageReactivatesInactiveConversation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		env := setup(t, e)
		ch := *env.conversation(t, "sleepy").Sid
		if _, err := env.api.UpdateConversation(ch, (&conversations.UpdateConversationParams{}).SetState("inactive")); err != nil {
			t.Fatal(err)
		}
		env.send(t, ch, "", "wake up")
		c, err := env.api.FetchConversation(ch)
		if err != nil || str(c.State) != "active" {
			t.Fatalf("state after a message: %v %s", err, str(c.State))
		}
	})
}

func TestServiceFormMessages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		env := setup(t, e)
		svc, err := env.api.CreateService((&conversations.CreateServiceParams{}).SetFriendlyName("msg service"))
		if err != nil {
			t.Fatal(err)
		}
		is := *svc.Sid
		c, err := env.api.CreateServiceConversation(is, (&conversations.CreateServiceConversationParams{}).SetUniqueName("svc-msgs"))
		if err != nil {
			t.Fatal(err)
		}
		ch := *c.Sid
		carol, err := env.api.CreateServiceConversationParticipant(is, ch, (&conversations.CreateServiceConversationParticipantParams{}).SetIdentity("carol"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := env.api.CreateServiceConversationParticipant(is, ch, (&conversations.CreateServiceConversationParticipantParams{}).
			SetMessagingBindingAddress("+15557771001").SetMessagingBindingProxyAddress("+15557771002")); err != nil {
			t.Fatal(err)
		}
		m, err := env.api.CreateServiceConversationMessage(is, "svc-msgs", (&conversations.CreateServiceConversationMessageParams{}).
			SetAuthor("carol").SetBody("hi").SetXTwilioWebhookEnabled("true"))
		if err != nil {
			t.Fatal(err)
		}
		base := env.srv.URL + "/v1/Services/" + is + "/Conversations/" + ch + "/Messages/" + *m.Sid
		if str(m.ChatServiceSid) != is || str(m.Url) != base || str(m.ParticipantSid) != *carol.Sid || (*m.Links)["delivery_receipts"] != base+"/Receipts" {
			t.Errorf("service form message: service %s url %s participant %s", str(m.ChatServiceSid), str(m.Url), str(m.ParticipantSid))
		}
		f, err := env.api.FetchServiceConversationMessage(is, ch, *m.Sid)
		if err != nil || str(f.Body) != "hi" {
			t.Fatalf("fetch: %v", err)
		}
		env.api.CreateServiceConversationMessage(is, ch, (&conversations.CreateServiceConversationMessageParams{}).SetBody("two"))
		list, err := env.api.ListServiceConversationMessage(is, ch, (&conversations.ListServiceConversationMessageParams{}).SetOrder("desc"))
		if err != nil || len(list) != 2 || list[0].Index != 1 || str(list[0].ChatServiceSid) != is {
			t.Fatalf("list: %v %d", err, len(list))
		}
		up, err := env.api.UpdateServiceConversationMessage(is, ch, *m.Sid, (&conversations.UpdateServiceConversationMessageParams{}).SetBody("hi!"))
		if err != nil || str(up.Body) != "hi!" {
			t.Fatalf("update: %v", err)
		}
		eventually(t, "the SMS receipt", func() bool {
			rs, err := env.api.ListServiceConversationMessageReceipt(is, ch, *m.Sid, nil)
			return err == nil && len(rs) == 1 && str(rs[0].Status) == "sent"
		})
		rs, _ := env.api.ListServiceConversationMessageReceipt(is, ch, *m.Sid, nil)
		r, err := env.api.FetchServiceConversationMessageReceipt(is, ch, *m.Sid, *rs[0].Sid)
		if err != nil || str(r.ChatServiceSid) != is || str(r.Url) != base+"/Receipts/"+*rs[0].Sid {
			t.Fatalf("fetch receipt: %v %+v", err, r)
		}
		if err := env.api.DeleteServiceConversationMessage(is, ch, *m.Sid, nil); err != nil {
			t.Fatal(err)
		}
		// The conversation is not in the default service: the shortened URL does not see it.
		_, err = env.api.FetchConversationMessage(ch, *m.Sid)
		restError(t, err, 404, 20404)
	})
}

func TestMessagePagingBothWays(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		env := setup(t, e)
		ch := *env.conversation(t, "many").Sid
		for i := 0; i < 7; i++ {
			env.send(t, ch, "", string(rune('a'+i)))
		}
		for _, order := range []string{"asc", "desc"} {
			all, err := env.api.ListConversationMessage(ch, (&conversations.ListConversationMessageParams{}).SetOrder(order).SetPageSize(2))
			if err != nil || len(all) != 7 {
				t.Fatalf("%s: %v %d", order, err, len(all))
			}
			for i, m := range all {
				want := i
				if order == "desc" {
					want = 6 - i
				}
				if m.Index != want {
					t.Errorf("%s[%d].index = %d, want %d", order, i, m.Index, want)
				}
			}
		}
		// Follow next_page_url then previous_page_url (descending).
		st, body := env.srv.Do(t, "GET", "/v1/Conversations/"+ch+"/Messages?Order=desc&PageSize=3", nil)
		type pageT struct {
			Messages []struct{ Index int } `json:"messages"`
			Meta     struct {
				NextPageURL     *string `json:"next_page_url"`
				PreviousPageURL *string `json:"previous_page_url"`
			} `json:"meta"`
		}
		var p0, p1, back pageT
		if err := json.Unmarshal(body, &p0); err != nil || st != 200 || p0.Meta.NextPageURL == nil {
			t.Fatalf("page 0: %d %s", st, body)
		}
		st, body = env.srv.Do(t, "GET", strings.TrimPrefix(*p0.Meta.NextPageURL, env.srv.URL), nil)
		if err := json.Unmarshal(body, &p1); err != nil || st != 200 || len(p1.Messages) != 3 || p1.Messages[0].Index != 3 || p1.Meta.PreviousPageURL == nil {
			t.Fatalf("page 1: %d %s", st, body)
		}
		st, body = env.srv.Do(t, "GET", strings.TrimPrefix(*p1.Meta.PreviousPageURL, env.srv.URL), nil)
		if err := json.Unmarshal(body, &back); err != nil || st != 200 || len(back.Messages) != 3 || back.Messages[0].Index != 6 {
			t.Fatalf("back to page 0: %d %s", st, body)
		}
	})
}

func TestReceiptsAndReadHorizon(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		env := setup(t, e)
		ch := *env.conversation(t, "receipts").Sid
		bob := env.chat(t, ch, "bob")
		sms := env.sms(t, ch, "+15557772001", "+15557772002")

		// No message yet: a read horizon may still be set (Twilio does not tie it to existing
		// messages); cleared again for what follows.
		p0, err := env.api.UpdateConversationParticipant(ch, *bob.Sid, (&conversations.UpdateConversationParticipantParams{}).SetLastReadMessageIndex(0))
		if err != nil || p0.LastReadMessageIndex == nil || *p0.LastReadMessageIndex != 0 {
			t.Fatalf("horizon before any message: %v", err)
		}
		if st, body := env.srv.Do(t, "POST", "/v1/Conversations/"+ch+"/Participants/"+*bob.Sid, map[string]string{"LastReadMessageIndex": "null"}); st != 200 {
			t.Fatalf("clear horizon: %d %s", st, body)
		}

		m0 := env.send(t, ch, "", "zero")
		m1 := env.send(t, ch, "", "one")
		eventually(t, "m1 sent by SMS", func() bool {
			f, err := env.api.FetchConversationMessage(ch, *m1.Sid)
			return err == nil && summary(t, f.Delivery)["sent"] == "all"
		})
		// The SMS receipt is sent; bob has no live stream, so his delivery is still queued.
		rs, err := env.api.ListConversationMessageReceipt(ch, *m0.Sid, nil)
		if err != nil || len(rs) != 1 {
			t.Fatalf("receipts of m0: %v %d", err, len(rs))
		}
		r := rs[0]
		if !receiptSidRE.MatchString(str(r.Sid)) || str(r.Status) != "sent" || str(r.ParticipantSid) != *sms.Sid || str(r.MessageSid) != *m0.Sid ||
			!regexp.MustCompile(`^SM[0-9a-f]{32}$`).MatchString(str(r.ChannelMessageSid)) || r.ErrorCode != 0 ||
			str(r.Url) != env.srv.URL+"/v1/Conversations/"+ch+"/Messages/"+*m0.Sid+"/Receipts/"+*r.Sid {
			t.Errorf("SMS receipt = %+v", r)
		}

		// Bob reads up to m0: his receipt of m0 says read, m1 stays queued.
		p, err := env.api.UpdateConversationParticipant(ch, *bob.Sid, (&conversations.UpdateConversationParticipantParams{}).SetLastReadMessageIndex(0))
		if err != nil || p.LastReadMessageIndex == nil || *p.LastReadMessageIndex != 0 {
			t.Fatalf("set horizon: %v", err)
		}
		rs, _ = env.api.ListConversationMessageReceipt(ch, *m0.Sid, nil)
		statuses := map[string]string{}
		for _, r := range rs {
			statuses[str(r.ParticipantSid)] = str(r.Status)
		}
		if statuses[*bob.Sid] != "read" || statuses[*sms.Sid] != "sent" || len(rs) != 2 {
			t.Errorf("m0 receipts after bob read it = %v", statuses)
		}
		rs, _ = env.api.ListConversationMessageReceipt(ch, *m1.Sid, nil)
		if len(rs) != 1 || str(rs[0].ParticipantSid) != *sms.Sid {
			t.Errorf("m1 receipts = %d (bob has not read it)", len(rs))
		}
		// A horizon beyond the last message is stored as given.
		p, err = env.api.UpdateConversationParticipant(ch, *sms.Sid, (&conversations.UpdateConversationParticipantParams{}).SetLastReadMessageIndex(99))
		if err != nil || p.LastReadMessageIndex == nil || *p.LastReadMessageIndex != 99 {
			t.Fatalf("horizon beyond the last message: %v %v", err, p.LastReadMessageIndex)
		}
		f, _ := env.api.FetchConversationMessage(ch, *m1.Sid)
		if s := summary(t, f.Delivery); s["read"] != "all" || s["delivered"] != "all" || s["sent"] != "all" || s["total"] != float64(1) {
			t.Errorf("summary after the SMS participant read = %v", s)
		}
		got, err := env.api.FetchConversationMessageReceipt(ch, *m1.Sid, *rs[0].Sid)
		if err != nil || str(got.Status) != "read" {
			t.Errorf("fetch receipt: %v %+v", err, got)
		}
		_, err = env.api.FetchConversationMessageReceipt(ch, *m1.Sid, "DYffffffffffffffffffffffffffffffff")
		restError(t, err, 404, 20404)
		_, err = env.api.ListConversationMessageReceipt(ch, "IMffffffffffffffffffffffffffffffff", nil)
		restError(t, err, 404, 20404)
		// Unread count, as the domain computes it: bob read m0, so 1 unread.
		n, err := env.srv.Service.ParticipantUnreadCount(t.Context(), scope(), ch, "bob")
		if err != nil || n == nil || *n != 1 {
			t.Errorf("bob's unread count = %v, %v; want 1", n, err)
		}
	})
}
