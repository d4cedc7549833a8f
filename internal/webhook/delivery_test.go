package webhook_test

import (
	"context"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/store"
	"github.com/parley-dev/parley/internal/store/postgres"
	"github.com/parley-dev/parley/internal/store/sqlite"
	"github.com/parley-dev/parley/internal/store/storetest"
	"github.com/parley-dev/parley/internal/webhook"
)

// TestWebhookEnabledRule: a REST change fires post-event webhooks only with
// X-Twilio-Webhook-Enabled: true; an SDK change always does, with Source SDK and
// ClientIdentity.
func TestWebhookEnabledRule(t *testing.T) {
	storetest.Each(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng, webhook.Options{})
		rc := newReceiver(t)
		e.serviceHooks("", rc.URL("/post"), allPost...)
		c, err := e.svc.CreateConversation(e.ctx, e.sc, conv.ConversationParams{}, apiOff)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.CreateParticipant(e.ctx, e.sc, c.Sid, conv.ParticipantCreate{Identity: ptr("bob")}, apiOff); err != nil {
			t.Fatal(err)
		}
		if n := e.drain(); n != 0 || len(e.deliveries()) != 0 {
			t.Fatalf("without the header: %d attempts, %d deliveries", n, len(e.deliveries()))
		}
		sdk := conv.WriteOptions{Source: conv.SourceSDK, ClientIdentity: "bob"}
		if _, err := e.svc.UpdateParticipant(e.ctx, e.sc, c.Sid, "bob", conv.ParticipantUpdate{Attributes: ptr(`{"s":1}`)}, sdk); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.UpdateParticipant(e.ctx, e.sc, c.Sid, "bob", conv.ParticipantUpdate{Attributes: ptr(`{"s":2}`)}, api); err != nil {
			t.Fatal(err)
		}
		e.drain()
		got := rc.requests()
		if len(got) != 2 {
			t.Fatalf("requests: %v", rc.events())
		}
		if p := got[0].Params; p.Get("Source") != "SDK" || p.Get("ClientIdentity") != "bob" || p.Get("Attributes") != `{"s":1}` {
			t.Errorf("SDK change: %v", p)
		}
		if p := got[1].Params; p.Get("Source") != "API" || p.Has("ClientIdentity") || p.Get("Attributes") != `{"s":2}` {
			t.Errorf("REST change: %v", p)
		}
	})
}

// TestFilters: account-level, service-level and conversation-scoped webhooks each send only
// the events their filters list; target flex and studio send nothing; a deleted
// conversation webhook stops.
func TestFilters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng, webhook.Options{})
		rc := newReceiver(t)
		if _, err := e.svc.UpdateAccountWebhookConfig(e.ctx, accountSid, conv.WebhookConfigParams{PostWebhookURL: ptr(rc.URL("/acct")),
			Filters: []string{"onConversationAdded", "onParticipantRemoved"}, FiltersGiven: true}); err != nil {
			t.Fatal(err)
		}
		e.serviceHooks("", rc.URL("/svc"), "onParticipantAdded", "onParticipantRemoved")
		c, err := e.svc.CreateConversation(e.ctx, e.sc, conv.ConversationParams{}, api)
		if err != nil {
			t.Fatal(err)
		}
		cw := func(target string, p conv.ConversationWebhookParams) *conv.ConversationWebhook {
			p.Target = &target
			w, err := e.svc.CreateConversationWebhook(e.ctx, e.sc, c.Sid, p)
			if err != nil {
				t.Fatalf("create %s webhook: %v", target, err)
			}
			return w
		}
		hook := cw(conv.TargetWebhook, conv.ConversationWebhookParams{URL: ptr(rc.URL("/conv")), Filters: []string{"onParticipantUpdated"}, FiltersGiven: true})
		cw(conv.TargetStudio, conv.ConversationWebhookParams{FlowSid: ptr("FW0123456789abcdef0123456789abcdef"), Filters: []string{"onParticipantUpdated"}, FiltersGiven: true})
		cw(conv.TargetWebhook, conv.ConversationWebhookParams{URL: ptr(rc.URL("/conv-get")), Method: ptr("GET"), Filters: []string{"onConversationUpdated"}, FiltersGiven: true})

		if _, err := e.svc.CreateParticipant(e.ctx, e.sc, c.Sid, conv.ParticipantCreate{Identity: ptr("ann")}, api); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.UpdateParticipant(e.ctx, e.sc, c.Sid, "ann", conv.ParticipantUpdate{Attributes: ptr(`{}`)}, api); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.UpdateConversation(e.ctx, e.sc, c.Sid, conv.ConversationParams{FriendlyName: ptr("renamed")}, api); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.DeleteConversationWebhook(e.ctx, e.sc, c.Sid, hook.Sid); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.UpdateParticipant(e.ctx, e.sc, c.Sid, "ann", conv.ParticipantUpdate{Attributes: ptr(`{"b":1}`)}, api); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.DeleteParticipant(e.ctx, e.sc, c.Sid, "ann", api); err != nil {
			t.Fatal(err)
		}
		e.drain()
		var seen []string
		for _, r := range rc.requests() {
			path := strings.SplitN(strings.TrimPrefix(r.URL, rc.URL("")), "?", 2)[0]
			seen = append(seen, path+":"+r.Params.Get("EventType"))
			if !r.ValidGo {
				t.Errorf("%s %s: signature rejected", r.Method, r.URL)
			}
			if path == "/conv-get" && r.Method != http.MethodGet {
				t.Errorf("GET webhook sent as %s", r.Method)
			}
		}
		want := "/acct:onConversationAdded /svc:onParticipantAdded /conv:onParticipantUpdated /conv-get:onConversationUpdated /acct:onParticipantRemoved /svc:onParticipantRemoved"
		if strings.Join(seen, " ") != want {
			t.Errorf("requests:\n got  %s\n want %s", strings.Join(seen, " "), want)
		}
		scopes := map[string]int{}
		for _, d := range e.deliveries() {
			scopes[d.Scope]++
			if d.Scope == conv.WebhookScopeConversation && d.WebhookSid == "" {
				t.Errorf("conversation-scoped delivery without webhook sid")
			}
		}
		if scopes[conv.WebhookScopeAccount] != 2 || scopes[conv.WebhookScopeService] != 2 || scopes[conv.WebhookScopeConversation] != 2 {
			t.Errorf("scopes = %v", scopes)
		}

		// Target flex sends nothing; an empty filter list neither.
		if _, err := e.svc.UpdateAccountWebhookConfig(e.ctx, accountSid, conv.WebhookConfigParams{Target: ptr(conv.TargetFlex)}); err != nil {
			t.Fatal(err)
		}
		e.serviceHooks("", rc.URL("/svc"))
		before := len(rc.requests())
		if _, err := e.svc.CreateConversation(e.ctx, e.sc, conv.ConversationParams{}, api); err != nil {
			t.Fatal(err)
		}
		e.drain()
		if n := len(rc.requests()) - before; n != 0 {
			t.Errorf("flex target and empty filters sent %d requests", n)
		}
	})
}

// TestRetryAfter500: a 500 answer is retried after the backoff with RetryCount 1, signed
// again, with the same idempotency token; the log shows each step.
func TestRetryAfter500(t *testing.T) {
	storetest.Each(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng, webhook.Options{Backoff: 5 * time.Second})
		rc := newReceiver(t)
		rc.answer = func(n int, _ request) (int, string, time.Duration) {
			if n == 0 {
				return http.StatusInternalServerError, "boom", 0
			}
			return http.StatusOK, "", 0
		}
		e.serviceHooks("", rc.URL("/post"), "onConversationAdded")
		if _, err := e.svc.CreateConversation(e.ctx, e.sc, conv.ConversationParams{}, api); err != nil {
			t.Fatal(err)
		}
		e.drain()
		d := e.deliveries()[0]
		if d.Status != conv.WebhookPending || d.Attempts != 1 || d.LastStatusCode != 500 || d.LastError != "HTTP 500" ||
			!d.NextAttemptAt.Equal(e.clock.Now().Add(5*time.Second)) {
			t.Fatalf("after the 500: %+v", d)
		}
		e.clock.Advance(4 * time.Second)
		if n := e.drain(); n != 0 {
			t.Fatalf("retried %d before the backoff", n)
		}
		e.clock.Advance(time.Second)
		if n := e.drain(); n != 1 {
			t.Fatalf("retry attempts = %d", n)
		}
		got := rc.requests()
		if len(got) != 2 || got[0].Params.Get("RetryCount") != "0" || got[1].Params.Get("RetryCount") != "1" {
			t.Fatalf("RetryCount: %v", got)
		}
		if !got[0].ValidGo || !got[1].ValidGo || got[0].Signature == got[1].Signature {
			t.Errorf("signatures %q %q (valid %v %v)", got[0].Signature, got[1].Signature, got[0].ValidGo, got[1].ValidGo)
		}
		if a, b := got[0].Header.Get("I-Twilio-Idempotency-Token"), got[1].Header.Get("I-Twilio-Idempotency-Token"); a != b || a != d.Sid {
			t.Errorf("idempotency tokens %q %q, want %s", a, b, d.Sid)
		}
		d, err := e.svc.FetchWebhookDelivery(e.ctx, accountSid, d.Sid)
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != conv.WebhookDelivered || d.Attempts != 2 || d.LastStatusCode != 200 || d.LastError != "" || d.DateDelivered == nil {
			t.Errorf("after the retry: %+v", d)
		}
	})
}

// TestTimeoutRetriesThenFails: an answer slower than the timeout counts as a failure; the
// delivery is retried with growing backoff and fails after MaxAttempts.
func TestTimeoutRetriesThenFails(t *testing.T) {
	e := newEnv(t, storetest.SQLite, webhook.Options{Timeout: 200 * time.Millisecond, MaxAttempts: 3, Backoff: time.Second})
	rc := newReceiver(t)
	rc.answer = func(int, request) (int, string, time.Duration) { return http.StatusOK, "", 2 * time.Second }
	e.serviceHooks("", rc.URL("/slow"), "onConversationAdded")
	if _, err := e.svc.CreateConversation(e.ctx, e.sc, conv.ConversationParams{}, api); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	e.drain()
	if el := time.Since(start); el > 1500*time.Millisecond {
		t.Errorf("the attempt took %v, the timeout is 200ms", el)
	}
	d := e.deliveries()[0]
	if d.Status != conv.WebhookPending || !strings.HasPrefix(d.LastError, "timeout") || d.LastStatusCode != 0 {
		t.Fatalf("after a timeout: %+v", d)
	}
	e.clock.Advance(time.Second) // first backoff
	e.drain()
	e.clock.Advance(1999 * time.Millisecond) // the second is 2 s
	if n := e.drain(); n != 0 {
		t.Fatalf("third attempt before the doubled backoff")
	}
	e.clock.Advance(time.Millisecond)
	e.drain()
	e.clock.Advance(time.Hour)
	if n := e.drain(); n != 0 {
		t.Fatalf("attempt after MaxAttempts")
	}
	d = e.deliveries()[0]
	if d.Status != conv.WebhookFailed || d.Attempts != 3 || !strings.HasPrefix(d.LastError, "timeout") {
		t.Errorf("after 3 timeouts: %+v", d)
	}
	var counts []string
	for _, r := range rc.waitFor(3) {
		counts = append(counts, r.Params.Get("RetryCount"))
	}
	if strings.Join(counts, ",") != "0,1,2" {
		t.Errorf("RetryCount values %v", counts)
	}
}

// TestClientErrorNotRetried: a 4xx answer (other than 408/429) fails the delivery at once.
func TestClientErrorNotRetried(t *testing.T) {
	e := newEnv(t, storetest.SQLite, webhook.Options{})
	rc := newReceiver(t)
	rc.answer = func(int, request) (int, string, time.Duration) { return http.StatusNotFound, "", 0 }
	e.serviceHooks("", rc.URL("/gone"), "onConversationAdded")
	if _, err := e.svc.CreateConversation(e.ctx, e.sc, conv.ConversationParams{}, api); err != nil {
		t.Fatal(err)
	}
	e.drain()
	e.clock.Advance(time.Hour)
	e.drain()
	d := e.deliveries()[0]
	if len(rc.requests()) != 1 || d.Status != conv.WebhookFailed || d.LastStatusCode != 404 || d.Attempts != 1 {
		t.Errorf("404: %d requests, %+v", len(rc.requests()), d)
	}
}

// TestGetMethod: with Method GET the parameters travel in the query, signed with the URL.
func TestGetMethod(t *testing.T) {
	e := newEnv(t, storetest.SQLite, webhook.Options{})
	rc := newReceiver(t)
	if _, err := e.svc.UpdateServiceWebhookConfig(e.ctx, e.sc, conv.WebhookConfigParams{PostWebhookURL: ptr(rc.URL("/get?k=v")),
		Method: ptr("get"), Filters: []string{"onConversationAdded"}, FiltersGiven: true}); err != nil {
		t.Fatal(err)
	}
	c, err := e.svc.CreateConversation(e.ctx, e.sc, conv.ConversationParams{FriendlyName: ptr("a b&c")}, api)
	if err != nil {
		t.Fatal(err)
	}
	e.drain()
	got := rc.waitFor(1)[0]
	if got.Method != http.MethodGet || got.Params.Get("k") != "v" || got.Params.Get("ConversationSid") != c.Sid ||
		got.Params.Get("FriendlyName") != "a b&c" || !got.ValidGo {
		t.Errorf("GET webhook: %+v", got)
	}
}

// TestPreEventHooks checks the pre-event machinery through the domain: REST actions never
// call pre-event webhooks; for SDK actions a 4xx/5xx answer rejects the action (nothing is
// stored, no post-event is enqueued), a timeout or a garbled answer lets it through, and a
// 200 JSON answer may change the friendly name of a conversation (nothing of a participant).
func TestPreEventHooks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng, webhook.Options{Timeout: 300 * time.Millisecond})
		pre, post := newReceiver(t), newReceiver(t)
		var mu sync.Mutex
		answers := map[string]func() (int, string, time.Duration){}
		pre.answer = func(_ int, r request) (int, string, time.Duration) {
			mu.Lock()
			defer mu.Unlock()
			if f := answers[r.Params.Get("EventType")]; f != nil {
				return f()
			}
			return http.StatusOK, "", 0
		}
		set := func(event string, status int, body string, delay time.Duration) {
			mu.Lock()
			defer mu.Unlock()
			answers[event] = func() (int, string, time.Duration) { return status, body, delay }
		}
		e.serviceHooks(pre.URL("/pre"), post.URL("/post"), "onConversationAdd", "onConversationUpdate", "onParticipantAdd",
			"onParticipantRemove", "onConversationAdded", "onParticipantAdded", "onParticipantRemoved")
		sdk := conv.WriteOptions{Source: conv.SourceSDK, ClientIdentity: "carol"}

		// REST: no pre-event webhook, even with the header.
		rest, err := e.svc.CreateConversation(e.ctx, e.sc, conv.ConversationParams{FriendlyName: ptr("rest")}, api)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.CreateParticipant(e.ctx, e.sc, rest.Sid, conv.ParticipantCreate{Identity: ptr("r")}, api); err != nil {
			t.Fatal(err)
		}
		if n := len(pre.requests()); n != 0 {
			t.Fatalf("REST actions called the pre-event webhook %d times", n)
		}

		// 200 with JSON: the friendly name is changed.
		set("onConversationAdd", http.StatusOK, `{"friendly_name":"Renamed by hook","unique_name":"ignored"}`, 0)
		c, err := e.svc.CreateConversation(e.ctx, e.sc, conv.ConversationParams{FriendlyName: ptr("Original"), UniqueName: ptr("u1")}, sdk)
		if err != nil {
			t.Fatal(err)
		}
		if c.FriendlyName == nil || *c.FriendlyName != "Renamed by hook" || *c.UniqueName != "u1" {
			t.Fatalf("modified conversation: %v %v", c.FriendlyName, c.UniqueName)
		}
		r := pre.requests()[0]
		want(t, "onConversationAdd", r.Params, map[string]string{"AccountSid": accountSid, "EventType": "onConversationAdd",
			"Source": "SDK", "ClientIdentity": "carol", "ChatServiceSid": e.svcID, "FriendlyName": "Original", "UniqueName": "u1",
			"Attributes": "{}", "State": "active"})
		if !r.ValidGo {
			t.Errorf("pre-event signature rejected")
		}

		// 403 rejects the participant: nothing stored, no post-event.
		set("onParticipantAdd", http.StatusForbidden, "", 0)
		_, err = e.svc.CreateParticipant(e.ctx, e.sc, c.Sid, conv.ParticipantCreate{Identity: ptr("mallory")}, sdk)
		if de, ok := conv.AsError(err); !ok || de.Code != 50056 || de.Kind != conv.KindForbidden {
			t.Fatalf("rejected add: %v", err)
		}
		if _, err := e.svc.FetchParticipant(e.ctx, e.sc, c.Sid, "mallory"); err == nil {
			t.Errorf("a rejected participant was stored")
		}
		// 500 rejects too.
		set("onParticipantAdd", http.StatusInternalServerError, "", 0)
		if _, err := e.svc.CreateParticipant(e.ctx, e.sc, c.Sid, conv.ParticipantCreate{Identity: ptr("mallory")}, sdk); err == nil {
			t.Errorf("a 500 answer did not reject")
		}
		// A timeout lets it through; a body changing a participant changes nothing.
		set("onParticipantAdd", http.StatusOK, "", time.Second)
		if _, err := e.svc.CreateParticipant(e.ctx, e.sc, c.Sid, conv.ParticipantCreate{Identity: ptr("slow")}, sdk); err != nil {
			t.Fatalf("timeout should let the action through: %v", err)
		}
		set("onParticipantAdd", http.StatusOK, `{"identity":"hijacked","attributes":"{\"x\":1}"}`, 0)
		p, err := e.svc.CreateParticipant(e.ctx, e.sc, c.Sid, conv.ParticipantCreate{Identity: ptr("dave")}, sdk)
		if err != nil || *p.Identity != "dave" || p.Attributes != "{}" {
			t.Fatalf("participant changed by a pre-event answer: %v %+v", err, p)
		}
		set("onConversationUpdate", http.StatusOK, "not json", 0)
		c2, err := e.svc.UpdateConversation(e.ctx, e.sc, c.Sid, conv.ConversationParams{FriendlyName: ptr("kept")}, sdk)
		if err != nil || *c2.FriendlyName != "kept" {
			t.Fatalf("garbled answer: %v %v", err, c2)
		}
		// A rejected remove keeps the participant.
		set("onParticipantRemove", http.StatusBadRequest, "", 0)
		if err := e.svc.DeleteParticipant(e.ctx, e.sc, c.Sid, "dave", sdk); err == nil {
			t.Fatalf("rejected remove succeeded")
		}
		if _, err := e.svc.FetchParticipant(e.ctx, e.sc, c.Sid, "dave"); err != nil {
			t.Errorf("participant gone after a rejected remove: %v", err)
		}

		e.drain()
		var posts []string
		for _, r := range post.requests() {
			posts = append(posts, r.Params.Get("EventType")+"/"+r.Params.Get("Source")+"/"+r.Params.Get("Identity"))
		}
		// Two conversations: their deliveries go concurrently, so compare without order.
		sort.Strings(posts)
		want := "onConversationAdded/API/ onConversationAdded/SDK/ onParticipantAdded/API/r onParticipantAdded/SDK/dave onParticipantAdded/SDK/slow"
		if strings.Join(posts, " ") != want {
			t.Errorf("post-events:\n got  %s\n want %s", strings.Join(posts, " "), want)
		}
	})
}

// TestRunWakesOnCommit: a running dispatcher sends a change's webhook right after commit,
// woken by the Service, without waiting for its poll interval.
func TestRunWakesOnCommit(t *testing.T) {
	e := newEnv(t, storetest.SQLite, webhook.Options{PollInterval: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.d.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	rc := newReceiver(t)
	e.serviceHooks("", rc.URL("/post"), "onConversationAdded")
	time.Sleep(50 * time.Millisecond) // Run has done its first pass and waits
	if _, err := e.svc.CreateConversation(e.ctx, e.sc, conv.ConversationParams{}, api); err != nil {
		t.Fatal(err)
	}
	rc.waitFor(1)
}

// reopenable returns, per engine, a function opening the same database again each time.
func reopenable(t *testing.T) map[string]func() store.Store {
	out := map[string]func() store.Store{}
	path := filepath.Join(t.TempDir(), "parley.db")
	out["sqlite"] = func() store.Store {
		s, err := sqlite.Open(context.Background(), path, sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if _, ok := storetest.Postgres(t); ok {
		_, schemaURL := storetest.PostgresSchema(t)
		out["postgres"] = func() store.Store {
			s, err := postgres.Open(context.Background(), schemaURL, postgres.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
	}
	return out
}

// TestOutboxSurvivesRestart: a change committed while no dispatcher runs (the process dies
// right after its 2xx) is delivered by the dispatcher of the next process.
func TestOutboxSurvivesRestart(t *testing.T) {
	for name, open := range reopenable(t) {
		t.Run(name, func(t *testing.T) {
			rc := newReceiver(t)
			st := open()
			svc := conv.NewService(st, conv.Options{WebhookFormat: webhook.Format{}})
			ctx := context.Background()
			if _, err := svc.EnsureAccount(ctx, accountSid, authToken); err != nil {
				t.Fatal(err)
			}
			sc := conv.Scope{AccountSid: accountSid}
			if _, err := svc.UpdateServiceWebhookConfig(ctx, sc, conv.WebhookConfigParams{PostWebhookURL: ptr(rc.URL("/post")),
				Filters: []string{"onConversationAdded"}, FiltersGiven: true}); err != nil {
				t.Fatal(err)
			}
			c, err := svc.CreateConversation(ctx, sc, conv.ConversationParams{}, api)
			if err != nil {
				t.Fatal(err)
			}
			if err := st.Close(); err != nil { // "crash": nothing was sent
				t.Fatal(err)
			}
			if n := len(rc.requests()); n != 0 {
				t.Fatalf("sent before the restart: %d", n)
			}
			st2 := open()
			defer st2.Close()
			d := webhook.New(conv.NewService(st2, conv.Options{}), webhook.Options{PollInterval: 20 * time.Millisecond})
			rctx, cancel := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { defer close(done); d.Run(rctx) }()
			got := rc.waitFor(1)
			cancel()
			<-done
			if got[0].Params.Get("ConversationSid") != c.Sid || !got[0].ValidGo {
				t.Errorf("after restart: %+v", got[0])
			}
		})
	}
}

// TestReplicasShareOutbox: two dispatchers on one PostgreSQL database (two replicas) send
// every delivery exactly once.
func TestReplicasShareOutbox(t *testing.T) {
	_, schemaURL := storetest.PostgresSchema(t)
	open := func() store.Store {
		s, err := postgres.Open(context.Background(), schemaURL, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	st1, st2 := open(), open()
	rc := newReceiver(t)
	rc.answer = func(int, request) (int, string, time.Duration) { return http.StatusOK, "", 5 * time.Millisecond }
	svc := conv.NewService(st1, conv.Options{WebhookFormat: webhook.Format{}})
	ctx := context.Background()
	if _, err := svc.EnsureAccount(ctx, accountSid, authToken); err != nil {
		t.Fatal(err)
	}
	sc := conv.Scope{AccountSid: accountSid}
	if _, err := svc.UpdateServiceWebhookConfig(ctx, sc, conv.WebhookConfigParams{PostWebhookURL: ptr(rc.URL("/post")),
		Filters: []string{"onConversationAdded"}, FiltersGiven: true}); err != nil {
		t.Fatal(err)
	}
	const n = 60
	for i := 0; i < n; i++ {
		if _, err := svc.CreateConversation(ctx, sc, conv.ConversationParams{}, api); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for _, st := range []store.Store{st1, st2} {
		d := webhook.New(conv.NewService(st, conv.Options{}), webhook.Options{Batch: 4})
		wg.Go(func() {
			if _, err := d.Drain(ctx); err != nil {
				t.Errorf("Drain: %v", err)
			}
		})
	}
	wg.Wait()
	got := rc.requests()
	seen := map[string]int{}
	for _, r := range got {
		seen[r.Params.Get("ConversationSid")]++
	}
	if len(got) != n || len(seen) != n {
		t.Errorf("%d requests for %d conversations, want %d each once", len(got), len(seen), n)
	}
}
