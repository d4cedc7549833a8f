package console_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/parley-dev/parley/internal/console"
	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/streamlimit"
)

// anyAccount authenticates every user as the account of that SID.
type anyAccount struct{}

func (anyAccount) Authenticate(_ context.Context, user, _ string) (*conv.Account, error) {
	return &conv.Account{Sid: user}, nil
}

// TestEventsStreamCaps: console streams take slots of the server's stream limiter, the one
// the SSE message streams share; past the account's cap the next is 429/20429, past the
// server's 503/20503, as for the message streams.
func TestEventsStreamCaps(t *testing.T) {
	streams := streamlimit.New(3, 2)
	broker := console.NewBroker(0)
	t.Cleanup(broker.Close)
	srv := httptest.NewServer(console.New(anyAccount{}, broker, console.Options{Streams: streams}))
	t.Cleanup(srv.Close)
	open := func(account string) *http.Response {
		t.Helper()
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/parley/v1/Events", nil)
		req.SetBasicAuth(account, "x")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { res.Body.Close() })
		return res
	}
	opened := func(res *http.Response) {
		t.Helper()
		if res.StatusCode != 200 {
			b, _ := io.ReadAll(res.Body)
			t.Fatalf("stream within the caps: %d %s", res.StatusCode, b)
		}
		if ev, _ := sse(t, bufio.NewReader(res.Body)); ev != "ready" {
			t.Fatalf("first event %q", ev)
		}
	}
	refused := func(res *http.Response, status, code int) {
		t.Helper()
		b, _ := io.ReadAll(res.Body)
		var e struct {
			Code     int    `json:"code"`
			Message  string `json:"message"`
			MoreInfo string `json:"more_info"`
			Status   int    `json:"status"`
		}
		if res.StatusCode != status || json.Unmarshal(b, &e) != nil || e.Code != code || e.Status != status || e.Message == "" || e.MoreInfo == "" {
			t.Errorf("stream past the cap: %d %s, want %d/%d", res.StatusCode, b, status, code)
		}
	}
	// A message stream of AC1 holds a slot of the same limiter.
	release, err := streams.Acquire("AC1")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	opened(open("AC1"))
	refused(open("AC1"), 429, 20429)
	if streams.Open() != 2 {
		t.Errorf("open streams = %d, want 2", streams.Open())
	}
	opened(open("AC2"))
	refused(open("AC3"), 503, 20503)
}
