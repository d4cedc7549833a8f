package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twilio/twilio-go/client"
)

// request sends one API request with the process's credentials and extra headers.
func (p *proc) request(t *testing.T, method, path string, form url.Values, headers map[string]string) (int, map[string]any) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, p.base+path, body)
	req.SetBasicAuth(p.sid, p.token)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// TestWebhookSurvivesKill: a participant is added with X-Twilio-Webhook-Enabled: true and
// the server is killed (SIGKILL) right after the 201, while the receiver holds the first
// attempt unanswered. The restarted server delivers the webhook from its outbox once the
// killed attempt's lease ends (2 × -webhook-timeout), signed as twilio-go's validator
// expects, and its delivery log says so.
func TestWebhookSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	const sid, token = "ACcccccccccccccccccccccccccccccccc", "killtoken1"
	var mu sync.Mutex
	var answered []url.Values
	arrived := make(chan struct{}, 10)
	release := make(chan struct{})
	first := true
	rx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		params, _ := url.ParseQuery(string(body))
		rv := client.NewRequestValidator(token)
		valid := rv.ValidateBody("http://"+r.Host+r.URL.RequestURI(), body, r.Header.Get("X-Twilio-Signature"))
		mu.Lock()
		hold := first
		first = false
		mu.Unlock()
		arrived <- struct{}{}
		if hold { // the first attempt never gets an answer: the server dies meanwhile
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		if !valid {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		mu.Lock()
		answered = append(answered, params)
		mu.Unlock()
	}))
	defer rx.Close()
	defer close(release)

	bin := buildParley(t)
	db := filepath.Join(t.TempDir(), "parley.db")
	args := []string{"-account", sid + ":" + token, "-webhook-timeout", "1s", "-webhook-backoff", "200ms"}
	p := start(t, bin, db, args...)
	st, c := p.request(t, "POST", "/v1/Conversations", url.Values{"UniqueName": {"hooked"}}, nil)
	if st != 201 {
		t.Fatalf("create conversation: %d %v", st, c)
	}
	st, wh := p.request(t, "POST", "/v1/Conversations/hooked/Webhooks", url.Values{"Target": {"webhook"},
		"Configuration.Url": {rx.URL + "/hook"}, "Configuration.Filters": {"onParticipantAdded"}}, nil)
	if st != 201 {
		t.Fatalf("create webhook: %d %v", st, wh)
	}
	st, m := p.request(t, "POST", "/v1/Conversations/hooked/Participants", url.Values{"Identity": {"survivor"}},
		map[string]string{"X-Twilio-Webhook-Enabled": "true"})
	if st != 201 {
		t.Fatalf("create participant: %d %v", st, m)
	}
	// The dispatcher takes the delivery within milliseconds of the commit; once its attempt
	// reached the receiver (which does not answer), kill the server.
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("the first attempt never reached the receiver")
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()

	q := start(t, bin, db, args...)
	deadline := time.After(20 * time.Second)
	for {
		mu.Lock()
		n := len(answered)
		mu.Unlock()
		if n > 0 {
			break
		}
		select {
		case <-arrived:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatal("the webhook of the committed change was not delivered after the restart")
		}
	}
	mu.Lock()
	got := answered[0]
	mu.Unlock()
	// The interrupted attempt counted: this is the second, RetryCount 1.
	if got.Get("EventType") != "onParticipantAdded" || got.Get("ParticipantSid") != m["sid"] || got.Get("Identity") != "survivor" ||
		got.Get("RetryCount") != "1" {
		t.Errorf("delivered after restart: %v", got)
	}
	// The delivery log of the new process shows it delivered.
	deadline = time.After(10 * time.Second)
	for {
		st, log := q.request(t, "GET", "/parley/v1/Webhooks/Deliveries", nil, nil)
		if st != 200 {
			t.Fatalf("delivery log: %d %v", st, log)
		}
		ds, _ := log["deliveries"].([]any)
		if len(ds) == 1 && ds[0].(map[string]any)["status"] == "delivered" {
			if a := ds[0].(map[string]any)["attempts"]; a != float64(2) {
				t.Errorf("attempts = %v, want 2 (the one the kill interrupted, then the delivery)", a)
			}
			break
		}
		select {
		case <-deadline:
			t.Fatalf("delivery log after restart: %v", log)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
