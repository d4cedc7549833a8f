package sdkgo_test

import (
	"strings"
	"testing"

	conversations "github.com/twilio/twilio-go/rest/conversations/v1"

	"github.com/parley-dev/parley/internal/store/storetest"
	"github.com/parley-dev/parley/internal/testserver"
)

// TestCredentials covers /v1/Credentials: create per push type, fetch, list, update and
// delete; secrets are stored but never returned.
func TestCredentials(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		env := setup(t, e)
		api := env.api

		apn, err := api.CreateCredential((&conversations.CreateCredentialParams{}).SetType("apn").SetFriendlyName("Test slow create").
			SetCertificate("-----BEGIN CERTIFICATE-----\nMIIFnTCCBIWgAwIBAgIIAjy9H849+E8wDQYJKoZIhvcNAQEF\n-----END CERTIFICATE-----").
			SetPrivateKey("-----BEGIN RSA PRIVATE KEY-----\nMIIEpQIBAAKCAQEAuyf/lNrH9ck8DmNyo3fG\n-----END RSA PRIVATE KEY-----").SetSandbox(true))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(str(apn.Sid), "CR") || str(apn.AccountSid) != testserver.AccountSid || str(apn.FriendlyName) != "Test slow create" ||
			str(apn.Type) != "apn" || str(apn.Sandbox) != "True" || str(apn.Url) != env.srv.URL+"/v1/Credentials/"+str(apn.Sid) {
			t.Errorf("apn credential = %+v", apn)
		}
		fcm, err := api.CreateCredential((&conversations.CreateCredentialParams{}).SetType("fcm").SetSecret("server-key"))
		if err != nil {
			t.Fatal(err)
		}
		if str(fcm.Sandbox) != "False" || fcm.FriendlyName != nil {
			t.Errorf("fcm credential = %+v", fcm)
		}
		gcm, err := api.CreateCredential((&conversations.CreateCredentialParams{}).SetType("gcm").SetApiKey("api-key"))
		if err != nil {
			t.Fatal(err)
		}

		// No secret ever comes back, in any response.
		for _, path := range []string{"/v1/Credentials", "/v1/Credentials/" + *apn.Sid, "/v1/Credentials/" + *fcm.Sid} {
			code, body := env.srv.Do(t, "GET", path, nil)
			if code != 200 {
				t.Fatalf("GET %s: %d", path, code)
			}
			for _, secret := range []string{"BEGIN CERTIFICATE", "PRIVATE KEY", "server-key", "api-key", "certificate", "private_key", "secret"} {
				if strings.Contains(string(body), secret) {
					t.Errorf("GET %s returns %q: %s", path, secret, body)
				}
			}
		}

		list, err := api.ListCredential(nil)
		if err != nil || len(list) != 3 || *list[0].Sid != *apn.Sid || *list[2].Sid != *gcm.Sid {
			t.Fatalf("list = %d, %v", len(list), err)
		}
		got, err := api.FetchCredential(*apn.Sid)
		if err != nil || str(got.FriendlyName) != "Test slow create" {
			t.Errorf("fetch = %+v, %v", got, err)
		}

		env.srv.Clock.Advance(1e9)
		up, err := api.UpdateCredential(*apn.Sid, (&conversations.UpdateCredentialParams{}).SetFriendlyName("renamed").SetSandbox(false))
		if err != nil {
			t.Fatal(err)
		}
		if str(up.FriendlyName) != "renamed" || str(up.Sandbox) != "False" || str(up.Type) != "apn" || !up.DateUpdated.After(*up.DateCreated) {
			t.Errorf("updated = %+v", up)
		}
		// Changing the type needs the new type's secret.
		_, err = api.UpdateCredential(*apn.Sid, (&conversations.UpdateCredentialParams{}).SetType("fcm"))
		restError(t, err, 400, 20001)
		up, err = api.UpdateCredential(*apn.Sid, (&conversations.UpdateCredentialParams{}).SetType("fcm").SetSecret("new-key"))
		if err != nil || str(up.Type) != "fcm" {
			t.Errorf("type change = %+v, %v", up, err)
		}

		for _, tc := range []struct {
			p    *conversations.CreateCredentialParams
			code int
		}{
			{(&conversations.CreateCredentialParams{}).SetFriendlyName("no type"), 20001},
			{(&conversations.CreateCredentialParams{}).SetType("webpush"), 20422},
			{(&conversations.CreateCredentialParams{}).SetType("apn").SetCertificate("cert"), 20001},
			{(&conversations.CreateCredentialParams{}).SetType("gcm"), 20001},
			{(&conversations.CreateCredentialParams{}).SetType("fcm"), 20001},
			{(&conversations.CreateCredentialParams{}).SetType("fcm").SetSecret("k").SetFriendlyName(strings.Repeat("n", 65)), 50003},
		} {
			_, err := api.CreateCredential(tc.p)
			restError(t, err, 400, tc.code)
		}
		if list, _ := api.ListCredential(nil); len(list) != 3 {
			t.Errorf("refused creates left %d credentials", len(list))
		}

		other := newClient(t, env.srv.URL, testserver.Account2Sid, testserver.Auth2Token, testserver.Account2Sid).ConversationsV1
		_, err = other.FetchCredential(*apn.Sid)
		restError(t, err, 404, 20404)
		if err := api.DeleteCredential(*gcm.Sid); err != nil {
			t.Fatal(err)
		}
		_, err = api.FetchCredential(*gcm.Sid)
		restError(t, err, 404, 20404)
		restError(t, api.DeleteCredential(*gcm.Sid), 404, 20404)
		_, err = api.UpdateCredential("CRffffffffffffffffffffffffffffffff", (&conversations.UpdateCredentialParams{}).SetFriendlyName("x"))
		restError(t, err, 404, 20404)
	})
}
