package delivery_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/delivery"
	"github.com/parley-dev/parley/internal/store/storetest"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fixture is a service with one conversation that has an SMS participant and a chat one.
type fixture struct {
	ctx   context.Context
	svc   *conv.Service
	clock *clock
	sc    conv.Scope
	conv  string
	sms   *conv.Participant
}

func newFixture(t *testing.T, e storetest.Engine) *fixture {
	t.Helper()
	ctx := context.Background()
	ck := &clock{t: time.Date(2022, 2, 2, 2, 2, 2, 0, time.UTC)}
	svc := conv.NewService(e.Open(t), conv.Options{Clock: ck.Now, SIDs: &conv.SequentialSIDs{}})
	a, err := svc.EnsureAccount(ctx, "AC0123456789abcdef0123456789abcdef", "token")
	if err != nil {
		t.Fatal(err)
	}
	sc := conv.Scope{AccountSid: a.Sid}
	c, err := svc.CreateConversation(ctx, sc, conv.ConversationParams{}, conv.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	addr, proxy, id := "+15550001111", "+15550002222", "chatty"
	sms, err := svc.CreateParticipant(ctx, sc, c.Sid, conv.ParticipantCreate{Address: &addr, ProxyAddress: &proxy}, conv.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateParticipant(ctx, sc, c.Sid, conv.ParticipantCreate{Identity: &id}, conv.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	return &fixture{ctx: ctx, svc: svc, clock: ck, sc: sc, conv: c.Sid, sms: sms}
}

func (f *fixture) send(t *testing.T, body string) *conv.Message {
	t.Helper()
	m, err := f.svc.CreateMessage(f.ctx, f.sc, f.conv, conv.MessageCreate{Body: &body}, conv.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// smsReceipt returns the receipt of m's SMS delivery, nil while it has none.
func (f *fixture) smsReceipt(t *testing.T, m *conv.Message) *conv.Delivery {
	t.Helper()
	rs, err := f.svc.ListReceipts(f.ctx, f.sc, f.conv, m.Sid, conv.PageQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.ParticipantSid == f.sms.Sid {
			return r
		}
	}
	return nil
}

// scripted is a carrier that answers from a script of errors (nil: accept) and counts calls.
type scripted struct {
	mu     sync.Mutex
	script []error
	calls  int
}

func (s *scripted) Send(context.Context, *conv.Outbound) (delivery.Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if len(s.script) == 0 {
		return delivery.Result{Status: conv.DeliveryDelivered}, nil
	}
	err := s.script[0]
	s.script = s.script[1:]
	return delivery.Result{}, err
}

func TestDispatcherRetriesWithBackoffThenSucceeds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		f := newFixture(t, e)
		carrier := &scripted{script: []error{errors.New("busy"), errors.New("busy")}}
		d := delivery.NewDispatcher(f.svc, carrier, delivery.Options{Clock: f.clock.Now})
		m := f.send(t, "hello")
		run := func(want int) {
			t.Helper()
			n, err := d.RunOnce(f.ctx)
			if err != nil || n != want {
				t.Fatalf("RunOnce = %d, %v; want %d", n, err, want)
			}
		}
		run(1) // attempt 1 fails: due again in 1 s
		if r := f.smsReceipt(t, m); r != nil {
			t.Fatalf("a failed attempt has no receipt yet: %+v", r)
		}
		run(0)
		f.clock.Advance(999 * time.Millisecond)
		run(0)
		f.clock.Advance(time.Millisecond)
		run(1) // attempt 2 fails: due again in 2 s
		f.clock.Advance(time.Second)
		run(0)
		f.clock.Advance(time.Second)
		run(1) // attempt 3 succeeds
		r := f.smsReceipt(t, m)
		if r == nil || r.Status != conv.DeliveryDelivered || r.Attempts != 3 || !strings.HasPrefix(r.ChannelMessageSid, "SM") || r.ErrorCode != 0 {
			t.Fatalf("receipt after success = %+v", r)
		}
		run(0)
		if carrier.calls != 3 {
			t.Errorf("carrier called %d times, want 3", carrier.calls)
		}
	})
}

func TestDispatcherGivesUp(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		f := newFixture(t, e)
		var script []error
		for i := 0; i < delivery.DefaultMaxAttempts+5; i++ {
			script = append(script, errors.New("down"))
		}
		carrier := &scripted{script: script}
		d := delivery.NewDispatcher(f.svc, carrier, delivery.Options{Clock: f.clock.Now})
		m := f.send(t, "doomed")
		for i := 0; i < delivery.DefaultMaxAttempts+3; i++ {
			if _, err := d.RunOnce(f.ctx); err != nil {
				t.Fatal(err)
			}
			f.clock.Advance(delivery.DefaultMaxBackoff)
		}
		if carrier.calls != delivery.DefaultMaxAttempts {
			t.Errorf("carrier called %d times, want %d", carrier.calls, delivery.DefaultMaxAttempts)
		}
		r := f.smsReceipt(t, m)
		if r == nil || r.ReceiptStatus() != conv.DeliveryFailed || r.ErrorCode != conv.ErrorCodeDeliveryFailed || r.ErrorMessage != "down" {
			t.Fatalf("receipt after the last attempt = %+v", r)
		}
		got, err := f.svc.FetchMessage(f.ctx, f.sc, f.conv, m.Sid)
		if err != nil || got.Delivery == nil || got.Delivery.Failed != conv.SummaryAll || got.Delivery.Sent != conv.SummaryNone {
			t.Fatalf("summary = %+v, %v", got.Delivery, err)
		}

		// A permanent error fails at once.
		carrier2 := &scripted{script: []error{&delivery.PermanentError{Err: errors.New("no such number")}}}
		d2 := delivery.NewDispatcher(f.svc, carrier2, delivery.Options{Clock: f.clock.Now})
		m2 := f.send(t, "bad number")
		if _, err := d2.RunOnce(f.ctx); err != nil {
			t.Fatal(err)
		}
		if r := f.smsReceipt(t, m2); r == nil || r.Status != conv.DeliveryFailed || r.Attempts != 1 {
			t.Fatalf("permanent failure receipt = %+v", r)
		}
	})
}

// crashingOutbox records in the outbox, then fails as a process killed before settling would.
type crashingOutbox struct{ out *delivery.Outbox }

func (c crashingOutbox) Send(ctx context.Context, o *conv.Outbound) (delivery.Result, error) {
	if _, err := c.out.Send(ctx, o); err != nil {
		return delivery.Result{}, err
	}
	return delivery.Result{}, errCrash
}

var errCrash = errors.New("crashed after recording")

// TestOutboxRecordsOnce: a delivery handed to the outbox by a dispatcher that then lost its
// lease (crashed) is claimed again by another, and the outbox still holds it once.
func TestOutboxRecordsOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		f := newFixture(t, e)
		out := delivery.NewOutbox(f.svc)
		m := f.send(t, "once")
		// Dispatcher A records, then "crashes": it never settles the delivery.
		claimed, err := f.svc.ClaimDeliveries(f.ctx, f.clock.Now(), "A", 10, time.Minute)
		if err != nil || len(claimed) != 1 {
			t.Fatalf("claim: %v %d", err, len(claimed))
		}
		if _, err := (crashingOutbox{out}).Send(f.ctx, claimed[0]); !errors.Is(err, errCrash) {
			t.Fatal(err)
		}
		// While A's lease runs nobody else takes it; after it, B does.
		b := delivery.NewDispatcher(f.svc, out, delivery.Options{Clock: f.clock.Now, Owner: "B"})
		if n, _ := b.RunOnce(f.ctx); n != 0 {
			t.Fatalf("claimed during A's lease: %d", n)
		}
		f.clock.Advance(time.Minute)
		if n, err := b.RunOnce(f.ctx); n != 1 || err != nil {
			t.Fatalf("B after the lease: %d %v", n, err)
		}
		entries, err := f.svc.ListOutbox(f.ctx, f.sc.AccountSid, conv.OutboxFilter{}, conv.PageQuery{})
		if err != nil || len(entries) != 1 {
			t.Fatalf("outbox has %d entries, want 1 (%v)", len(entries), err)
		}
		r := f.smsReceipt(t, m)
		if r == nil || r.Status != conv.DeliverySent || r.ChannelMessageSid != entries[0].Sid || r.Attempts != 2 {
			t.Fatalf("receipt = %+v, outbox entry %s", r, entries[0].Sid)
		}
		// A's late settle is refused: the delivery is B's (and settled).
		if err := f.svc.CompleteDelivery(f.ctx, claimed[0].Delivery, "A", conv.DeliverySent, ""); !errors.Is(err, conv.ErrNotFound) {
			t.Errorf("late settle by A: %v", err)
		}
	})
}

func TestDispatcherRunWakesAndStops(t *testing.T) {
	f := newFixture(t, storetest.SQLite)
	hub := delivery.NewHub()
	carrier := &scripted{}
	d := delivery.NewDispatcher(f.svc, carrier, delivery.Options{Clock: f.clock.Now, Wake: hub.Dispatch(), PollInterval: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); d.Run(ctx) }()
	m := f.send(t, "wake")
	hub.Publish(f.ctx, conv.Event{Type: "onMessageAdded", ServiceSid: m.ServiceSid})
	deadline := time.Now().Add(5 * time.Second)
	for f.smsReceipt(t, m) == nil {
		if time.Now().After(deadline) {
			t.Fatal("the wake-up did not make the dispatcher send (poll interval is an hour)")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func TestHub(t *testing.T) {
	h := delivery.NewHub()
	a, cancelA := h.Subscribe("IS1")
	b, cancelB := h.Subscribe("IS2")
	if h.Subscribers() != 2 {
		t.Fatalf("subscribers = %d", h.Subscribers())
	}
	h.Publish(context.Background(), conv.Event{Type: "onParticipantAdded", ServiceSid: "IS1"})
	select {
	case <-a:
		t.Fatal("woken by a non-message event")
	default:
	}
	h.Publish(context.Background(), conv.Event{Type: "onMessageAdded", ServiceSid: "IS1"})
	h.Publish(context.Background(), conv.Event{Type: "onMessageAdded", ServiceSid: "IS1"}) // coalesced
	select {
	case <-a:
	default:
		t.Fatal("IS1 subscriber not woken")
	}
	select {
	case <-b:
		t.Fatal("IS2 subscriber woken by IS1")
	case <-h.Dispatch():
	}
	cancelA()
	cancelA() // idempotent
	if _, open := <-a; open {
		t.Fatal("cancelled subscription still open")
	}
	h.Close()
	if _, open := <-b; open {
		t.Fatal("Close did not close the subscription")
	}
	cancelB()
	c, _ := h.Subscribe("IS1")
	if _, open := <-c; open {
		t.Fatal("subscription after Close is open")
	}
	if h.Subscribers() != 0 {
		t.Fatalf("subscribers after Close = %d", h.Subscribers())
	}
}

func TestForwarder(t *testing.T) {
	if _, err := delivery.NewForwarder("ftp://x", nil); err == nil {
		t.Error("ftp URL accepted")
	}
	if _, err := delivery.NewForwarder("/relative", nil); err == nil {
		t.Error("relative URL accepted")
	}
	var mu sync.Mutex
	var got []url.Values
	var keys []string
	status, answer := 200, `{"sid":"SMabcdefabcdefabcdefabcdefabcdefab","status":"delivered"}`
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		v, _ := url.ParseQuery(string(body))
		mu.Lock()
		got = append(got, v)
		keys = append(keys, r.Header.Get("Idempotency-Key"))
		st, a := status, answer
		mu.Unlock()
		if r.Method != "POST" || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			st = 418
		}
		w.WriteHeader(st)
		io.WriteString(w, a)
	}))
	defer gw.Close()
	fw, err := delivery.NewForwarder(gw.URL+"/sms", nil)
	if err != nil {
		t.Fatal(err)
	}
	body := "hi there"
	o := &conv.Outbound{
		Delivery: &conv.Delivery{Sid: "DY01", MessageSid: "IM01", AccountSid: "AC01", ServiceSid: "IS01", ConversationSid: "CH01",
			ParticipantSid: "MB01", Channel: "sms", Address: "+15550001111", ProxyAddress: "+15550002222"},
		Message: &conv.Message{Author: "alice", Body: &body, Index: 7, Attributes: `{"a":1}`},
	}
	res, err := fw.Send(context.Background(), o)
	if err != nil || res.Status != conv.DeliveryDelivered || res.ChannelMessageSid != "SMabcdefabcdefabcdefabcdefabcdefab" {
		t.Fatalf("2xx with JSON: %+v %v", res, err)
	}
	want := url.Values{"DeliverySid": {"DY01"}, "MessageSid": {"IM01"}, "AccountSid": {"AC01"}, "ChatServiceSid": {"IS01"},
		"ConversationSid": {"CH01"}, "ParticipantSid": {"MB01"}, "Channel": {"sms"}, "To": {"+15550001111"}, "From": {"+15550002222"},
		"Author": {"alice"}, "Body": {"hi there"}, "Index": {"7"}, "Attributes": {`{"a":1}`}}
	if fmt.Sprint(got[0]) != fmt.Sprint(want) || keys[0] != "DY01" {
		t.Errorf("posted %v (key %q), want %v", got[0], keys[0], want)
	}
	for _, c := range []struct {
		status    int
		answer    string
		wantErr   bool
		permanent bool
		result    string
	}{
		{204, "", false, false, conv.DeliverySent},
		{200, "not json", false, false, conv.DeliverySent},
		{503, "later", true, false, ""},
		{429, "slow down", true, false, ""},
		{408, "", true, false, ""},
		{400, "bad number", true, true, ""},
		{404, "", true, true, ""},
	} {
		mu.Lock()
		status, answer = c.status, c.answer
		mu.Unlock()
		res, err := fw.Send(context.Background(), o)
		var perm *delivery.PermanentError
		if (err != nil) != c.wantErr || errors.As(err, &perm) != c.permanent || (!c.wantErr && res.Status != c.result) {
			t.Errorf("status %d: result %+v, err %v", c.status, res, err)
		}
	}
	gw.Close()
	if _, err := fw.Send(context.Background(), o); err == nil || errors.As(err, new(*delivery.PermanentError)) {
		t.Errorf("unreachable gateway: %v (want a retried error)", err)
	}
}

func TestRetryDelay(t *testing.T) {
	d := delivery.NewDispatcher(nil, nil, delivery.Options{})
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}
	for i, w := range want {
		if got := d.Backoff(i + 1); got != w {
			t.Errorf("RetryDelay(%d) = %v, want %v", i+1, got, w)
		}
	}
	if got := d.Backoff(100); got != delivery.DefaultMaxBackoff {
		t.Errorf("RetryDelay(100) = %v, want the cap %v", got, delivery.DefaultMaxBackoff)
	}
}

// TestForwarderMedia: a message with media goes out with MediaSid and MediaUrl and without
// its text, as Twilio sends SMS and WhatsApp recipients one media item.
func TestForwarderMedia(t *testing.T) {
	got := make(chan url.Values, 1)
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		v, _ := url.ParseQuery(string(body))
		got <- v
	}))
	defer gw.Close()
	fw, err := delivery.NewForwarder(gw.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	fw.WithMediaURL(func(_ context.Context, sid string) (string, error) { return "https://parley.test/" + sid, nil })
	text := "dropped"
	o := &conv.Outbound{Delivery: &conv.Delivery{Sid: "DY1", Channel: conv.BindingSMS, Address: "+15550001"},
		Message: &conv.Message{Body: &text, Media: []conv.MediaRef{{Sid: "ME1", Size: 3, ContentType: "image/png"}}}}
	if _, err := fw.Send(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	v := <-got
	if v.Get("MediaSid") != "ME1" || v.Get("MediaUrl") != "https://parley.test/ME1" || v.Has("Body") {
		t.Errorf("form: %v", v)
	}
}
