package control_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parley-dev/parley/internal/console"
	"github.com/parley-dev/parley/internal/control"
	"github.com/parley-dev/parley/internal/store/storetest"
	"github.com/parley-dev/parley/internal/testserver"
)

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestSeedYAMLFixture(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		srv := testserver.New(t, e)
		ctx := context.Background()
		if err := srv.Control.Seed(ctx, "testdata/fixture.yaml", srv.Service, testserver.AccountSid, discard); err != nil {
			t.Fatal(err)
		}
		st, body := srv.Do(t, "GET", "/v1/Conversations/CH00000000000000000000000000000001/Messages", nil)
		var page struct {
			Messages []map[string]any `json:"messages"`
		}
		if err := json.Unmarshal(body, &page); st != 200 || err != nil || len(page.Messages) != 1 || page.Messages[0]["body"] != "Hello from the fixture" ||
			page.Messages[0]["date_created"] != "2024-01-01T00:00:01Z" {
			t.Fatalf("seeded messages: %d %s", st, body)
		}
		st, body = srv.Do(t, "POST", "/v1/Conversations/CH00000000000000000000000000000001/Messages", map[string]string{"Author": "bob", "Body": "next"})
		var m map[string]any
		if err := json.Unmarshal(body, &m); st != 201 || err != nil || m["index"] != float64(1) {
			t.Errorf("message after the fixture: %d %s", st, body)
		}
		if st, _ := srv.Do(t, "POST", "/v1/Conversations/CH00000000000000000000000000000001/Participants", map[string]string{"Identity": "alice"}); st != 409 {
			t.Errorf("the fixture's participant is not enforced: %d", st)
		}
		// A second start does not seed over data.
		if err := srv.Control.Seed(ctx, "testdata/fixture.yaml", srv.Service, testserver.AccountSid, discard); err != nil {
			t.Fatal(err)
		}
		_, body = srv.Do(t, "GET", "/v1/Conversations/CH00000000000000000000000000000001/Messages", nil)
		if err := json.Unmarshal(body, &page); err != nil || len(page.Messages) != 2 {
			t.Errorf("seed replaced existing data: %s", body)
		}
	})
}

func TestSeedRefusesBadFiles(t *testing.T) {
	srv := testserver.New(t, storetest.SQLite)
	dir := t.TempDir()
	for name, doc := range map[string]string{
		"bad.json":     `{"version":2,"tables":{}}`,
		"broken.json":  `{"version":`,
		"unknown.yaml": "version: 1\ndefault_service_sid: ISx\ntables: {}\n",
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := srv.Control.Seed(context.Background(), p, srv.Service, testserver.AccountSid, discard); err == nil {
			t.Errorf("%s: seeded", name)
		}
	}
	if err := srv.Control.Seed(context.Background(), filepath.Join(dir, "missing.json"), srv.Service, testserver.AccountSid, discard); err == nil {
		t.Error("a missing file seeded")
	}
}

func TestSIDSeed(t *testing.T) {
	a, err := control.New(control.Options{SIDSeed: "42"})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := control.New(control.Options{SIDSeed: "42"})
	if x, y := a.SIDs.New("CH"), b.SIDs.New("CH"); x != y {
		t.Errorf("same seed, different SIDs: %s %s", x, y)
	}
	if _, err := control.New(control.Options{SIDSeed: "-1"}); err == nil {
		t.Error("a negative seed was taken")
	}
}

// TestNotifier checks the control plane announces its changes to the Notifier (the console's
// broker): reset, snapshot restore and faults for the caller's account after they succeed,
// the clock for every account after its due timers were applied, and nothing for a refused
// request.
func TestNotifier(t *testing.T) {
	srv := testserver.New(t, storetest.SQLite)
	sub := srv.Changes.Subscribe(testserver.AccountSid)
	defer sub.Close()
	other := srv.Changes.Subscribe(testserver.Account2Sid)
	defer other.Close()
	next := func(s *console.Subscription, typ string) console.Change {
		t.Helper()
		for c := range s.C { // skips the domain events in between
			if strings.HasPrefix(c.Type, "parley.") && c.Type != console.TypeWebhookSettled && c.Type != console.TypeDeliverySettled {
				if c.Type != typ {
					t.Fatalf("change %+v, want %s", c, typ)
				}
				return c
			}
		}
		t.Fatalf("subscription closed before %s", typ)
		return console.Change{}
	}
	if st, body := srv.Do(t, "POST", "/parley/v1/Faults", map[string]string{"Status": "0"}); st != 400 { // refused: no change
		t.Fatalf("bad fault: %d %s", st, body)
	}
	st, body := srv.Do(t, "POST", "/parley/v1/Faults", map[string]string{"Method": "POST", "Path": "/v1/Conversations", "Status": "503", "Code": "20503"})
	var f struct{ Sid string }
	if err := json.Unmarshal(body, &f); st != 201 || err != nil {
		t.Fatalf("fault: %d %s", st, body)
	}
	next(sub, console.TypeFaults)
	if st, body := srv.Do(t, "DELETE", "/parley/v1/Faults/"+f.Sid, nil); st != 204 {
		t.Fatalf("delete fault: %d %s", st, body)
	}
	next(sub, console.TypeFaults)
	// A fault used up (its count reaching 0) leaves the list: the faults view hears of it.
	if st, body := srv.Do(t, "POST", "/parley/v1/Faults", map[string]string{"Method": "POST", "Path": "/v1/Conversations", "Status": "503", "Code": "20503", "Count": "1"}); st != 201 {
		t.Fatalf("fault: %d %s", st, body)
	}
	next(sub, console.TypeFaults)
	if st, body := srv.Do(t, "POST", "/v1/Conversations", nil); st != 503 {
		t.Fatalf("faulted request: %d %s", st, body)
	}
	if c := next(sub, console.TypeFaults); c.AccountSid != testserver.AccountSid {
		t.Errorf("used-up fault change %+v", c)
	}
	st, snap := srv.Do(t, "GET", "/parley/v1/Snapshot", nil)
	if st != 200 {
		t.Fatalf("snapshot: %d %s", st, snap)
	}
	req, _ := http.NewRequest("POST", srv.URL+"/parley/v1/Snapshot", bytes.NewReader(snap))
	req.SetBasicAuth(testserver.AccountSid, testserver.AuthToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 {
		t.Fatalf("restore: %d", resp.StatusCode)
	}
	next(sub, console.TypeSnapshot)
	if st, body := srv.Do(t, "POST", "/parley/v1/Reset", nil); st != 204 {
		t.Fatalf("reset: %d %s", st, body)
	}
	if c := next(sub, console.TypeReset); c.AccountSid != testserver.AccountSid {
		t.Errorf("reset change %+v", c)
	}
	if st, body := srv.Do(t, "POST", "/parley/v1/Clock", map[string]string{"Advance": "PT1H"}); st != 200 {
		t.Fatalf("clock: %d %s", st, body)
	}
	next(sub, console.TypeClock)
	if c := next(other, console.TypeClock); c.AccountSid != testserver.Account2Sid {
		t.Errorf("clock change of the other account %+v", c)
	}
}
