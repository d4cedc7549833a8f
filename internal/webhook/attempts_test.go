package webhook_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/store/storetest"
	"github.com/parley-dev/parley/internal/webhook"
)

// TestAttemptHistoryAndResend: every settled attempt is kept with the request as sent (signed
// headers, form body) and what came back; a finished delivery can be resent as a fresh
// delivery with a new SID (new idempotency token); a pending one cannot; the history goes
// with its delivery (retention, Reset).
func TestAttemptHistoryAndResend(t *testing.T) {
	storetest.Each(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng, webhook.Options{Backoff: 5 * time.Second, Retention: time.Hour})
		rc := newReceiver(t)
		rc.answer = func(n int, _ request) (int, string, time.Duration) {
			if n == 0 {
				return http.StatusInternalServerError, "boom " + strings.Repeat("x", 10000), 0
			}
			return http.StatusOK, "thanks", 0
		}
		e.serviceHooks("", rc.URL("/post"), "onConversationAdded")
		if _, err := e.svc.CreateConversation(e.ctx, e.sc, conv.ConversationParams{}, api); err != nil {
			t.Fatal(err)
		}
		e.drain()
		e.clock.Advance(5 * time.Second)
		e.drain()
		got := rc.waitFor(2)
		d := e.deliveries()[0]
		as, err := e.svc.ListWebhookAttempts(e.ctx, accountSid, d.Sid, conv.PageQuery{Size: 50})
		if err != nil {
			t.Fatal(err)
		}
		if len(as) != 2 {
			t.Fatalf("attempts = %d, want 2", len(as))
		}
		a1, a2 := as[0], as[1]
		if a1.Attempt != 1 || a1.ResponseStatus != 500 || a1.Error != "HTTP 500" || len(a1.ResponseBody) != conv.MaxWebhookAttemptBody ||
			!strings.HasPrefix(a1.ResponseBody, "boom ") {
			t.Errorf("attempt 1: %d %d %q body %d bytes", a1.Attempt, a1.ResponseStatus, a1.Error, len(a1.ResponseBody))
		}
		if a2.Attempt != 2 || a2.ResponseStatus != 200 || a2.Error != "" || a2.ResponseBody != "thanks" {
			t.Errorf("attempt 2: %+v", a2)
		}
		if !a1.Date.Equal(time.Date(2015, 12, 16, 22, 18, 37, 0, time.UTC)) || !a2.Date.Equal(a1.Date.Add(5*time.Second)) {
			t.Errorf("attempt dates %v %v", a1.Date, a2.Date)
		}
		for i, a := range as {
			if a.RequestURL != rc.URL("/post") || a.RequestMethod != "POST" || a.RequestHeaders["X-Twilio-Signature"] != got[i].Signature ||
				a.RequestHeaders["I-Twilio-Idempotency-Token"] != d.Sid || a.RequestHeaders["Content-Type"] != "application/x-www-form-urlencoded" {
				t.Errorf("attempt %d request: %s %s %v", i+1, a.RequestMethod, a.RequestURL, a.RequestHeaders)
			}
			if a.RequestBody != got[i].Params.Encode() {
				t.Errorf("attempt %d body %q, want %q", i+1, a.RequestBody, got[i].Params.Encode())
			}
			for k, v := range a.RequestHeaders {
				if strings.Contains(v, authToken) {
					t.Errorf("attempt %d header %s holds the auth token", i+1, k)
				}
			}
		}

		// Resend: a fresh delivery of the same request, new SID and token, through the outbox.
		nd, err := e.svc.ResendWebhookDelivery(e.ctx, accountSid, d.Sid)
		if err != nil {
			t.Fatal(err)
		}
		if nd.Sid == d.Sid || nd.ResentFrom != d.Sid || nd.Status != conv.WebhookPending || nd.Params != d.Params || nd.URL != d.URL {
			t.Fatalf("resent: %+v", nd)
		}
		e.drain()
		got = rc.waitFor(3)
		if tok := got[2].Header.Get("I-Twilio-Idempotency-Token"); tok != nd.Sid || !got[2].ValidGo || got[2].Params.Get("RetryCount") != "0" {
			t.Errorf("resent request: token %q valid %v RetryCount %q", tok, got[2].ValidGo, got[2].Params.Get("RetryCount"))
		}
		if got[2].Params.Get("ConversationSid") != got[0].Params.Get("ConversationSid") || got[2].Params.Get("EventType") != "onConversationAdded" {
			t.Errorf("resent params %v", got[2].Params)
		}
		if nd, err = e.svc.FetchWebhookDelivery(e.ctx, accountSid, nd.Sid); err != nil || nd.Status != conv.WebhookDelivered || nd.ResentFrom != d.Sid {
			t.Fatalf("resent after drain: %+v %v", nd, err)
		}

		// Errors: another account's or an unknown SID; a pending delivery.
		var ce *conv.Error
		for _, c := range []struct{ acct, sid string }{{"AC00000000000000000000000000000000", d.Sid}, {accountSid, "WD00000000000000000000000000000000"}, {accountSid, "nope"}} {
			if _, err := e.svc.ResendWebhookDelivery(e.ctx, c.acct, c.sid); !errors.As(err, &ce) || ce.Code != 20404 {
				t.Errorf("resend %s of %s: %v, want 20404", c.sid, c.acct, err)
			}
			if _, err := e.svc.ListWebhookAttempts(e.ctx, c.acct, c.sid, conv.PageQuery{}); !errors.As(err, &ce) || ce.Code != 20404 {
				t.Errorf("attempts %s of %s: %v, want 20404", c.sid, c.acct, err)
			}
		}
		if _, err := e.svc.CreateConversation(e.ctx, e.sc, conv.ConversationParams{}, api); err != nil {
			t.Fatal(err)
		}
		pending := e.deliveries()[2]
		if _, err := e.svc.ResendWebhookDelivery(e.ctx, accountSid, pending.Sid); !errors.As(err, &ce) || ce.Code != 20409 || ce.Kind != conv.KindConflict {
			t.Errorf("resend of a pending delivery: %v, want 20409", err)
		}
		if n := len(e.deliveries()); n != 3 {
			t.Errorf("deliveries after the refused resend = %d, want 3", n)
		}
		e.drain()

		// Retention removes the history with its delivery.
		e.clock.Advance(2 * time.Hour)
		if n, err := e.svc.PruneWebhookDeliveries(e.ctx, e.clock.Now().Add(-time.Hour)); err != nil || n != 3 {
			t.Fatalf("pruned %d, %v", n, err)
		}
		if as, err := e.st.ListWebhookAttempts(e.ctx, accountSid, d.Sid, conv.PageQuery{}); err != nil || len(as) != 0 {
			t.Errorf("attempts after pruning: %d, %v", len(as), err)
		}

		// Reset removes it too.
		if _, err := e.svc.CreateConversation(e.ctx, e.sc, conv.ConversationParams{}, api); err != nil {
			t.Fatal(err)
		}
		e.drain()
		last := e.deliveries()[0]
		if as, _ := e.st.ListWebhookAttempts(e.ctx, accountSid, last.Sid, conv.PageQuery{}); len(as) != 1 {
			t.Fatalf("attempts before reset = %d", len(as))
		}
		if err := e.svc.Reset(e.ctx, accountSid); err != nil {
			t.Fatal(err)
		}
		if as, err := e.st.ListWebhookAttempts(e.ctx, accountSid, last.Sid, conv.PageQuery{}); err != nil || len(as) != 0 {
			t.Errorf("attempts after reset: %d, %v", len(as), err)
		}
	})
}
