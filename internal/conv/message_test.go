package conv_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/store/storetest"
)

func i64(n int64) *int64 { return &n }

func TestCovers(t *testing.T) {
	for _, c := range []struct {
		horizon *int64
		idx     int64
		want    bool
	}{{nil, 0, false}, {i64(0), 0, true}, {i64(0), 1, false}, {i64(5), 3, true}, {i64(5), 5, true}, {i64(5), 6, false}} {
		if got := conv.Covers(c.horizon, c.idx); got != c.want {
			t.Errorf("Covers(%v, %d) = %v", c.horizon, c.idx, got)
		}
	}
}

func TestUnreadCount(t *testing.T) {
	ctx := context.Background()
	indexes := []int64{0, 1, 2, 4, 7} // 3, 5 and 6 were deleted
	countAfter := func(_ context.Context, after int64) (int64, error) {
		var n int64
		for _, i := range indexes {
			if i > after {
				n++
			}
		}
		return n, nil
	}
	for _, c := range []struct {
		horizon *int64
		want    *int64
	}{{nil, nil}, {i64(0), i64(4)}, {i64(2), i64(2)}, {i64(3), i64(2)}, {i64(4), i64(1)}, {i64(7), i64(0)}} {
		got, err := conv.UnreadCount(ctx, &conv.Participant{LastReadMessageIndex: c.horizon}, countAfter)
		if err != nil {
			t.Fatal(err)
		}
		if (got == nil) != (c.want == nil) || (got != nil && *got != *c.want) {
			t.Errorf("UnreadCount(horizon %v) = %v, want %v", c.horizon, got, c.want)
		}
	}
	boom := errors.New("boom")
	if _, err := conv.UnreadCount(ctx, &conv.Participant{LastReadMessageIndex: i64(0)}, func(context.Context, int64) (int64, error) { return 0, boom }); !errors.Is(err, boom) {
		t.Errorf("error not passed through: %v", err)
	}
}

func TestReceiptStatusAndSummary(t *testing.T) {
	d := func(channel, status string, present bool, horizon *int64) *conv.Delivery {
		return &conv.Delivery{Channel: channel, Status: status, MessageIndex: 3, RecipientPresent: present, RecipientReadIndex: horizon}
	}
	for _, c := range []struct {
		d    *conv.Delivery
		want string
	}{
		{d("sms", conv.DeliveryPending, true, nil), ""},
		{d("sms", conv.DeliveryPending, true, i64(3)), conv.DeliveryRead},
		{d("sms", conv.DeliverySent, true, i64(2)), conv.DeliverySent},
		{d("sms", conv.DeliverySent, true, i64(9)), conv.DeliveryRead},
		{d("sms", conv.DeliverySent, false, i64(9)), conv.DeliverySent}, // removed: its horizon no longer counts
		{d("sms", conv.DeliveryFailed, true, i64(9)), conv.DeliveryFailed},
		{d("chat", conv.DeliveryDelivered, true, nil), conv.DeliveryDelivered},
	} {
		if got := c.d.ReceiptStatus(); got != c.want {
			t.Errorf("ReceiptStatus(%+v) = %q, want %q", *c.d, got, c.want)
		}
	}
	if s := conv.SummarizeDeliveries([]*conv.Delivery{d("chat", conv.DeliveryDelivered, true, nil)}); s != nil {
		t.Errorf("chat-only summary = %+v, want nil", s)
	}
	s := conv.SummarizeDeliveries([]*conv.Delivery{
		d("sms", conv.DeliverySent, true, i64(3)),       // read
		d("sms", conv.DeliveryDelivered, true, nil),     // delivered
		d("whatsapp", conv.DeliveryFailed, true, nil),   // failed
		d("sms", conv.DeliveryPending, true, nil),       // nothing yet
		d("chat", conv.DeliveryDelivered, true, i64(9)), // not counted
	})
	want := conv.DeliverySummary{Total: 4, Sent: "some", Delivered: "some", Read: "some", Failed: "some", Undelivered: "none"}
	if s == nil || *s != want {
		t.Errorf("summary = %+v, want %+v", s, want)
	}
	s = conv.SummarizeDeliveries([]*conv.Delivery{d("sms", conv.DeliverySent, true, i64(3)), d("sms", conv.DeliveryDelivered, true, i64(4))})
	if want := (conv.DeliverySummary{Total: 2, Sent: "all", Delivered: "all", Read: "all", Failed: "none", Undelivered: "none"}); *s != want {
		t.Errorf("all read = %+v", *s)
	}
}

func TestPageSlice(t *testing.T) {
	xs := []int64{2, 4, 6, 8, 10}
	id := func(x int64) int64 { return x }
	for _, c := range []struct {
		q    conv.PageQuery
		want []int64
	}{
		{conv.PageQuery{Size: 2}, []int64{2, 4}},
		{conv.PageQuery{Size: 2, Offset: 4}, []int64{10}},
		{conv.PageQuery{Size: 2, Offset: 9}, nil},
		{conv.PageQuery{Size: 2, AfterSeq: 4}, []int64{6, 8}},
		{conv.PageQuery{Size: 2, AfterSeq: 5}, []int64{6, 8}},
		{conv.PageQuery{Size: 2, BeforeSeq: 8}, []int64{4, 6}},
		{conv.PageQuery{Size: 9, BeforeSeq: 3}, []int64{2}},
	} {
		got := conv.PageSlice(xs, id, c.q)
		if len(got) != len(c.want) {
			t.Errorf("PageSlice(%+v) = %v, want %v", c.q, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("PageSlice(%+v) = %v, want %v", c.q, got, c.want)
			}
		}
	}
}

// TestReadHorizonAndUnread runs the read-horizon rule and the unread count through the
// Service on every store engine.
func TestReadHorizonAndUnread(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		now := time.Date(2021, 1, 2, 3, 4, 5, 0, time.UTC)
		svc := conv.NewService(e.Open(t), conv.Options{Clock: func() time.Time { return now }, SIDs: &conv.SequentialSIDs{}})
		a, err := svc.EnsureAccount(ctx, "AC"+"0123456789abcdef0123456789abcdef", "token")
		if err != nil {
			t.Fatal(err)
		}
		sc := conv.Scope{AccountSid: a.Sid}
		c, err := svc.CreateConversation(ctx, sc, conv.ConversationParams{}, conv.WriteOptions{})
		if err != nil {
			t.Fatal(err)
		}
		id := "reader"
		if _, err := svc.CreateParticipant(ctx, sc, c.Sid, conv.ParticipantCreate{Identity: &id}, conv.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		setHorizon := func(v string) (*conv.Participant, error) {
			in := conv.ParticipantUpdate{LastReadMessageIndex: conv.Clear[int64]()}
			if v != "null" {
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					t.Fatal(err)
				}
				in.LastReadMessageIndex = conv.Set(n)
			}
			return svc.UpdateParticipant(ctx, sc, c.Sid, id, in, conv.WriteOptions{})
		}
		unread := func() *int64 {
			t.Helper()
			n, err := svc.ParticipantUnreadCount(ctx, sc, c.Sid, id)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := unread(); n != nil {
			t.Errorf("unread without a horizon = %d, want nil", *n)
		}
		// No message yet: a horizon may still be set (Twilio does not tie it to messages).
		if p, err := setHorizon("0"); err != nil || *p.LastReadMessageIndex != 0 {
			t.Fatalf("horizon in an empty conversation: %v", err)
		}
		if n := unread(); n == nil || *n != 0 {
			t.Errorf("unread with a horizon and no message = %v, want 0", n)
		}
		if _, err := setHorizon("null"); err != nil {
			t.Fatal(err)
		}
		var sids []string
		for i := 0; i < 5; i++ {
			body := "m"
			m, err := svc.CreateMessage(ctx, sc, c.Sid, conv.MessageCreate{Body: &body}, conv.WriteOptions{})
			if err != nil {
				t.Fatal(err)
			}
			sids = append(sids, m.Sid)
		}
		p, err := setHorizon("1")
		if err != nil || *p.LastReadMessageIndex != 1 {
			t.Fatalf("set horizon 1: %v", err)
		}
		if n := unread(); n == nil || *n != 3 {
			t.Errorf("unread after reading 0..1 = %v, want 3", n)
		}
		// Deleting an unread message lowers the count; the gap is not counted.
		if err := svc.DeleteMessage(ctx, sc, c.Sid, sids[3], conv.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		if n := unread(); n == nil || *n != 2 {
			t.Errorf("unread after deleting index 3 = %v, want 2", n)
		}
		// Beyond the last message: stored as given, not lowered to the last index.
		p, err = setHorizon("1000")
		if err != nil || *p.LastReadMessageIndex != 1000 {
			t.Fatalf("horizon beyond the last message: %v %v", err, p.LastReadMessageIndex)
		}
		p, err = setHorizon("4")
		if err != nil || *p.LastReadMessageIndex != 4 {
			t.Fatalf("horizon beyond the last message: %v %v", err, p.LastReadMessageIndex)
		}
		if n := unread(); n == nil || *n != 0 {
			t.Errorf("unread after reading everything = %v, want 0", n)
		}
		body := "late"
		if _, err := svc.CreateMessage(ctx, sc, c.Sid, conv.MessageCreate{Body: &body}, conv.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		if n := unread(); n == nil || *n != 1 {
			t.Errorf("unread after a new message = %v, want 1", n)
		}
		// null clears the horizon.
		p, err = setHorizon("null")
		if err != nil || p.LastReadMessageIndex != nil {
			t.Fatalf("clear: %v", err)
		}
		if n := unread(); n != nil {
			t.Errorf("unread after clearing = %d, want nil", *n)
		}
	})
}
