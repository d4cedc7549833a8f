package webhook_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/twilio/twilio-go/client"

	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/store/storetest"
	"github.com/parley-dev/parley/internal/webhook"
)

// TestSignVectors checks Sign against Twilio's published test vectors and twilio-go's
// validator.
func TestSignVectors(t *testing.T) {
	call := url.Values{"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+14158675309"}, "Digits": {"1234"},
		"From": {"+14158675309"}, "To": {"+18005551212"}}
	docs := url.Values{"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+12349013030"}, "Digits": {"1234"},
		"From": {"+12349013030"}, "To": {"+18005551212"}}
	for _, v := range []struct {
		token, url string
		params     url.Values
		want       string
	}{
		{"12345", "https://mycompany.com/myapp.php?foo=1&bar=2", call, "RSOYDt4T1cUTdK1PDd93/VVr8B8="},
		{"12345", "https://mycompany.com:443/myapp.php?foo=1&bar=2", call, "kvajT1Ptam85bY51eRf/AJRuM3w="},
		{"12345", "https://mycompany.com/myapp.php?foo=1&bar=2", url.Values{"Sid": {"CA123"}, "SidAccount": {"AC123"}, "Digits": {"5678", "1234"}}, "IK+Dwps556ElfBT0I3Rgjkr1wJU="},
		{"12345", "https://mycompany.com/myapp.php?foo=1&bar=2", docs, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="},
	} {
		if got := webhook.Sign(v.token, v.url, v.params); got != v.want {
			t.Errorf("Sign(%s, %v) = %s, want %s", v.url, v.params, got, v.want)
		}
	}
	// twilio-go validates what Sign makes (each key once, as Parley sends them).
	params := url.Values{"EventType": {"onParticipantAdded"}, "MessagingBinding.Address": {"+15558675310"}, "Attributes": {`{"n":"héllo ✓"}`}}
	flat := map[string]string{}
	for k := range params {
		flat[k] = params.Get(k)
	}
	rv := client.NewRequestValidator("authtoken123")
	if sig := webhook.Sign("authtoken123", "http://127.0.0.1:9000/webhook", params); !rv.Validate("http://127.0.0.1:9000/webhook", flat, sig) {
		t.Errorf("twilio-go rejects signature %s", sig)
	}
}

// allPost are the post-event filters Parley emits for conversations and participants.
var allPost = []string{"onConversationAdded", "onConversationUpdated", "onConversationRemoved", "onConversationStateUpdated",
	"onParticipantAdded", "onParticipantUpdated", "onParticipantRemoved"}

// TestEveryEventType makes every conversation and participant change through the domain with
// X-Twilio-Webhook-Enabled and checks each webhook request: order, parameters, headers and
// signature.
func TestEveryEventType(t *testing.T) {
	storetest.Each(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng, webhook.Options{})
		rc := newReceiver(t)
		e.serviceHooks("", rc.URL("/post?tag=1"), allPost...)

		c, err := e.svc.CreateConversation(e.ctx, e.sc, conv.ConversationParams{FriendlyName: ptr("Support"), UniqueName: ptr("support")}, api)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.UpdateConversation(e.ctx, e.sc, c.Sid, conv.ConversationParams{Attributes: ptr(`{"a":1}`), State: ptr("inactive")}, api); err != nil {
			t.Fatal(err)
		}
		alice, err := e.svc.CreateParticipant(e.ctx, e.sc, c.Sid, conv.ParticipantCreate{Identity: ptr("alice"), Attributes: ptr(`{"x":1}`)}, api)
		if err != nil {
			t.Fatal(err)
		}
		sms, err := e.svc.CreateParticipant(e.ctx, e.sc, c.Sid, conv.ParticipantCreate{Address: ptr("+15551230001"), ProxyAddress: ptr("+15551230002")}, api)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.UpdateParticipant(e.ctx, e.sc, c.Sid, "alice", conv.ParticipantUpdate{Attributes: ptr(`{"y":2}`)}, api); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.DeleteParticipant(e.ctx, e.sc, c.Sid, sms.Sid, api); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.DeleteConversation(e.ctx, e.sc, c.Sid, api); err != nil {
			t.Fatal(err)
		}
		if n := e.drain(); n != 8 {
			t.Fatalf("Drain made %d attempts, want 8 (events %v)", n, rc.events())
		}
		got := rc.requests()
		const date = "2015-12-16T22:18:37Z"
		common := func(typ string) map[string]string {
			return map[string]string{"AccountSid": accountSid, "EventType": typ, "Source": "API", "ChatServiceSid": e.svcID, "RetryCount": "0"}
		}
		with := func(m map[string]string, kv ...string) map[string]string {
			for i := 0; i < len(kv); i += 2 {
				m[kv[i]] = kv[i+1]
			}
			return m
		}
		exp := []map[string]string{
			with(common("onConversationAdded"), "ConversationSid", c.Sid, "FriendlyName", "Support", "UniqueName", "support",
				"Attributes", "{}", "State", "active", "DateCreated", date, "DateUpdated", date),
			with(common("onConversationUpdated"), "ConversationSid", c.Sid, "FriendlyName", "Support", "UniqueName", "support",
				"Attributes", `{"a":1}`, "State", "inactive", "DateCreated", date, "DateUpdated", date),
			with(common("onConversationStateUpdated"), "ConversationSid", c.Sid, "StateFrom", "active", "StateTo", "inactive",
				"StateUpdated", date, "Reason", "API"),
			with(common("onParticipantAdded"), "ConversationSid", c.Sid, "ParticipantSid", alice.Sid, "Identity", "alice",
				"RoleSid", alice.RoleSid, "Attributes", `{"x":1}`, "MessagingBinding.Type", "CHAT", "DateCreated", date),
			with(common("onParticipantAdded"), "ConversationSid", c.Sid, "ParticipantSid", sms.Sid, "RoleSid", sms.RoleSid,
				"Attributes", "{}", "MessagingBinding.Type", "SMS", "MessagingBinding.Address", "+15551230001",
				"MessagingBinding.ProxyAddress", "+15551230002", "DateCreated", date),
			with(common("onParticipantUpdated"), "ConversationSid", c.Sid, "ParticipantSid", alice.Sid, "Identity", "alice",
				"RoleSid", alice.RoleSid, "Attributes", `{"y":2}`, "MessagingBinding.Type", "CHAT", "DateCreated", date, "DateUpdated", date),
			with(common("onParticipantRemoved"), "ConversationSid", c.Sid, "ParticipantSid", sms.Sid, "RoleSid", sms.RoleSid,
				"Attributes", "{}", "MessagingBinding.Type", "SMS", "MessagingBinding.Address", "+15551230001",
				"MessagingBinding.ProxyAddress", "+15551230002", "DateCreated", date, "DateUpdated", date, "DateRemoved", date),
			with(common("onConversationRemoved"), "ConversationSid", c.Sid, "FriendlyName", "Support", "UniqueName", "support",
				"Attributes", `{"a":1}`, "State", "inactive", "DateCreated", date, "DateUpdated", date, "DateRemoved", date),
		}
		if len(got) != len(exp) {
			t.Fatalf("got %d requests %v, want %d", len(got), rc.events(), len(exp))
		}
		tokens := map[string]bool{}
		for i, r := range got {
			want(t, exp[i]["EventType"], r.Params, exp[i])
			if !r.ValidGo {
				t.Errorf("%s: twilio-go rejects X-Twilio-Signature %q for %s", exp[i]["EventType"], r.Signature, r.URL)
			}
			if r.Method != http.MethodPost || r.URL != rc.URL("/post?tag=1") {
				t.Errorf("%s: %s %s", exp[i]["EventType"], r.Method, r.URL)
			}
			if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
				t.Errorf("Content-Type = %q", ct)
			}
			tok := r.Header.Get("I-Twilio-Idempotency-Token")
			if !strings.HasPrefix(tok, "WD") || tokens[tok] {
				t.Errorf("I-Twilio-Idempotency-Token = %q (seen before: %v)", tok, tokens[tok])
			}
			tokens[tok] = true
		}
		for _, d := range e.deliveries() {
			if d.Status != conv.WebhookDelivered || d.Attempts != 1 || d.LastStatusCode != 200 || d.Scope != conv.WebhookScopeService {
				t.Errorf("delivery %s %s: status %s attempts %d code %d scope %s", d.Sid, d.EventType, d.Status, d.Attempts, d.LastStatusCode, d.Scope)
			}
		}
	})
}
