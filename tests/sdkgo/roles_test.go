package sdkgo_test

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	conversations "github.com/twilio/twilio-go/rest/conversations/v1"

	"github.com/parley-dev/parley/internal/store/storetest"
	"github.com/parley-dev/parley/internal/testserver"
)

func strs(p *[]string) []string {
	if p == nil {
		return nil
	}
	return *p
}

// TestRoles covers role create, fetch, list, update (which replaces the permission set) and
// delete on the shortened URL, and the rules: permission names by type, name length, roles in
// use.
func TestRoles(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		env := setup(t, e)
		api := env.api

		r, err := api.CreateRole((&conversations.CreateRoleParams{}).SetFriendlyName("Conversation Role").SetType("conversation").
			SetPermission([]string{"sendMessage", "leaveConversation", "editOwnMessage", "deleteOwnMessage", "sendMessage"}))
		if err != nil {
			t.Fatal(err)
		}
		if !regexpRL(str(r.Sid)) || str(r.FriendlyName) != "Conversation Role" || str(r.Type) != "conversation" || str(r.AccountSid) != testserver.AccountSid {
			t.Errorf("created role = %+v", r)
		}
		if got, want := strs(r.Permissions), []string{"sendMessage", "leaveConversation", "editOwnMessage", "deleteOwnMessage"}; !reflect.DeepEqual(got, want) {
			t.Errorf("permissions = %v, want %v (duplicates dropped, order kept)", got, want)
		}
		if str(r.Url) != env.srv.URL+"/v1/Roles/"+*r.Sid {
			t.Errorf("url = %s", str(r.Url))
		}
		cfg, err := api.FetchConfiguration()
		if err != nil {
			t.Fatal(err)
		}
		if str(r.ChatServiceSid) != str(cfg.DefaultChatServiceSid) {
			t.Errorf("chat_service_sid = %s, want the default service %s", str(r.ChatServiceSid), str(cfg.DefaultChatServiceSid))
		}

		got, err := api.FetchRole(*r.Sid)
		if err != nil || !reflect.DeepEqual(got, r) {
			t.Fatalf("fetch = %+v, %v; want %+v", got, err, r)
		}
		list, err := api.ListRole(nil)
		if err != nil {
			t.Fatal(err)
		}
		names := []string{}
		for _, x := range list {
			names = append(names, str(x.FriendlyName))
		}
		if want := []string{"channel admin", "channel user", "service admin", "service user", "Conversation Role"}; !reflect.DeepEqual(names, want) {
			t.Errorf("roles = %v, want %v", names, want)
		}

		// Update replaces the whole set.
		env.srv.Clock.Advance(90 * time.Second)
		up, err := api.UpdateRole(*r.Sid, (&conversations.UpdateRoleParams{}).SetPermission([]string{"addParticipant"}))
		if err != nil {
			t.Fatal(err)
		}
		if got := strs(up.Permissions); !reflect.DeepEqual(got, []string{"addParticipant"}) {
			t.Errorf("permissions after update = %v", got)
		}
		if !up.DateUpdated.After(*up.DateCreated) || str(up.FriendlyName) != "Conversation Role" {
			t.Errorf("update: date_updated %v, date_created %v, name %s", up.DateUpdated, up.DateCreated, str(up.FriendlyName))
		}

		// Permission names depend on the type.
		_, err = api.CreateRole((&conversations.CreateRoleParams{}).SetFriendlyName("bad").SetType("service").SetPermission([]string{"sendMessage"}))
		restError(t, err, 400, 50104)
		_, err = api.CreateRole((&conversations.CreateRoleParams{}).SetFriendlyName("bad").SetType("conversation").SetPermission([]string{"createConversation"}))
		restError(t, err, 400, 50104)
		_, err = api.UpdateRole(*r.Sid, (&conversations.UpdateRoleParams{}).SetPermission([]string{"joinConversation"}))
		restError(t, err, 400, 50104)
		_, err = api.UpdateRole(*r.Sid, (&conversations.UpdateRoleParams{}).SetPermission([]string{}))
		restError(t, err, 400, 20001)
		_, err = api.CreateRole((&conversations.CreateRoleParams{}).SetFriendlyName(strings.Repeat("x", 65)).SetType("service").SetPermission([]string{"joinConversation"}))
		restError(t, err, 400, 50003)
		_, err = api.CreateRole((&conversations.CreateRoleParams{}).SetFriendlyName("x").SetType("channel").SetPermission([]string{"joinConversation"}))
		restError(t, err, 400, 50105)
		_, err = api.CreateRole((&conversations.CreateRoleParams{}).SetType("service").SetPermission([]string{"joinConversation"}))
		restError(t, err, 400, 20001)
		svcRole, err := api.CreateRole((&conversations.CreateRoleParams{}).SetFriendlyName(strings.Repeat("s", 64)).SetType("service").
			SetPermission([]string{"createConversation", "joinConversation"}))
		if err != nil {
			t.Fatalf("64-character name: %v", err)
		}
		if got := strs(svcRole.Permissions); !reflect.DeepEqual(got, []string{"createConversation", "joinConversation"}) {
			t.Errorf("service role permissions = %v", got)
		}
		// Nothing above changed the role.
		if got, _ := api.FetchRole(*r.Sid); !reflect.DeepEqual(strs(got.Permissions), []string{"addParticipant"}) {
			t.Errorf("role changed by a refused update: %v", strs(got.Permissions))
		}

		// A role a participant holds cannot be deleted; once the participant is gone it can.
		ch := env.conversation(t, "").Sid
		p, err := api.CreateConversationParticipant(*ch, (&conversations.CreateConversationParticipantParams{}).SetIdentity("alice").SetRoleSid(*r.Sid))
		if err != nil {
			t.Fatal(err)
		}
		restError(t, api.DeleteRole(*r.Sid), 409, 20409)
		if err := api.DeleteConversationParticipant(*ch, *p.Sid, nil); err != nil {
			t.Fatal(err)
		}
		if err := api.DeleteRole(*r.Sid); err != nil {
			t.Fatalf("delete unused role: %v", err)
		}
		_, err = api.FetchRole(*r.Sid)
		restError(t, err, 404, 20404)
		restError(t, api.DeleteRole(*r.Sid), 404, 20404)
		// A deleted role cannot be assigned.
		_, err = api.CreateConversationParticipant(*ch, (&conversations.CreateConversationParticipantParams{}).SetIdentity("bob").SetRoleSid(*r.Sid))
		restError(t, err, 400, 50109)

		// The built-in roles and the roles the configuration names cannot be deleted.
		for _, x := range list[:4] {
			restError(t, api.DeleteRole(*x.Sid), 409, 20409)
		}
		custom, err := api.CreateRole((&conversations.CreateRoleParams{}).SetFriendlyName("agent").SetType("conversation").SetPermission([]string{"sendMessage"}))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := api.UpdateServiceConfiguration(*cfg.DefaultChatServiceSid, (&conversations.UpdateServiceConfigurationParams{}).
			SetDefaultConversationRoleSid(*custom.Sid)); err != nil {
			t.Fatal(err)
		}
		restError(t, api.DeleteRole(*custom.Sid), 409, 20409)

		// Unknown SIDs.
		_, err = api.FetchRole("RLffffffffffffffffffffffffffffffff")
		restError(t, err, 404, 20404)
		_, err = api.UpdateRole("RLffffffffffffffffffffffffffffffff", (&conversations.UpdateRoleParams{}).SetPermission([]string{"sendMessage"}))
		restError(t, err, 404, 20404)
	})
}

func regexpRL(s string) bool { return roleRE.MatchString(s) }

// TestServiceRoles covers the /v1/Services/{IS}/Roles URL form: roles belong to their service.
func TestServiceRoles(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		env := setup(t, e)
		api := env.api
		svc, err := api.CreateService((&conversations.CreateServiceParams{}).SetFriendlyName("other"))
		if err != nil {
			t.Fatal(err)
		}
		r, err := api.CreateServiceRole(*svc.Sid, (&conversations.CreateServiceRoleParams{}).SetFriendlyName("moderator").SetType("conversation").
			SetPermission([]string{"removeParticipant", "deleteAnyMessage"}))
		if err != nil {
			t.Fatal(err)
		}
		if str(r.ChatServiceSid) != *svc.Sid || str(r.Url) != env.srv.URL+"/v1/Services/"+*svc.Sid+"/Roles/"+*r.Sid {
			t.Errorf("service role: chat_service_sid %s url %s", str(r.ChatServiceSid), str(r.Url))
		}
		// Not visible in the default service.
		_, err = api.FetchRole(*r.Sid)
		restError(t, err, 404, 20404)
		restError(t, api.DeleteRole(*r.Sid), 404, 20404)

		up, err := api.UpdateServiceRole(*svc.Sid, *r.Sid, (&conversations.UpdateServiceRoleParams{}).SetPermission([]string{"sendMessage", "sendMediaMessage"}))
		if err != nil {
			t.Fatal(err)
		}
		if got := strs(up.Permissions); !reflect.DeepEqual(got, []string{"sendMessage", "sendMediaMessage"}) {
			t.Errorf("updated permissions = %v", got)
		}
		list, err := api.ListServiceRole(*svc.Sid, nil)
		if err != nil || len(list) != 5 {
			t.Fatalf("list = %d roles, %v", len(list), err)
		}
		// The role can be assigned in its own service only.
		ch, err := api.CreateServiceConversation(*svc.Sid, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := api.CreateServiceConversationParticipant(*svc.Sid, *ch.Sid, (&conversations.CreateServiceConversationParticipantParams{}).
			SetIdentity("mod").SetRoleSid(*r.Sid)); err != nil {
			t.Fatal(err)
		}
		restError(t, api.DeleteServiceRole(*svc.Sid, *r.Sid), 409, 20409)
		code, _ := env.srv.Do(t, http.MethodDelete, "/v1/Services/"+*svc.Sid+"/Roles/RLffffffffffffffffffffffffffffffff", nil)
		if code != 404 {
			t.Errorf("delete unknown role: %d", code)
		}
		other, err := api.CreateServiceRole(*svc.Sid, (&conversations.CreateServiceRoleParams{}).SetFriendlyName("spare").SetType("service").
			SetPermission([]string{"editOwnUserInfo"}))
		if err != nil {
			t.Fatal(err)
		}
		// A service role a user holds cannot be deleted either.
		if _, err := api.CreateServiceUser(*svc.Sid, (&conversations.CreateServiceUserParams{}).SetIdentity("holder").SetRoleSid(*other.Sid)); err != nil {
			t.Fatal(err)
		}
		restError(t, api.DeleteServiceRole(*svc.Sid, *other.Sid), 409, 20409)
		spare, err := api.CreateServiceRole(*svc.Sid, (&conversations.CreateServiceRoleParams{}).SetFriendlyName("spare 2").SetType("service").
			SetPermission([]string{"editOwnUserInfo"}))
		if err != nil {
			t.Fatal(err)
		}
		if err := api.DeleteServiceRole(*svc.Sid, *spare.Sid); err != nil {
			t.Fatal(err)
		}
	})
}
