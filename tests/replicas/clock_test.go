package replicas

import (
	"context"
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"github.com/parley-dev/parley/internal/proctest"
	"github.com/parley-dev/parley/internal/store/storetest"
)

// TestClockSharedByReplicas advances the control clock through one replica: the other one
// reads the stored offset (it re-reads it every second) and dates what it creates by it.
func TestClockSharedByReplicas(t *testing.T) {
	_, schemaURL := storetest.PostgresSchema(t)
	bin := proctest.Build(t)
	args := []string{"-db", schemaURL, "-account", proctest.AccountSid + ":" + proctest.AuthToken}
	a, b := proctest.Start(t, bin, args...), proctest.Start(t, bin, args...)
	ctx := context.Background()
	st, body, err := a.Do(ctx, "POST", "/parley/v1/Clock", url.Values{"Advance": {"P400D"}})
	if err != nil || st != 200 {
		t.Fatalf("advance: %d %v %s", st, err, body)
	}
	deadline := time.Now().Add(30 * time.Second) // only bounds a broken build
	for {
		st, body, err := b.Do(ctx, "GET", "/parley/v1/Clock", nil)
		var m map[string]any
		if err == nil && st == 200 && json.Unmarshal(body, &m) == nil && m["offset"] == "P400D" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica b never saw the offset: %d %v %s", st, err, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	st, body, err = b.Do(ctx, "POST", "/v1/Conversations", nil)
	var c map[string]any
	if err != nil || st != 201 || json.Unmarshal(body, &c) != nil {
		t.Fatalf("create on b: %d %v %s", st, err, body)
	}
	created, _ := time.Parse(time.RFC3339, c["date_created"].(string))
	if time.Until(created) < 399*24*time.Hour {
		t.Errorf("replica b dates by the system clock: %v", created)
	}
}
