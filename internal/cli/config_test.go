package cli

import (
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/parley-dev/parley/internal/app"
)

// TestServeConfig checks flags and environment become the app.Config the server is built from.
func TestServeConfig(t *testing.T) {
	c, err := parseServe([]string{"-db", "x.db", "-account", "AC1:t1", "-api-key", "SK1:s1", "-api-key", "SK2:s2:AC2",
		"-max-body-bytes", "2048", "-carrier-url", "http://carrier.test/sms", "-webhook-attempts", "3"},
		env(map[string]string{"PARLEY_ACCOUNT_SID": "AC0", "PARLEY_AUTH_TOKEN": "t0", "PARLEY_PUBLIC_URL": "https://p.test",
			"PARLEY_TRUST_PROXY": "true", "PARLEY_SQLITE_SYNCHRONOUS": "FULL"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	a := c.App
	if a.DB != "x.db" || a.MaxBodyBytes != 2048 || a.PublicURL != "https://p.test" || !a.TrustProxy ||
		a.SQLiteSynchronous != "FULL" || a.CarrierURL != "http://carrier.test/sms" || a.Webhooks.Attempts != 3 {
		t.Errorf("config: %+v", a)
	}
	if want := []app.Account{{Sid: "AC0", AuthToken: "t0"}, {Sid: "AC1", AuthToken: "t1"}}; !reflect.DeepEqual(a.Accounts, want) {
		t.Errorf("accounts %+v, want %+v", a.Accounts, want)
	}
	if want := []app.APIKey{{Sid: "SK1", Secret: "s1"}, {Sid: "SK2", Secret: "s2", AccountSid: "AC2"}}; !reflect.DeepEqual(a.APIKeys, want) {
		t.Errorf("API keys %+v, want %+v", a.APIKeys, want)
	}
	for _, bad := range [][]string{{"-account", "AC1"}, {"-api-key", "SK1"}} {
		if _, err := parseServe(bad, env(nil), io.Discard); err == nil || !strings.Contains(err.Error(), "must be") {
			t.Errorf("%v: err = %v", bad, err)
		}
	}
	c, err = parseServe(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.App.DB != DefaultDB || c.App.MaxBodyBytes != 1<<20 || c.App.Accounts != nil {
		t.Errorf("defaults: %+v", c.App)
	}
}
