package abuse

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parley-dev/parley/internal/proctest"
	"github.com/parley-dev/parley/internal/store/storetest"
)

// dbs returns the -db values to run a process test on: a SQLite file, and a PostgreSQL schema
// when PARLEY_TEST_POSTGRES_URL is set.
func dbs(t *testing.T) map[string]string {
	out := map[string]string{"sqlite": filepath.Join(t.TempDir(), "parley.db")}
	if os.Getenv(storetest.PostgresEnv) != "" {
		_, schemaURL := storetest.PostgresSchema(t)
		out["postgres"] = schemaURL
	}
	return out
}

// status sends one request to s with the given Basic credentials and returns the status.
func status(t *testing.T, s *proctest.Server, user, pass, method, path string, form url.Values) int {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(context.Background(), method, s.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.SetBasicAuth(user, pass)
	resp, err := s.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// TestRemovedCredentialsStopAuthenticating restarts the server with fewer credentials: what is
// no longer configured must answer 401 at once, and an account configured again finds its data.
func TestRemovedCredentialsStopAuthenticating(t *testing.T) {
	const (
		sidA, tokA = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "tokenA"
		sidB, tokB = "ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "tokenB"
		keySid     = "SKdddddddddddddddddddddddddddddddd"
		keySecret  = "keysecret"
		upperSid   = "ACEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEE"
	)
	bin := proctest.Build(t)
	for engine, db := range dbs(t) {
		t.Run(engine, func(t *testing.T) {
			s := proctest.Start(t, bin, "-db", db, "-account", sidA+":"+tokA, "-account", sidB+":"+tokB, "-api-key", keySid+":"+keySecret+":"+sidB)
			if st := status(t, s, sidB, tokB, "POST", "/v1/Conversations", url.Values{"UniqueName": {"b-data"}}); st != 201 {
				t.Fatalf("B creates: %d", st)
			}
			for _, c := range [][2]string{{sidA, tokA}, {sidB, tokB}, {keySid, keySecret}} {
				if st := status(t, s, c[0], c[1], "GET", "/v1/Conversations", nil); st != 200 {
					t.Fatalf("%s before the restart: %d", c[0], st)
				}
			}
			s.Kill()

			s = proctest.Start(t, bin, "-db", db, "-account", sidA+":"+tokA)
			for _, c := range [][2]string{{sidB, tokB}, {keySid, keySecret}, {sidB, ""}, {keySid, ""}} {
				if st := status(t, s, c[0], c[1], "GET", "/v1/Conversations", nil); st != 401 {
					t.Errorf("%s:%q after it was removed: %d, want 401", c[0], c[1], st)
				}
			}
			if st := status(t, s, sidA, tokA, "GET", "/v1/Conversations", nil); st != 200 {
				t.Errorf("A after the restart: %d", st)
			}
			s.Kill()

			// B configured again (with a new token) finds its data; the key stays removed.
			s = proctest.Start(t, bin, "-db", db, "-account", sidB+":newtokenB")
			if st := status(t, s, sidB, "newtokenB", "GET", "/v1/Conversations/b-data", nil); st != 200 {
				t.Errorf("B configured again, its conversation: %d", st)
			}
			for _, c := range [][2]string{{sidB, tokB}, {sidA, tokA}, {keySid, keySecret}} {
				if st := status(t, s, c[0], c[1], "GET", "/v1/Conversations", nil); st != 401 {
					t.Errorf("%s:%q: %d, want 401", c[0], c[1], st)
				}
			}
			s.Kill()

			// An upper-case account SID is the same account as its lower-case form.
			s = proctest.Start(t, bin, "-db", db, "-account", upperSid+":tokenE")
			if s.Sid != strings.ToLower(upperSid[:2])+strings.ToLower(upperSid[2:]) && s.Sid != "AC"+strings.ToLower(upperSid[2:]) {
				t.Errorf("banner SID %s, want the normalised AC%s", s.Sid, strings.ToLower(upperSid[2:]))
			}
			if st := status(t, s, "AC"+strings.ToLower(upperSid[2:]), "tokenE", "GET", "/v1/Conversations", nil); st != 200 {
				t.Errorf("normalised SID: %d", st)
			}
			s.Kill()

			// With nothing configured the development account is made once and kept; every
			// configured account stops authenticating.
			dev := proctest.Start(t, bin, "-db", db)
			devSid, devTok := dev.Sid, dev.Token
			if devSid == sidA || devSid == sidB {
				t.Errorf("development mode reused the configured account %s", devSid)
			}
			dev.Kill()
			dev = proctest.Start(t, bin, "-db", db)
			if dev.Sid != devSid || dev.Token != devTok {
				t.Errorf("development account changed across restarts: %s:%s, then %s:%s", devSid, devTok, dev.Sid, dev.Token)
			}
			if st := status(t, dev, devSid, devTok, "GET", "/v1/Conversations", nil); st != 200 {
				t.Errorf("development account: %d", st)
			}
			if st := status(t, dev, sidB, "newtokenB", "GET", "/v1/Conversations", nil); st != 401 {
				t.Errorf("B in development mode: %d, want 401", st)
			}
		})
	}
}
