package replicas

import (
	"bufio"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parley-dev/parley/internal/proctest"
	"github.com/parley-dev/parley/internal/store/storetest"
)

// TestStreamWokenAcrossReplicas opens a live stream on one replica and adds a message through
// the other: the stream gets it (LISTEN/NOTIFY wakes it; polling is only a 30 s safety net).
func TestStreamWokenAcrossReplicas(t *testing.T) {
	_, schemaURL := storetest.PostgresSchema(t)
	bin := proctest.Build(t)
	args := []string{"-db", schemaURL, "-account", proctest.AccountSid + ":" + proctest.AuthToken}
	a, b := proctest.Start(t, bin, args...), proctest.Start(t, bin, args...)
	ctx := context.Background()
	for _, step := range []struct {
		path string
		form url.Values
	}{
		{"/v1/Conversations", url.Values{"UniqueName": {"streamed"}}},
		{"/v1/Conversations/streamed/Participants", url.Values{"Identity": {"bob"}}},
	} {
		if st, body, err := a.Do(ctx, "POST", step.path, step.form); err != nil || st != 201 {
			t.Fatalf("POST %s: %d %v %s", step.path, st, err, body)
		}
	}
	sctx, cancel := context.WithTimeout(ctx, 2*time.Minute) // a bound for a broken build, not a measure
	defer cancel()
	req, _ := http.NewRequestWithContext(sctx, "GET", b.URL+"/parley/v1/Users/bob/Stream", nil)
	req.SetBasicAuth(b.Sid, b.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("open stream on replica b: %v %v", err, resp)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("stream: %v", err)
		}
		if strings.HasPrefix(line, ": live") {
			break
		}
	}
	sent := time.Now()
	if st, body, err := a.Do(ctx, "POST", "/v1/Conversations/streamed/Messages", url.Values{"Body": {"across"}, "Author": {"alice"}}); err != nil || st != 201 {
		t.Fatalf("message on replica a: %d %v %s", st, err, body)
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("stream ended before the message: %v", err)
		}
		if strings.HasPrefix(line, "data: ") && strings.Contains(line, `"body":"across"`) {
			t.Logf("the message reached the other replica's stream after %s", time.Since(sent).Round(time.Millisecond))
			return
		}
	}
}
