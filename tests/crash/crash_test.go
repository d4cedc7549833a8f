// Package crash kills "parley serve" with SIGKILL at random moments under a write load and
// checks, after each restart, that every participant whose create was acknowledged (2xx) is
// there as it was sent, that nothing half-written exists, and that the database passes its
// integrity checks. It runs on SQLite and, when PARLEY_TEST_POSTGRES_URL is set, on
// PostgreSQL (Parley is killed, not the database).
package crash

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" driver, to inspect the PostgreSQL schema
	_ "modernc.org/sqlite"             // "sqlite" driver, to inspect the SQLite file

	"github.com/parley-dev/parley/internal/proctest"
	"github.com/parley-dev/parley/internal/store/storetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	proctest.Cleanup()
	os.Exit(code)
}

const (
	rounds        = 4  // kill -9 and restart this many times
	writers       = 12 // concurrent clients
	conversations = 6
)

// sent is what one create sent and, when acknowledged, what it got.
type sent struct {
	conv       string
	identity   string // chat participant
	address    string // SMS participant (with proxy)
	proxy      string
	attributes string
	sid        string // from the 201
}

func (p sent) key() string {
	if p.identity != "" {
		return p.conv + "|id|" + p.identity
	}
	return p.conv + "|sms|" + p.address + "|" + p.proxy
}

// ledger records every create: acknowledged ones and those whose outcome is unknown (no
// response before the kill).
type ledger struct {
	mu      sync.Mutex
	acked   map[string]sent // by key
	unknown map[string]sent
}

func TestKillNineUnderWriteLoad(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		db := filepath.Join(t.TempDir(), "crash.db")
		run(t, db, func() (*sql.DB, error) { return sql.Open("sqlite", "file:"+db+"?mode=ro") }, true)
	})
	t.Run("postgres", func(t *testing.T) {
		_, schemaURL := storetest.PostgresSchema(t)
		run(t, schemaURL, func() (*sql.DB, error) { return sql.Open("pgx", schemaURL) }, false)
	})
}

func run(t *testing.T, db string, inspect func() (*sql.DB, error), sqlite bool) {
	bin := proctest.Build(t)
	args := []string{"-db", db, "-account", proctest.AccountSid + ":" + proctest.AuthToken}
	srv := proctest.Start(t, bin, args...)
	ctx := context.Background()
	var convs []string
	for i := range conversations {
		st, body, err := srv.Do(ctx, "POST", "/v1/Conversations", url.Values{"UniqueName": {fmt.Sprint("crash-", i)}})
		if err != nil || st != 201 {
			t.Fatalf("create conversation: %d %v %s", st, err, body)
		}
		convs = append(convs, field(t, body, "sid"))
	}
	led := &ledger{acked: map[string]sent{}, unknown: map[string]sent{}}
	var seq atomic.Int64
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	for round := range rounds {
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() { write(srv, convs, &seq, led, stop, w) })
		}
		// Let the load run a random while, then kill -9 in the middle of it.
		time.Sleep(time.Duration(300+rng.IntN(900)) * time.Millisecond)
		srv.Kill()
		close(stop)
		wg.Wait()
		t.Logf("round %d: killed with %d acknowledged creates so far, %d unknown", round, len(led.acked), len(led.unknown))

		srv = proctest.Start(t, bin, args...)
		verify(t, srv, convs, led)
	}
	srv.Kill()
	checkDatabase(t, inspect, led, sqlite)
}

// write creates participants until stop, alternating chat and SMS participants.
func write(srv *proctest.Server, convs []string, seq *atomic.Int64, led *ledger, stop chan struct{}, w int) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { <-stop; cancel() }()
	for {
		select {
		case <-stop:
			return
		default:
		}
		n := seq.Add(1)
		p := sent{conv: convs[int(n)%len(convs)],
			attributes: fmt.Sprintf(`{"writer":%d,"n":%d,"pad":"%s"}`, w, n, strings.Repeat("x", int(n%200)))}
		form := url.Values{"Attributes": {p.attributes}}
		if n%3 == 0 {
			p.address, p.proxy = fmt.Sprintf("+1555%07d", n), fmt.Sprintf("+1666%07d", n%5000)
			form.Set("MessagingBinding.Address", p.address)
			form.Set("MessagingBinding.ProxyAddress", p.proxy)
		} else {
			p.identity = fmt.Sprintf("crash-%d", n)
			form.Set("Identity", p.identity)
		}
		st, body, err := srv.Do(ctx, "POST", "/v1/Conversations/"+p.conv+"/Participants", form)
		led.mu.Lock()
		switch {
		case err != nil: // no answer: it may or may not have committed
			led.unknown[p.key()] = p
		case st == 201:
			var m map[string]any
			if json.Unmarshal(body, &m) == nil {
				p.sid, _ = m["sid"].(string)
			}
			led.acked[p.key()] = p
		default: // refused: must not exist (checked as "not acknowledged, not unknown")
		}
		led.mu.Unlock()
		if err != nil {
			return
		}
	}
}

func field(t *testing.T, body []byte, k string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	v, _ := m[k].(string)
	return v
}

// verify checks through the restarted server that every acknowledged participant is there as
// sent, and that every stored participant is one that was acknowledged or had no answer,
// complete.
func verify(t *testing.T, srv *proctest.Server, convs []string, led *ledger) {
	t.Helper()
	ctx := context.Background()
	stored := map[string]map[string]any{}
	for _, c := range convs {
		path := "/v1/Conversations/" + c + "/Participants?PageSize=1000"
		for path != "" {
			st, body, err := srv.Do(ctx, "GET", path, nil)
			if err != nil || st != 200 {
				t.Fatalf("list after restart: %d %v %s", st, err, body)
			}
			var page struct {
				Participants []map[string]any `json:"participants"`
				Meta         struct {
					NextPageURL *string `json:"next_page_url"`
				} `json:"meta"`
			}
			if err := json.Unmarshal(body, &page); err != nil {
				t.Fatal(err)
			}
			for _, p := range page.Participants {
				stored[p["sid"].(string)] = p
			}
			path = ""
			if page.Meta.NextPageURL != nil {
				u, _ := url.Parse(*page.Meta.NextPageURL)
				path = u.RequestURI()
			}
		}
	}
	led.mu.Lock()
	defer led.mu.Unlock()
	bySid := map[string]sent{}
	for _, p := range led.acked {
		bySid[p.sid] = p
		got, ok := stored[p.sid]
		if !ok {
			t.Fatalf("acknowledged participant %s (%s) is gone after kill -9 and restart", p.sid, p.key())
		}
		checkSame(t, p, got)
	}
	byKey := map[string]bool{}
	for sid, got := range stored {
		if _, ok := bySid[sid]; ok {
			continue
		}
		// Not acknowledged: it must be a create that got no answer, and whole.
		k := storedKey(got)
		p, ok := led.unknown[k]
		if !ok {
			t.Fatalf("participant %s (%s) exists but its create was refused or never sent: %v", sid, k, got)
		}
		checkSame(t, p, got)
		if byKey[k] {
			t.Fatalf("two participants for %s", k)
		}
		byKey[k] = true
	}
	// A fresh create works after the restart.
	st, body, err := srv.Do(ctx, "POST", "/v1/Conversations/"+convs[0]+"/Participants",
		url.Values{"Identity": {fmt.Sprintf("after-restart-%d", time.Now().UnixNano())}})
	if err != nil || st != 201 {
		t.Fatalf("create after restart: %d %v %s", st, err, body)
	}
	var m map[string]any
	_ = json.Unmarshal(body, &m)
	if st, body, err := srv.Do(ctx, "DELETE", "/v1/Conversations/"+convs[0]+"/Participants/"+m["sid"].(string), nil); err != nil || st != 204 {
		t.Fatalf("delete after restart: %d %v %s", st, err, body)
	}
}

func storedKey(got map[string]any) string {
	conv := got["conversation_sid"].(string)
	if id, ok := got["identity"].(string); ok {
		return conv + "|id|" + id
	}
	b, _ := got["messaging_binding"].(map[string]any)
	addr, _ := b["address"].(string)
	proxy, _ := b["proxy_address"].(string)
	return conv + "|sms|" + addr + "|" + proxy
}

func checkSame(t *testing.T, p sent, got map[string]any) {
	t.Helper()
	if storedKey(got) != p.key() || got["attributes"] != p.attributes {
		t.Fatalf("participant %v differs from what was sent: %+v", got, p)
	}
}

// checkDatabase opens the database directly: integrity checks, every SMS participant holds
// exactly its own binding claim and every chat participant has its User (the rows of one
// create were written together or not at all), and the conversations' participant counters
// match their rows.
func checkDatabase(t *testing.T, open func() (*sql.DB, error), led *ledger, sqlite bool) {
	t.Helper()
	db, err := open()
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if sqlite {
		var res string
		if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&res); err != nil || res != "ok" {
			t.Fatalf("integrity_check: %q %v", res, err)
		}
		rows, err := db.Query(`PRAGMA foreign_key_check`)
		if err != nil {
			t.Fatal(err)
		}
		if rows.Next() {
			t.Fatal("foreign_key_check reports violations")
		}
		rows.Close()
	}
	for _, q := range []struct{ what, sql string }{
		{"SMS participants without their binding claim", `SELECT COUNT(*) FROM participants p WHERE p.identity IS NULL AND p.binding_proxy_address <> ''
			AND NOT EXISTS (SELECT 1 FROM binding_claims c WHERE c.participant_sid = p.sid AND c.address = p.binding_address AND c.proxy_address = p.binding_proxy_address)`},
		{"binding claims without their participant", `SELECT COUNT(*) FROM binding_claims c WHERE NOT EXISTS (SELECT 1 FROM participants p WHERE p.sid = c.participant_sid AND p.conversation_sid = c.conversation_sid)`},
		{"participants without their conversation", `SELECT COUNT(*) FROM participants p WHERE NOT EXISTS (SELECT 1 FROM conversations c WHERE c.sid = p.conversation_sid)`},
		{"participants with invalid attributes", `SELECT COUNT(*) FROM participants WHERE attributes NOT LIKE '{"writer":%}' AND attributes <> '{}'`},
		{"conversations whose participant counters differ from their rows", `SELECT COUNT(*) FROM conversations c WHERE
			c.participants_chat <> (SELECT COUNT(*) FROM participants p WHERE p.conversation_sid = c.sid AND p.identity IS NOT NULL)
			OR c.participants_non_chat <> (SELECT COUNT(*) FROM participants p WHERE p.conversation_sid = c.sid AND p.identity IS NULL)
			OR c.participants_projected <> (SELECT COUNT(*) FROM participants p WHERE p.conversation_sid = c.sid AND p.binding_projected_address <> '')`},
		{"chat participants without their User", `SELECT COUNT(*) FROM participants p WHERE p.identity IS NOT NULL
			AND NOT EXISTS (SELECT 1 FROM users u WHERE u.service_sid = p.service_sid AND u.identity = p.identity)`},
	} {
		var n int
		if err := db.QueryRow(q.sql).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q.what, err)
		}
		if n != 0 {
			t.Fatalf("%d %s", n, q.what)
		}
	}
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM participants WHERE attributes LIKE '{"writer":%'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n < len(led.acked) || n > len(led.acked)+len(led.unknown) {
		t.Fatalf("%d participants stored; %d were acknowledged and %d had no answer", n, len(led.acked), len(led.unknown))
	}
	t.Logf("%d participants stored: %d acknowledged, %d of %d unanswered creates committed", n, len(led.acked), n-len(led.acked), len(led.unknown))
}
