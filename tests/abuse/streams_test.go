package abuse

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/parley-dev/parley/internal/proctest"
)

// openStream opens a live stream as user and returns the response (its body still open when
// the status is 200).
func openStream(t *testing.T, s *proctest.Server, user, pass, identity string) *http.Response {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, "GET", s.URL+"/parley/v1/Users/"+identity+"/Stream", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(user, pass)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// openEvents opens the console's event stream as user.
func openEvents(t *testing.T, s *proctest.Server, user, pass string) *http.Response {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, "GET", s.URL+"/parley/v1/Events", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(user, pass)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// TestStreamCaps opens streams past the per-account cap (429/20429) and past the server's cap
// (503/20503), on both engines; a closed stream frees its slot. The console's event streams
// count against the same caps as the message streams.
func TestStreamCaps(t *testing.T) {
	const (
		sidA, tokA = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "tokenA"
		sidB, tokB = "ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "tokenB"
	)
	bin := proctest.Build(t)
	for engine, db := range dbs(t) {
		t.Run(engine, func(t *testing.T) {
			s := proctest.Start(t, bin, "-db", db, "-account", sidA+":"+tokA, "-account", sidB+":"+tokB,
				"-max-streams", "3", "-max-streams-per-account", "2")
			refused := func(resp *http.Response, status, code int) {
				t.Helper()
				body, _ := io.ReadAll(resp.Body)
				var e struct {
					Code   int `json:"code"`
					Status int `json:"status"`
				}
				if resp.StatusCode != status || json.Unmarshal(body, &e) != nil || e.Code != code || e.Status != status {
					t.Errorf("stream past the cap: %d %s, want %d/%d", resp.StatusCode, body, status, code)
				}
			}
			a1 := openStream(t, s, sidA, tokA, "alice")
			a2 := openStream(t, s, sidA, tokA, "alice")
			if a1.StatusCode != 200 || a2.StatusCode != 200 {
				t.Fatalf("streams within the cap: %d %d", a1.StatusCode, a2.StatusCode)
			}
			refused(openStream(t, s, sidA, tokA, "bob"), 429, 20429)
			refused(openEvents(t, s, sidA, tokA), 429, 20429)
			if b1 := openEvents(t, s, sidB, tokB); b1.StatusCode != 200 {
				t.Fatalf("B's first stream (the console's): %d", b1.StatusCode)
			}
			refused(openStream(t, s, sidB, tokB, "carol"), 503, 20503)
			refused(openEvents(t, s, sidB, tokB), 503, 20503)
			// Closing a stream frees its slot (the server notices when its next write fails or
			// its context ends: the request context ends when the connection closes).
			a1.Body.Close()
			for {
				r := openStream(t, s, sidA, tokA, "alice")
				if r.StatusCode == 200 {
					break
				}
				io.Copy(io.Discard, r.Body)
				r.Body.Close()
			}
		})
	}
}
