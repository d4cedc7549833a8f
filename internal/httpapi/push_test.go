package httpapi_test

import (
	"context"
	"strings"
	"testing"

	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/store/storetest"
	"github.com/parley-dev/parley/internal/testserver"
)

type pushList struct {
	Notifications []struct {
		Sid         string         `json:"sid"`
		Identity    string         `json:"identity"`
		BindingSid  string         `json:"binding_sid"`
		BindingType string         `json:"binding_type"`
		MessageType string         `json:"message_type"`
		MessageSid  *string        `json:"message_sid"`
		Body        string         `json:"body"`
		Badge       *int64         `json:"badge"`
		Payload     map[string]any `json:"payload"`
	} `json:"notifications"`
}

func TestPushOutbox(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		srv := testserver.New(t, e)
		ctx := context.Background()
		is := defaultService(t, srv, testserver.AccountSid, testserver.AuthToken)
		sc := conv.Scope{AccountSid: testserver.AccountSid}
		mustSid := func(st int, b []byte) string {
			t.Helper()
			if st != 201 && st != 200 {
				t.Fatalf("%d %s", st, b)
			}
			return decode[struct {
				Sid string `json:"sid"`
			}](t, b).Sid
		}
		fcm := mustSid(srv.Do(t, "POST", "/v1/Credentials", map[string]string{"Type": "fcm", "Secret": "fcm-secret"}))
		apn := mustSid(srv.Do(t, "POST", "/v1/Credentials", map[string]string{"Type": "apn", "Certificate": "cert", "PrivateKey": "key"}))
		mustSid(srv.Do(t, "POST", "/v1/Services/"+is+"/Configuration/Notifications", map[string]string{
			"NewMessage.Enabled": "true", "NewMessage.Template": "${CONVERSATION}|${PARTICIPANT}: ${MESSAGE}", "NewMessage.Sound": "ring",
			"NewMessage.BadgeCountEnabled": "true", "NewMessage.WithMedia.Enabled": "true",
			"AddedToConversation.Enabled": "true", "RemovedFromConversation.Enabled": "true"}))

		// Registrations (what the chat gateway calls), bad ones first.
		for _, tc := range []struct {
			in   conv.PushRegistration
			code int
		}{
			{conv.PushRegistration{Identity: "bob", CredentialSid: "CR00000000000000000000000000000099", BindingType: "fcm", Address: "tok"}, 20404},
			{conv.PushRegistration{Identity: "bob", CredentialSid: "nope", BindingType: "fcm", Address: "tok"}, 20404},
			{conv.PushRegistration{Identity: "bob", CredentialSid: fcm, BindingType: "twilsock", Address: "tok"}, 50209},
			{conv.PushRegistration{Identity: "bob", CredentialSid: fcm, BindingType: "apn", Address: "tok"}, 20422},
			{conv.PushRegistration{Identity: "bob", CredentialSid: fcm, BindingType: "fcm"}, 20422},
			{conv.PushRegistration{Identity: "bob", BindingType: "fcm", Address: "tok"}, 20422},
		} {
			if _, err := srv.Service.RegisterPushBinding(ctx, sc, tc.in); err == nil || func() int { e, _ := conv.AsError(err); return e.Code }() != tc.code {
				t.Errorf("register %+v: %v, want %d", tc.in, err, tc.code)
			}
		}
		bob, err := srv.Service.RegisterPushBinding(ctx, sc, conv.PushRegistration{Identity: "bob", CredentialSid: fcm, BindingType: "fcm", Address: "bob-device"})
		if err != nil {
			t.Fatal(err)
		}
		again, err := srv.Service.RegisterPushBinding(ctx, sc, conv.PushRegistration{Identity: "bob", CredentialSid: fcm, BindingType: "fcm", Address: "bob-device",
			MessageTypes: []string{conv.PushNewMessage, conv.PushAddedToConversation, conv.PushRemovedFromConversation, "twilio.ipmsg.typing_indicator"}})
		if err != nil || again.Sid != bob.Sid {
			t.Fatalf("re-registration is an upsert: %+v %v", again, err)
		}
		carol, err := srv.Service.RegisterPushBinding(ctx, sc, conv.PushRegistration{Identity: "carol", CredentialSid: apn, BindingType: "apn", Address: "carol-device"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := srv.Service.RegisterPushBinding(ctx, sc, conv.PushRegistration{Identity: "dave", CredentialSid: fcm, BindingType: "fcm", Address: "dave-device"}); err != nil {
			t.Fatal(err)
		}
		// The Binding resource shows them.
		st, b := srv.Do(t, "GET", "/v1/Services/"+is+"/Bindings?Identity=bob", nil)
		if st != 200 || !strings.Contains(string(b), `"sid":"`+bob.Sid+`"`) || !strings.Contains(string(b), `"credential_sid":"`+fcm+`"`) ||
			!strings.Contains(string(b), `"message_types":["new_message","added_to_conversation","removed_from_conversation"]`) {
			t.Fatalf("bindings: %d %s", st, b)
		}
		if st, b := srv.Do(t, "GET", "/v1/Services/"+is+"/Bindings/"+carol.Sid, nil); st != 200 || !strings.Contains(string(b), `"binding_type":"apn"`) {
			t.Fatalf("binding fetch: %d %s", st, b)
		}

		ch := mustSid(srv.Do(t, "POST", "/v1/Conversations", map[string]string{"UniqueName": "room"}))
		for _, id := range []string{"alice", "bob", "carol", "dave"} {
			mustSid(srv.Do(t, "POST", "/v1/Conversations/"+ch+"/Participants", map[string]string{"Identity": id}))
		}
		if _, err := srv.Service.UpdateUserConversation(ctx, sc, "dave", ch, conv.UserConversationUpdate{NotificationLevel: ptr("muted")}, conv.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		var added pushList
		st, b = srv.Do(t, "GET", "/parley/v1/Push?ConversationSid="+ch, nil)
		added = decode[pushList](t, b)
		if st != 200 || len(added.Notifications) != 3 || added.Notifications[0].MessageType != conv.PushAddedToConversation ||
			added.Notifications[0].Body != "You have been added to the conversation room by system" {
			t.Fatalf("added pushes: %d %s", st, b)
		}

		msg := mustSid(srv.Do(t, "POST", "/v1/Conversations/"+ch+"/Messages", map[string]string{"Author": "alice", "Body": "hello there"}))
		st, b = srv.Do(t, "GET", "/parley/v1/Push?ConversationSid="+ch+"&PageSize=50", nil)
		all := decode[pushList](t, b).Notifications
		if st != 200 || len(all) != 5 {
			t.Fatalf("pushes: %d %s", st, b)
		}
		got := map[string]int{}
		for _, n := range all[3:] {
			got[n.Identity]++
			if n.MessageType != conv.PushNewMessage || n.Body != "room|alice: hello there" || n.MessageSid == nil || *n.MessageSid != msg {
				t.Errorf("new_message push: %+v", n)
			}
			switch n.BindingType {
			case "fcm":
				data, _ := n.Payload["data"].(map[string]any)
				if data["twi_body"] != "room|alice: hello there" || data["twi_message_type"] != conv.PushNewMessage || data["message_sid"] != msg ||
					data["message_index"] != "0" || data["author"] != "alice" || data["conversation_title"] != "room" || data["twi_sound"] != "ring" ||
					data["twi_message_id"] != n.Sid || n.Badge != nil {
					t.Errorf("FCM payload: %+v", n.Payload)
				}
			case "apn":
				aps, _ := n.Payload["aps"].(map[string]any)
				if aps["alert"] != "room|alice: hello there" || aps["sound"] != "ring" || aps["badge"] != float64(1) || n.Payload["conversation_sid"] != ch {
					t.Errorf("APNs payload: %+v", n.Payload)
				}
			}
		}
		if got["bob"] != 1 || got["carol"] != 1 || got["dave"] != 0 || got["alice"] != 0 {
			t.Errorf("recipients (not the author, not the muted user): %v", got)
		}
		if st, b = srv.Do(t, "GET", "/parley/v1/Push?Identity=bob&BindingSid="+bob.Sid, nil); st != 200 || len(decode[pushList](t, b).Notifications) != 2 {
			t.Errorf("filtered: %d %s", st, b)
		}

		// A media message uses the with_media template.
		m := upload(t, srv, is, []byte("x"), "image/png")
		mustSid(srv.Do(t, "POST", "/v1/Conversations/"+ch+"/Messages", map[string]string{"Author": "alice", "MediaSid": m.Sid}))
		st, b = srv.Do(t, "GET", "/parley/v1/Push?Identity=bob&PageSize=50", nil)
		if st != 200 {
			t.Fatalf("GET %s: %d %s", "/parley/v1/Push?Identity=bob&PageSize=50", st, b)
		}
		bobs := decode[pushList](t, b).Notifications
		last := bobs[len(bobs)-1]
		data, _ := last.Payload["data"].(map[string]any)
		if last.Body != "You have a new message in room with 1 media files: cat.png" || data["media_count"] != "1" ||
			data["media"] != `{"sid":"`+m.Sid+`","filename":"cat.png","content_type":"image/png","size":1}` {
			t.Errorf("media push: %+v", last)
		}

		// Removal: to the removed participant; deleting the binding stops pushes.
		if st, b := srv.Do(t, "DELETE", "/v1/Conversations/"+ch+"/Participants/bob", nil); st != 204 {
			t.Fatalf("remove: %d %s", st, b)
		}
		st, b = srv.Do(t, "GET", "/parley/v1/Push?Identity=bob&PageSize=50", nil)
		if st != 200 {
			t.Fatalf("GET %s: %d %s", "/parley/v1/Push?Identity=bob&PageSize=50", st, b)
		}
		bobs = decode[pushList](t, b).Notifications
		if last := bobs[len(bobs)-1]; last.MessageType != conv.PushRemovedFromConversation || last.Body != "system has removed you from the conversation room" {
			t.Errorf("removed push: %+v", last)
		}
		if st, b := srv.Do(t, "DELETE", "/v1/Services/"+is+"/Bindings/"+carol.Sid, nil); st != 204 {
			t.Fatalf("delete binding: %d %s", st, b)
		}
		mustSid(srv.Do(t, "POST", "/v1/Conversations/"+ch+"/Messages", map[string]string{"Author": "alice", "Body": "again"}))
		if st, b = srv.Do(t, "GET", "/parley/v1/Push?Identity=carol&PageSize=50", nil); st != 200 || len(decode[pushList](t, b).Notifications) != 3 {
			t.Errorf("carol after her binding was deleted: %s", b)
		}

		// ConversationWithParticipants adds with a push too.
		st, b = srv.Do(t, "POST", "/v1/ConversationWithParticipants", map[string]string{"FriendlyName": "team", "Participant": `{"identity":"bob"}`})
		if st != 201 && st != 202 {
			t.Fatalf("ConversationWithParticipants: %d %s", st, b)
		}
		team := decode[struct {
			Sid string `json:"sid"`
		}](t, b).Sid
		st, b = srv.Do(t, "GET", "/parley/v1/Push?ConversationSid="+team, nil)
		if st != 200 {
			t.Fatalf("GET %s: %d %s", "/parley/v1/Push?ConversationSid="+team, st, b)
		}
		if ns := decode[pushList](t, b).Notifications; len(ns) != 1 || ns[0].Identity != "bob" || ns[0].Body != "You have been added to the conversation team by system" {
			t.Errorf("ConversationWithParticipants push: %s", b)
		}
	})
}

func ptr[T any](v T) *T { return &v }
