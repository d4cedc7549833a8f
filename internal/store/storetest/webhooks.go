package storetest

import (
	"sort"
	"sync"
	"time"

	"github.com/parley-dev/parley/internal/conv"
)

// testWebhookConfigs: account-level and service-level configurations round-trip (null and
// empty filters kept apart), are replaced by Put, are scoped to their account and go with
// their service.
func testWebhookConfigs(c *suite) {
	a, other := c.account(), c.account()
	svc := c.service(a.Sid)
	_, err := c.s.GetWebhookConfig(c.ctx, a.Sid, "")
	c.notFound("GetWebhookConfig (account, never set)", err)
	_, err = c.s.GetWebhookConfig(c.ctx, a.Sid, svc.Sid)
	c.notFound("GetWebhookConfig (service, never set)", err)

	acct := &conv.WebhookConfig{AccountSid: a.Sid, PreWebhookURL: "https://example.com/pre", PostWebhookURL: "https://example.com/post",
		Method: "POST", Filters: []string{"onParticipantAdded", "onConversationAdd"}, Target: conv.TargetWebhook, DateUpdated: c.now()}
	c.write(func(tx conv.Store) error { return tx.PutWebhookConfig(c.ctx, acct) })
	got, err := c.s.GetWebhookConfig(c.ctx, a.Sid, "")
	c.noErr("GetWebhookConfig (account)", err)
	c.equal("account config", got, acct)

	acct.Filters, acct.Method, acct.PreWebhookURL, acct.DateUpdated = []string{}, "GET", "", c.now()
	c.write(func(tx conv.Store) error { return tx.PutWebhookConfig(c.ctx, acct) })
	got, err = c.s.GetWebhookConfig(c.ctx, a.Sid, "")
	c.noErr("GetWebhookConfig (account, replaced)", err)
	c.equal("replaced account config", got, acct)

	sc := &conv.WebhookConfig{AccountSid: a.Sid, ServiceSid: svc.Sid, PostWebhookURL: "http://127.0.0.1:9/hook", DateUpdated: c.now()}
	c.write(func(tx conv.Store) error { return tx.PutWebhookConfig(c.ctx, sc) })
	got, err = c.s.GetWebhookConfig(c.ctx, a.Sid, svc.Sid)
	c.noErr("GetWebhookConfig (service)", err)
	c.equal("service config (null filters)", got, sc)
	_, err = c.s.GetWebhookConfig(c.ctx, other.Sid, svc.Sid)
	c.notFound("GetWebhookConfig (service of another account)", err)

	c.write(func(tx conv.Store) error { return tx.DeleteService(c.ctx, a.Sid, svc.Sid) })
	_, err = c.s.GetWebhookConfig(c.ctx, a.Sid, svc.Sid)
	c.notFound("GetWebhookConfig after DeleteService", err)
}

// testConversationWebhooks: create, get, list (paged, creation order), count, update and
// delete conversation-scoped webhooks; they go with their conversation.
func testConversationWebhooks(c *suite) {
	a := c.account()
	svc := c.service(a.Sid)
	cv, cv2 := c.conversation(svc), c.conversation(svc)
	replay := int64(3)
	var ws []*conv.ConversationWebhook
	for i, target := range []string{conv.TargetWebhook, conv.TargetTrigger, conv.TargetStudio} {
		now := c.now()
		w := &conv.ConversationWebhook{Sid: c.sids.New(conv.PrefixWebhook), AccountSid: a.Sid, ServiceSid: svc.Sid, ConversationSid: cv.Sid,
			Target: target, URL: "https://example.com/" + target, Method: "post", Filters: []string{"onMessageAdded"}, Triggers: []string{},
			DateCreated: now, DateUpdated: now}
		switch i {
		case 1:
			w.Triggers, w.Filters = []string{"help", "stop now"}, []string{}
		case 2:
			w.URL, w.Method, w.FlowSid, w.ReplayAfter = "", "", "FW0123456789abcdef0123456789abcdef", &replay
		}
		c.write(func(tx conv.Store) error { return tx.CreateConversationWebhook(c.ctx, w) })
		if w.Seq <= 0 {
			c.t.Fatalf("CreateConversationWebhook: Seq = %d", w.Seq)
		}
		ws = append(ws, w)
	}
	for _, w := range ws {
		got, err := c.s.GetConversationWebhook(c.ctx, cv.Sid, w.Sid)
		c.noErr("GetConversationWebhook", err)
		c.equal("conversation webhook "+w.Target, got, w)
	}
	_, err := c.s.GetConversationWebhook(c.ctx, cv2.Sid, ws[0].Sid)
	c.notFound("GetConversationWebhook (other conversation)", err)
	n, err := c.s.CountConversationWebhooks(c.ctx, cv.Sid)
	c.noErr("CountConversationWebhooks", err)
	c.equal("count", n, 3)
	page, err := c.s.ListConversationWebhooks(c.ctx, cv.Sid, conv.PageQuery{Size: 2})
	c.noErr("ListConversationWebhooks", err)
	c.equal("first page", sidsOf(page, func(w *conv.ConversationWebhook) string { return w.Sid }), []string{ws[0].Sid, ws[1].Sid})
	page, err = c.s.ListConversationWebhooks(c.ctx, cv.Sid, conv.PageQuery{Size: 2, AfterSeq: ws[1].Seq})
	c.noErr("ListConversationWebhooks (after)", err)
	c.equal("second page", sidsOf(page, func(w *conv.ConversationWebhook) string { return w.Sid }), []string{ws[2].Sid})

	w := ws[0]
	w.URL, w.Method, w.Filters, w.DateUpdated = "https://example.com/new", "get", []string{"onParticipantAdded", "onMessageRemoved"}, c.now()
	c.write(func(tx conv.Store) error { return tx.UpdateConversationWebhook(c.ctx, w) })
	got, err := c.s.GetConversationWebhook(c.ctx, cv.Sid, w.Sid)
	c.noErr("GetConversationWebhook (updated)", err)
	c.equal("updated webhook", got, w)

	c.write(func(tx conv.Store) error { return tx.DeleteConversationWebhook(c.ctx, cv.Sid, w.Sid) })
	c.notFound("DeleteConversationWebhook twice", c.writeErr(func(tx conv.Store) error { return tx.DeleteConversationWebhook(c.ctx, cv.Sid, w.Sid) }))
	c.notFound("UpdateConversationWebhook (deleted)", c.writeErr(func(tx conv.Store) error { return tx.UpdateConversationWebhook(c.ctx, w) }))

	c.write(func(tx conv.Store) error { return tx.DeleteConversation(c.ctx, svc.Sid, cv.Sid) })
	_, err = c.s.GetConversationWebhook(c.ctx, cv.Sid, ws[1].Sid)
	c.notFound("GetConversationWebhook after DeleteConversation", err)
}

// webhookDelivery returns a pending webhook delivery of account a, due at due.
func (c *suite) webhookDelivery(a *conv.Account, conversationSid, event string, due time.Time) *conv.WebhookDelivery {
	now := c.now()
	return &conv.WebhookDelivery{Sid: c.sids.New(conv.PrefixWebhookDelivery), AccountSid: a.Sid, ServiceSid: "IS0123456789abcdef0123456789abcdef",
		ConversationSid: conversationSid, EventType: event, Scope: conv.WebhookScopeService, URL: "https://example.com/hook", Method: "POST",
		Params: "AccountSid=" + a.Sid + "&EventType=" + event, Status: conv.WebhookPending, NextAttemptAt: due, DateCreated: now, DateUpdated: now}
}

// testWebhookOutbox: deliveries are enqueued, become due, are claimed (attempt counted, lease
// taken, others cannot claim them), settled only by their lease owner, listed with filters
// and pruned once finished.
func testWebhookOutbox(c *suite) {
	a, other := c.account(), c.account()
	t0 := time.Date(2021, 3, 4, 5, 0, 0, 123e6, time.UTC)
	d1 := c.webhookDelivery(a, "CH01", "onParticipantAdded", t0)
	d2 := c.webhookDelivery(a, "CH02", "onConversationUpdated", t0.Add(time.Millisecond))
	d3 := c.webhookDelivery(a, "CH01", "onParticipantRemoved", t0.Add(time.Minute))
	_, ok, err := c.s.NextWebhookDeliveryDue(c.ctx)
	c.noErr("NextWebhookDeliveryDue (empty)", err)
	c.equal("anything due in an empty outbox", ok, false)
	c.write(func(tx conv.Store) error {
		return tx.EnqueueWebhookDeliveries(c.ctx, []*conv.WebhookDelivery{d1, d2, d3})
	})
	if d1.Seq <= 0 || d3.Seq <= d1.Seq {
		c.t.Fatalf("EnqueueWebhookDeliveries: seqs %d, %d", d1.Seq, d3.Seq)
	}
	due, ok, err := c.s.NextWebhookDeliveryDue(c.ctx)
	c.noErr("NextWebhookDeliveryDue", err)
	c.equal("next due (millisecond precision)", []any{due, ok}, []any{t0, true})
	got, err := c.s.GetWebhookDelivery(c.ctx, a.Sid, d1.Sid)
	c.noErr("GetWebhookDelivery", err)
	c.equal("stored delivery", got, d1)
	_, err = c.s.GetWebhookDelivery(c.ctx, other.Sid, d1.Sid)
	c.notFound("GetWebhookDelivery (other account)", err)

	claim := func(owner string, now time.Time, limit int) []*conv.WebhookDelivery {
		var out []*conv.WebhookDelivery
		c.write(func(tx conv.Store) error {
			var err error
			out, err = tx.ClaimWebhookDeliveries(c.ctx, owner, now, limit, now.Add(10*time.Second))
			return err
		})
		return out
	}
	now := t0.Add(time.Second)
	first := claim("A", now, 1)
	c.equal("first claim", sidsOf(first, func(d *conv.WebhookDelivery) string { return d.Sid }), []string{d1.Sid})
	c.equal("claimed attempts/owner/lease", []any{first[0].Attempts, first[0].LeaseOwner, first[0].NextAttemptAt}, []any{1, "A", now.Add(10 * time.Second)})
	second := claim("B", now, 10)
	c.equal("second claim (d1 leased, d3 not due)", sidsOf(second, func(d *conv.WebhookDelivery) string { return d.Sid }), []string{d2.Sid})
	c.equal("nothing left to claim", len(claim("C", now, 10)), 0)

	// Only the lease owner settles.
	w := first[0]
	w.Status, w.LastStatusCode, w.LastError, w.NextAttemptAt, w.DateUpdated = conv.WebhookPending, 500, "HTTP 500", now.Add(5*time.Second), c.now()
	c.notFound("SettleWebhookDelivery by another owner", c.writeErr(func(tx conv.Store) error { return tx.SettleWebhookDelivery(c.ctx, w, "B") }))
	c.write(func(tx conv.Store) error { return tx.SettleWebhookDelivery(c.ctx, w, "A") })
	got, err = c.s.GetWebhookDelivery(c.ctx, a.Sid, w.Sid)
	c.noErr("GetWebhookDelivery (settled)", err)
	c.equal("settled for a retry", got, w)
	c.equal("retry not due before its backoff", len(claim("A", now.Add(4*time.Second), 10)), 0)
	retry := claim("B", now.Add(5*time.Second), 10)
	c.equal("retry claimed", []any{len(retry), retry[0].Sid, retry[0].Attempts}, []any{1, d1.Sid, 2})
	dt := c.now()
	retry[0].Status, retry[0].LastStatusCode, retry[0].LastError, retry[0].DateDelivered, retry[0].DateUpdated = conv.WebhookDelivered, 200, "", &dt, dt
	c.write(func(tx conv.Store) error { return tx.SettleWebhookDelivery(c.ctx, retry[0], "B") })
	c.notFound("settling a delivered delivery again", c.writeErr(func(tx conv.Store) error { return tx.SettleWebhookDelivery(c.ctx, retry[0], "B") }))

	// A lease that ran out lets another dispatcher claim the delivery (a crashed attempt).
	again := claim("C", now.Add(11*time.Second), 10)
	c.equal("expired lease reclaimed", sidsOf(again, func(d *conv.WebhookDelivery) string { return d.Sid }), []string{d2.Sid})
	c.equal("reclaimed attempts", again[0].Attempts, 2)
	c.notFound("settle by the owner of the expired lease", c.writeErr(func(tx conv.Store) error { return tx.SettleWebhookDelivery(c.ctx, second[0], "B") }))
	again[0].Status, again[0].DateUpdated = conv.WebhookFailed, c.now()
	c.write(func(tx conv.Store) error { return tx.SettleWebhookDelivery(c.ctx, again[0], "C") })

	list := func(f conv.WebhookDeliveryFilter) []string {
		xs, err := c.s.ListWebhookDeliveries(c.ctx, a.Sid, f, conv.PageQuery{Size: 10})
		c.noErr("ListWebhookDeliveries", err)
		return sidsOf(xs, func(d *conv.WebhookDelivery) string { return d.Sid })
	}
	c.equal("all deliveries", list(conv.WebhookDeliveryFilter{}), []string{d1.Sid, d2.Sid, d3.Sid})
	c.equal("delivered", list(conv.WebhookDeliveryFilter{Status: conv.WebhookDelivered}), []string{d1.Sid})
	c.equal("failed", list(conv.WebhookDeliveryFilter{Status: conv.WebhookFailed}), []string{d2.Sid})
	c.equal("by event", list(conv.WebhookDeliveryFilter{EventType: "onParticipantRemoved"}), []string{d3.Sid})
	c.equal("by conversation", list(conv.WebhookDeliveryFilter{ConversationSid: "CH01"}), []string{d1.Sid, d3.Sid})
	xs, err := c.s.ListWebhookDeliveries(c.ctx, other.Sid, conv.WebhookDeliveryFilter{}, conv.PageQuery{Size: 10})
	c.noErr("ListWebhookDeliveries (other account)", err)
	c.equal("other account's deliveries", len(xs), 0)

	var n int64
	c.write(func(tx conv.Store) error {
		var err error
		n, err = tx.PruneWebhookDeliveries(c.ctx, c.now())
		return err
	})
	c.equal("pruned (delivered and failed only)", n, int64(2))
	c.equal("after prune", list(conv.WebhookDeliveryFilter{}), []string{d3.Sid})
}

// testWebhookClaimConcurrent: dispatchers claiming at the same time never get the same
// delivery (SKIP LOCKED on PostgreSQL, the single writer on SQLite).
func testWebhookClaimConcurrent(c *suite) {
	a := c.account()
	t0 := time.Date(2021, 3, 4, 5, 0, 0, 0, time.UTC)
	var ds []*conv.WebhookDelivery
	for i := 0; i < 40; i++ {
		ds = append(ds, c.webhookDelivery(a, "CH01", "onParticipantAdded", t0))
	}
	c.write(func(tx conv.Store) error { return tx.EnqueueWebhookDeliveries(c.ctx, ds) })
	var mu sync.Mutex
	var claimed []string
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		owner := string(rune('A' + i))
		wg.Go(func() {
			for {
				var got []*conv.WebhookDelivery
				err := c.s.WithTx(c.ctx, func(tx conv.Store) error {
					var err error
					got, err = tx.ClaimWebhookDeliveries(c.ctx, owner, t0, 3, t0.Add(time.Minute))
					return err
				})
				if err != nil {
					c.t.Errorf("claim: %v", err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, d := range got {
					claimed = append(claimed, d.Sid)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	sort.Strings(claimed)
	want := sidsOf(ds, func(d *conv.WebhookDelivery) string { return d.Sid })
	sort.Strings(want)
	c.equal("every delivery claimed exactly once", claimed, want)
}
