package faults

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/delivery"
)

func newRegistry() *Registry {
	sids := &conv.SequentialSIDs{}
	return New(func() time.Time { return time.Unix(0, 0) }, func() string { return sids.New("FI") }, nil)
}

func TestPathMatches(t *testing.T) {
	for _, c := range []struct {
		pattern, path string
		want          bool
	}{
		{"/v1/Conversations/*/Participants", "/v1/Conversations/CH1/Participants", true},
		{"/v1/Conversations/*/Participants", "/v1/Conversations/CH1/Participants/MB1", false},
		{"/v1/Conversations/*/Participants", "/v1/Conversations/Participants", false},
		{"/v1/Conversations", "/v1/Conversations", true},
		{"/v1/*", "/v1/Conversations", true},
		{"/v1/Conversations", "/v1/Users", false},
	} {
		if got := PathMatches(c.pattern, c.path); got != c.want {
			t.Errorf("PathMatches(%q, %q) = %v", c.pattern, c.path, got)
		}
	}
}

func TestCountAndAccounts(t *testing.T) {
	r := newRegistry()
	f, err := r.Add(Fault{AccountSid: "AC1", Path: "/v1/Conversations", Status: 500, Code: 20500, Count: 2})
	if err != nil || f.Remaining != 2 || f.Message == "" || f.Sid == "" {
		t.Fatalf("add: %v %v", f, err)
	}
	match := func(acct string) bool {
		_, ok := r.take(func(f *Fault) bool { return f.AccountSid == acct && PathMatches(f.Path, "/v1/Conversations") })
		return ok
	}
	if match("AC2") {
		t.Error("another account's fault matched")
	}
	for i, want := range []bool{true, true, false} {
		if got := match("AC1"); got != want {
			t.Errorf("match %d of a fault of count 2: %v, want %v", i+1, got, want)
		}
	}
	if len(r.List("AC1")) != 0 {
		t.Error("used-up fault listed")
	}
}

func TestAddRefuses(t *testing.T) {
	r := newRegistry()
	for _, f := range []Fault{
		{Path: "/v1/x"}, {Path: "/v1/x", Status: 302, Code: 1}, {Path: "/v1/x", Status: 500}, {Path: "x", Status: 500, Code: 1},
		{Path: "/v1/x", Delay: time.Hour}, {Path: "/v1/x", Status: 500, Code: 1, Count: -1},
		{Target: TargetWebhook, Status: 500}, {Target: TargetWebhook, URL: "https://a", Status: 500, Timeout: true},
		{Target: TargetCarrier, Status: 700}, {Target: "moon"},
	} {
		if _, err := r.Add(f); !errors.Is(err, ErrInvalid) {
			t.Errorf("Add(%+v) = %v, want ErrInvalid", f, err)
		}
	}
}

type okTransport struct{ n int }

func (o *okTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	o.n++
	return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
}

func TestTransport(t *testing.T) {
	r := newRegistry()
	if _, err := r.Add(Fault{AccountSid: "AC1", Target: TargetWebhook, URL: "https://app.example/hooks", Status: 502}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Add(Fault{AccountSid: "AC1", Target: TargetWebhook, URL: "https://app.example/", Timeout: true}); err != nil {
		t.Fatal(err)
	}
	next := &okTransport{}
	c := &http.Client{Transport: r.Transport(TargetWebhook, next)}
	post := func(u, acct string) (*http.Response, error) {
		return c.Post(u, "application/x-www-form-urlencoded", strings.NewReader("AccountSid="+acct+"&EventType=onMessageAdded"))
	}
	if resp, err := post("https://app.example/hooks/post", "AC2"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("other account: %v %v", resp, err)
	}
	if resp, err := post("https://app.example/hooks/post", "AC1"); err != nil || resp.StatusCode != 502 {
		t.Fatalf("status fault: %v %v", resp, err)
	}
	if _, err := post("https://app.example/other", "AC1"); !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("timeout fault: %v", err)
	}
	if resp, err := post("https://app.example/hooks/post", "AC1"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("after the faults: %v %v", resp, err)
	}
	if next.n != 2 {
		t.Errorf("requests that reached the app: %d, want 2", next.n)
	}
}

type okCarrier struct{ n int }

func (o *okCarrier) Send(context.Context, *conv.Outbound) (delivery.Result, error) {
	o.n++
	return delivery.Result{Status: conv.DeliverySent}, nil
}

func TestCarrier(t *testing.T) {
	r := newRegistry()
	for _, st := range []int{503, 400} {
		if _, err := r.Add(Fault{AccountSid: "AC1", Target: TargetCarrier, Status: st}); err != nil {
			t.Fatal(err)
		}
	}
	next := &okCarrier{}
	c := r.Carrier(OutboxURL, next)
	o := &conv.Outbound{Delivery: &conv.Delivery{AccountSid: "AC1"}}
	var perm *delivery.PermanentError
	if _, err := c.Send(context.Background(), o); err == nil || errors.As(err, &perm) {
		t.Errorf("503: %v, want a retryable error", err)
	}
	if _, err := c.Send(context.Background(), o); !errors.As(err, &perm) {
		t.Errorf("400: %v, want a permanent error", err)
	}
	if _, err := c.Send(context.Background(), o); err != nil || next.n != 1 {
		t.Errorf("after the faults: %v, sends %d", err, next.n)
	}
}

// TestUsedUpNotified: the firing that uses up a fault's count tells usedUp its account; the
// firings before it and a fault that does not match tell nothing.
func TestUsedUpNotified(t *testing.T) {
	sids := &conv.SequentialSIDs{}
	var got []string
	r := New(func() time.Time { return time.Unix(0, 0) }, func() string { return sids.New("FI") },
		func(account string) { got = append(got, account) })
	if _, err := r.Add(Fault{AccountSid: "AC1", Path: "/v1/Conversations", Status: 503, Code: 20503, Count: 2}); err != nil {
		t.Fatal(err)
	}
	match := func(f *Fault) bool { return f.AccountSid == "AC1" }
	if _, ok := r.take(match); !ok || len(got) != 0 {
		t.Fatalf("first firing: %v, notified %v", ok, got)
	}
	if _, ok := r.take(func(*Fault) bool { return false }); ok || len(got) != 0 {
		t.Fatalf("no match: %v, notified %v", ok, got)
	}
	if f, ok := r.take(match); !ok || f.Remaining != 0 || len(got) != 1 || got[0] != "AC1" {
		t.Fatalf("last firing: %v %+v, notified %v", ok, f, got)
	}
	if len(r.List("AC1")) != 0 {
		t.Errorf("a used-up fault is still listed")
	}
}
