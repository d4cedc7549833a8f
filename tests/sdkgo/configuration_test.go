package sdkgo_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	conversations "github.com/twilio/twilio-go/rest/conversations/v1"

	"github.com/parley-dev/parley/internal/store/storetest"
	"github.com/parley-dev/parley/internal/testserver"
)

// asMap returns an untyped JSON object field (new_message, auto_creation, ...) as a map.
func asMap(t *testing.T, what string, v *interface{}) map[string]any {
	t.Helper()
	if v == nil || *v == nil {
		t.Fatalf("%s is null", what)
	}
	m, ok := (*v).(map[string]any)
	if !ok {
		t.Fatalf("%s is %T", what, *v)
	}
	return m
}

// TestAccountConfiguration covers /v1/Configuration: the default service it names is the one
// the shortened URLs use, and its defaults apply to conversations created afterwards.
func TestAccountConfiguration(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		env := setup(t, e)
		api := env.api

		cfg, err := api.FetchConfiguration()
		if err != nil {
			t.Fatal(err)
		}
		def := str(cfg.DefaultChatServiceSid)
		if !strings.HasPrefix(def, "IS") || str(cfg.AccountSid) != testserver.AccountSid || cfg.DefaultMessagingServiceSid != nil ||
			cfg.DefaultInactiveTimer != nil || cfg.DefaultClosedTimer != nil {
			t.Errorf("initial configuration = %+v", cfg)
		}
		if str(cfg.Url) != env.srv.URL+"/v1/Configuration" || cfg.Links == nil ||
			(*cfg.Links)["service"] != env.srv.URL+"/v1/Services/"+def+"/Configuration" || (*cfg.Links)["webhooks"] != env.srv.URL+"/v1/Configuration/Webhooks" {
			t.Errorf("url/links = %s %v", str(cfg.Url), cfg.Links)
		}
		before := env.conversation(t, "in-default")

		// Switch the default service: the shortened URLs follow.
		other, err := api.CreateService((&conversations.CreateServiceParams{}).SetFriendlyName("second"))
		if err != nil {
			t.Fatal(err)
		}
		up, err := api.UpdateConfiguration((&conversations.UpdateConfigurationParams{}).SetDefaultChatServiceSid(*other.Sid).
			SetDefaultMessagingServiceSid("MG0123456789abcdef0123456789abcdef").SetDefaultInactiveTimer("PT5M").SetDefaultClosedTimer("PT1H"))
		if err != nil {
			t.Fatal(err)
		}
		if str(up.DefaultChatServiceSid) != *other.Sid || str(up.DefaultMessagingServiceSid) != "MG0123456789abcdef0123456789abcdef" ||
			str(up.DefaultInactiveTimer) != "PT5M" || str(up.DefaultClosedTimer) != "PT1H" {
			t.Errorf("updated configuration = %+v", up)
		}
		if got, _ := api.FetchConfiguration(); !reflect.DeepEqual(got, up) {
			t.Errorf("fetch after update = %+v, want %+v", got, up)
		}
		c := env.conversation(t, "")
		if str(c.ChatServiceSid) != *other.Sid {
			t.Errorf("new conversation in %s, want the new default %s", str(c.ChatServiceSid), *other.Sid)
		}
		_, err = api.FetchConversation(*before.Sid)
		restError(t, err, 404, 20404) // it lives in the old default service
		if _, err := api.FetchServiceConversation(def, *before.Sid); err != nil {
			t.Errorf("old conversation on its service URL: %v", err)
		}
		roles, err := api.ListRole(nil)
		if err != nil || len(roles) != 4 || str(roles[0].ChatServiceSid) != *other.Sid {
			t.Errorf("/v1/Roles after the switch: %d roles, %v", len(roles), err)
		}

		// The defaults apply to new conversations without their own values.
		now := env.srv.Clock.Now()
		if str(c.MessagingServiceSid) != "MG0123456789abcdef0123456789abcdef" {
			t.Errorf("messaging_service_sid = %s", str(c.MessagingServiceSid))
		}
		timers := asMap(t, "timers", c.Timers)
		if timers["date_inactive"] != now.Add(5*time.Minute).Format(time.RFC3339) || timers["date_closed"] != now.Add(time.Hour).Format(time.RFC3339) {
			t.Errorf("timers = %v", timers)
		}
		own, err := api.CreateConversation((&conversations.CreateConversationParams{}).SetTimersClosed("PT2H").SetMessagingServiceSid("MGffffffffffffffffffffffffffffffff"))
		if err != nil {
			t.Fatal(err)
		}
		timers = asMap(t, "timers", own.Timers)
		if timers["date_inactive"] != now.Add(5*time.Minute).Format(time.RFC3339) || timers["date_closed"] != now.Add(2*time.Hour).Format(time.RFC3339) ||
			str(own.MessagingServiceSid) != "MGffffffffffffffffffffffffffffffff" {
			t.Errorf("own values: timers %v, messaging %s", timers, str(own.MessagingServiceSid))
		}

		// Clearing the defaults.
		up, err = api.UpdateConfiguration((&conversations.UpdateConfigurationParams{}).SetDefaultMessagingServiceSid("").SetDefaultInactiveTimer("").SetDefaultClosedTimer(""))
		if err != nil {
			t.Fatal(err)
		}
		if up.DefaultMessagingServiceSid != nil || up.DefaultInactiveTimer != nil || up.DefaultClosedTimer != nil || str(up.DefaultChatServiceSid) != *other.Sid {
			t.Errorf("cleared configuration = %+v", up)
		}
		plain := env.conversation(t, "")
		if len(asMap(t, "timers", plain.Timers)) != 0 || plain.MessagingServiceSid != nil {
			t.Errorf("after clearing: timers %v messaging %s", *plain.Timers, str(plain.MessagingServiceSid))
		}

		// Bad input changes nothing.
		for _, tc := range []struct {
			p    *conversations.UpdateConfigurationParams
			code int
		}{
			{(&conversations.UpdateConfigurationParams{}).SetDefaultChatServiceSid("ISffffffffffffffffffffffffffffffff"), 50050},
			{(&conversations.UpdateConfigurationParams{}).SetDefaultChatServiceSid("nope"), 20422},
			{(&conversations.UpdateConfigurationParams{}).SetDefaultMessagingServiceSid("XX"), 50341},
			{(&conversations.UpdateConfigurationParams{}).SetDefaultInactiveTimer("PT30S"), 50375},
			{(&conversations.UpdateConfigurationParams{}).SetDefaultInactiveTimer("5 minutes"), 50379},
			{(&conversations.UpdateConfigurationParams{}).SetDefaultClosedTimer("PT9M"), 50376},
			{(&conversations.UpdateConfigurationParams{}).SetDefaultClosedTimer("x"), 50380},
		} {
			_, err := api.UpdateConfiguration(tc.p)
			restError(t, err, 400, tc.code)
		}
		if got, _ := api.FetchConfiguration(); !reflect.DeepEqual(got, up) {
			t.Errorf("configuration changed by refused updates: %+v", got)
		}

		// Another account's service cannot become the default; each account has its own.
		other2 := newClient(t, env.srv.URL, testserver.Account2Sid, testserver.Auth2Token, testserver.Account2Sid).ConversationsV1
		_, err = other2.UpdateConfiguration((&conversations.UpdateConfigurationParams{}).SetDefaultChatServiceSid(*other.Sid))
		restError(t, err, 400, 50050)
		cfg2, err := other2.FetchConfiguration()
		if err != nil || str(cfg2.DefaultChatServiceSid) == *other.Sid || str(cfg2.AccountSid) != testserver.Account2Sid {
			t.Errorf("account 2 configuration = %+v, %v", cfg2, err)
		}

		// Deleting the default service: the next use creates a new default.
		if err := api.DeleteService(*other.Sid); err != nil {
			t.Fatal(err)
		}
		cfg, err = api.FetchConfiguration()
		if err != nil || str(cfg.DefaultChatServiceSid) == *other.Sid || str(cfg.DefaultChatServiceSid) == "" {
			t.Errorf("after deleting the default service: %+v, %v", cfg, err)
		}
	})
}

// TestServiceConfiguration covers /v1/Services/{IS}/Configuration update: the default role
// SIDs must name roles of the right type in that service.
func TestServiceConfiguration(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		env := setup(t, e)
		api := env.api
		svc, err := api.CreateService((&conversations.CreateServiceParams{}).SetFriendlyName("svc"))
		if err != nil {
			t.Fatal(err)
		}
		orig, err := api.FetchServiceConfiguration(*svc.Sid)
		if err != nil {
			t.Fatal(err)
		}
		convRole, err := api.CreateServiceRole(*svc.Sid, (&conversations.CreateServiceRoleParams{}).SetFriendlyName("agent").SetType("conversation").
			SetPermission([]string{"sendMessage", "addParticipant"}))
		if err != nil {
			t.Fatal(err)
		}
		svcRole, err := api.CreateServiceRole(*svc.Sid, (&conversations.CreateServiceRoleParams{}).SetFriendlyName("member").SetType("service").
			SetPermission([]string{"joinConversation"}))
		if err != nil {
			t.Fatal(err)
		}
		foreign, err := api.CreateRole((&conversations.CreateRoleParams{}).SetFriendlyName("foreign").SetType("conversation").SetPermission([]string{"sendMessage"}))
		if err != nil {
			t.Fatal(err)
		}

		up, err := api.UpdateServiceConfiguration(*svc.Sid, (&conversations.UpdateServiceConfigurationParams{}).
			SetDefaultConversationRoleSid(*convRole.Sid).SetDefaultConversationCreatorRoleSid(*convRole.Sid).
			SetDefaultChatServiceRoleSid(*svcRole.Sid).SetReachabilityEnabled(true))
		if err != nil {
			t.Fatal(err)
		}
		if str(up.DefaultConversationRoleSid) != *convRole.Sid || str(up.DefaultConversationCreatorRoleSid) != *convRole.Sid ||
			str(up.DefaultChatServiceRoleSid) != *svcRole.Sid || up.ReachabilityEnabled == nil || !*up.ReachabilityEnabled || str(up.ChatServiceSid) != *svc.Sid {
			t.Errorf("updated service configuration = %+v", up)
		}
		if got, _ := api.FetchServiceConfiguration(*svc.Sid); !reflect.DeepEqual(got, up) {
			t.Errorf("fetch after update = %+v", got)
		}
		// New participants get the new default conversation role.
		ch, err := api.CreateServiceConversation(*svc.Sid, nil)
		if err != nil {
			t.Fatal(err)
		}
		p, err := api.CreateServiceConversationParticipant(*svc.Sid, *ch.Sid, (&conversations.CreateServiceConversationParticipantParams{}).SetIdentity("alice"))
		if err != nil || str(p.RoleSid) != *convRole.Sid {
			t.Errorf("participant role = %s, %v; want %s", str(p.RoleSid), err, *convRole.Sid)
		}

		// Wrong types, other services' roles and unknown SIDs are refused; nothing changes.
		for _, tc := range []struct {
			p    *conversations.UpdateServiceConfigurationParams
			code int
		}{
			{(&conversations.UpdateServiceConfigurationParams{}).SetDefaultConversationRoleSid(*svcRole.Sid), 50109},
			{(&conversations.UpdateServiceConfigurationParams{}).SetDefaultConversationCreatorRoleSid(*svcRole.Sid), 50109},
			{(&conversations.UpdateServiceConfigurationParams{}).SetDefaultChatServiceRoleSid(*convRole.Sid), 50100},
			{(&conversations.UpdateServiceConfigurationParams{}).SetDefaultConversationRoleSid(*foreign.Sid), 50109},
			{(&conversations.UpdateServiceConfigurationParams{}).SetDefaultChatServiceRoleSid("RLffffffffffffffffffffffffffffffff"), 50100},
			{(&conversations.UpdateServiceConfigurationParams{}).SetReachabilityEnabled(false).SetDefaultConversationRoleSid("nope"), 50109},
		} {
			_, err := api.UpdateServiceConfiguration(*svc.Sid, tc.p)
			restError(t, err, 400, tc.code)
		}
		if got, _ := api.FetchServiceConfiguration(*svc.Sid); !reflect.DeepEqual(got, up) {
			t.Errorf("configuration changed by refused updates: %+v", got)
		}
		code, body := env.srv.Do(t, http.MethodPost, "/v1/Services/"+*svc.Sid+"/Configuration", map[string]string{"ReachabilityEnabled": "maybe"})
		if code != 400 || !strings.Contains(string(body), "20422") {
			t.Errorf("ReachabilityEnabled=maybe: %d %s", code, body)
		}
		_, err = api.UpdateServiceConfiguration("ISffffffffffffffffffffffffffffffff", (&conversations.UpdateServiceConfigurationParams{}).SetReachabilityEnabled(true))
		restError(t, err, 404, 20404)

		// The original roles can be named again.
		if _, err := api.UpdateServiceConfiguration(*svc.Sid, (&conversations.UpdateServiceConfigurationParams{}).
			SetDefaultConversationRoleSid(*orig.DefaultConversationRoleSid).SetDefaultChatServiceRoleSid(*orig.DefaultChatServiceRoleSid)); err != nil {
			t.Fatal(err)
		}
	})
}

// TestServiceNotifications covers /v1/Services/{IS}/Configuration/Notifications: every field
// is stored and returned.
func TestServiceNotifications(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		env := setup(t, e)
		api := env.api
		svc, err := api.CreateService((&conversations.CreateServiceParams{}).SetFriendlyName("push"))
		if err != nil {
			t.Fatal(err)
		}
		n, err := api.FetchServiceNotification(*svc.Sid)
		if err != nil {
			t.Fatal(err)
		}
		if str(n.AccountSid) != testserver.AccountSid || str(n.ChatServiceSid) != *svc.Sid || n.LogEnabled == nil || *n.LogEnabled ||
			str(n.Url) != env.srv.URL+"/v1/Services/"+*svc.Sid+"/Configuration/Notifications" {
			t.Errorf("initial notifications = %+v", n)
		}
		nm := asMap(t, "new_message", n.NewMessage)
		if want := map[string]any{"enabled": false, "template": nil, "sound": nil, "badge_count_enabled": false,
			"with_media": map[string]any{"enabled": false, "template": nil}}; !reflect.DeepEqual(nm, want) {
			t.Errorf("initial new_message = %v", nm)
		}

		up, err := api.UpdateServiceNotification(*svc.Sid, (&conversations.UpdateServiceNotificationParams{}).SetLogEnabled(true).
			SetNewMessageEnabled(true).SetNewMessageTemplate("You have a new message in ${CONVERSATION} from ${PARTICIPANT}: ${MESSAGE}").
			SetNewMessageSound("ring").SetNewMessageBadgeCountEnabled(true).SetNewMessageWithMediaEnabled(true).
			SetNewMessageWithMediaTemplate("${MEDIA_COUNT} files").SetAddedToConversationEnabled(true).
			SetAddedToConversationTemplate("You have been added to a Conversation: ${CONVERSATION}").SetAddedToConversationSound("chime").
			SetRemovedFromConversationEnabled(false).SetRemovedFromConversationTemplate("Removed from ${CONVERSATION}").SetRemovedFromConversationSound("bell"))
		if err != nil {
			t.Fatal(err)
		}
		check := func(what string, n *conversations.ConversationsV1ServiceNotification) {
			t.Helper()
			if n.LogEnabled == nil || !*n.LogEnabled {
				t.Errorf("%s: log_enabled", what)
			}
			want := map[string]map[string]any{
				"new_message": {"enabled": true, "template": "You have a new message in ${CONVERSATION} from ${PARTICIPANT}: ${MESSAGE}",
					"sound": "ring", "badge_count_enabled": true, "with_media": map[string]any{"enabled": true, "template": "${MEDIA_COUNT} files"}},
				"added_to_conversation":     {"enabled": true, "template": "You have been added to a Conversation: ${CONVERSATION}", "sound": "chime"},
				"removed_from_conversation": {"enabled": false, "template": "Removed from ${CONVERSATION}", "sound": "bell"},
			}
			got := map[string]map[string]any{"new_message": asMap(t, "new_message", n.NewMessage),
				"added_to_conversation": asMap(t, "added", n.AddedToConversation), "removed_from_conversation": asMap(t, "removed", n.RemovedFromConversation)}
			if !reflect.DeepEqual(got, want) {
				gb, _ := json.Marshal(got)
				t.Errorf("%s: settings = %s", what, gb)
			}
		}
		check("update", up)
		got, err := api.FetchServiceNotification(*svc.Sid)
		if err != nil {
			t.Fatal(err)
		}
		check("fetch", got)

		// A partial update keeps the rest; "" clears a template.
		up, err = api.UpdateServiceNotification(*svc.Sid, (&conversations.UpdateServiceNotificationParams{}).SetNewMessageSound("").SetAddedToConversationEnabled(false))
		if err != nil {
			t.Fatal(err)
		}
		if m := asMap(t, "new_message", up.NewMessage); m["sound"] != nil || m["template"] == nil || asMap(t, "added", up.AddedToConversation)["enabled"] != false {
			t.Errorf("partial update: %v / %v", m, *up.AddedToConversation)
		}

		_, err = api.UpdateServiceNotification(*svc.Sid, (&conversations.UpdateServiceNotificationParams{}).SetNewMessageTemplate(strings.Repeat("x", 1025)))
		restError(t, err, 400, 50058)
		_, err = api.UpdateServiceNotification(*svc.Sid, (&conversations.UpdateServiceNotificationParams{}).SetAddedToConversationSound(strings.Repeat("x", 257)))
		restError(t, err, 400, 50059)
		code, body := env.srv.Do(t, http.MethodPost, "/v1/Services/"+*svc.Sid+"/Configuration/Notifications", map[string]string{"LogEnabled": "yes"})
		if code != 400 || !strings.Contains(string(body), "20422") {
			t.Errorf("LogEnabled=yes: %d %s", code, body)
		}
		_, err = api.FetchServiceNotification("ISffffffffffffffffffffffffffffffff")
		restError(t, err, 404, 20404)
	})
}
