package sdkgo_test

import (
	"strings"
	"testing"

	conversations "github.com/twilio/twilio-go/rest/conversations/v1"

	"github.com/parley-dev/parley/internal/store/storetest"
)

// TestConversationWithParticipants covers /v1/ConversationWithParticipants and its service
// form: the conversation and its participants are created together, or not at all.
func TestConversationWithParticipants(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		env := setup(t, e)
		api := env.api

		c, err := api.CreateConversationWithParticipants((&conversations.CreateConversationWithParticipantsParams{}).
			SetFriendlyName("friendly_name").SetUniqueName("cwp-1").SetAttributes(`{ "topic": "feedback" }`).
			SetParticipant([]string{
				`{"identity": "alice", "attributes": "{\"role\":\"agent\"}"}`,
				`{"messaging_binding": {"address": "+15558670001", "proxy_address": "+15017120001"}, "attributes": {"vip": true}}`,
			}))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(str(c.Sid), "CH") || str(c.FriendlyName) != "friendly_name" || str(c.UniqueName) != "cwp-1" || str(c.State) != "active" ||
			str(c.Url) != env.srv.URL+"/v1/Conversations/"+str(c.Sid) {
			t.Errorf("conversation = %+v", c)
		}
		if c.Links == nil || len(*c.Links) != 3 || (*c.Links)["participants"] != str(c.Url)+"/Participants" {
			t.Errorf("links = %v", c.Links)
		}
		ps, err := api.ListConversationParticipant(*c.Sid, nil)
		if err != nil || len(ps) != 2 {
			t.Fatalf("participants = %d, %v", len(ps), err)
		}
		if str(ps[0].Identity) != "alice" || str(ps[0].Attributes) != `{"role":"agent"}` || !roleRE.MatchString(str(ps[0].RoleSid)) {
			t.Errorf("chat participant = %+v", ps[0])
		}
		if b := binding(t, &ps[1]); b["address"] != "+15558670001" || b["proxy_address"] != "+15017120001" || str(ps[1].Attributes) != `{"vip":true}` {
			t.Errorf("sms participant = %v %s", b, str(ps[1].Attributes))
		}

		// Without participants: 201 and a plain conversation.
		plain, err := api.CreateConversationWithParticipants((&conversations.CreateConversationWithParticipantsParams{}).SetFriendlyName("alone"))
		if err != nil {
			t.Fatal(err)
		}
		if ps, _ := api.ListConversationParticipant(*plain.Sid, nil); len(ps) != 0 {
			t.Errorf("participants of a conversation created without any: %d", len(ps))
		}

		// A Group MMS conversation may list its projected participant last.
		gmms, err := api.CreateConversationWithParticipants((&conversations.CreateConversationWithParticipantsParams{}).SetParticipant([]string{
			`{"messaging_binding": {"address": "+15558670002"}}`,
			`{"messaging_binding": {"address": "+15558670003"}}`,
			`{"identity": "front-desk", "messaging_binding": {"projected_address": "+15017120002"}}`,
		}))
		if err != nil {
			t.Fatalf("group MMS: %v", err)
		}
		if ps, _ := api.ListConversationParticipant(*gmms.Sid, nil); len(ps) != 3 || ps[0].RoleSid != nil {
			t.Errorf("group MMS participants = %d", len(ps))
		}

		countConversations := func() int {
			list, err := api.ListConversation(nil)
			if err != nil {
				t.Fatal(err)
			}
			return len(list)
		}
		n := countConversations()
		// Any refused participant: nothing is created.
		tooMany := make([]string, 11)
		for i := range tooMany {
			tooMany[i] = `{"identity": "p` + itoa(i+1) + `"}`
		}
		for _, tc := range []struct {
			parts  []string
			status int
			code   int
		}{
			{[]string{`{"identity": "ok"}`, `{"identity": `}, 400, 50424},
			{[]string{`["alice"]`}, 400, 50424},
			{[]string{`{"Identity": "x", "unknown": 1}`}, 400, 50424},
			{[]string{`{"identity": 5}`}, 400, 50424},
			{tooMany, 400, 50426},
			{[]string{`{"identity": "bob"}`, `{"messaging_binding": {"address": "+15558670001", "proxy_address": "+15017120001"}}`}, 409, 50425},
			{[]string{`{"identity": "bob"}`, `{"identity": "bob"}`}, 409, 50433},
			{[]string{`{"identity": "bob", "messaging_binding": {"address": "+15558670009"}}`}, 400, 50211},
			{[]string{`{"identity": "bob", "role_sid": "RLffffffffffffffffffffffffffffffff"}`}, 400, 50109},
			{[]string{`{"messaging_binding": {"address": "+15558670009"}}`}, 400, 50412},
			{[]string{`{}`}, 400, 50204},
		} {
			_, err := api.CreateConversationWithParticipants((&conversations.CreateConversationWithParticipantsParams{}).SetUniqueName("never").SetParticipant(tc.parts))
			restError(t, err, tc.status, tc.code)
		}
		_, err = api.CreateConversationWithParticipants((&conversations.CreateConversationWithParticipantsParams{}).SetUniqueName("cwp-1"))
		restError(t, err, 409, 50353)
		_, err = api.CreateConversationWithParticipants((&conversations.CreateConversationWithParticipantsParams{}).SetState("closed").
			SetParticipant([]string{`{"identity": "x"}`}))
		restError(t, err, 400, 50384)
		if got := countConversations(); got != n {
			t.Errorf("refused requests created conversations: %d, want %d", got, n)
		}
		_, err = api.FetchConversation("never")
		restError(t, err, 404, 20404)

		// Service form.
		svc, err := api.CreateService((&conversations.CreateServiceParams{}).SetFriendlyName("cwp"))
		if err != nil {
			t.Fatal(err)
		}
		sc, err := api.CreateServiceConversationWithParticipants(*svc.Sid, (&conversations.CreateServiceConversationWithParticipantsParams{}).
			SetTimersInactive("PT1M").SetTimersClosed("PT10M").SetState("inactive").SetParticipant([]string{`{"identity": "carol"}`}))
		if err != nil {
			t.Fatal(err)
		}
		if str(sc.ChatServiceSid) != *svc.Sid || str(sc.State) != "inactive" || str(sc.Url) != env.srv.URL+"/v1/Services/"+*svc.Sid+"/Conversations/"+*sc.Sid {
			t.Errorf("service form = %+v", sc)
		}
		sps, err := api.ListServiceConversationParticipant(*svc.Sid, *sc.Sid, nil)
		if err != nil || len(sps) != 1 || str(sps[0].Identity) != "carol" {
			t.Errorf("service form participants = %d, %v", len(sps), err)
		}
		if got := env.srv.Events.Events(); len(got) == 0 || got[len(got)-1].Type != "onParticipantAdded" {
			t.Errorf("events: the last is not onParticipantAdded")
		}
	})
}
