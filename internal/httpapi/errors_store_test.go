package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/streamlimit"
)

// TestStoreSentinelsAnswered checks how store errors that escape the domain are answered: a
// full storage is 503 (20503) saying so, logged once for a run of them; a row gone mid-
// transaction is 404 (20404); a stream cap is its own status.
func TestStoreSentinelsAnswered(t *testing.T) {
	var logs bytes.Buffer
	a := &API{log: slog.New(slog.NewTextHandler(&logs, nil)), lastFull: new(atomic.Int64)}
	answer := func(err error) (int, errorBody) {
		w := httptest.NewRecorder()
		a.writeError(w, httptest.NewRequest("POST", "/v1/Conversations/CH1/Messages", nil), err)
		var b errorBody
		if e := json.Unmarshal(w.Body.Bytes(), &b); e != nil {
			t.Fatalf("body %s: %v", w.Body.String(), e)
		}
		return w.Code, b
	}
	for i := 0; i < 3; i++ {
		st, b := answer(fmt.Errorf("sqlite: commit: %w", fmt.Errorf("%w: database or disk is full", conv.ErrStorageFull)))
		if st != 503 || b.Code != 20503 || b.Status != 503 || !strings.Contains(b.Message, "storage is full") {
			t.Errorf("storage full: %d %+v", st, b)
		}
	}
	if n := strings.Count(logs.String(), "msg=\"storage full"); n != 1 {
		t.Errorf("storage full logged %d times for one episode, want 1:\n%s", n, logs.String())
	}
	st, b := answer(fmt.Errorf("lock: %w", conv.ErrNotFound))
	if st != 404 || b.Code != 20404 || b.Message != "The requested resource /Conversations/CH1/Messages was not found" {
		t.Errorf("not found inside a transaction: %d %+v", st, b)
	}
	slots := newStreamSlots(streamlimit.New(1, 1), 1)
	release, err := slots.acquire("AC1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := slots.acquire("AC1"); err == nil {
		t.Error("second stream of an account past its cap of 1 was accepted")
	} else if st, b := answer(err); st != 429 || b.Code != 20429 {
		t.Errorf("account cap: %d %+v", st, b)
	}
	if _, err := slots.acquire("AC2"); err == nil {
		t.Error("stream past the server's cap of 1 was accepted")
	} else if st, b := answer(err); st != 503 || b.Code != 20503 {
		t.Errorf("server cap: %d %+v", st, b)
	}
	release()
	release() // twice is harmless
	if slots.open() != 0 {
		t.Errorf("after release: %d open", slots.open())
	}
}
