package webhook_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/store/storetest"
	"github.com/parley-dev/parley/internal/webhook"
)

// TestMessageEvents: onMessageAdded, onMessageUpdated and onMessageRemoved with their
// parameters, a message reactivating an inactive conversation (onConversationStateUpdated,
// Reason EVENT), and a trigger webhook firing on keywords only.
func TestMessageEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng, webhook.Options{})
		rc := newReceiver(t)
		e.serviceHooks("", rc.URL("/post"), "onMessageAdded", "onMessageUpdated", "onMessageRemoved", "onConversationStateUpdated")
		c, err := e.svc.CreateConversation(e.ctx, e.sc, conv.ConversationParams{State: ptr("inactive")}, api)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.CreateParticipant(e.ctx, e.sc, c.Sid, conv.ParticipantCreate{Identity: ptr("alice")}, api); err != nil {
			t.Fatal(err)
		}
		trigger := conv.TargetTrigger
		if _, err := e.svc.CreateConversationWebhook(e.ctx, e.sc, c.Sid, conv.ConversationWebhookParams{Target: &trigger,
			URL: ptr(rc.URL("/trigger")), Triggers: []string{"help", "Stop Now"}, TriggersGiven: true}); err != nil {
			t.Fatal(err)
		}
		m, err := e.svc.CreateMessage(e.ctx, e.sc, c.Sid, conv.MessageCreate{Author: ptr("alice"), Body: ptr("hello"), Attributes: ptr(`{"k":1}`)}, api)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.UpdateMessage(e.ctx, e.sc, c.Sid, m.Sid, conv.MessageUpdate{Body: ptr("hello, I need HELP!")}, api); err != nil {
			t.Fatal(err)
		}
		for _, body := range []string{"helpful", "please stop now", "nothing"} {
			if _, err := e.svc.CreateMessage(e.ctx, e.sc, c.Sid, conv.MessageCreate{Body: ptr(body)}, api); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := e.svc.CreateMessage(e.ctx, e.sc, c.Sid, conv.MessageCreate{Body: ptr("Help me")}, api); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.DeleteMessage(e.ctx, e.sc, c.Sid, m.Sid, api); err != nil {
			t.Fatal(err)
		}
		e.drain()
		var seen []string
		byType := map[string][]request{}
		for _, r := range rc.requests() {
			path := strings.TrimPrefix(r.URL, rc.URL(""))
			seen = append(seen, path+":"+r.Params.Get("EventType"))
			byType[path+":"+r.Params.Get("EventType")] = append(byType[path+":"+r.Params.Get("EventType")], r)
			if !r.ValidGo {
				t.Errorf("%s: signature rejected", r.URL)
			}
		}
		wantSeq := "/post:onMessageAdded /post:onConversationStateUpdated /post:onMessageUpdated /post:onMessageAdded " +
			"/post:onMessageAdded /trigger:onMessageAdded /post:onMessageAdded /post:onMessageAdded /trigger:onMessageAdded /post:onMessageRemoved"
		if strings.Join(seen, " ") != wantSeq {
			t.Fatalf("requests:\n got  %s\n want %s", strings.Join(seen, " "), wantSeq)
		}
		const date = "2015-12-16T22:18:37Z"
		base := func(typ string) map[string]string {
			return map[string]string{"AccountSid": accountSid, "EventType": typ, "Source": "API", "ChatServiceSid": e.svcID,
				"RetryCount": "0", "ConversationSid": c.Sid}
		}
		add := base("onMessageAdded")
		for k, v := range map[string]string{"MessageSid": m.Sid, "Index": "0", "Author": "alice", "Body": "hello", "Attributes": `{"k":1}`,
			"ParticipantSid": m.ParticipantSid, "DateCreated": date} {
			add[k] = v
		}
		want(t, "onMessageAdded", byType["/post:onMessageAdded"][0].Params, add)
		st := base("onConversationStateUpdated")
		for k, v := range map[string]string{"StateFrom": "inactive", "StateTo": "active", "StateUpdated": date, "Reason": "EVENT"} {
			st[k] = v
		}
		want(t, "onConversationStateUpdated", byType["/post:onConversationStateUpdated"][0].Params, st)
		upd := base("onMessageUpdated")
		for k, v := range map[string]string{"MessageSid": m.Sid, "Index": "0", "Author": "alice", "Body": "hello, I need HELP!",
			"Attributes": `{"k":1}`, "ParticipantSid": m.ParticipantSid, "DateCreated": date, "DateUpdated": date} {
			upd[k] = v
		}
		want(t, "onMessageUpdated", byType["/post:onMessageUpdated"][0].Params, upd)
		rem := base("onMessageRemoved")
		for k, v := range map[string]string{"MessageSid": m.Sid, "Index": "0", "Author": "alice", "Body": "hello, I need HELP!",
			"Attributes": `{"k":1}`, "ParticipantSid": m.ParticipantSid, "DateCreated": date, "DateRemoved": date} {
			rem[k] = v
		}
		want(t, "onMessageRemoved", byType["/post:onMessageRemoved"][0].Params, rem)
		var triggered []string
		for _, r := range byType["/trigger:onMessageAdded"] {
			triggered = append(triggered, r.Params.Get("Body"))
		}
		if strings.Join(triggered, "|") != "please stop now|Help me" {
			t.Errorf("trigger fired for %q", triggered)
		}
	})
}

// TestMessagePreEvents: an SDK message goes through onMessageAdd, whose 200 JSON answer may
// change body, author and attributes (checked like the form); a 4xx answer rejects it and no
// message is stored; onMessageUpdate may change the body of an update.
func TestMessagePreEvents(t *testing.T) {
	e := newEnv(t, storetest.SQLite, webhook.Options{})
	pre := newReceiver(t)
	var status int
	var body string
	pre.answer = func(int, request) (int, string, time.Duration) { return status, body, 0 }
	e.serviceHooks(pre.URL("/pre"), "", "onMessageAdd", "onMessageUpdate", "onMessageRemove")
	c, err := e.svc.CreateConversation(e.ctx, e.sc, conv.ConversationParams{}, api)
	if err != nil {
		t.Fatal(err)
	}
	sdk := conv.WriteOptions{Source: conv.SourceSDK, ClientIdentity: "alice"}

	status, body = http.StatusOK, `{"body":"[redacted]","author":"moderator","attributes":{"checked":true}}`
	m, err := e.svc.CreateMessage(e.ctx, e.sc, c.Sid, conv.MessageCreate{Author: ptr("alice"), Body: ptr("bad word")}, sdk)
	if err != nil {
		t.Fatal(err)
	}
	if *m.Body != "[redacted]" || m.Author != "moderator" || m.Attributes != `{"checked":true}` {
		t.Errorf("modified message: body %q author %q attributes %q", *m.Body, m.Author, m.Attributes)
	}
	r := pre.requests()[0]
	want(t, "onMessageAdd", r.Params, map[string]string{"AccountSid": accountSid, "EventType": "onMessageAdd", "Source": "SDK",
		"ClientIdentity": "alice", "ChatServiceSid": e.svcID, "ConversationSid": c.Sid, "Author": "alice", "Body": "bad word", "Attributes": "{}"})

	status, body = http.StatusOK, `{"attributes":"not json"}`
	if _, err := e.svc.CreateMessage(e.ctx, e.sc, c.Sid, conv.MessageCreate{Body: ptr("x")}, sdk); err == nil {
		t.Errorf("a hook's invalid attributes were accepted")
	}
	status, body = http.StatusUnprocessableEntity, ""
	_, err = e.svc.CreateMessage(e.ctx, e.sc, c.Sid, conv.MessageCreate{Body: ptr("spam")}, sdk)
	if de, ok := conv.AsError(err); !ok || de.Code != 50056 {
		t.Fatalf("rejected message: %v", err)
	}
	ms, err := e.svc.ListMessages(e.ctx, e.sc, c.Sid, conv.MessageQuery{PageQuery: conv.PageQuery{Size: 10}})
	if err != nil || len(ms) != 1 {
		t.Fatalf("messages after rejections: %d %v", len(ms), err)
	}
	status, body = http.StatusOK, `{"body":"edited by hook"}`
	m2, err := e.svc.UpdateMessage(e.ctx, e.sc, c.Sid, m.Sid, conv.MessageUpdate{Body: ptr("edit")}, sdk)
	if err != nil || *m2.Body != "edited by hook" {
		t.Fatalf("modified update: %v %v", err, m2)
	}
	status, body = http.StatusServiceUnavailable, ""
	if err := e.svc.DeleteMessage(e.ctx, e.sc, c.Sid, m.Sid, sdk); err == nil {
		t.Fatalf("rejected remove succeeded")
	}
	if _, err := e.svc.FetchMessage(e.ctx, e.sc, c.Sid, m.Sid); err != nil {
		t.Errorf("message gone after a rejected remove: %v", err)
	}
}

// TestTimerStateUpdated: a conversation timer firing sends onConversationStateUpdated with
// Reason TIMER (no Source: nobody acted), whatever header created the conversation.
func TestTimerStateUpdated(t *testing.T) {
	storetest.Each(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng, webhook.Options{})
		rc := newReceiver(t)
		e.serviceHooks("", rc.URL("/post"), "onConversationStateUpdated")
		c, err := e.svc.CreateConversation(e.ctx, e.sc, conv.ConversationParams{State: ptr("active"), TimersInactive: ptr("PT1M")}, apiOff)
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(2 * time.Minute)
		if n, err := e.svc.ApplyTimers(e.ctx, e.clock.Now()); err != nil || n != 1 {
			t.Fatalf("ApplyTimers: %d %v", n, err)
		}
		e.drain()
		got := rc.requests()
		if len(got) != 1 {
			t.Fatalf("requests: %v", rc.events())
		}
		want(t, "timer", got[0].Params, map[string]string{"AccountSid": accountSid, "EventType": "onConversationStateUpdated",
			"ChatServiceSid": e.svcID, "ConversationSid": c.Sid, "StateFrom": "active", "StateTo": "inactive",
			"StateUpdated": "2015-12-16T22:19:37Z", "Reason": "TIMER", "RetryCount": "0"})
	})
}

// TestInboundMessageFires: a message from an SMS participant fires post-event webhooks
// without any header (Source SMS) and consults pre-event webhooks, like an SDK action.
func TestInboundMessageFires(t *testing.T) {
	e := newEnv(t, storetest.SQLite, webhook.Options{})
	rc, pre := newReceiver(t), newReceiver(t)
	e.serviceHooks(pre.URL("/pre"), "", "onMessageAdd")
	c, err := e.svc.CreateConversation(e.ctx, e.sc, conv.ConversationParams{}, apiOff)
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.svc.CreateParticipant(e.ctx, e.sc, c.Sid, conv.ParticipantCreate{Address: ptr("+15557770001"), ProxyAddress: ptr("+15557770002")}, apiOff)
	if err != nil {
		t.Fatal(err)
	}
	hook := conv.TargetWebhook
	if _, err := e.svc.CreateConversationWebhook(e.ctx, e.sc, c.Sid, conv.ConversationWebhookParams{Target: &hook, URL: ptr(rc.URL("/conv")),
		Filters: []string{"onMessageAdded"}, FiltersGiven: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ReceiveInbound(e.ctx, conv.InboundMessage{AccountSid: accountSid, From: "+15557770001", To: "+15557770002", Body: "hi"}); err != nil {
		t.Fatal(err)
	}
	e.drain()
	got := rc.requests()
	if len(got) != 1 || got[0].Params.Get("Source") != "SMS" || got[0].Params.Get("Author") != "+15557770001" ||
		got[0].Params.Get("ParticipantSid") != p.Sid || got[0].Params.Has("ClientIdentity") {
		t.Fatalf("inbound message webhook: %v", got)
	}
	if r := pre.requests(); len(r) != 1 || r[0].Params.Get("EventType") != "onMessageAdd" || r[0].Params.Get("Source") != "SMS" {
		t.Errorf("pre-event of an inbound message: %v", r)
	}
}
