package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// waitFor polls cond every 50 ms until it holds, failing t after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *proc) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()
}

// outboxEntries lists the whole outbox: (delivery sid, to, body) per entry.
func (p *proc) outboxEntries(t *testing.T) []map[string]any {
	t.Helper()
	st, m := p.do(t, "GET", "/parley/v1/Outbox?PageSize=1000", nil)
	if st != 200 {
		t.Fatalf("outbox: %d %v", st, m)
	}
	var out []map[string]any
	for _, e := range m["messages"].([]any) {
		out = append(out, e.(map[string]any))
	}
	return out
}

// streamBodies reads the stream of identity (resuming after lastEventID unless it is "") up to
// the ": live" comment that ends its backlog, and returns the bodies of its message events.
func (p *proc) streamBodies(t *testing.T, identity, lastEventID string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", p.base+"/parley/v1/Users/"+url.PathEscape(identity)+"/Stream", nil)
	req.SetBasicAuth(p.sid, p.token)
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("stream: %d", resp.StatusCode)
	}
	var bodies []string
	r := bufio.NewReader(resp.Body)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("stream read: %v (so far %v)", err, bodies)
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case line == ": live":
			return bodies
		case strings.HasPrefix(line, "data: "):
			var ev struct {
				Message struct{ Body string } `json:"message"`
			}
			if err := json.Unmarshal([]byte(line[len("data: "):]), &ev); err != nil {
				t.Fatalf("event data %q: %v", line, err)
			}
			bodies = append(bodies, ev.Message.Body)
		}
	}
}

// TestPendingDeliveriesSurviveKill: messages acknowledged with 201 while the carrier is down
// keep their pending deliveries through kill -9; after the restart they are made, each once,
// and a chat recipient's stream still gets them.
func TestPendingDeliveriesSurviveKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildParley(t)
	db := filepath.Join(t.TempDir(), "parley.db")

	// A gateway that is down: every forwarded message gets 503.
	var mu sync.Mutex
	attempted := map[string]bool{}
	var lastAnswer time.Time
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		attempted[r.Header.Get("Idempotency-Key")] = true
		lastAnswer = time.Now()
		mu.Unlock()
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
	}))
	defer gw.Close()

	p := start(t, bin, db, "-carrier-url", gw.URL)
	if st, m := p.do(t, "POST", "/v1/Conversations", url.Values{"UniqueName": {"durable-msgs"}}); st != 201 {
		t.Fatalf("create conversation: %d %v", st, m)
	}
	for _, f := range []url.Values{{"Identity": {"bob"}},
		{"MessagingBinding.Address": {"+15558880001"}, "MessagingBinding.ProxyAddress": {"+15558880009"}},
		{"MessagingBinding.Address": {"+15558880002"}, "MessagingBinding.ProxyAddress": {"+15558880009"}}} {
		if st, m := p.do(t, "POST", "/v1/Conversations/durable-msgs/Participants", f); st != 201 {
			t.Fatalf("create participant: %d %v", st, m)
		}
	}
	for _, b := range []string{"m1", "m2"} {
		if st, m := p.do(t, "POST", "/v1/Conversations/durable-msgs/Messages", url.Values{"Body": {b}}); st != 201 {
			t.Fatalf("create message: %d %v", st, m)
		}
	}
	waitFor(t, 15*time.Second, "the first failed attempts", func() bool {
		mu.Lock()
		defer mu.Unlock()
		// All four tried, and quiet for a moment (the retries are a second away), so that
		// the kill does not cut an attempt and leave its lease to run out after the restart.
		return len(attempted) == 4 && time.Since(lastAnswer) > 300*time.Millisecond
	})
	p.kill(t)

	// Restart on the default outbox carrier: the four SMS deliveries are made, each once.
	q := start(t, bin, db)
	// (A delivery whose attempt was cut by the kill waits for its lease, 30 s, to end.)
	waitFor(t, 60*time.Second, "4 outbox entries", func() bool { return len(q.outboxEntries(t)) >= 4 })
	entries := q.outboxEntries(t)
	var got []string
	for _, e := range entries {
		if !attempted[e["delivery_sid"].(string)] {
			t.Errorf("outbox entry for delivery %v, which was never attempted before the kill", e["delivery_sid"])
		}
		got = append(got, e["body"].(string)+" to "+e["to"].(string))
	}
	sort.Strings(got)
	if want := "m1 to +15558880001,m1 to +15558880002,m2 to +15558880001,m2 to +15558880002"; strings.Join(got, ",") != want {
		t.Fatalf("outbox after restart = %v, want %s", got, want)
	}
	// Bob was not connected: his stream gets both, in index order.
	if got := q.streamBodies(t, "bob", ""); strings.Join(got, ",") != "m1,m2" {
		t.Errorf("bob's pending messages after restart = %v", got)
	}
	if st, m := q.do(t, "POST", "/v1/Conversations/durable-msgs/Messages", url.Values{"Body": {"m3"}}); st != 201 {
		t.Fatalf("create message: %d %v", st, m)
	}
	waitFor(t, 20*time.Second, "6 outbox entries", func() bool { return len(q.outboxEntries(t)) >= 6 })
	q.kill(t)

	// Another kill and restart: nothing is recorded twice.
	r := start(t, bin, db)
	time.Sleep(2500 * time.Millisecond) // more than two dispatcher polls
	entries = r.outboxEntries(t)
	seen := map[string]bool{}
	for _, e := range entries {
		d := e["delivery_sid"].(string)
		if seen[d] {
			t.Errorf("delivery %s recorded twice", d)
		}
		seen[d] = true
	}
	if len(entries) != 6 {
		t.Errorf("outbox after the second restart has %d entries, want 6", len(entries))
	}
	// Everything ever delivered to bob, replayed: index order, nothing lost.
	if got := r.streamBodies(t, "bob", "0"); strings.Join(got, ",") != "m1,m2,m3" {
		t.Errorf("bob's replay = %v", got)
	}
	// The receipts of m1 are the outbox's.
	st, list := r.do(t, "GET", "/v1/Conversations/durable-msgs/Messages", nil)
	if st != 200 {
		t.Fatalf("list messages: %d", st)
	}
	m1 := list["messages"].([]any)[0].(map[string]any)
	st, rs := r.do(t, "GET", "/v1/Conversations/durable-msgs/Messages/"+m1["sid"].(string)+"/Receipts", nil)
	if st != 200 {
		t.Fatalf("receipts: %d", st)
	}
	sent := 0
	for _, x := range rs["delivery_receipts"].([]any) {
		rc := x.(map[string]any)
		if rc["status"] == "sent" && strings.HasPrefix(rc["channel_message_sid"].(string), "SM") {
			sent++
		}
	}
	if sent != 2 {
		t.Errorf("m1 has %d sent SMS receipts, want 2: %v", sent, rs)
	}
}
