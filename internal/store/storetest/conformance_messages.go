package storetest

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/parley-dev/parley/internal/conv"
)

// messageCases are the conformance cases of messages, deliveries and the outbox (run by
// Conformance).
var messageCases = []struct {
	name string
	f    func(c *suite)
}{
	{"MessageIndexCounter", testMessageIndexCounter},
	{"Messages", testMessages},
	{"MessagePaging", testMessagePaging},
	{"FindAuthorParticipant", testFindAuthorParticipant},
	{"Deliveries", testDeliveries},
	{"DeliveriesOutliveParticipants", testDeliveriesOutliveParticipants},
	{"CascadeMessages", testCascadeMessages},
	{"ClaimDeliveries", testClaimDeliveries},
	{"ClaimDeliveriesConcurrent", testClaimDeliveriesConcurrent},
	{"IdentityDeliveries", testIdentityDeliveries},
	{"Outbox", testOutbox},
}

// message creates a message by author in cv with the next index, as the Service does.
func (c *suite) message(cv *conv.Conversation, author, body string) *conv.Message {
	c.t.Helper()
	now := c.now()
	m := &conv.Message{Sid: c.sids.New(conv.PrefixMessage), AccountSid: cv.AccountSid, ServiceSid: cv.ServiceSid,
		ConversationSid: cv.Sid, Author: author, Body: &body, Attributes: "{}", DateCreated: now, DateUpdated: now}
	c.write(func(tx conv.Store) error {
		idx, err := tx.NextMessageIndex(c.ctx, cv.Sid)
		if err != nil {
			return err
		}
		m.Index = idx
		return tx.CreateMessage(c.ctx, m)
	})
	if m.Seq <= 0 {
		c.t.Fatalf("CreateMessage: Seq = %d, want > 0", m.Seq)
	}
	return m
}

// delivery creates the pending delivery of m to p, due at due.
func (c *suite) delivery(m *conv.Message, p *conv.Participant, due time.Time) *conv.Delivery {
	c.t.Helper()
	now := c.now()
	d := &conv.Delivery{Sid: c.sids.New(conv.PrefixDelivery), AccountSid: m.AccountSid, ServiceSid: m.ServiceSid,
		ConversationSid: m.ConversationSid, MessageSid: m.Sid, MessageIndex: m.Index, ParticipantSid: p.Sid,
		Channel: conv.ChannelChat, Identity: p.Identity, Status: conv.DeliveryPending, NextAttemptAt: due,
		DateCreated: now, DateUpdated: now}
	if p.Binding != nil && p.Identity == nil {
		d.Channel, d.Address, d.ProxyAddress = p.Binding.Type, p.Binding.Address, p.Binding.ProxyAddress
	}
	c.write(func(tx conv.Store) error { return tx.CreateDelivery(c.ctx, d) })
	if d.Seq <= 0 {
		c.t.Fatalf("CreateDelivery: Seq = %d, want > 0", d.Seq)
	}
	// As reads return it: the recipient is present, with its read horizon.
	d.RecipientPresent, d.RecipientReadIndex = true, p.LastReadMessageIndex
	return d
}

func messageSids(ms []*conv.Message) []string {
	return sidsOf(ms, func(m *conv.Message) string { return m.Sid })
}

func deliverySids(ds []*conv.Delivery) []string {
	return sidsOf(ds, func(d *conv.Delivery) string { return d.Sid })
}

func testMessageIndexCounter(c *suite) {
	a := c.account()
	svc := c.service(a.Sid)
	cv, other := c.conversation(svc), c.conversation(svc)
	n, err := c.s.MessageIndexCounter(c.ctx, cv.Sid)
	c.noErr("MessageIndexCounter(new)", err)
	c.equal("counter of a new conversation", n, int64(0))
	for want := int64(0); want < 3; want++ {
		var got int64
		c.write(func(tx conv.Store) error {
			var err error
			got, err = tx.NextMessageIndex(c.ctx, cv.Sid)
			return err
		})
		c.equal("NextMessageIndex", got, want)
	}
	n, err = c.s.MessageIndexCounter(c.ctx, cv.Sid)
	c.noErr("MessageIndexCounter", err)
	c.equal("counter after three", n, int64(3))
	n, err = c.s.MessageIndexCounter(c.ctx, other.Sid)
	c.noErr("MessageIndexCounter(other)", err)
	c.equal("counters are per conversation", n, int64(0))

	// A rolled-back transaction does not advance the counter.
	boom := errors.New("boom")
	err = c.writeErr(func(tx conv.Store) error {
		if _, err := tx.NextMessageIndex(c.ctx, cv.Sid); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		c.t.Fatalf("rolled back: %v", err)
	}
	n, _ = c.s.MessageIndexCounter(c.ctx, cv.Sid)
	c.equal("counter after rollback", n, int64(3))

	missing := c.sids.New(conv.PrefixConversation)
	c.notFound("NextMessageIndex(missing)", c.writeErr(func(tx conv.Store) error {
		_, err := tx.NextMessageIndex(c.ctx, missing)
		return err
	}))
	_, err = c.s.MessageIndexCounter(c.ctx, missing)
	c.notFound("MessageIndexCounter(missing)", err)
}

func testMessages(c *suite) {
	a := c.account()
	svc := c.service(a.Sid)
	cv, other := c.conversation(svc), c.conversation(svc)
	m0 := c.message(cv, "alice", "hello")
	m1 := c.message(cv, "system", "two")
	// Every field set.
	now := c.now()
	m2 := &conv.Message{Sid: c.sids.New(conv.PrefixMessage), AccountSid: a.Sid, ServiceSid: svc.Sid, ConversationSid: cv.Sid,
		Author: "+15551110001", Attributes: `{"x":1}`, ParticipantSid: c.sids.New(conv.PrefixParticipant),
		ContentSid: "HX" + fmt.Sprintf("%032x", 7), ContentVariables: `{"1":"a"}`, Subject: "subj", DateCreated: now.Add(-time.Hour), DateUpdated: now}
	c.write(func(tx conv.Store) error {
		idx, err := tx.NextMessageIndex(c.ctx, cv.Sid)
		m2.Index = idx
		if err != nil {
			return err
		}
		return tx.CreateMessage(c.ctx, m2)
	})
	c.equal("indexes", []int64{m0.Index, m1.Index, m2.Index}, []int64{0, 1, 2})
	for _, want := range []*conv.Message{m0, m1, m2} {
		got, err := c.s.GetMessage(c.ctx, cv.Sid, want.Sid)
		c.noErr("GetMessage", err)
		c.equal("GetMessage", got, want)
	}
	_, err := c.s.GetMessage(c.ctx, other.Sid, m0.Sid)
	c.notFound("GetMessage(other conversation)", err)
	_, err = c.s.GetMessage(c.ctx, cv.Sid, c.sids.New(conv.PrefixMessage))
	c.notFound("GetMessage(missing)", err)

	dup := *m0
	dup.Sid = c.sids.New(conv.PrefixMessage)
	c.conflict("CreateMessage(index taken)", c.writeErr(func(tx conv.Store) error { return tx.CreateMessage(c.ctx, &dup) }))
	dup = *m0
	dup.ConversationSid, dup.Index = other.Sid, 0
	c.conflict("CreateMessage(sid taken)", c.writeErr(func(tx conv.Store) error { return tx.CreateMessage(c.ctx, &dup) }))

	// Update every mutable field, including a null body.
	m1.Author, m1.Body, m1.Attributes, m1.ParticipantSid, m1.Subject = "bob", nil, `{"y":2}`, c.sids.New(conv.PrefixParticipant), "s"
	m1.DateCreated, m1.DateUpdated = c.base.Add(-time.Hour), c.now()
	c.write(func(tx conv.Store) error { return tx.UpdateMessage(c.ctx, m1) })
	got, err := c.s.GetMessage(c.ctx, cv.Sid, m1.Sid)
	c.noErr("GetMessage after update", err)
	c.equal("GetMessage after update", got, m1)
	ghost := *m1
	ghost.Sid = c.sids.New(conv.PrefixMessage)
	c.notFound("UpdateMessage(missing)", c.writeErr(func(tx conv.Store) error { return tx.UpdateMessage(c.ctx, &ghost) }))

	n, err := c.s.CountMessagesAfter(c.ctx, cv.Sid, 0)
	c.noErr("CountMessagesAfter", err)
	c.equal("CountMessagesAfter(0)", n, int64(2))

	// Delete leaves a gap: the counter does not go back.
	c.notFound("DeleteMessage(other conversation)", c.writeErr(func(tx conv.Store) error { return tx.DeleteMessage(c.ctx, other.Sid, m1.Sid) }))
	c.write(func(tx conv.Store) error { return tx.DeleteMessage(c.ctx, cv.Sid, m1.Sid) })
	_, err = c.s.GetMessage(c.ctx, cv.Sid, m1.Sid)
	c.notFound("GetMessage(deleted)", err)
	c.notFound("DeleteMessage(deleted)", c.writeErr(func(tx conv.Store) error { return tx.DeleteMessage(c.ctx, cv.Sid, m1.Sid) }))
	m3 := c.message(cv, "alice", "after the gap")
	c.equal("index after a deleted message", m3.Index, int64(3))
	n, err = c.s.CountMessagesAfter(c.ctx, cv.Sid, 0)
	c.noErr("CountMessagesAfter", err)
	c.equal("CountMessagesAfter(0) with a gap", n, int64(2))
	n, _ = c.s.CountMessagesAfter(c.ctx, cv.Sid, 3)
	c.equal("CountMessagesAfter(last)", n, int64(0))
	n, _ = c.s.CountMessagesAfter(c.ctx, cv.Sid, -1)
	c.equal("CountMessagesAfter(-1)", n, int64(3))
}

func testMessagePaging(c *suite) {
	a := c.account()
	svc := c.service(a.Sid)
	cv, other := c.conversation(svc), c.conversation(svc)
	var ms []*conv.Message
	for i := 0; i < 7; i++ {
		ms = append(ms, c.message(cv, "alice", fmt.Sprint(i)))
		c.message(other, "bob", "noise") // interleaved rows of another conversation
	}
	list := func(q conv.MessageQuery) []string {
		c.t.Helper()
		got, err := c.s.ListMessages(c.ctx, cv.Sid, q)
		c.noErr("ListMessages", err)
		return messageSids(got)
	}
	sids := func(idx ...int) []string {
		out := make([]string, 0, len(idx))
		for _, i := range idx {
			out = append(out, ms[i].Sid)
		}
		return out
	}
	c.equal("asc", list(conv.MessageQuery{}), sids(0, 1, 2, 3, 4, 5, 6))
	c.equal("asc page 1", list(conv.MessageQuery{PageQuery: conv.PageQuery{Size: 3, Offset: 3}}), sids(3, 4, 5))
	c.equal("asc after", list(conv.MessageQuery{PageQuery: conv.PageQuery{Size: 3, AfterSeq: ms[2].Seq}}), sids(3, 4, 5))
	c.equal("asc before", list(conv.MessageQuery{PageQuery: conv.PageQuery{Size: 2, BeforeSeq: ms[5].Seq}}), sids(3, 4))
	c.equal("desc", list(conv.MessageQuery{Desc: true}), sids(6, 5, 4, 3, 2, 1, 0))
	c.equal("desc page 1", list(conv.MessageQuery{Desc: true, PageQuery: conv.PageQuery{Size: 3, Offset: 3}}), sids(3, 2, 1))
	c.equal("desc after", list(conv.MessageQuery{Desc: true, PageQuery: conv.PageQuery{Size: 3, AfterSeq: ms[4].Seq}}), sids(3, 2, 1))
	c.equal("desc after, last page", list(conv.MessageQuery{Desc: true, PageQuery: conv.PageQuery{Size: 3, AfterSeq: ms[1].Seq}}), sids(0))
	c.equal("desc before", list(conv.MessageQuery{Desc: true, PageQuery: conv.PageQuery{Size: 2, BeforeSeq: ms[2].Seq}}), sids(4, 3))
	c.equal("desc before, first page", list(conv.MessageQuery{Desc: true, PageQuery: conv.PageQuery{Size: 5, BeforeSeq: ms[5].Seq}}), sids(6))
}

func testFindAuthorParticipant(c *suite) {
	a := c.account()
	svc := c.service(a.Sid)
	cv, other := c.conversation(svc), c.conversation(svc)
	sms := c.sms(cv, "+15551110001", "+15552220001")
	alice := c.chat(cv, "alice")
	c.chat(other, "bob")
	// A chat participant whose identity looks like the SMS participant's address wins.
	lookalike := c.chat(cv, "+15551110002")
	c.sms(cv, "+15551110002", "+15552220001")

	find := func(author string) (*conv.Participant, error) {
		return c.s.FindAuthorParticipant(c.ctx, cv.Sid, author)
	}
	got, err := find("alice")
	c.noErr("FindAuthorParticipant(identity)", err)
	c.equal("by identity", got, alice)
	got, err = find("+15551110001")
	c.noErr("FindAuthorParticipant(address)", err)
	c.equal("by address", got, sms)
	got, err = find("+15551110002")
	c.noErr("FindAuthorParticipant(identity and address)", err)
	c.equal("identity before address", got.Sid, lookalike.Sid)
	_, err = find("bob")
	c.notFound("FindAuthorParticipant(other conversation)", err)
	_, err = find("+15552220001")
	c.notFound("FindAuthorParticipant(proxy address)", err)
	_, err = find("system")
	c.notFound("FindAuthorParticipant(system)", err)
}

func testDeliveries(c *suite) {
	a := c.account()
	svc := c.service(a.Sid)
	cv := c.conversation(svc)
	alice, bob := c.chat(cv, "alice"), c.chat(cv, "bob")
	sms := c.sms(cv, "+15551110001", "+15552220001")
	m0, m1 := c.message(cv, "alice", "a"), c.message(cv, "bob", "b")
	due := c.base.Add(1500 * time.Millisecond) // millisecond precision is kept
	d0b, d0s := c.delivery(m0, bob, due), c.delivery(m0, sms, due)
	d1a := c.delivery(m1, alice, due)

	got, err := c.s.GetDelivery(c.ctx, m0.Sid, d0s.Sid)
	c.noErr("GetDelivery", err)
	c.equal("GetDelivery", got, d0s)
	_, err = c.s.GetDelivery(c.ctx, m1.Sid, d0s.Sid)
	c.notFound("GetDelivery(other message)", err)
	_, err = c.s.GetDelivery(c.ctx, m0.Sid, c.sids.New(conv.PrefixDelivery))
	c.notFound("GetDelivery(missing)", err)
	dup := *d0b
	c.conflict("CreateDelivery(sid taken)", c.writeErr(func(tx conv.Store) error { return tx.CreateDelivery(c.ctx, &dup) }))

	list, err := c.s.ListMessageDeliveries(c.ctx, []string{m0.Sid, m1.Sid}, false)
	c.noErr("ListMessageDeliveries", err)
	c.equal("ListMessageDeliveries", list, []*conv.Delivery{d0b, d0s, d1a})
	list, err = c.s.ListMessageDeliveries(c.ctx, []string{m0.Sid, m1.Sid}, true)
	c.noErr("ListMessageDeliveries(non-chat)", err)
	c.equal("ListMessageDeliveries(non-chat)", deliverySids(list), []string{d0s.Sid})
	list, err = c.s.ListMessageDeliveries(c.ctx, nil, false)
	c.noErr("ListMessageDeliveries(none)", err)
	c.equal("ListMessageDeliveries(none)", len(list), 0)

	// Reads follow the recipient's current read horizon.
	bob.LastReadMessageIndex = ptr(int64(0))
	c.write(func(tx conv.Store) error { return tx.UpdateParticipant(c.ctx, bob) })
	got, err = c.s.GetDelivery(c.ctx, m0.Sid, d0b.Sid)
	c.noErr("GetDelivery", err)
	c.equal("recipient read horizon", got.RecipientReadIndex, ptr(int64(0)))
}

func testDeliveriesOutliveParticipants(c *suite) {
	a := c.account()
	svc := c.service(a.Sid)
	cv := c.conversation(svc)
	alice, bob := c.chat(cv, "alice"), c.chat(cv, "bob")
	m := c.message(cv, "bob", "from bob")
	m.ParticipantSid = bob.Sid
	c.write(func(tx conv.Store) error { return tx.UpdateMessage(c.ctx, m) })
	d := c.delivery(m, alice, c.base)
	toBob := c.delivery(c.message(cv, "alice", "to bob"), bob, c.base)

	c.write(func(tx conv.Store) error { return tx.DeleteParticipant(c.ctx, cv.Sid, bob.Sid) })
	got, err := c.s.GetMessage(c.ctx, cv.Sid, m.Sid)
	c.noErr("GetMessage(author removed)", err)
	c.equal("message keeps its author participant", got, m)
	gd, err := c.s.GetDelivery(c.ctx, d.MessageSid, d.Sid)
	c.noErr("GetDelivery", err)
	c.equal("delivery to a present recipient", gd, d)
	gd, err = c.s.GetDelivery(c.ctx, toBob.MessageSid, toBob.Sid)
	c.noErr("GetDelivery(recipient removed)", err)
	toBob.RecipientPresent, toBob.RecipientReadIndex = false, nil
	c.equal("delivery to a removed recipient stays", gd, toBob)
	ids, err := c.s.ListIdentityDeliveries(c.ctx, svc.Sid, "bob", 0, 10)
	c.noErr("ListIdentityDeliveries(removed)", err)
	c.equal("pending delivery to the removed identity", deliverySids(ids), []string{toBob.Sid})
}

func testCascadeMessages(c *suite) {
	a := c.account()
	svc := c.service(a.Sid)
	cv, keep := c.conversation(svc), c.conversation(svc)
	bob := c.chat(cv, "bob")
	m0, m1 := c.message(cv, "alice", "a"), c.message(cv, "alice", "b")
	d0, d1 := c.delivery(m0, bob, c.base), c.delivery(m1, bob, c.base)
	kept := c.message(keep, "alice", "kept")
	keptD := c.delivery(kept, c.chat(keep, "bob"), c.base)

	// Deleting a message deletes its deliveries only.
	c.write(func(tx conv.Store) error { return tx.DeleteMessage(c.ctx, cv.Sid, m0.Sid) })
	_, err := c.s.GetDelivery(c.ctx, m0.Sid, d0.Sid)
	c.notFound("GetDelivery(message deleted)", err)
	_, err = c.s.GetDelivery(c.ctx, m1.Sid, d1.Sid)
	c.noErr("GetDelivery(other message)", err)

	// Deleting a conversation deletes its messages and their deliveries.
	c.write(func(tx conv.Store) error { return tx.DeleteConversation(c.ctx, svc.Sid, cv.Sid) })
	_, err = c.s.GetMessage(c.ctx, cv.Sid, m1.Sid)
	c.notFound("GetMessage(conversation deleted)", err)
	list, err := c.s.ListMessageDeliveries(c.ctx, []string{m1.Sid}, false)
	c.noErr("ListMessageDeliveries", err)
	c.equal("deliveries of a deleted conversation", len(list), 0)
	got, err := c.s.GetDelivery(c.ctx, kept.Sid, keptD.Sid)
	c.noErr("GetDelivery(other conversation)", err)
	c.equal("other conversation untouched", got, keptD)

	// Deleting the service deletes everything in it.
	c.write(func(tx conv.Store) error { return tx.DeleteService(c.ctx, a.Sid, svc.Sid) })
	_, err = c.s.GetMessage(c.ctx, keep.Sid, kept.Sid)
	c.notFound("GetMessage(service deleted)", err)
}

// claim runs ClaimDeliveries for owner at now with a lease of lease.
func (c *suite) claimDeliveries(owner string, now time.Time, lease time.Duration, limit int) []*conv.Delivery {
	c.t.Helper()
	var out []*conv.Delivery
	c.write(func(tx conv.Store) error {
		var err error
		out, err = tx.ClaimDeliveries(c.ctx, conv.DeliveryClaim{Owner: owner, Now: now, LeaseUntil: now.Add(lease), Limit: limit})
		return err
	})
	return out
}

func testClaimDeliveries(c *suite) {
	a := c.account()
	svc := c.service(a.Sid)
	cv := c.conversation(svc)
	bob := c.chat(cv, "bob")
	s1, s2 := c.sms(cv, "+15551110001", "+15552220001"), c.sms(cv, "+15551110002", "+15552220001")
	t0 := c.base.Add(10 * time.Second)
	m0, m1 := c.message(cv, "alice", "a"), c.message(cv, "alice", "b")
	c.delivery(m0, bob, t0) // chat: never claimed
	d0 := c.delivery(m0, s1, t0)
	d1 := c.delivery(m0, s2, t0)
	later := c.delivery(m1, s1, t0.Add(time.Minute))

	c.equal("nothing due before t0", len(c.claimDeliveries("A", t0.Add(-time.Millisecond), time.Minute, 10)), 0)
	got := c.claimDeliveries("A", t0, 30*time.Second, 1)
	c.equal("limit 1, oldest first", deliverySids(got), []string{d0.Sid})
	c.equal("claimed lease", []any{got[0].LeaseOwner, got[0].LeaseUntil, got[0].Attempts}, []any{"A", t0.Add(30 * time.Second), 1})
	got = c.claimDeliveries("B", t0, 30*time.Second, 10)
	c.equal("B gets the rest that is due, not A's", deliverySids(got), []string{d1.Sid})
	c.equal("nothing left while leases run", len(c.claimDeliveries("C", t0.Add(29*time.Second), time.Minute, 10)), 0)

	// Settling needs the lease.
	done := *d0
	done.Status, done.ChannelMessageSid, done.DateUpdated = conv.DeliverySent, "SM"+fmt.Sprintf("%032x", 1), c.now()
	c.notFound("SettleDelivery(other owner)", c.writeErr(func(tx conv.Store) error { return tx.SettleDelivery(c.ctx, &done, "B") }))
	c.write(func(tx conv.Store) error { return tx.SettleDelivery(c.ctx, &done, "A") })
	c.notFound("SettleDelivery(settled)", c.writeErr(func(tx conv.Store) error { return tx.SettleDelivery(c.ctx, &done, "A") }))
	gd, err := c.s.GetDelivery(c.ctx, m0.Sid, d0.Sid)
	c.noErr("GetDelivery", err)
	c.equal("settled", []any{gd.Status, gd.ChannelMessageSid, gd.LeaseOwner, gd.Attempts}, []any{conv.DeliverySent, done.ChannelMessageSid, "", 1})

	// B's lease expires: C claims d1 again (a second attempt); B has lost it.
	got = c.claimDeliveries("C", t0.Add(30*time.Second), 30*time.Second, 10)
	c.equal("expired lease is claimed again", deliverySids(got), []string{d1.Sid})
	c.equal("second attempt", got[0].Attempts, 2)
	lost := *got[0]
	lost.Status = conv.DeliveryFailed
	c.notFound("SettleDelivery(lost lease)", c.writeErr(func(tx conv.Store) error { return tx.SettleDelivery(c.ctx, &lost, "B") }))
	// C reschedules it: pending, due later, lease ended.
	retry := *got[0]
	retry.NextAttemptAt, retry.ErrorMessage = t0.Add(2*time.Minute), "busy"
	c.write(func(tx conv.Store) error { return tx.SettleDelivery(c.ctx, &retry, "C") })
	got = c.claimDeliveries("D", t0.Add(time.Minute), time.Hour, 10)
	c.equal("retry not due yet, the later message is", deliverySids(got), []string{later.Sid})
	got = c.claimDeliveries("D", t0.Add(3*time.Minute), time.Minute, 10)
	c.equal("retry due", deliverySids(got), []string{d1.Sid})
	c.equal("third attempt", []any{got[0].Attempts, got[0].ErrorMessage}, []any{3, "busy"})
}

func testClaimDeliveriesConcurrent(c *suite) {
	a := c.account()
	svc := c.service(a.Sid)
	cv := c.conversation(svc)
	var recipients []*conv.Participant
	for i := 0; i < 5; i++ {
		recipients = append(recipients, c.sms(cv, fmt.Sprintf("+1555111%04d", i), "+15552220001"))
	}
	want := map[string]bool{}
	for i := 0; i < 8; i++ {
		m := c.message(cv, "system", fmt.Sprint(i))
		for _, p := range recipients {
			want[c.delivery(m, p, c.base).Sid] = true
		}
	}
	// Several claimers race; each delivery is claimed exactly once.
	var mu sync.Mutex
	seen := map[string]string{}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(owner string) {
			defer wg.Done()
			for {
				var got []*conv.Delivery
				err := c.s.WithTx(c.ctx, func(tx conv.Store) error {
					var err error
					got, err = tx.ClaimDeliveries(c.ctx, conv.DeliveryClaim{Owner: owner, Now: c.base, LeaseUntil: c.base.Add(time.Hour), Limit: 3})
					return err
				})
				if err != nil {
					errs <- err
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, d := range got {
					if prev, dup := seen[d.Sid]; dup {
						errs <- fmt.Errorf("%s claimed by %s and %s", d.Sid, prev, owner)
					}
					seen[d.Sid] = owner
				}
				mu.Unlock()
			}
		}(fmt.Sprintf("w%d", w))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		c.t.Error(err)
	}
	c.equal("claimed", len(seen), len(want))
}

func testIdentityDeliveries(c *suite) {
	a := c.account()
	svc, svc2 := c.service(a.Sid), c.service(a.Sid)
	cv, cv2, elsewhere := c.conversation(svc), c.conversation(svc), c.conversation(svc2)
	bob, bob2, bobElsewhere := c.chat(cv, "bob"), c.chat(cv2, "bob"), c.chat(elsewhere, "bob")
	carol := c.chat(cv, "carol")
	m0, m1, m2 := c.message(cv, "a", "0"), c.message(cv2, "a", "1"), c.message(cv, "a", "2")
	d0, d1, d2 := c.delivery(m0, bob, c.base), c.delivery(m1, bob2, c.base), c.delivery(m2, bob, c.base)
	c.delivery(m0, carol, c.base)
	c.delivery(c.message(elsewhere, "a", "x"), bobElsewhere, c.base)
	c.delivery(m0, c.sms(cv, "+15551110001", "+15552220001"), c.base) // not a chat delivery

	max, err := c.s.MaxIdentityDeliverySeq(c.ctx, svc.Sid, "bob")
	c.noErr("MaxIdentityDeliverySeq", err)
	c.equal("MaxIdentityDeliverySeq", max, d2.Seq)
	none, err := c.s.MaxIdentityDeliverySeq(c.ctx, svc.Sid, "dave")
	c.noErr("MaxIdentityDeliverySeq(none)", err)
	c.equal("MaxIdentityDeliverySeq(none)", none, int64(0))

	list := func(after int64, limit int) []string {
		c.t.Helper()
		got, err := c.s.ListIdentityDeliveries(c.ctx, svc.Sid, "bob", after, limit)
		c.noErr("ListIdentityDeliveries", err)
		return deliverySids(got)
	}
	c.equal("all of bob's in the service, across conversations", list(0, 10), []string{d0.Sid, d1.Sid, d2.Sid})
	c.equal("limit", list(0, 2), []string{d0.Sid, d1.Sid})
	c.equal("pending ones come back below the cursor", list(max, 10), []string{d0.Sid, d1.Sid, d2.Sid})

	at := c.now()
	c.write(func(tx conv.Store) error { return tx.MarkDeliveriesDelivered(c.ctx, []string{d0.Sid, d2.Sid}, at) })
	c.equal("delivered ones up to the cursor are not", list(d1.Seq, 10), []string{d1.Sid, d2.Sid})
	c.equal("only pending below", list(max, 10), []string{d1.Sid})
	c.equal("everything after the cursor", list(0, 10), []string{d0.Sid, d1.Sid, d2.Sid})
	got, err := c.s.GetDelivery(c.ctx, m0.Sid, d0.Sid)
	c.noErr("GetDelivery", err)
	c.equal("marked", []any{got.Status, got.DateUpdated}, []any{conv.DeliveryDelivered, at})
	// Marking again changes nothing (only pending rows are marked).
	c.write(func(tx conv.Store) error { return tx.MarkDeliveriesDelivered(c.ctx, []string{d0.Sid}, c.now()) })
	got, _ = c.s.GetDelivery(c.ctx, m0.Sid, d0.Sid)
	c.equal("marked once", got.DateUpdated, at)
	c.write(func(tx conv.Store) error { return tx.MarkDeliveriesDelivered(c.ctx, nil, c.now()) })
}

func testOutbox(c *suite) {
	a, a2 := c.account(), c.account()
	svc, svc2 := c.service(a.Sid), c.service(a2.Sid)
	cv, cv2, other := c.conversation(svc), c.conversation(svc), c.conversation(svc2)
	entry := func(cv *conv.Conversation, to string) *conv.OutboxEntry {
		body := "hi " + to
		return &conv.OutboxEntry{Sid: c.sids.New(conv.PrefixSMSMessage), DeliverySid: c.sids.New(conv.PrefixDelivery),
			AccountSid: cv.AccountSid, ServiceSid: cv.ServiceSid, ConversationSid: cv.Sid, MessageSid: c.sids.New(conv.PrefixMessage),
			MessageIndex: 4, ParticipantSid: c.sids.New(conv.PrefixParticipant), Channel: conv.BindingSMS, To: to, From: "+15552220001",
			Author: "alice", Body: &body, DateCreated: c.now()}
	}
	e1, e2, e3 := entry(cv, "+15551110001"), entry(cv2, "+15551110002"), entry(cv, "+15551110002")
	e3.Body = nil
	theirs := entry(other, "+15551110001")
	for _, e := range []*conv.OutboxEntry{e1, e2, e3, theirs} {
		c.write(func(tx conv.Store) error { return tx.InsertOutbox(c.ctx, e) })
		if e.Seq <= 0 {
			c.t.Fatalf("InsertOutbox: Seq = %d", e.Seq)
		}
	}
	// The same delivery again: a conflict that leaves the transaction usable; nothing recorded.
	again := entry(cv, "+15551110001")
	again.DeliverySid = e1.DeliverySid
	var seen *conv.OutboxEntry
	c.write(func(tx conv.Store) error {
		c.conflict("InsertOutbox(delivery recorded)", tx.InsertOutbox(c.ctx, again))
		var err error
		seen, err = tx.GetOutboxByDelivery(c.ctx, e1.DeliverySid)
		return err
	})
	c.equal("entry read after the conflict", seen, e1)
	_, err := c.s.GetOutboxByDelivery(c.ctx, c.sids.New(conv.PrefixDelivery))
	c.notFound("GetOutboxByDelivery(missing)", err)

	list := func(f conv.OutboxFilter, q conv.PageQuery) []*conv.OutboxEntry {
		c.t.Helper()
		got, err := c.s.ListOutbox(c.ctx, a.Sid, f, q)
		c.noErr("ListOutbox", err)
		return got
	}
	c.equal("ListOutbox", list(conv.OutboxFilter{}, conv.PageQuery{}), []*conv.OutboxEntry{e1, e2, e3})
	c.equal("ListOutbox(To)", list(conv.OutboxFilter{To: "+15551110002"}, conv.PageQuery{}), []*conv.OutboxEntry{e2, e3})
	c.equal("ListOutbox(ConversationSid)", list(conv.OutboxFilter{ConversationSid: cv.Sid}, conv.PageQuery{}), []*conv.OutboxEntry{e1, e3})
	c.equal("ListOutbox(page)", list(conv.OutboxFilter{}, conv.PageQuery{Size: 1, AfterSeq: e1.Seq}), []*conv.OutboxEntry{e2})
	got, err := c.s.ListOutbox(c.ctx, a2.Sid, conv.OutboxFilter{}, conv.PageQuery{})
	c.noErr("ListOutbox(other account)", err)
	c.equal("accounts see only their own", got, []*conv.OutboxEntry{theirs})
}
