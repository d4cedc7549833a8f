package control_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/parley-dev/parley/internal/store/storetest"
	"github.com/parley-dev/parley/internal/testserver"
)

// TestWebhookAttemptsAndResend: the delivery log keeps each attempt (the request as sent,
// the answer, the error) and resends a finished delivery as a fresh one; over the real HTTP
// server, on every engine.
func TestWebhookAttemptsAndResend(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		v := newEnv(t, e)
		hook := newHookServer(t)
		v.must(200, "POST", "/v1/Configuration/Webhooks", map[string]string{"PostWebhookUrl": hook.URL + "/post", "Filters": "onConversationAdded", "Target": "webhook"})
		v.must(201, "POST", "/parley/v1/Faults", map[string]string{"Target": "webhook", "Url": hook.URL, "Status": "500"})
		create := func() {
			t.Helper()
			if st, body := v.srv.DoAs(t, testserver.AccountSid, testserver.AuthToken, "POST", "/v1/Conversations", map[string]string{},
				map[string]string{"X-Twilio-Webhook-Enabled": "true"}); st != 201 {
				t.Fatalf("%d %s", st, body)
			}
		}
		create()
		waitFor(t, "a failed first attempt", func() bool {
			l := list(v.must(200, "GET", "/parley/v1/Webhooks/Deliveries", nil), "deliveries")
			return len(l) == 1 && l[0].(map[string]any)["last_response_code"] != nil
		})
		d := list(v.must(200, "GET", "/parley/v1/Webhooks/Deliveries", nil), "deliveries")[0].(map[string]any)
		sid := d["sid"].(string)
		if d["resent_from"] != nil {
			t.Errorf("resent_from of a delivery of a change: %v", d["resent_from"])
		}
		// Pending (waiting for its retry): no resend.
		st, m := v.do("POST", "/parley/v1/Webhooks/Deliveries/"+sid+"/Resend", nil)
		wantError(t, "resend of a pending delivery", st, m, 409, 20409)

		v.must(200, "POST", "/parley/v1/Clock", map[string]string{"Advance": "PT1M"})
		waitFor(t, "the retry", func() bool {
			return v.must(200, "GET", "/parley/v1/Webhooks/Deliveries/"+sid, nil)["status"] == "delivered"
		})
		f := v.must(200, "GET", "/parley/v1/Webhooks/Deliveries/"+sid, nil)
		if f["attempts"] != float64(2) || f["sid"] != sid || f["last_response_code"] != float64(200) {
			t.Errorf("fetch: %v", f)
		}
		hist := list(f, "attempt_history")
		if len(hist) != 2 {
			t.Fatalf("attempt_history: %v", f["attempt_history"])
		}
		for i, x := range hist {
			a := x.(map[string]any)
			req, _ := a["request"].(map[string]any)
			h, _ := req["headers"].(map[string]any)
			body, _ := req["body"].(string)
			if a["attempt"] != float64(i+1) || req["url"] != hook.URL+"/post" || req["method"] != "POST" || h["X-Twilio-Signature"] == nil ||
				h["I-Twilio-Idempotency-Token"] != sid || !strings.Contains(body, "RetryCount="+string(rune('0'+i))) ||
				!strings.Contains(body, "EventType=onConversationAdded") || a["duration_ms"] == nil {
				t.Errorf("attempt %d: %v", i+1, a)
			}
			if strings.Contains(body, testserver.AuthToken) {
				t.Errorf("attempt %d holds the auth token", i+1)
			}
		}
		a1, a2 := hist[0].(map[string]any), hist[1].(map[string]any)
		if a1["response_code"] != float64(500) || a1["error"] != "HTTP 500" || a2["response_code"] != float64(200) || a2["error"] != nil {
			t.Errorf("outcomes: %v / %v", a1, a2)
		}

		// The paged list.
		p1 := v.must(200, "GET", "/parley/v1/Webhooks/Deliveries/"+sid+"/Attempts?PageSize=1", nil)
		meta, _ := p1["meta"].(map[string]any)
		if l := list(p1, "attempts"); len(l) != 1 || l[0].(map[string]any)["attempt"] != float64(1) || meta["key"] != "attempts" || meta["next_page_url"] == nil {
			t.Fatalf("attempts page 1: %v", p1)
		}
		next := strings.TrimPrefix(meta["next_page_url"].(string), v.srv.URL)
		if l := list(v.must(200, "GET", next, nil), "attempts"); len(l) != 1 || l[0].(map[string]any)["attempt"] != float64(2) {
			t.Errorf("attempts page 2: %v", l)
		}
		st, m = v.do("GET", "/parley/v1/Webhooks/Deliveries/"+sid+"/Attempts?PageSize=bogus", nil)
		if st != 400 {
			t.Errorf("bad PageSize: %d %v", st, m)
		}

		// Another account, an unknown SID, a malformed SID: 404 everywhere, nothing changes.
		for _, c := range []struct{ user, pass, sid string }{{acct2, tok2, sid}, {testserver.AccountSid, testserver.AuthToken, "WDffffffffffffffffffffffffffffffff"},
			{testserver.AccountSid, testserver.AuthToken, "nope"}} {
			st, m := v.doAs(c.user, c.pass, "GET", "/parley/v1/Webhooks/Deliveries/"+c.sid+"/Attempts", nil)
			wantError(t, "attempts of "+c.sid+" as "+c.user, st, m, 404, 20404)
			st, m = v.doAs(c.user, c.pass, "POST", "/parley/v1/Webhooks/Deliveries/"+c.sid+"/Resend", nil)
			wantError(t, "resend of "+c.sid+" as "+c.user, st, m, 404, 20404)
		}
		if l := list(v.must(200, "GET", "/parley/v1/Webhooks/Deliveries", nil), "deliveries"); len(l) != 1 {
			t.Fatalf("deliveries after refused resends: %d", len(l))
		}

		// Resend: 201 with the new delivery, delivered through the outbox.
		hook.mu.Lock()
		before := hook.hits
		hook.mu.Unlock()
		nd := v.must(http.StatusCreated, "POST", "/parley/v1/Webhooks/Deliveries/"+sid+"/Resend", nil)
		nsid, _ := nd["sid"].(string)
		if nsid == "" || nsid == sid || nd["resent_from"] != sid || nd["status"] != "pending" || nd["attempts"] != float64(0) ||
			nd["webhook_url"] != hook.URL+"/post" || nd["event_type"] != "onConversationAdded" || nd["url"] != v.srv.URL+"/parley/v1/Webhooks/Deliveries/"+nsid {
			t.Fatalf("resend: %v", nd)
		}
		waitFor(t, "the resent delivery", func() bool {
			return v.must(200, "GET", "/parley/v1/Webhooks/Deliveries/"+nsid, nil)["status"] == "delivered"
		})
		hook.mu.Lock()
		after := hook.hits
		hook.mu.Unlock()
		if after != before+1 {
			t.Errorf("the app got %d requests for the resend, want 1", after-before)
		}
		if h := list(v.must(200, "GET", "/parley/v1/Webhooks/Deliveries/"+nsid, nil), "attempt_history"); len(h) != 1 {
			t.Errorf("resent delivery's history: %v", h)
		}
	})
}
