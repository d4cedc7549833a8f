// Package control_test tests the control plane (/parley/v1/Reset, Snapshot, Clock, Faults,
// Inbound, Requests, /metrics, /healthz) over the real HTTP server, on every engine.
package control_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/store/storetest"
	"github.com/parley-dev/parley/internal/testserver"
)

type env struct {
	t   *testing.T
	srv *testserver.Server
}

func newEnv(t *testing.T, e storetest.Engine) *env {
	return &env{t: t, srv: testserver.New(t, e)}
}

// do sends a form request as the first account and decodes a JSON answer.
func (v *env) do(method, path string, form map[string]string) (int, map[string]any) {
	v.t.Helper()
	return v.doAs(testserver.AccountSid, testserver.AuthToken, method, path, form)
}

func (v *env) doAs(user, pass, method, path string, form map[string]string) (int, map[string]any) {
	v.t.Helper()
	st, body := v.srv.DoAs(v.t, user, pass, method, path, form, nil)
	var m map[string]any
	if len(body) > 0 {
		if err := json.Unmarshal(body, &m); err != nil {
			v.t.Fatalf("%s %s: %d, not JSON: %s", method, path, st, body)
		}
	}
	return st, m
}

// must sends a request that must answer want.
func (v *env) must(want int, method, path string, form map[string]string) map[string]any {
	v.t.Helper()
	st, m := v.do(method, path, form)
	if st != want {
		v.t.Fatalf("%s %s %v: status %d, want %d: %v", method, path, form, st, want, m)
	}
	return m
}

// raw sends a body with a content type as user and returns the status and body.
func (v *env) raw(user, pass, method, path, contentType string, body []byte) (int, []byte) {
	v.t.Helper()
	req, err := http.NewRequest(method, v.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		v.t.Fatal(err)
	}
	req.SetBasicAuth(user, pass)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		v.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (v *env) snapshot(user, pass string) []byte {
	v.t.Helper()
	st, b := v.raw(user, pass, "GET", "/parley/v1/Snapshot", "", nil)
	if st != 200 {
		v.t.Fatalf("GET Snapshot: %d %s", st, b)
	}
	return b
}

func (v *env) restore(user, pass string, doc []byte) (int, map[string]any) {
	v.t.Helper()
	st, b := v.raw(user, pass, "POST", "/parley/v1/Snapshot", "application/json", doc)
	var m map[string]any
	if len(b) > 0 {
		_ = json.Unmarshal(b, &m)
	}
	return st, m
}

// wantError checks a Twilio error body.
func wantError(t *testing.T, what string, st int, m map[string]any, status, code int) {
	t.Helper()
	if st != status || m["status"] != float64(status) || m["code"] != float64(code) || m["message"] == "" || m["more_info"] == nil {
		t.Errorf("%s: %d %v, want %d with code %d", what, st, m, status, code)
	}
}

const acct2, tok2 = testserver.Account2Sid, testserver.Auth2Token

// populate makes some state in the first account: a conversation with a chat and an SMS
// participant, messages, a read horizon, a user, a role, webhook configuration, a
// conversation webhook and an address configuration.
func (v *env) populate() (ch string) {
	v.t.Helper()
	c := v.must(201, "POST", "/v1/Conversations", map[string]string{"FriendlyName": "Support", "UniqueName": "support-1",
		"Attributes": `{"topic":"billing"}`, "Timers.Inactive": "PT10H"})
	ch = c["sid"].(string)
	alice := v.must(201, "POST", "/v1/Conversations/"+ch+"/Participants", map[string]string{"Identity": "alice"})
	v.must(201, "POST", "/v1/Conversations/"+ch+"/Participants", map[string]string{"MessagingBinding.Address": "+15558675310",
		"MessagingBinding.ProxyAddress": "+15017122661"})
	for _, b := range []string{"hello", "world", "third"} {
		v.must(201, "POST", "/v1/Conversations/"+ch+"/Messages", map[string]string{"Author": "alice", "Body": b})
	}
	v.must(200, "POST", "/v1/Conversations/"+ch+"/Participants/"+alice["sid"].(string), map[string]string{"LastReadMessageIndex": "1"})
	v.must(201, "POST", "/v1/Users", map[string]string{"Identity": "bob", "FriendlyName": "Bob"})
	v.must(201, "POST", "/v1/Roles", map[string]string{"FriendlyName": "helper", "Type": "conversation", "Permission": "sendMessage"})
	v.must(200, "POST", "/v1/Configuration/Webhooks", map[string]string{"PostWebhookUrl": "http://127.0.0.1:9/hook", "Filters": "onMessageAdded"})
	v.must(201, "POST", "/v1/Conversations/"+ch+"/Webhooks", map[string]string{"Target": "webhook", "Configuration.Url": "http://127.0.0.1:9/conv",
		"Configuration.Filters": "onMessageAdded"})
	v.must(201, "POST", "/v1/Configuration/Addresses", map[string]string{"Type": "sms", "Address": "+15017122662",
		"AutoCreation.Enabled": "true", "AutoCreation.Type": "default"})
	return ch
}

func list(m map[string]any, key string) []any {
	l, _ := m[key].([]any)
	return l
}

func TestReset(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		v := newEnv(t, e)
		ch := v.populate()
		before := v.must(200, "GET", "/v1/Services", nil)
		st, c2 := v.doAs(acct2, tok2, "POST", "/v1/Conversations", map[string]string{"FriendlyName": "theirs"})
		if st != 201 {
			t.Fatalf("account 2 conversation: %d %v", st, c2)
		}
		snap2 := v.snapshot(acct2, tok2)
		if st, b := v.srv.DoAs(t, testserver.AccountSid, testserver.AuthToken, "POST", "/v1/Conversations/"+ch+"/Messages",
			map[string]string{"Author": "alice", "Body": "with a webhook"}, map[string]string{"X-Twilio-Webhook-Enabled": "true"}); st != 201 {
			t.Fatalf("message: %d %s", st, b)
		}
		if l := list(v.must(200, "GET", "/parley/v1/Webhooks/Deliveries", nil), "deliveries"); len(l) == 0 {
			t.Errorf("no webhook deliveries to reset")
		}
		// The SMS participant's deliveries reach the outbox before the reset.
		waitFor(t, "the outbox", func() bool { return len(list(v.must(200, "GET", "/parley/v1/Outbox", nil), "messages")) == 4 })

		st, m := v.do("POST", "/parley/v1/Reset", map[string]string{"Bogus": "1"})
		wantError(t, "Reset with a parameter", st, m, 400, 20001)
		v.must(200, "GET", "/v1/Conversations/"+ch, nil) // nothing changed

		if st, _ := v.do("POST", "/parley/v1/Reset", nil); st != 204 {
			t.Fatalf("Reset: %d", st)
		}
		if got := list(v.must(200, "GET", "/v1/Conversations", nil), "conversations"); len(got) != 0 {
			t.Errorf("conversations after reset: %v", got)
		}
		v.must(404, "GET", "/v1/Conversations/"+ch, nil)
		if got := list(v.must(200, "GET", "/parley/v1/Outbox", nil), "messages"); len(got) != 0 {
			t.Errorf("outbox after reset: %v", got)
		}
		if got := list(v.must(200, "GET", "/parley/v1/Webhooks/Deliveries", nil), "deliveries"); len(got) != 0 {
			t.Errorf("webhook deliveries after reset: %v", got)
		}
		if got := list(v.must(200, "GET", "/v1/Users", nil), "users"); len(got) != 0 {
			t.Errorf("users after reset: %v", got)
		}
		if got := list(v.must(200, "GET", "/v1/Configuration/Addresses", nil), "address_configurations"); len(got) != 0 {
			t.Errorf("address configurations after reset: %v", got)
		}
		after := v.must(200, "GET", "/v1/Services", nil)
		sv, sb := list(after, "services"), list(before, "services")
		if len(sv) != 1 || len(sb) != 1 || sv[0].(map[string]any)["sid"] == sb[0].(map[string]any)["sid"] {
			t.Errorf("default service not recreated: before %v after %v", sb, sv)
		}
		for _, r := range list(v.must(200, "GET", "/v1/Roles", nil), "roles") {
			if r.(map[string]any)["friendly_name"] == "helper" {
				t.Errorf("role kept by reset: %v", r)
			}
		}
		// The account's credentials and API key still work; a new conversation can be made.
		if st, _ := v.srv.DoAs(t, testserver.APIKeySid, testserver.APIKeySecret, "GET", "/v1/Conversations", nil, nil); st != 200 {
			t.Errorf("API key after reset: %d", st)
		}
		v.must(201, "POST", "/v1/Conversations", map[string]string{"UniqueName": "support-1"})
		// The other account is untouched.
		if got := v.snapshot(acct2, tok2); !bytes.Equal(got, snap2) {
			t.Errorf("account 2 changed by account 1's reset")
		}
		if st, _ := v.doAs(acct2, tok2, "GET", "/v1/Conversations/"+c2["sid"].(string), nil); st != 200 {
			t.Errorf("account 2's conversation: %d", st)
		}
	})
}

func TestSnapshotRoundTrip(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		v := newEnv(t, e)
		ch := v.populate()
		s1 := v.snapshot(testserver.AccountSid, testserver.AuthToken)
		var doc map[string]any
		if err := json.Unmarshal(s1, &doc); err != nil {
			t.Fatal(err)
		}
		tables := doc["tables"].(map[string]any)
		if doc["version"] != float64(1) || len(tables["conversations"].([]any)) != 1 || len(tables["participants"].([]any)) != 2 ||
			len(tables["messages"].([]any)) != 3 || len(tables["users"].([]any)) != 2 {
			t.Fatalf("snapshot: %s", s1)
		}
		conv0 := tables["conversations"].([]any)[0].(map[string]any)
		if conv0["date_created"] != "2015-12-16T22:18:37Z" || conv0["next_message_index"] != float64(3) {
			t.Errorf("conversation row: %v", conv0)
		}
		if st, _ := v.do("POST", "/parley/v1/Reset", nil); st != 204 {
			t.Fatal("reset")
		}
		if st, m := v.restore(testserver.AccountSid, testserver.AuthToken, s1); st != 204 {
			t.Fatalf("restore: %d %v", st, m)
		}
		s2 := v.snapshot(testserver.AccountSid, testserver.AuthToken)
		if !bytes.Equal(s1, s2) {
			t.Fatalf("round trip differs:\n%s\n---\n%s", s1, s2)
		}
		// The restored state serves the API as before: read horizon, messages, next index.
		parts := list(v.must(200, "GET", "/v1/Conversations/"+ch+"/Participants", nil), "participants")
		found := false
		for _, p := range parts {
			p := p.(map[string]any)
			if p["identity"] == "alice" && p["last_read_message_index"] == float64(1) {
				found = true
			}
		}
		if !found {
			t.Errorf("read horizon not restored: %v", parts)
		}
		m := v.must(201, "POST", "/v1/Conversations/"+ch+"/Messages", map[string]string{"Author": "alice", "Body": "after"})
		if m["index"] != float64(3) {
			t.Errorf("next message index after restore: %v", m["index"])
		}
		v.must(409, "POST", "/v1/Conversations/"+ch+"/Participants", map[string]string{"Identity": "alice"})
		// A YAML document is read as well.
		yamlDoc := []byte("version: 1\ndefault_service_sid: " + doc["default_service_sid"].(string) + "\ntables:\n  services:\n    - sid: " +
			doc["default_service_sid"].(string) + "\n      friendly_name: Fixture\n      date_created: 2020-01-02T03:04:05Z\n      date_updated: 2020-01-02T03:04:05Z\n")
		if st, b := v.raw(testserver.AccountSid, testserver.AuthToken, "POST", "/parley/v1/Snapshot", "application/yaml", yamlDoc); st != 204 {
			t.Fatalf("YAML restore: %d %s", st, b)
		}
		svc := list(v.must(200, "GET", "/v1/Services", nil), "services")
		if len(svc) != 1 || svc[0].(map[string]any)["friendly_name"] != "Fixture" || svc[0].(map[string]any)["date_created"] != "2020-01-02T03:04:05Z" {
			t.Errorf("YAML fixture services: %v", svc)
		}
	})
}

func TestSnapshotRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		v := newEnv(t, e)
		v.populate()
		good := v.snapshot(testserver.AccountSid, testserver.AuthToken)
		other := v.snapshot(acct2, tok2)
		edit := func(f func(doc map[string]any)) []byte {
			var doc map[string]any
			if err := json.Unmarshal(good, &doc); err != nil {
				t.Fatal(err)
			}
			f(doc)
			b, _ := json.Marshal(doc)
			return b
		}
		rows := func(doc map[string]any, table string) []any { return doc["tables"].(map[string]any)[table].([]any) }
		cases := []struct {
			name string
			ct   string
			doc  []byte
		}{
			{"malformed", "application/json", []byte(`{"version":1,"tables":`)},
			{"not JSON content type", "application/x-www-form-urlencoded", good},
			{"unknown version", "application/json", edit(func(d map[string]any) { d["version"] = 2 })},
			{"no version", "application/json", edit(func(d map[string]any) { delete(d, "version") })},
			{"unknown field", "application/json", edit(func(d map[string]any) { d["extra"] = true })},
			{"unknown table", "application/json", edit(func(d map[string]any) { d["tables"].(map[string]any)["bogus"] = []any{} })},
			{"unknown column", "application/json", edit(func(d map[string]any) {
				rows(d, "users")[0].(map[string]any)["colour"] = "red"
			})},
			{"two participants with one identity", "application/json", edit(func(d map[string]any) {
				ps := rows(d, "participants")
				dup := map[string]any{}
				for k, x := range ps[0].(map[string]any) {
					dup[k] = x
				}
				dup["sid"] = "MB" + strings.Repeat("e", 32)
				d["tables"].(map[string]any)["participants"] = append(ps, dup)
			})},
			{"unknown service", "application/json", edit(func(d map[string]any) {
				rows(d, "conversations")[0].(map[string]any)["service_sid"] = "IS" + strings.Repeat("f", 32)
			})},
			{"participant of an unknown conversation", "application/json", edit(func(d map[string]any) {
				rows(d, "participants")[0].(map[string]any)["conversation_sid"] = "CH" + strings.Repeat("f", 32)
			})},
			{"unknown default service", "application/json", edit(func(d map[string]any) { d["default_service_sid"] = "IS" + strings.Repeat("f", 32) })},
			{"bad date", "application/json", edit(func(d map[string]any) {
				rows(d, "conversations")[0].(map[string]any)["date_created"] = "yesterday"
			})},
			{"another account's rows", "application/json", edit(func(d map[string]any) {
				rows(d, "users")[0].(map[string]any)["account_sid"] = acct2
			})},
		}
		for _, c := range cases {
			st, b := v.raw(testserver.AccountSid, testserver.AuthToken, "POST", "/parley/v1/Snapshot", c.ct, c.doc)
			var m map[string]any
			_ = json.Unmarshal(b, &m)
			if st != 400 || m["code"] != float64(20422) || m["status"] != float64(400) || !strings.Contains(m["message"].(string), "") {
				t.Errorf("%s: %d %s", c.name, st, b)
			}
			if got := v.snapshot(testserver.AccountSid, testserver.AuthToken); !bytes.Equal(got, good) {
				t.Fatalf("%s: the refused snapshot changed the state", c.name)
			}
		}
		// Account 2 cannot take account 1's SIDs while account 1 holds them, and that
		// changes neither account.
		if st, m := v.restore(acct2, tok2, good); st != 400 {
			t.Errorf("account 2 restoring account 1's snapshot: %d %v", st, m)
		}
		if !bytes.Equal(v.snapshot(acct2, tok2), other) || !bytes.Equal(v.snapshot(testserver.AccountSid, testserver.AuthToken), good) {
			t.Errorf("a refused cross-account restore changed state")
		}
		if st, _ := v.raw("", "", "GET", "/parley/v1/Snapshot", "", nil); st != 401 {
			t.Errorf("snapshot without credentials: %d", st)
		}
	})
}

func TestClock(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		v := newEnv(t, e)
		m := v.must(200, "GET", "/parley/v1/Clock", nil)
		if m["now"] != "2015-12-16T22:18:37Z" || m["offset"] != "PT0S" {
			t.Fatalf("clock: %v", m)
		}
		c := v.must(201, "POST", "/v1/Conversations", map[string]string{"Timers.Inactive": "PT1H", "Timers.Closed": "P1D"})
		ch := c["sid"].(string)
		for _, bad := range []map[string]string{
			nil, {"Advance": "2h"}, {"Advance": "PT0S"}, {"Advance": "PT1H", "Now": "2027-01-01T00:00:00Z"},
			{"Now": "2015-12-16T22:18:36Z"}, {"Now": "tomorrow"}, {"Speed": "2"},
		} {
			st, m := v.do("POST", "/parley/v1/Clock", bad)
			code := 20422
			if bad["Speed"] != "" {
				code = 20001
			}
			wantError(t, "clock "+strings.Join(keys(bad), ","), st, m, 400, code)
		}
		st, em := v.do("GET", "/parley/v1/Clock?Zone=UTC", nil)
		wantError(t, "clock query parameter", st, em, 400, 20001)
		if m := v.must(200, "GET", "/parley/v1/Clock", nil); m["offset"] != "PT0S" {
			t.Fatalf("a refused move changed the clock: %v", m)
		}
		m = v.must(200, "POST", "/parley/v1/Clock", map[string]string{"Advance": "PT2H"})
		if m["now"] != "2015-12-17T00:18:37Z" || m["offset"] != "PT2H" {
			t.Fatalf("advance: %v", m)
		}
		// The timer worker notices the advance: the conversation goes inactive with its event,
		// without any read of it.
		waitFor(t, "onConversationStateUpdated", func() bool {
			for _, e := range v.srv.Events.Events() {
				if e.Type == "onConversationStateUpdated" && e.ConversationSid == ch {
					return true
				}
			}
			return false
		})
		if got := v.must(200, "GET", "/v1/Conversations/"+ch, nil); got["state"] != "inactive" {
			t.Errorf("state after advance: %v", got["state"])
		}
		// New resources are dated by the control clock.
		c2 := v.must(201, "POST", "/v1/Conversations", nil)
		if c2["date_created"] != "2015-12-17T00:18:37Z" {
			t.Errorf("date_created after advance: %v", c2["date_created"])
		}
		m = v.must(200, "POST", "/parley/v1/Clock", map[string]string{"Now": "2027-01-01T00:00:00Z"})
		if m["now"] != "2027-01-01T00:00:00Z" {
			t.Errorf("set: %v", m)
		}
		if got := v.must(200, "GET", "/v1/Conversations/"+ch, nil); got["state"] != "closed" {
			t.Errorf("state after the closed timer: %v", got["state"])
		}
		st, em = v.do("POST", "/parley/v1/Clock", map[string]string{"Now": "2026-01-01T00:00:00Z"})
		wantError(t, "clock backwards", st, em, 400, 20422)
		// The offset is stored: another replica (a service over the same store) reads it.
		replica := conv.NewService(v.srv.Store, conv.Options{Clock: v.srv.Clock.Now})
		if got := replica.Now(); !got.Equal(time.Date(2015, 12, 16, 22, 18, 37, 0, time.UTC)) {
			t.Fatalf("replica before sync: %v", got)
		}
		if err := replica.SyncClock(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got := replica.Now(); !got.Equal(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("replica after sync: %v", got)
		}
	})
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// waitFor polls cond until it holds; a generous bound only keeps a broken build from hanging.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestFaults(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		v := newEnv(t, e)
		for _, bad := range []map[string]string{
			{"Path": "/v1/Conversations"},                                  // neither status nor delay
			{"Path": "/v1/Conversations", "Status": "200", "Code": "1"},    // not an error status
			{"Path": "/v1/Conversations", "Status": "503"},                 // no code
			{"Path": "v1/Conversations", "Status": "503", "Code": "20503"}, // not a path
			{"Path": "/v1/Conversations", "Delay": "soon"},                 // bad delay
			{"Path": "/v1/Conversations", "Delay": "1s", "Status": "503", "Code": "1"},
			{"Path": "/v1/Conversations", "Status": "503", "Code": "20503", "Method": "PATCH"},
			{"Path": "/v1/Conversations", "Status": "503", "Code": "20503", "Count": "0"},
			{"Target": "webhook", "Status": "500"}, // no Url
			{"Target": "webhook", "Url": "https://x.example", "Status": "500", "Timeout": "true"},
			{"Target": "moon", "Url": "https://x.example", "Status": "500"},
		} {
			st, m := v.do("POST", "/parley/v1/Faults", bad)
			wantError(t, "fault "+strings.Join(keys(bad), ","), st, m, 400, 20422)
		}
		if st, b := v.raw(testserver.AccountSid, testserver.AuthToken, "POST", "/parley/v1/Faults", "application/x-www-form-urlencoded",
			[]byte("Message="+strings.Repeat("x", 2<<20))); st != 413 {
			t.Errorf("a 2 MiB form: %d %.200s", st, b)
		}
		st, m := v.do("POST", "/parley/v1/Faults", map[string]string{"Path": "/v1/Conversations", "Colour": "red"})
		wantError(t, "unknown parameter", st, m, 400, 20001)
		if l := list(v.must(200, "GET", "/parley/v1/Faults", nil), "faults"); len(l) != 0 {
			t.Fatalf("refused faults were registered: %v", l)
		}

		f := v.must(201, "POST", "/parley/v1/Faults", map[string]string{"Method": "POST", "Path": "/v1/Conversations/*/Participants",
			"Status": "503", "Code": "20503", "Message": "Service unavailable (injected)", "Count": "2"})
		if !strings.HasPrefix(f["sid"].(string), "FI") || f["status"] != float64(503) || f["code"] != float64(20503) || f["count"] != float64(2) ||
			f["remaining"] != float64(2) || f["path"] != "/v1/Conversations/*/Participants" || f["url"] != v.srv.URL+"/parley/v1/Faults/"+f["sid"].(string) {
			t.Errorf("fault: %v", f)
		}
		ch := v.must(201, "POST", "/v1/Conversations", nil)["sid"].(string)
		// Account 2's requests are not faulted.
		st2, c2 := v.doAs(acct2, tok2, "POST", "/v1/Conversations", nil)
		if st2 != 201 {
			t.Fatal(c2)
		}
		if st, _ := v.doAs(acct2, tok2, "POST", "/v1/Conversations/"+c2["sid"].(string)+"/Participants", map[string]string{"Identity": "x"}); st != 201 {
			t.Errorf("account 2 faulted by account 1's fault: %d", st)
		}
		st, body := v.srv.Do(t, "POST", "/v1/Conversations/"+ch+"/Participants", map[string]string{"Identity": "alice"})
		if st != 503 || string(body) != `{"code":20503,"message":"Service unavailable (injected)","more_info":"https://www.twilio.com/docs/errors/20503","status":503}` {
			t.Errorf("faulted request: %d %s", st, body)
		}
		if l := list(v.must(200, "GET", "/v1/Conversations/"+ch+"/Participants", nil), "participants"); len(l) != 0 {
			t.Errorf("a faulted request changed something: %v", l)
		}
		fl := list(v.must(200, "GET", "/parley/v1/Faults", nil), "faults")
		if len(fl) != 1 || fl[0].(map[string]any)["remaining"] != float64(1) {
			t.Errorf("faults after one use: %v", fl)
		}
		if l := list(v.must(200, "GET", "/parley/v1/Faults", nil), "faults"); len(l) != 1 {
			t.Errorf("GET is not faulted: %v", l)
		}
		v.must(503, "POST", "/v1/Conversations/"+ch+"/Participants", map[string]string{"Identity": "alice"})
		v.must(201, "POST", "/v1/Conversations/"+ch+"/Participants", map[string]string{"Identity": "alice"}) // used up
		if l := list(v.must(200, "GET", "/parley/v1/Faults", nil), "faults"); len(l) != 0 {
			t.Errorf("used-up fault still listed: %v", l)
		}

		// A delay holds the request, then runs it.
		v.must(201, "POST", "/parley/v1/Faults", map[string]string{"Path": "/v1/Conversations/*", "Method": "GET", "Delay": "20ms"})
		v.must(200, "GET", "/v1/Conversations/"+ch, nil)

		// Paging, delete, isolation.
		var sids []string
		for i := 0; i < 3; i++ {
			sids = append(sids, v.must(201, "POST", "/parley/v1/Faults", map[string]string{"Path": "/v1/Nothing/" + string(rune('a'+i)),
				"Status": "500", "Code": "20500"})["sid"].(string))
		}
		p1 := v.must(200, "GET", "/parley/v1/Faults?PageSize=2", nil)
		items, meta := list(p1, "faults"), p1["meta"].(map[string]any)
		if len(items) != 2 || items[0].(map[string]any)["sid"] != sids[2] || meta["key"] != "faults" || meta["next_page_url"] == nil {
			t.Fatalf("page 1: %v", p1)
		}
		next := strings.TrimPrefix(meta["next_page_url"].(string), v.srv.URL)
		p2 := v.must(200, "GET", next, nil)
		if items := list(p2, "faults"); len(items) != 1 || items[0].(map[string]any)["sid"] != sids[0] || p2["meta"].(map[string]any)["next_page_url"] != nil {
			t.Errorf("page 2: %v", p2)
		}
		if st, l := v.doAs(acct2, tok2, "GET", "/parley/v1/Faults", nil); st != 200 || len(list(l, "faults")) != 0 {
			t.Errorf("account 2 sees account 1's faults: %v", l)
		}
		if st, _ := v.doAs(acct2, tok2, "DELETE", "/parley/v1/Faults/"+sids[0], nil); st != 404 {
			t.Errorf("account 2 deleted account 1's fault: %d", st)
		}
		if st, _ := v.do("DELETE", "/parley/v1/Faults/"+sids[0], nil); st != 204 {
			t.Errorf("delete: %d", st)
		}
		st, m = v.do("DELETE", "/parley/v1/Faults/"+sids[0], nil)
		wantError(t, "delete again", st, m, 404, 20404)
	})
}

// hookServer records webhook requests.
type hookServer struct {
	*httptest.Server
	mu   sync.Mutex
	hits int
}

func newHookServer(t *testing.T) *hookServer {
	h := &hookServer{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.hits++
		h.mu.Unlock()
		w.WriteHeader(200)
	}))
	t.Cleanup(h.Close)
	return h
}

func TestWebhookFault(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		v := newEnv(t, e)
		hook := newHookServer(t)
		v.must(200, "POST", "/v1/Configuration/Webhooks", map[string]string{"PostWebhookUrl": hook.URL + "/post", "Filters": "onConversationAdded", "Target": "webhook"})
		v.must(201, "POST", "/parley/v1/Faults", map[string]string{"Target": "webhook", "Url": hook.URL, "Status": "500"})
		st, body := v.srv.DoAs(t, testserver.AccountSid, testserver.AuthToken, "POST", "/v1/Conversations", map[string]string{},
			map[string]string{"X-Twilio-Webhook-Enabled": "true"})
		if st != 201 {
			t.Fatalf("%d %s", st, body)
		}
		var d map[string]any
		waitFor(t, "a failed first attempt", func() bool {
			l := list(v.must(200, "GET", "/parley/v1/Webhooks/Deliveries", nil), "deliveries")
			if len(l) == 1 {
				d = l[0].(map[string]any)
				return d["attempts"] == float64(1) && d["last_response_code"] != nil // settled, not in flight
			}
			return false
		})
		if d["last_response_code"] != float64(500) || d["status"] != "pending" {
			t.Errorf("delivery after the fault: %v", d)
		}
		hook.mu.Lock()
		hits := hook.hits
		hook.mu.Unlock()
		if hits != 0 {
			t.Errorf("the faulted attempt reached the app")
		}
		// The retry (after the back-off, on the control clock) reaches the app.
		v.must(200, "POST", "/parley/v1/Clock", map[string]string{"Advance": "PT1M"})
		waitFor(t, "the retry", func() bool {
			l := list(v.must(200, "GET", "/parley/v1/Webhooks/Deliveries", nil), "deliveries")
			return len(l) == 1 && l[0].(map[string]any)["status"] == "delivered"
		})
	})
}

func TestCarrierFault(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		v := newEnv(t, e)
		ch := v.must(201, "POST", "/v1/Conversations", nil)["sid"].(string)
		v.must(201, "POST", "/v1/Conversations/"+ch+"/Participants", map[string]string{"MessagingBinding.Address": "+15558675310",
			"MessagingBinding.ProxyAddress": "+15017122661"})
		v.must(201, "POST", "/parley/v1/Faults", map[string]string{"Target": "carrier", "Status": "503"})
		v.must(201, "POST", "/v1/Conversations/"+ch+"/Messages", map[string]string{"Author": "system", "Body": "hi"})
		// The first attempt fails; the outbox gets the message once the retry is due.
		waitFor(t, "the fault to be used", func() bool {
			return len(list(v.must(200, "GET", "/parley/v1/Faults", nil), "faults")) == 0
		})
		if l := list(v.must(200, "GET", "/parley/v1/Outbox", nil), "messages"); len(l) != 0 {
			t.Fatalf("faulted delivery reached the outbox: %v", l)
		}
		v.must(200, "POST", "/parley/v1/Clock", map[string]string{"Advance": "PT10M"})
		waitFor(t, "the retried delivery", func() bool {
			return len(list(v.must(200, "GET", "/parley/v1/Outbox", nil), "messages")) == 1
		})
	})
}

func TestInbound(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		v := newEnv(t, e)
		st, m := v.do("POST", "/parley/v1/Inbound", map[string]string{"From": "+15558675310", "To": "+15017122661", "Body": "hi"})
		wantError(t, "inbound without a match", st, m, 404, 20404)
		st, m = v.do("POST", "/parley/v1/Inbound", map[string]string{"To": "+15017122661", "Body": "hi"})
		wantError(t, "inbound without From", st, m, 400, 20001)
		st, m = v.do("POST", "/parley/v1/Inbound", map[string]string{"From": "+15558675310", "To": "+15017122661", "Body": "hi", "MediaUrl": "https://x.example/a.png"})
		wantError(t, "inbound media without a match", st, m, 404, 20404)
		st, m = v.do("POST", "/parley/v1/Inbound", map[string]string{"From": "+15558675310", "To": "+15017122661", "Body": "hi", "Colour": "red"})
		wantError(t, "inbound unknown parameter", st, m, 400, 20001)

		v.must(201, "POST", "/v1/Configuration/Addresses", map[string]string{"Type": "sms", "Address": "+15017122661",
			"AutoCreation.Enabled": "true", "AutoCreation.Type": "default"})
		first := v.must(201, "POST", "/parley/v1/Inbound", map[string]string{"From": "+15558675310", "To": "+15017122661", "Body": "hello"})
		if first["created_conversation"] != true || !strings.HasPrefix(first["conversation_sid"].(string), "CH") ||
			!strings.HasPrefix(first["message_sid"].(string), "IM") || !strings.HasPrefix(first["participant_sid"].(string), "MB") {
			t.Fatalf("first inbound: %v", first)
		}
		second := v.must(201, "POST", "/parley/v1/Inbound", map[string]string{"From": "+15558675310", "To": "+15017122661", "Body": "again"})
		if second["created_conversation"] != false || second["conversation_sid"] != first["conversation_sid"] || second["participant_sid"] != first["participant_sid"] {
			t.Errorf("second inbound: %v", second)
		}
		msgs := list(v.must(200, "GET", "/v1/Conversations/"+first["conversation_sid"].(string)+"/Messages", nil), "messages")
		if len(msgs) != 2 || msgs[1].(map[string]any)["body"] != "again" || msgs[1].(map[string]any)["author"] != "+15558675310" {
			t.Errorf("messages: %v", msgs)
		}
		sources := map[conv.EventType]string{}
		for _, e := range v.srv.Events.Events() {
			sources[e.Type] = e.Source
		}
		if sources[conv.EventMessageAdded] != "SMS" || sources[conv.EventConversationAdded] != "SMS" {
			t.Errorf("event sources: %v", sources)
		}
		// An inbound MMS: its media is recorded with the URL as its content location.
		v.must(201, "POST", "/parley/v1/Inbound", map[string]string{"From": "+15558675310", "To": "+15017122661", "MediaUrl": "https://x.example/a.png",
			"MediaContentType0": "image/png"})
		msgs = list(v.must(200, "GET", "/v1/Conversations/"+first["conversation_sid"].(string)+"/Messages", nil), "messages")
		mm := msgs[len(msgs)-1].(map[string]any)
		media, _ := mm["media"].([]any)
		if len(media) != 1 || mm["body"] != nil || media[0].(map[string]any)["content_type"] != "image/png" || media[0].(map[string]any)["filename"] != "a.png" {
			t.Errorf("inbound media message: %v", mm)
		}
		st, m = v.do("POST", "/parley/v1/Inbound", map[string]string{"From": "+15558675310", "To": "+15017122661", "MediaUrl": "ftp://x.example/a.png"})
		wantError(t, "inbound media URL not http(s)", st, m, 400, 20422)
		// Account 2 has no such address: its inbound finds nothing.
		if st, _ := v.doAs(acct2, tok2, "POST", "/parley/v1/Inbound", map[string]string{"From": "+15558675310", "To": "+15017122661", "Body": "x"}); st != 404 {
			t.Errorf("account 2 inbound: %d", st)
		}
	})
}

func TestRequests(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		v := newEnv(t, e)
		v.must(201, "POST", "/v1/Conversations", map[string]string{"FriendlyName": "x"})
		v.must(404, "GET", "/v1/Conversations/CH"+strings.Repeat("0", 32), nil)
		v.must(201, "POST", "/v1/Credentials", map[string]string{"Type": "fcm", "Secret": "s3cret", "FriendlyName": "push"})
		v.doAs(acct2, tok2, "GET", "/v1/Conversations", nil)

		all := v.must(200, "GET", "/parley/v1/Requests", nil)
		items := list(all, "requests")
		if len(items) != 3 || all["meta"].(map[string]any)["key"] != "requests" {
			t.Fatalf("requests: %v", all)
		}
		newest := items[0].(map[string]any)
		params := newest["parameters"].(map[string]any)
		if newest["method"] != "POST" || newest["path"] != "/v1/Credentials" || newest["status"] != float64(201) ||
			params["Secret"].([]any)[0] != "********" || params["FriendlyName"].([]any)[0] != "push" || !strings.HasPrefix(newest["sid"].(string), "RQ") ||
			newest["account_sid"] != testserver.AccountSid || newest["error_code"] != nil {
			t.Errorf("newest request: %v", newest)
		}
		if nf := items[1].(map[string]any); nf["status"] != float64(404) || nf["error_code"] != float64(20404) {
			t.Errorf("404 request: %v", nf)
		}
		if l := list(v.must(200, "GET", "/parley/v1/Requests?Method=POST&PathPrefix=/v1/Conversations", nil), "requests"); len(l) != 1 {
			t.Errorf("filtered: %v", l)
		}
		if l := list(v.must(200, "GET", "/parley/v1/Requests?Status=404", nil), "requests"); len(l) != 1 {
			t.Errorf("by status: %v", l)
		}
		p := v.must(200, "GET", "/parley/v1/Requests?PageSize=1", nil)
		if next, _ := p["meta"].(map[string]any)["next_page_url"].(string); next == "" || !strings.Contains(next, "PageToken=") {
			t.Errorf("paging: %v", p["meta"])
		}
		st, m := v.do("GET", "/parley/v1/Requests?Colour=red", nil)
		wantError(t, "requests unknown parameter", st, m, 400, 20001)
		for _, q := range []string{"Status=abc", "Method=PATCH", "PathPrefix=v1", "PageSize=0"} {
			st, m := v.do("GET", "/parley/v1/Requests?"+q, nil)
			wantError(t, "requests "+q, st, m, 400, 20422)
		}
		// Account 2 sees only its own.
		_, m2 := v.doAs(acct2, tok2, "GET", "/parley/v1/Requests", nil)
		if l := list(m2, "requests"); len(l) != 1 || l[0].(map[string]any)["account_sid"] != acct2 {
			t.Errorf("account 2 requests: %v", l)
		}
	})
}

func TestMetricsAndHealth(t *testing.T) {
	v := newEnv(t, storetest.SQLite)
	ch := v.must(201, "POST", "/v1/Conversations", nil)["sid"].(string)
	v.must(201, "POST", "/v1/Conversations/"+ch+"/Participants", map[string]string{"Identity": "alice@example.com"})
	resp, err := http.Get(v.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	text := string(b)
	if resp.StatusCode != 200 || !strings.Contains(text, `parley_http_requests_total{method="POST",route="/v1/Conversations/{ConversationSid}/Participants",status="201"} 1`) ||
		!strings.Contains(text, "parley_http_request_duration_seconds_bucket") || !strings.Contains(text, "parley_open_streams") {
		t.Errorf("metrics: %d\n%s", resp.StatusCode, text)
	}
	if strings.Contains(text, ch) || strings.Contains(text, "alice") || strings.Contains(text, testserver.AccountSid) {
		t.Errorf("metrics hold account data")
	}
	resp, err = http.Get(v.srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != `{"status":"ok"}` {
		t.Errorf("healthz: %d %s", resp.StatusCode, b)
	}
}
