package httpapi_test

import (
	"context"
	"testing"

	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/store/storetest"
	"github.com/parley-dev/parley/internal/testserver"
)

// TestPushRegistrationRemoval checks the client's two removals (the chat gateway's ERS
// routes): its own registration by binding SID, and every binding of a device token.
func TestPushRegistrationRemoval(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		srv := testserver.New(t, e)
		ctx := context.Background()
		is := defaultService(t, srv, testserver.AccountSid, testserver.AuthToken)
		sc := conv.Scope{AccountSid: testserver.AccountSid}
		st, b := srv.Do(t, "POST", "/v1/Credentials", map[string]string{"Type": "fcm", "Secret": "fcm-secret"})
		if st != 201 {
			t.Fatalf("credential: %d %s", st, b)
		}
		cred := decode[struct {
			Sid string `json:"sid"`
		}](t, b).Sid
		reg := func(identity, address string) *conv.PushBinding {
			t.Helper()
			pb, err := srv.Service.RegisterPushBinding(ctx, sc, conv.PushRegistration{Identity: identity, CredentialSid: cred, BindingType: "fcm", Address: address})
			if err != nil {
				t.Fatal(err)
			}
			return pb
		}
		code := func(err error) int {
			if e, ok := conv.AsError(err); ok {
				return e.Code
			}
			return 0
		}
		count := func() int {
			t.Helper()
			bs, err := srv.Service.ListPushBindings(ctx, sc, conv.PushBindingFilter{}, conv.PageQuery{Size: 100})
			if err != nil {
				t.Fatal(err)
			}
			return len(bs)
		}
		bob := reg("bob", "shared-device")
		reg("carol", "shared-device")
		dave := reg("dave", "dave-device")

		// Someone else's registration is not found, and stays.
		if err := srv.Service.RemovePushRegistration(ctx, sc, "bob", dave.Sid); code(err) != 20404 {
			t.Errorf("removing dave's binding as bob: %v", err)
		}
		if err := srv.Service.RemovePushRegistration(ctx, sc, "bob", "nope"); code(err) != 20404 {
			t.Errorf("removing a malformed sid: %v", err)
		}
		if count() != 3 {
			t.Fatalf("bindings after refused removals: %d", count())
		}
		// Bad device removals change nothing.
		if _, err := srv.Service.RemovePushRegistrations(ctx, sc, "sms", "shared-device"); code(err) != 50209 {
			t.Errorf("binding type sms: %v", err)
		}
		if _, err := srv.Service.RemovePushRegistrations(ctx, sc, "fcm", ""); code(err) != 20422 {
			t.Errorf("no address: %v", err)
		}
		if n, err := srv.Service.RemovePushRegistrations(ctx, sc, "apn", "shared-device"); err != nil || n != 0 || count() != 3 {
			t.Errorf("apn removal of an fcm device: %d %v, %d left", n, err, count())
		}
		// The device's bindings go, whoever registered them; others stay.
		if n, err := srv.Service.RemovePushRegistrations(ctx, sc, "fcm", "shared-device"); err != nil || n != 2 {
			t.Errorf("device removal: %d %v", n, err)
		}
		if st, b := srv.Do(t, "GET", "/v1/Services/"+is+"/Bindings/"+bob.Sid, nil); st != 404 {
			t.Errorf("bob's binding after device removal: %d %s", st, b)
		}
		if err := srv.Service.RemovePushRegistration(ctx, sc, "dave", dave.Sid); err != nil {
			t.Errorf("dave removing his own: %v", err)
		}
		if count() != 0 {
			t.Errorf("bindings left: %d", count())
		}
	})
}
