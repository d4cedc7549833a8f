package abuse

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/parley-dev/parley/internal/store/storetest"
	"github.com/parley-dev/parley/internal/testserver"
)

// twErr is a Twilio error body.
type twErr struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Status  int    `json:"status"`
}

func decodeErr(t *testing.T, body []byte) twErr {
	t.Helper()
	var e twErr
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body %s: %v", body, err)
	}
	return e
}

func mustCreate(t *testing.T, s *testserver.Server, path string, form map[string]string) string {
	t.Helper()
	st, body := s.Do(t, "POST", path, form)
	if st != 201 {
		t.Fatalf("POST %s: %d %s", path, st, body)
	}
	var m map[string]any
	_ = json.Unmarshal(body, &m)
	return m["sid"].(string)
}

// TestUnstorableTextRefusedAtTheDoor sends a NUL byte and invalid UTF-8 in every kind of
// parameter and in path segments: each is a 400 (20422) on every engine, and nothing is written.
func TestUnstorableTextRefusedAtTheDoor(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		s := testserver.New(t, e)
		cv := mustCreate(t, s, "/v1/Conversations", map[string]string{"FriendlyName": "ok"})
		type req struct {
			method, path string
			form         map[string]string
		}
		var reqs []req
		for _, bad := range []string{"a\x00b", "a\xffb", "\xc3\x28"} {
			reqs = append(reqs,
				req{"POST", "/v1/Conversations", map[string]string{"FriendlyName": bad}},
				req{"POST", "/v1/Conversations", map[string]string{"UniqueName": bad}},
				req{"POST", "/v1/Conversations/" + cv, map[string]string{"FriendlyName": bad}},
				req{"POST", "/v1/Conversations/" + cv + "/Participants", map[string]string{"Identity": bad}},
				req{"POST", "/v1/Conversations/" + cv + "/Messages", map[string]string{"Body": bad}},
				req{"POST", "/v1/Conversations/" + cv + "/Messages", map[string]string{"Author": "x", "Body": "ok", "Attributes": `{"k":"` + bad + `"}`}},
				req{"POST", "/v1/Roles", map[string]string{"FriendlyName": bad, "Type": "conversation", "Permission": "sendMessage"}},
				req{"POST", "/v1/Users", map[string]string{"Identity": bad}},
				req{"POST", "/v1/Credentials", map[string]string{"Type": "fcm", "FriendlyName": bad, "Secret": "s"}},
				req{"POST", "/v1/Configuration/Addresses", map[string]string{"Type": "sms", "Address": "+1555" + bad}},
				req{"POST", "/v1/Services", map[string]string{"FriendlyName": bad}},
				req{"POST", "/v1/Conversations", map[string]string{"Friendly" + bad: "x"}},
				req{"GET", "/v1/Conversations?State=" + strings.NewReplacer("\x00", "%00", "\xff", "%ff", "\xc3", "%c3", "\x28", "%28").Replace(bad), nil},
			)
		}
		for _, seg := range []string{"%ff", "%00", "a%00b", "%c3%28"} {
			reqs = append(reqs,
				req{"GET", "/v1/Conversations/" + cv + "/Participants/" + seg, nil},
				req{"GET", "/v1/Conversations/" + seg, nil},
				req{"POST", "/v1/Conversations/" + seg + "/Messages", map[string]string{"Body": "hi"}},
				req{"GET", "/v1/Users/" + seg, nil},
				req{"GET", "/parley/v1/Users/" + seg + "/Stream", nil},
				req{"DELETE", "/v1/Roles/" + seg, nil},
			)
		}
		for _, r := range reqs {
			st, body := s.Do(t, r.method, r.path, r.form)
			if st != 400 {
				t.Errorf("%s %q %q: %d %s, want 400", r.method, r.path, r.form, st, body)
				continue
			}
			if e := decodeErr(t, body); e.Code != 20422 || e.Status != 400 {
				t.Errorf("%s %q %q: %+v, want code 20422", r.method, r.path, r.form, e)
			}
		}
		st, body := s.Do(t, "GET", "/v1/Conversations", nil)
		var list struct {
			Conversations []map[string]any `json:"conversations"`
		}
		_ = json.Unmarshal(body, &list)
		if st != 200 || len(list.Conversations) != 1 {
			t.Errorf("after the refusals: %d, %d conversations, want only the first", st, len(list.Conversations))
		}
	})
}

// TestPageOverflowRefused asks every kind of list for a Page whose offset overflows.
func TestPageOverflowRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		s := testserver.New(t, e)
		cv := mustCreate(t, s, "/v1/Conversations", map[string]string{"FriendlyName": "ok"})
		mustCreate(t, s, "/v1/Conversations/"+cv+"/Messages", map[string]string{"Body": "one"})
		lists := []string{"/v1/Conversations", "/v1/Services", "/v1/Roles", "/v1/Users", "/v1/Credentials",
			"/v1/Configuration/Addresses", "/v1/Conversations/" + cv + "/Participants", "/v1/Conversations/" + cv + "/Messages",
			"/v1/Conversations/" + cv + "/Webhooks", "/v1/ParticipantConversations?Identity=x", "/parley/v1/Outbox",
			"/parley/v1/Webhooks/Deliveries"}
		for _, l := range lists {
			sep := "?"
			if strings.Contains(l, "?") {
				sep = "&"
			}
			// The bound is on Page × the page size used: a PageSize above the list's maximum
			// is read as it (5 at least), so Page 2^31/5+1 overflows on every list.
			for _, q := range []string{"PageSize=2&Page=4611686018427387904", "Page=9223372036854775807", "PageSize=1000&Page=429496730"} {
				st, body := s.Do(t, "GET", l+sep+q, nil)
				if st != 400 || decodeErr(t, body).Code != 20422 {
					t.Errorf("GET %s%s%s: %d %s, want 400/20422", l, sep, q, st, body)
				}
			}
			// A large Page within the bound is an empty page.
			st, body := s.Do(t, "GET", l+sep+"PageSize=2&Page=1000000", nil)
			if st != 200 {
				t.Errorf("GET %s%sPageSize=2&Page=1000000: %d %s, want 200", l, sep, st, body)
			}
		}
	})
}

// TestDeleteConversationRacingCreates deletes conversations while participants and messages
// are being added to them: every create answers 201 or 404, never 500.
func TestDeleteConversationRacingCreates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		s := testserver.New(t, e)
		for round := 0; round < 8; round++ {
			cv := mustCreate(t, s, "/v1/Conversations", map[string]string{"FriendlyName": "race"})
			var wg sync.WaitGroup
			statuses := make(chan string, 64)
			for w := 0; w < 12; w++ {
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					path, form := "/v1/Conversations/"+cv+"/Messages", map[string]string{"Body": "hi", "Author": "a"}
					if w%2 == 0 {
						path, form = "/v1/Conversations/"+cv+"/Participants", map[string]string{"Identity": fmt.Sprintf("u%d", w)}
					}
					st, body := s.Do(t, "POST", path, form)
					if st != 201 && st != 404 {
						statuses <- fmt.Sprintf("POST %s: %d %s", path, st, body)
					}
				}(w)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if st, body := s.Do(t, "DELETE", "/v1/Conversations/"+cv, nil); st != 204 {
					statuses <- fmt.Sprintf("DELETE: %d %s", st, body)
				}
			}()
			wg.Wait()
			close(statuses)
			for m := range statuses {
				t.Error(m)
			}
		}
	})
}
