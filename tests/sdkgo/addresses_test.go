package sdkgo_test

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"testing"

	conversations "github.com/twilio/twilio-go/rest/conversations/v1"

	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/store/storetest"
	"github.com/parley-dev/parley/internal/testserver"
)

// TestAddressConfigurations covers /v1/Configuration/Addresses: create with each
// auto-creation type, the shape of auto_creation per type, list with the Type filter, update,
// delete and the validation rules.
func TestAddressConfigurations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		env := setup(t, e)
		api := env.api
		svc, err := api.CreateService((&conversations.CreateServiceParams{}).SetFriendlyName("inbound"))
		if err != nil {
			t.Fatal(err)
		}

		hook, err := api.CreateConfigurationAddress((&conversations.CreateConfigurationAddressParams{}).SetType("sms").SetAddress("+37256123457").
			SetFriendlyName("My Test Configuration").SetAddressCountry("CA").SetAutoCreationEnabled(true).SetAutoCreationType("webhook").
			SetAutoCreationConversationServiceSid(*svc.Sid).SetAutoCreationWebhookUrl("https://example.com").SetAutoCreationWebhookMethod("post").
			SetAutoCreationWebhookFilters([]string{"onParticipantAdded", "onMessageAdded"}))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(str(hook.Sid), "IG") || str(hook.AccountSid) != testserver.AccountSid || str(hook.Type) != "sms" ||
			str(hook.Address) != "+37256123457" || str(hook.FriendlyName) != "My Test Configuration" || str(hook.AddressCountry) != "CA" ||
			str(hook.Url) != env.srv.URL+"/v1/Configuration/Addresses/"+str(hook.Sid) {
			t.Errorf("created = %+v", hook)
		}
		want := map[string]any{"enabled": true, "type": "webhook", "conversation_service_sid": *svc.Sid, "webhook_url": "https://example.com",
			"webhook_method": "POST", "webhook_filters": []any{"onParticipantAdded", "onMessageAdded"}}
		if got := asMap(t, "auto_creation", hook.AutoCreation); !reflect.DeepEqual(got, want) {
			t.Errorf("webhook auto_creation = %v, want %v", got, want)
		}

		studio, err := api.CreateConfigurationAddress((&conversations.CreateConfigurationAddressParams{}).SetType("WhatsApp").
			SetAddress("whatsapp:+37256123458").SetAutoCreationType("studio").SetAutoCreationStudioFlowSid("FW0123456789abcdef0123456789abcdef").
			SetAutoCreationStudioRetryCount(3))
		if err != nil {
			t.Fatal(err)
		}
		want = map[string]any{"enabled": false, "type": "studio", "studio_flow_sid": "FW0123456789abcdef0123456789abcdef", "studio_retry_count": float64(3)}
		if got := asMap(t, "auto_creation", studio.AutoCreation); !reflect.DeepEqual(got, want) || str(studio.Type) != "whatsapp" ||
			studio.FriendlyName != nil || studio.AddressCountry != nil {
			t.Errorf("studio = %+v, auto_creation %v", studio, got)
		}

		def, err := api.CreateConfigurationAddress((&conversations.CreateConfigurationAddressParams{}).SetType("email").SetAddress("support@example.com").
			SetAutoCreationEnabled(true))
		if err != nil {
			t.Fatal(err)
		}
		if got := asMap(t, "auto_creation", def.AutoCreation); !reflect.DeepEqual(got, map[string]any{"enabled": true, "type": "default"}) {
			t.Errorf("default auto_creation = %v", got)
		}

		got, err := api.FetchConfigurationAddress(*hook.Sid)
		if err != nil || !reflect.DeepEqual(got, hook) {
			t.Errorf("fetch = %+v, %v", got, err)
		}
		all, err := api.ListConfigurationAddress(nil)
		if err != nil || len(all) != 3 || *all[0].Sid != *hook.Sid || *all[2].Sid != *def.Sid {
			t.Fatalf("list = %d, %v", len(all), err)
		}
		sms, err := api.ListConfigurationAddress((&conversations.ListConfigurationAddressParams{}).SetType("sms"))
		if err != nil || len(sms) != 1 || *sms[0].Sid != *hook.Sid {
			t.Errorf("list Type=sms = %d, %v", len(sms), err)
		}
		page, err := api.PageConfigurationAddress((&conversations.ListConfigurationAddressParams{}).SetType("sms").SetPageSize(1), "", "")
		if err != nil || page.Meta.Key != "address_configurations" ||
			page.Meta.FirstPageUrl != env.srv.URL+"/v1/Configuration/Addresses?Type=sms&PageSize=1&Page=0" {
			t.Errorf("page meta = %+v, %v", page.Meta, err)
		}

		// Update: the example's switch from webhook to studio.
		env.srv.Clock.Advance(1e9)
		up, err := api.UpdateConfigurationAddress(*hook.Sid, (&conversations.UpdateConfigurationAddressParams{}).SetFriendlyName("My Test Configuration Updated").
			SetAutoCreationEnabled(false).SetAutoCreationType("studio").SetAutoCreationStudioFlowSid("FWaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa").SetAutoCreationStudioRetryCount(3))
		if err != nil {
			t.Fatal(err)
		}
		want = map[string]any{"enabled": false, "type": "studio", "conversation_service_sid": *svc.Sid,
			"studio_flow_sid": "FWaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "studio_retry_count": float64(3)}
		if got := asMap(t, "auto_creation", up.AutoCreation); !reflect.DeepEqual(got, want) || str(up.FriendlyName) != "My Test Configuration Updated" ||
			!up.DateUpdated.After(*up.DateCreated) || str(up.Address) != "+37256123457" {
			t.Errorf("updated = %+v, auto_creation %v", up, got)
		}

		// Validation; a refused request changes nothing.
		bad := []struct {
			p      *conversations.CreateConfigurationAddressParams
			status int
			code   int
		}{
			{(&conversations.CreateConfigurationAddressParams{}).SetAddress("+15550000001"), 400, 20001},
			{(&conversations.CreateConfigurationAddressParams{}).SetType("sms"), 400, 20001},
			{(&conversations.CreateConfigurationAddressParams{}).SetType("fax").SetAddress("+15550000001"), 400, 20422},
			{(&conversations.CreateConfigurationAddressParams{}).SetType("sms").SetAddress("+37256123457"), 409, 20409},
			{(&conversations.CreateConfigurationAddressParams{}).SetType("sms").SetAddress("+15550000001").SetAutoCreationType("webhook"), 400, 20001},
			{(&conversations.CreateConfigurationAddressParams{}).SetType("sms").SetAddress("+15550000001").SetAutoCreationType("studio"), 400, 20001},
			{(&conversations.CreateConfigurationAddressParams{}).SetType("sms").SetAddress("+15550000001").SetAutoCreationType("flex"), 400, 20422},
			{(&conversations.CreateConfigurationAddressParams{}).SetType("sms").SetAddress("+15550000001").SetAutoCreationType("webhook").SetAutoCreationWebhookUrl("ftp://x"), 400, 20422},
			{(&conversations.CreateConfigurationAddressParams{}).SetType("sms").SetAddress("+15550000001").SetAutoCreationType("webhook").
				SetAutoCreationWebhookUrl("https://example.com").SetAutoCreationWebhookFilters([]string{"onNothing"}), 400, 20422},
			{(&conversations.CreateConfigurationAddressParams{}).SetType("sms").SetAddress("+15550000001").SetAutoCreationWebhookMethod("PUT"), 400, 20422},
			{(&conversations.CreateConfigurationAddressParams{}).SetType("sms").SetAddress("+15550000001").SetAutoCreationStudioRetryCount(4), 400, 20422},
			{(&conversations.CreateConfigurationAddressParams{}).SetType("sms").SetAddress("+15550000001").SetAutoCreationStudioFlowSid("FW1"), 400, 20422},
			{(&conversations.CreateConfigurationAddressParams{}).SetType("sms").SetAddress("+15550000001").SetAutoCreationConversationServiceSid("ISffffffffffffffffffffffffffffffff"), 400, 50050},
			{(&conversations.CreateConfigurationAddressParams{}).SetType("sms").SetAddress("+15550000001").SetAddressCountry("Canada"), 400, 20422},
			{(&conversations.CreateConfigurationAddressParams{}).SetType("sms").SetAddress("+15550000001").SetFriendlyName(strings.Repeat("n", 257)), 400, 50003},
		}
		for _, tc := range bad {
			_, err := api.CreateConfigurationAddress(tc.p)
			restError(t, err, tc.status, tc.code)
		}
		_, err = api.UpdateConfigurationAddress(*def.Sid, (&conversations.UpdateConfigurationAddressParams{}).SetAutoCreationType("webhook"))
		restError(t, err, 400, 20001)
		if got, _ := api.FetchConfigurationAddress(*def.Sid); !reflect.DeepEqual(got, def) {
			t.Errorf("refused update changed the configuration: %+v", got)
		}
		if all, _ := api.ListConfigurationAddress(nil); len(all) != 3 {
			t.Errorf("refused creates left %d configurations", len(all))
		}
		code, body := env.srv.Do(t, http.MethodGet, "/v1/Configuration/Addresses?Type=fax", nil)
		if code != 400 || !strings.Contains(string(body), "20422") {
			t.Errorf("list Type=fax: %d %s", code, body)
		}

		// Account isolation and delete.
		other := newClient(t, env.srv.URL, testserver.Account2Sid, testserver.Auth2Token, testserver.Account2Sid).ConversationsV1
		_, err = other.FetchConfigurationAddress(*hook.Sid)
		restError(t, err, 404, 20404)
		if _, err := other.CreateConfigurationAddress((&conversations.CreateConfigurationAddressParams{}).SetType("sms").SetAddress("+37256123457")); err != nil {
			t.Errorf("the same address in another account: %v", err)
		}
		restError(t, other.DeleteConfigurationAddress(*hook.Sid), 404, 20404)
		if err := api.DeleteConfigurationAddress(*hook.Sid); err != nil {
			t.Fatal(err)
		}
		_, err = api.FetchConfigurationAddress(*hook.Sid)
		restError(t, err, 404, 20404)
		restError(t, api.DeleteConfigurationAddress(*hook.Sid), 404, 20404)
		_, err = api.FetchConfigurationAddress("IGffffffffffffffffffffffffffffffff")
		restError(t, err, 404, 20404)
		// The address is free again.
		if _, err := api.CreateConfigurationAddress((&conversations.CreateConfigurationAddressParams{}).SetType("sms").SetAddress("+37256123457")); err != nil {
			t.Errorf("re-create after delete: %v", err)
		}
	})
}

// TestInboundAutoCreation covers what an address configuration is for: an inbound message to
// the address that no conversation holds creates a conversation (in the configured service,
// with the configured webhook), later ones from the same sender go to it.
func TestInboundAutoCreation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		env := setup(t, e)
		api := env.api
		ctx := context.Background()
		svc, err := api.CreateService((&conversations.CreateServiceParams{}).SetFriendlyName("inbound"))
		if err != nil {
			t.Fatal(err)
		}
		in := conv.InboundMessage{AccountSid: testserver.AccountSid, From: "+15558673001", To: "+15017123001", Body: "hello"}
		_, err = env.srv.Service.ReceiveInbound(ctx, in)
		if e, ok := conv.AsError(err); !ok || e.Code != 20404 {
			t.Fatalf("inbound to an unconfigured address: %v", err)
		}

		if _, err := api.CreateConfigurationAddress((&conversations.CreateConfigurationAddressParams{}).SetType("sms").SetAddress("+15017123001").
			SetAutoCreationEnabled(true).SetAutoCreationType("webhook").SetAutoCreationConversationServiceSid(*svc.Sid).
			SetAutoCreationWebhookUrl("https://example.com/inbound").SetAutoCreationWebhookMethod("POST").
			SetAutoCreationWebhookFilters([]string{"onMessageAdded"})); err != nil {
			t.Fatal(err)
		}
		res, err := env.srv.Service.ReceiveInbound(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		ch := res.Conversation.Sid
		if !res.Created || res.Conversation.ServiceSid != *svc.Sid || res.Message.Author != "+15558673001" || res.Webhook == nil {
			t.Fatalf("first inbound = %+v", res)
		}
		ps, err := api.ListServiceConversationParticipant(*svc.Sid, ch, nil)
		if err != nil || len(ps) != 1 {
			t.Fatalf("participants = %d, %v", len(ps), err)
		}
		if b := asMap(t, "messaging_binding", ps[0].MessagingBinding); b["address"] != "+15558673001" || b["proxy_address"] != "+15017123001" {
			t.Errorf("participant binding = %v", b)
		}
		hooks, err := api.ListServiceConversationScopedWebhook(*svc.Sid, ch, nil)
		if err != nil || len(hooks) != 1 || str(hooks[0].Target) != "webhook" {
			t.Fatalf("webhooks = %d, %v", len(hooks), err)
		}
		if cfg := asMap(t, "configuration", hooks[0].Configuration); cfg["url"] != "https://example.com/inbound" {
			t.Errorf("webhook configuration = %v", cfg)
		}

		// The next message from the same sender joins the conversation.
		in.Body = "again"
		res, err = env.srv.Service.ReceiveInbound(ctx, in)
		if err != nil || res.Created || res.Conversation.Sid != ch {
			t.Fatalf("second inbound = %+v, %v", res, err)
		}
		msgs, err := api.ListServiceConversationMessage(*svc.Sid, ch, nil)
		if err != nil || len(msgs) != 2 || str(msgs[1].Body) != "again" || str(msgs[1].ParticipantSid) != *ps[0].Sid {
			t.Errorf("messages = %d, %v", len(msgs), err)
		}

		// Once that conversation is closed, the sender starts a new one.
		if _, err := api.UpdateServiceConversation(*svc.Sid, ch, (&conversations.UpdateServiceConversationParams{}).SetState("closed")); err != nil {
			t.Fatal(err)
		}
		res, err = env.srv.Service.ReceiveInbound(ctx, in)
		if err != nil || !res.Created || res.Conversation.Sid == ch {
			t.Fatalf("inbound after close = %+v, %v", res, err)
		}

		// A studio configuration attaches a studio webhook; a disabled one creates nothing.
		if _, err := api.CreateConfigurationAddress((&conversations.CreateConfigurationAddressParams{}).SetType("sms").SetAddress("+15017123002").
			SetAutoCreationEnabled(true).SetAutoCreationType("studio").SetAutoCreationStudioFlowSid("FW0123456789abcdef0123456789abcdef")); err != nil {
			t.Fatal(err)
		}
		res, err = env.srv.Service.ReceiveInbound(ctx, conv.InboundMessage{AccountSid: testserver.AccountSid, From: "+15558673001", To: "+15017123002", Body: "x"})
		if err != nil || res.Webhook == nil || res.Webhook.Target != "studio" || res.Conversation.ServiceSid != str(mustConfig(t, api).DefaultChatServiceSid) {
			t.Fatalf("studio inbound = %+v, %v", res, err)
		}
		if _, err := api.CreateConfigurationAddress((&conversations.CreateConfigurationAddressParams{}).SetType("sms").SetAddress("+15017123003")); err != nil {
			t.Fatal(err)
		}
		_, err = env.srv.Service.ReceiveInbound(ctx, conv.InboundMessage{AccountSid: testserver.AccountSid, From: "+15558673001", To: "+15017123003", Body: "x"})
		if e, ok := conv.AsError(err); !ok || e.Code != 20404 {
			t.Errorf("inbound to an address without auto-creation: %v", err)
		}
	})
}
