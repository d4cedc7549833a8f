package sdkgo_test

import (
	"context"
	"strings"
	"testing"
	"time"

	conversations "github.com/twilio/twilio-go/rest/conversations/v1"

	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/store/storetest"
	"github.com/parley-dev/parley/internal/testserver"
)

func timerDates(t *testing.T, c *conversations.ConversationsV1Conversation) map[string]any {
	t.Helper()
	return asMap(t, "timers", c.Timers)
}

// TestConversationTimers moves conversations to inactive and closed on the test clock: reads
// see the change as soon as it is due, and the timer loop (ApplyTimers) makes it without any
// read.
func TestConversationTimers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		env := setup(t, e)
		api := env.api
		clock := env.srv.Clock
		start := clock.Now()

		c, err := api.CreateConversation((&conversations.CreateConversationParams{}).SetTimersInactive("PT1M").SetTimersClosed("PT10M"))
		if err != nil {
			t.Fatal(err)
		}
		sms, err := api.CreateConversationParticipant(*c.Sid, (&conversations.CreateConversationParticipantParams{}).
			SetMessagingBindingAddress("+15558671001").SetMessagingBindingProxyAddress("+15017121001"))
		if err != nil {
			t.Fatal(err)
		}

		clock.Advance(59 * time.Second)
		got, err := api.FetchConversation(*c.Sid)
		if err != nil || str(got.State) != "active" {
			t.Fatalf("before the inactive timer: %s, %v", str(got.State), err)
		}
		clock.Advance(time.Second)
		got, err = api.FetchConversation(*c.Sid)
		if err != nil {
			t.Fatal(err)
		}
		if str(got.State) != "inactive" || !got.DateUpdated.Equal(start.Add(time.Minute)) {
			t.Errorf("at the inactive timer: state %s, date_updated %v", str(got.State), got.DateUpdated)
		}
		if tm := timerDates(t, got); tm["date_inactive"] != nil || tm["date_closed"] != start.Add(10*time.Minute).Format(time.RFC3339) {
			t.Errorf("timers after going inactive = %v", tm)
		}
		inactive, err := api.ListConversation((&conversations.ListConversationParams{}).SetState("inactive"))
		if err != nil || len(inactive) != 1 || *inactive[0].Sid != *c.Sid {
			t.Errorf("list State=inactive = %d, %v", len(inactive), err)
		}
		// An inactive conversation still takes participants.
		if _, err := api.CreateConversationParticipant(*c.Sid, (&conversations.CreateConversationParticipantParams{}).SetIdentity("late")); err != nil {
			t.Errorf("participant in an inactive conversation: %v", err)
		}

		// The closed timer: refuses participants, frees the SMS pair.
		clock.Advance(9 * time.Minute)
		got, err = api.FetchConversation(*c.Sid)
		if err != nil {
			t.Fatal(err)
		}
		if str(got.State) != "closed" || len(timerDates(t, got)) != 0 || !got.DateUpdated.Equal(start.Add(10*time.Minute)) {
			t.Errorf("at the closed timer: state %s, timers %v, date_updated %v", str(got.State), timerDates(t, got), got.DateUpdated)
		}
		_, err = api.CreateConversationParticipant(*c.Sid, (&conversations.CreateConversationParticipantParams{}).SetIdentity("too-late"))
		restError(t, err, 400, 50377)
		_, err = api.UpdateConversation(*c.Sid, (&conversations.UpdateConversationParams{}).SetFriendlyName("x"))
		restError(t, err, 400, 50377)
		other := env.conversation(t, "")
		if _, err := api.CreateConversationParticipant(*other.Sid, (&conversations.CreateConversationParticipantParams{}).
			SetMessagingBindingAddress("+15558671001").SetMessagingBindingProxyAddress("+15017121001")); err != nil {
			t.Errorf("the closed conversation's pair is not free: %v", err)
		}
		if p, err := api.FetchConversationParticipant(*c.Sid, *sms.Sid); err != nil || str(p.Sid) != *sms.Sid {
			t.Errorf("participants of a closed conversation stay readable: %v", err)
		}
	})
}

// TestTimerLoopAndBindingRelease covers ApplyTimers (what parley serve runs every few
// seconds) and the release of a pair held by a conversation whose closed timer is due but
// that nobody has read since.
func TestTimerLoopAndBindingRelease(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		env := setup(t, e)
		api := env.api
		clock := env.srv.Clock
		ctx := context.Background()

		a, err := api.CreateConversation((&conversations.CreateConversationParams{}).SetTimersClosed("PT10M"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := api.CreateConversationParticipant(*a.Sid, (&conversations.CreateConversationParticipantParams{}).
			SetMessagingBindingAddress("+15558672001").SetMessagingBindingProxyAddress("+15017122001")); err != nil {
			t.Fatal(err)
		}
		b := env.conversation(t, "")
		pair := (&conversations.CreateConversationParticipantParams{}).SetMessagingBindingAddress("+15558672001").SetMessagingBindingProxyAddress("+15017122001")
		_, err = api.CreateConversationParticipant(*b.Sid, pair)
		restError(t, err, 409, 50416)

		// Due, unread: claiming the pair closes the holder first.
		clock.Advance(10 * time.Minute)
		if _, err := api.CreateConversationParticipant(*b.Sid, pair); err != nil {
			t.Fatalf("pair held by a conversation whose closed timer is due: %v", err)
		}
		if got, _ := api.FetchConversation(*a.Sid); str(got.State) != "closed" {
			t.Errorf("holder state = %s", str(got.State))
		}

		// The loop: nothing due, then one conversation to close, one to make inactive. A
		// service webhook hears of both state changes (Reason TIMER).
		cfg := mustConfig(t, api)
		if code, body := env.srv.Do(t, "POST", "/v1/Services/"+*cfg.DefaultChatServiceSid+"/Configuration/Webhooks", map[string]string{
			"PostWebhookUrl": "http://127.0.0.1:9/timers", "Method": "POST", "Filters": "onConversationStateUpdated"}); code != 200 {
			t.Fatalf("service webhook configuration: %d %s", code, body)
		}
		n, err := env.srv.Service.ApplyTimers(ctx, clock.Now())
		if err != nil || n != 0 {
			t.Fatalf("ApplyTimers with nothing due = %d, %v", n, err)
		}
		c1, err := api.CreateConversation((&conversations.CreateConversationParams{}).SetTimersClosed("PT10M"))
		if err != nil {
			t.Fatal(err)
		}
		c2, err := api.CreateConversation((&conversations.CreateConversationParams{}).SetTimersInactive("PT2M"))
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Hour)
		before := len(env.srv.Events.Events())
		n, err = env.srv.Service.ApplyTimers(ctx, clock.Now())
		if err != nil || n != 2 {
			t.Fatalf("ApplyTimers = %d, %v; want 2", n, err)
		}
		// Read the store directly: the change is stored, not computed on read.
		for sid, want := range map[string]string{*c1.Sid: conv.StateClosed, *c2.Sid: conv.StateInactive} {
			got, err := env.srv.Store.GetConversation(ctx, *cfg.DefaultChatServiceSid, sid)
			if err != nil || got.State != want || got.DateInactive != nil || got.DateClosed != nil {
				t.Errorf("stored %s: %+v, %v; want %s without timer dates", sid, got, err, want)
			}
		}
		evs := env.srv.Events.Events()[before:]
		if len(evs) != 2 || evs[0].Type != "onConversationStateUpdated" || evs[0].Source != "TIMER" {
			t.Errorf("events = %+v", evs)
		}
		n, err = env.srv.Service.ApplyTimers(ctx, clock.Now())
		if err != nil || n != 0 {
			t.Errorf("ApplyTimers again = %d, %v", n, err)
		}
		hooks, err := env.srv.Service.ListWebhookDeliveries(ctx, testserver.AccountSid, conv.WebhookDeliveryFilter{EventType: "onConversationStateUpdated"}, conv.PageQuery{Size: 10})
		if err != nil || len(hooks) != 2 {
			t.Fatalf("webhook deliveries = %d, %v", len(hooks), err)
		}
		for _, h := range hooks {
			if !strings.Contains(h.Params, "Reason=TIMER") || !strings.Contains(h.Params, "StateFrom=active") {
				t.Errorf("webhook of %s: %s", h.ConversationSid, h.Params)
			}
		}
	})
}
