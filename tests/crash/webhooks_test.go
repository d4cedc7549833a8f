package crash

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-dev/parley/internal/proctest"
	"github.com/parley-dev/parley/internal/store/storetest"
)

// hookLog is what the webhook receiver saw: the idempotency tokens of each message's attempts.
type hookLog struct {
	mu     sync.Mutex
	tokens map[string][]string // MessageSid → I-Twilio-Idempotency-Token of each attempt
}

// TestKillNineWebhookAccounting kills the server (SIGKILL) while messages are being created
// with webhooks on: after the restart every acknowledged message has produced at least one
// onMessageAdded webhook, and the attempts of one message all carry the same idempotency token.
func TestKillNineWebhookAccounting(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { webhookAccounting(t, filepath.Join(t.TempDir(), "hooks.db")) })
	t.Run("postgres", func(t *testing.T) {
		_, schemaURL := storetest.PostgresSchema(t)
		webhookAccounting(t, schemaURL)
	})
}

func webhookAccounting(t *testing.T, db string) {
	hooks := &hookLog{tokens: map[string][]string{}}
	rx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		v, _ := url.ParseQuery(string(body))
		if v.Get("EventType") == "onMessageAdded" {
			hooks.mu.Lock()
			hooks.tokens[v.Get("MessageSid")] = append(hooks.tokens[v.Get("MessageSid")], r.Header.Get("I-Twilio-Idempotency-Token"))
			hooks.mu.Unlock()
		}
	}))
	defer rx.Close()

	bin := proctest.Build(t)
	args := []string{"-db", db, "-account", proctest.AccountSid + ":" + proctest.AuthToken, "-webhook-timeout", "1s", "-webhook-backoff", "200ms"}
	srv := proctest.Start(t, bin, args...)
	ctx := context.Background()
	st, body, err := srv.Do(ctx, "POST", "/v1/Conversations", url.Values{"UniqueName": {"hooked"}})
	if err != nil || st != 201 {
		t.Fatalf("create conversation: %d %v %s", st, err, body)
	}
	st, body, err = srv.Do(ctx, "POST", "/v1/Conversations/hooked/Webhooks", url.Values{"Target": {"webhook"},
		"Configuration.Url": {rx.URL + "/hook"}, "Configuration.Filters": {"onMessageAdded"}})
	if err != nil || st != 201 {
		t.Fatalf("create webhook: %d %v %s", st, err, body)
	}

	var mu sync.Mutex
	var acked []string
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 11))
	for round := 0; round < 2; round++ {
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Go(func() {
				for n := 0; ; n++ {
					select {
					case <-stop:
						return
					default:
					}
					sid, ok := postMessage(srv, fmt.Sprintf("w%d-%d", w, n))
					if !ok {
						return // the server is gone: an unanswered create may or may not exist
					}
					mu.Lock()
					acked = append(acked, sid)
					mu.Unlock()
				}
			})
		}
		time.Sleep(time.Duration(300+rng.IntN(900)) * time.Millisecond)
		srv.Kill()
		close(stop)
		wg.Wait()
		srv = proctest.Start(t, bin, args...)
	}
	t.Logf("%d acknowledged messages", len(acked))

	// Every acknowledged message's webhook arrives (retries after the restart's lease ends).
	deadline := time.Now().Add(2 * time.Minute)
	var missing []string
	for {
		missing = missing[:0]
		hooks.mu.Lock()
		for _, sid := range acked {
			if len(hooks.tokens[sid]) == 0 {
				missing = append(missing, sid)
			}
		}
		hooks.mu.Unlock()
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(missing) > 0 {
		t.Fatalf("%d of %d acknowledged messages never produced a webhook, e.g. %v", len(missing), len(acked), missing[:min(5, len(missing))])
	}
	hooks.mu.Lock()
	defer hooks.mu.Unlock()
	dups := 0
	for sid, toks := range hooks.tokens {
		for _, tok := range toks[1:] {
			dups++
			if tok != toks[0] || tok == "" {
				t.Errorf("message %s: attempts with idempotency tokens %v, want one token", sid, toks)
				break
			}
		}
	}
	t.Logf("%d duplicate deliveries, all sharing their first attempt's token", dups)
	srv.Kill()
}

// postMessage creates one message with webhooks on and returns its SID, or false when the
// server gave no 201.
func postMessage(srv *proctest.Server, body string) (string, bool) {
	req, err := http.NewRequest("POST", srv.URL+"/v1/Conversations/hooked/Messages", strings.NewReader(url.Values{"Body": {body}, "Author": {"crash"}}.Encode()))
	if err != nil {
		return "", false
	}
	req.SetBasicAuth(srv.Sid, srv.Token)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Webhook-Enabled", "true")
	resp, err := srv.Client.Do(req)
	if err != nil {
		return "", false
	}
	defer resp.Body.Close()
	var m struct {
		Sid string `json:"sid"`
	}
	if resp.StatusCode != 201 || json.NewDecoder(resp.Body).Decode(&m) != nil || m.Sid == "" {
		return "", false
	}
	return m.Sid, true
}
