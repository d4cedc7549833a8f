// Package replicas runs two "parley serve" processes on one PostgreSQL database and drives
// them concurrently with creates that race each other (the same identities, the same
// bindings, more participants than a conversation may hold): every rule holds across the
// replicas, nothing acknowledged is lost, and each loser gets Twilio's error. It needs
// PARLEY_TEST_POSTGRES_URL (skipped without it, failed with PARLEY_REQUIRE_POSTGRES=1).
package replicas

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"sort"
	"sync"
	"testing"

	"github.com/parley-dev/parley/internal/proctest"
	"github.com/parley-dev/parley/internal/store/storetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	proctest.Cleanup()
	os.Exit(code)
}

// attempt is one create sent through one replica.
type attempt struct {
	conv string
	form url.Values
	key  string // what must be unique: "conv|identity" or "account|address|proxy"
	kind string // "identity", "binding" or "limit"
	rank uint32 // shuffling order
}

type outcome struct {
	attempt
	status int
	code   int
	sid    string
	body   string
}

func TestTwoReplicasOnePostgres(t *testing.T) {
	_, schemaURL := storetest.PostgresSchema(t)
	bin := proctest.Build(t)
	args := []string{"-db", schemaURL, "-account", proctest.AccountSid + ":" + proctest.AuthToken}
	reps := [2]*proctest.Server{proctest.Start(t, bin, args...), proctest.Start(t, bin, args...)}
	var wg sync.WaitGroup
	ctx := context.Background()
	const nConvs = 4
	var convs []string
	for i := range nConvs {
		st, body, err := reps[i%2].Do(ctx, "POST", "/v1/Conversations", url.Values{"UniqueName": {fmt.Sprint("rep-", i)}})
		if err != nil || st != 201 {
			t.Fatalf("create conversation: %d %v %s", st, err, body)
		}
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		convs = append(convs, m["sid"].(string))
	}
	// A conversation to overfill with SMS participants: at most 50 non-chat participants.
	st, body, err := reps[0].Do(ctx, "POST", "/v1/Conversations", url.Values{"UniqueName": {"rep-limit"}})
	if err != nil || st != 201 {
		t.Fatalf("create conversation: %d %v %s", st, err, body)
	}
	var lm map[string]any
	_ = json.Unmarshal(body, &lm)
	limitConv := lm["sid"].(string)

	var attempts []attempt
	// Each identity is created 3 times in its conversation: exactly one may win.
	for c, conv := range convs {
		for i := range 40 {
			id := fmt.Sprintf("user-%d-%d", c, i)
			for range 3 {
				attempts = append(attempts, attempt{conv: conv, form: url.Values{"Identity": {id}}, key: conv + "|" + id, kind: "identity"})
			}
		}
	}
	// Each (address, proxy) pair is tried in 3 different conversations: it is unique per account.
	for i := range 40 {
		addr, proxy := fmt.Sprintf("+1555%07d", i), fmt.Sprintf("+1666%07d", i%7)
		for k := range 3 {
			attempts = append(attempts, attempt{conv: convs[(i+k)%nConvs], kind: "binding", key: addr + "|" + proxy,
				form: url.Values{"MessagingBinding.Address": {addr}, "MessagingBinding.ProxyAddress": {proxy}}})
		}
	}
	// 70 distinct SMS participants for one conversation: 50 fit.
	for i := range 70 {
		attempts = append(attempts, attempt{conv: limitConv, kind: "limit", key: fmt.Sprint("limit-", i),
			form: url.Values{"MessagingBinding.Address": {fmt.Sprintf("+1777%07d", i)}, "MessagingBinding.ProxyAddress": {"+17880000000"}}})
	}
	// Shuffle deterministically so that duplicates are spread over clients and replicas.
	for i := range attempts {
		attempts[i].rank = hash(attempts[i].key, i)
	}
	sort.Slice(attempts, func(i, j int) bool { return attempts[i].rank < attempts[j].rank })

	const clients = 16
	results := make([]outcome, len(attempts))
	var next sync.Mutex
	n := 0
	for c := range clients {
		wg.Go(func() {
			for {
				next.Lock()
				i := n
				n++
				next.Unlock()
				if i >= len(attempts) {
					return
				}
				a := attempts[i]
				rep := reps[(i+c)%2]
				st, body, err := rep.Do(ctx, "POST", "/v1/Conversations/"+a.conv+"/Participants", a.form)
				if err != nil {
					t.Errorf("%s: %v", a.key, err)
					return
				}
				var m struct {
					Sid    string `json:"sid"`
					Code   int    `json:"code"`
					Status int    `json:"status"`
				}
				_ = json.Unmarshal(body, &m)
				results[i] = outcome{attempt: a, status: st, code: m.Code, sid: m.Sid, body: string(body)}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	won := map[string][]outcome{}
	limitOK, limitRefused := 0, 0
	for _, r := range results {
		switch {
		case r.status == 201:
			won[r.key] = append(won[r.key], r)
			if r.kind == "limit" {
				limitOK++
			}
		case r.kind == "identity" && r.status == 409 && r.code == 50433:
		case r.kind == "binding" && r.status == 409 && (r.code == 50416 || r.code == 50433):
		case r.kind == "limit" && r.status == 400 && r.code == 50418:
			limitRefused++
		default:
			t.Errorf("%s %s: unexpected answer %d %s", r.kind, r.key, r.status, r.body)
		}
	}
	for _, r := range results {
		if r.kind != "limit" && len(won[r.key]) != 1 {
			t.Errorf("%s %s: %d creates succeeded, want exactly 1", r.kind, r.key, len(won[r.key]))
		}
	}
	if limitOK != 50 || limitRefused != 20 {
		t.Errorf("overfilled conversation: %d created, %d refused with 50418; want 50 and 20", limitOK, limitRefused)
	}

	// Nothing acknowledged is lost, nothing else exists, seen through either replica.
	want := map[string]bool{}
	for _, rs := range won {
		for _, r := range rs {
			want[r.sid] = true
		}
	}
	for i, rep := range reps {
		got := map[string]bool{}
		for _, conv := range append(append([]string(nil), convs...), limitConv) {
			st, body, err := rep.Do(ctx, "GET", "/v1/Conversations/"+conv+"/Participants?PageSize=1000", nil)
			if err != nil || st != 200 {
				t.Fatalf("list: %d %v %s", st, err, body)
			}
			var page struct {
				Participants []struct {
					Sid string `json:"sid"`
				} `json:"participants"`
			}
			if err := json.Unmarshal(body, &page); err != nil {
				t.Fatal(err)
			}
			for _, p := range page.Participants {
				if got[p.Sid] {
					t.Errorf("replica %d lists %s twice", i, p.Sid)
				}
				got[p.Sid] = true
			}
		}
		for sid := range want {
			if !got[sid] {
				t.Errorf("replica %d: acknowledged participant %s is missing", i, sid)
			}
		}
		for sid := range got {
			if !want[sid] {
				t.Errorf("replica %d: participant %s exists but no create of it succeeded", i, sid)
			}
		}
	}
}

// hash orders attempts pseudo-randomly but reproducibly.
func hash(s string, i int) uint32 {
	h := uint32(2166136261)
	for _, c := range []byte(fmt.Sprint(s, i*7919)) {
		h = (h ^ uint32(c)) * 16777619
	}
	return h
}
