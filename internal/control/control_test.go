package control_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

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
