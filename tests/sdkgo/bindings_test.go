package sdkgo_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	conversations "github.com/twilio/twilio-go/rest/conversations/v1"

	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/store/storetest"
	"github.com/parley-dev/parley/internal/testserver"
)

// TestPushBindings covers /v1/Services/{IS}/Bindings. Client SDKs create bindings (REST
// cannot), so the test inserts them through the store.
func TestPushBindings(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		env := setup(t, e)
		api := env.api
		svc, err := api.CreateService((&conversations.CreateServiceParams{}).SetFriendlyName("push"))
		if err != nil {
			t.Fatal(err)
		}
		empty, err := api.ListServiceBinding(*svc.Sid, nil)
		if err != nil || len(empty) != 0 {
			t.Fatalf("a new service has bindings: %v, %v", empty, err)
		}

		created := time.Date(2016, 10, 21, 11, 37, 3, 0, time.UTC)
		insert := func(sid, typ, identity string) {
			t.Helper()
			b := &conv.PushBinding{Sid: sid, AccountSid: testserver.AccountSid, ServiceSid: *svc.Sid, CredentialSid: "CRaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
				Endpoint: identity + "-endpoint", Identity: identity, BindingType: typ,
				MessageTypes: []string{"removed_from_conversation", "new_message", "added_to_conversation"}, DateCreated: created, DateUpdated: created}
			if err := env.srv.Store.WithTx(context.Background(), func(tx conv.Store) error { return tx.CreatePushBinding(context.Background(), b) }); err != nil {
				t.Fatal(err)
			}
		}
		insert("BSaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "gcm", "TestUser")
		insert("BSbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "apn", "TestUser")
		insert("BScccccccccccccccccccccccccccccccc", "fcm", "Other")

		b, err := api.FetchServiceBinding(*svc.Sid, "BSaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
		if err != nil {
			t.Fatal(err)
		}
		if str(b.AccountSid) != testserver.AccountSid || str(b.ChatServiceSid) != *svc.Sid || str(b.CredentialSid) != "CRaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" ||
			str(b.Endpoint) != "TestUser-endpoint" || str(b.Identity) != "TestUser" || str(b.BindingType) != "gcm" || !b.DateCreated.Equal(created) ||
			!reflect.DeepEqual(strs(b.MessageTypes), []string{"removed_from_conversation", "new_message", "added_to_conversation"}) ||
			str(b.Url) != env.srv.URL+"/v1/Services/"+*svc.Sid+"/Bindings/BSaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" {
			t.Errorf("binding = %+v", b)
		}

		sids := func(p *conversations.ListServiceBindingParams) []string {
			t.Helper()
			list, err := api.ListServiceBinding(*svc.Sid, p)
			if err != nil {
				t.Fatal(err)
			}
			out := []string{}
			for _, x := range list {
				out = append(out, *x.Sid)
			}
			return out
		}
		all := []string{"BSaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "BSbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "BScccccccccccccccccccccccccccccccc"}
		if got := sids(nil); !reflect.DeepEqual(got, all) {
			t.Errorf("list = %v", got)
		}
		if got := sids((&conversations.ListServiceBindingParams{}).SetBindingType([]string{"gcm", "fcm"})); !reflect.DeepEqual(got, []string{all[0], all[2]}) {
			t.Errorf("list BindingType=gcm,fcm = %v", got)
		}
		if got := sids((&conversations.ListServiceBindingParams{}).SetIdentity([]string{"TestUser"}).SetBindingType([]string{"apn"})); !reflect.DeepEqual(got, []string{all[1]}) {
			t.Errorf("list Identity=TestUser BindingType=apn = %v", got)
		}
		page, err := api.PageServiceBinding(*svc.Sid, (&conversations.ListServiceBindingParams{}).SetIdentity([]string{"TestUser"}).SetPageSize(1), "", "")
		if err != nil {
			t.Fatal(err)
		}
		if page.Meta.Key != "bindings" || page.Meta.FirstPageUrl != env.srv.URL+"/v1/Services/"+*svc.Sid+"/Bindings?Identity=TestUser&PageSize=1&Page=0" ||
			page.Meta.NextPageUrl == nil {
			t.Errorf("meta = %+v", page.Meta)
		}
		_, err = api.ListServiceBinding(*svc.Sid, (&conversations.ListServiceBindingParams{}).SetBindingType([]string{"sms"}))
		restError(t, err, 400, 20422)

		// Bindings belong to their service.
		_, err = api.FetchServiceBinding(str(mustConfig(t, api).DefaultChatServiceSid), all[0])
		restError(t, err, 404, 20404)
		if err := api.DeleteServiceBinding(*svc.Sid, all[0]); err != nil {
			t.Fatal(err)
		}
		_, err = api.FetchServiceBinding(*svc.Sid, all[0])
		restError(t, err, 404, 20404)
		restError(t, api.DeleteServiceBinding(*svc.Sid, all[0]), 404, 20404)
		if got := sids(nil); !reflect.DeepEqual(got, all[1:]) {
			t.Errorf("after delete = %v", got)
		}
		other := newClient(t, env.srv.URL, testserver.Account2Sid, testserver.Auth2Token, testserver.Account2Sid).ConversationsV1
		_, err = other.ListServiceBinding(*svc.Sid, nil)
		restError(t, err, 404, 20404)
	})
}

func mustConfig(t *testing.T, api *conversations.ApiService) *conversations.ConversationsV1Configuration {
	t.Helper()
	c, err := api.FetchConfiguration()
	if err != nil {
		t.Fatal(err)
	}
	return c
}
