package crash

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/parley-dev/parley/internal/proctest"
	"github.com/parley-dev/parley/internal/store/storetest"
)

// TestKillNineKeepsMedia: a media upload answered 201 survives kill -9 with all its bytes; an
// upload cut by the kill leaves no media behind.
func TestKillNineKeepsMedia(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		db := filepath.Join(t.TempDir(), "media.db")
		mediaCrash(t, db, func() (*sql.DB, error) { return sql.Open("sqlite", "file:"+db+"?mode=ro") })
	})
	t.Run("postgres", func(t *testing.T) {
		_, schemaURL := storetest.PostgresSchema(t)
		mediaCrash(t, schemaURL, func() (*sql.DB, error) { return sql.Open("pgx", schemaURL) })
	})
}

func mediaCrash(t *testing.T, db string, inspect func() (*sql.DB, error)) {
	bin := proctest.Build(t)
	args := []string{"-db", db, "-account", proctest.AccountSid + ":" + proctest.AuthToken}
	srv := proctest.Start(t, bin, args...)
	ctx := context.Background()
	st, body, err := srv.Do(ctx, "GET", "/v1/Services", nil)
	if err != nil || st != 200 {
		t.Fatalf("services: %d %v", st, err)
	}
	var services struct {
		Services []struct {
			Sid string `json:"sid"`
		} `json:"services"`
	}
	if err := json.Unmarshal(body, &services); err != nil || len(services.Services) == 0 {
		t.Fatalf("services: %s", body)
	}
	mediaURL := srv.URL + "/v1/Services/" + services.Services[0].Sid + "/Media"
	files := map[string][]byte{}
	for i := range 3 {
		data := bytes.Repeat([]byte{byte('a' + i)}, 700*1024+i)
		req, _ := http.NewRequest("POST", mediaURL, bytes.NewReader(data))
		req.Header.Set("Content-Type", "application/pdf")
		req.SetBasicAuth(srv.Sid, srv.Token)
		resp, err := srv.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var m struct {
			Sid string `json:"sid"`
		}
		if resp.StatusCode != 201 || json.Unmarshal(b, &m) != nil {
			t.Fatalf("upload: %d %s", resp.StatusCode, b)
		}
		files[m.Sid] = data
	}
	// An upload in flight: part of it is sent, then the server is killed.
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", mediaURL, pr)
	req.ContentLength = 4 << 20
	req.Header.Set("Content-Type", "application/pdf")
	req.SetBasicAuth(srv.Sid, srv.Token)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if resp, err := srv.Client.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	if _, err := pw.Write(make([]byte, 1<<20)); err != nil { // returns once the server read it
		t.Fatal(err)
	}
	srv.Kill()
	pw.CloseWithError(io.ErrClosedPipe)
	<-done

	srv = proctest.Start(t, bin, args...) // on a new port
	mediaURL = srv.URL + "/v1/Services/" + services.Services[0].Sid + "/Media"
	for sid, data := range files {
		req, _ := http.NewRequest("GET", mediaURL+"/"+sid+"/Content", nil)
		req.SetBasicAuth(srv.Sid, srv.Token)
		resp, err := srv.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !bytes.Equal(got, data) {
			t.Errorf("media %s after kill -9: %d, %d bytes, want %d", sid, resp.StatusCode, len(got), len(data))
		}
	}
	srv.Kill()
	d, err := inspect()
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var complete int
	if err := d.QueryRow(`SELECT COUNT(*) FROM media WHERE complete = 1`).Scan(&complete); err != nil {
		t.Fatal(err)
	}
	if complete != len(files) {
		t.Errorf("%d complete media, want the %d acknowledged ones (the cut upload must not count)", complete, len(files))
	}
}
