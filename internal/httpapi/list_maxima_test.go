package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/parley-dev/parley/internal/oapi"
)

// specListMaxima reads Twilio's spec: the PageSize maximum of every list operation (a GET
// with a PageSize parameter), by path template.
func specListMaxima(t *testing.T) map[string]int {
	t.Helper()
	specPath, err := oapi.SpecPath()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(specPath)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for path, item := range doc.Paths {
		get, ok := item["get"]
		if !ok {
			continue
		}
		var op struct {
			Parameters []struct {
				Name   string `json:"name"`
				In     string `json:"in"`
				Schema struct {
					Minimum *int `json:"minimum"`
					Maximum *int `json:"maximum"`
				} `json:"schema"`
			} `json:"parameters"`
		}
		if err := json.Unmarshal(get, &op); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, p := range op.Parameters {
			if p.Name == "PageSize" && p.In == "query" {
				if p.Schema.Maximum == nil {
					t.Fatalf("%s: PageSize has no maximum in the spec", path)
				}
				out[path] = *p.Schema.Maximum
			}
		}
	}
	return out
}

// TestListPageSizeMaxima walks every list operation of Twilio's spec, on the URL form the
// spec gives it, and checks that Parley's largest page is the spec's PageSize maximum: a
// PageSize one above it is read as it (meta.page_size and the paging URLs say so), no
// PageSize gives 50 or the maximum when smaller, and PageSize=0 is a 400 (20422) whose
// message names the list's maximum.
func TestListPageSizeMaxima(t *testing.T) {
	maxima := specListMaxima(t)
	if len(maxima) != 22 {
		t.Fatalf("spec has %d list operations, want 22", len(maxima))
	}
	h, convSid := newAPI(t)
	var conv struct {
		ChatServiceSid string `json:"chat_service_sid"`
	}
	decode := func(rec interface{ Result() *http.Response }, v any) {
		t.Helper()
		res := rec.Result()
		defer res.Body.Close()
		if err := json.NewDecoder(res.Body).Decode(v); err != nil {
			t.Fatal(err)
		}
	}
	rec := send(h, "GET", "/v1/Conversations/"+convSid, "", nil)
	if rec.Code != 200 {
		t.Fatalf("fetch conversation: %d %s", rec.Code, rec.Body)
	}
	decode(rec, &conv)
	var msg, user struct {
		Sid string `json:"sid"`
	}
	if rec = send(h, "POST", "/v1/Conversations/"+convSid+"/Messages", "Body=hi", nil); rec.Code != 201 {
		t.Fatalf("create message: %d %s", rec.Code, rec.Body)
	}
	decode(rec, &msg)
	if rec = send(h, "POST", "/v1/Users", "Identity=alice", nil); rec.Code != 201 {
		t.Fatalf("create user: %d %s", rec.Code, rec.Body)
	}
	decode(rec, &user)
	fill := strings.NewReplacer("{ChatServiceSid}", conv.ChatServiceSid, "{ConversationSid}", convSid,
		"{MessageSid}", msg.Sid, "{UserSid}", user.Sid)

	paths := make([]string, 0, len(maxima))
	for p := range maxima {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, tmpl := range paths {
		max := maxima[tmpl]
		path := fill.Replace(tmpl)
		if strings.Contains(path, "{") {
			t.Fatalf("%s: a path parameter this test does not fill", tmpl)
		}
		path += "?"
		if strings.HasSuffix(tmpl, "/ParticipantConversations") {
			path += "Identity=alice&" // the list's required filter
		}
		var page struct {
			Meta struct {
				PageSize     int    `json:"page_size"`
				URL          string `json:"url"`
				FirstPageURL string `json:"first_page_url"`
			} `json:"meta"`
		}
		rec := send(h, "GET", path+"PageSize="+strconv.Itoa(max+1), "", nil)
		if rec.Code != 200 {
			t.Errorf("%s PageSize=%d: %d %s", tmpl, max+1, rec.Code, rec.Body)
			continue
		}
		decode(rec, &page)
		if page.Meta.PageSize != max {
			t.Errorf("%s PageSize=%d: page_size %d, want the spec's maximum %d", tmpl, max+1, page.Meta.PageSize, max)
		}
		if u, err := url.Parse(page.Meta.URL); err != nil || u.Query().Get("PageSize") != strconv.Itoa(max) {
			t.Errorf("%s: meta.url %q does not say PageSize=%d", tmpl, page.Meta.URL, max)
		}
		rec = send(h, "GET", path, "", nil)
		decode(rec, &page)
		if want := min(50, max); rec.Code != 200 || page.Meta.PageSize != want {
			t.Errorf("%s without PageSize: %d, page_size %d, want %d", tmpl, rec.Code, page.Meta.PageSize, want)
		}
		rec = send(h, "GET", path+"PageSize=0", "", nil)
		var e struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		}
		decode(rec, &e)
		if rec.Code != 400 || e.Code != 20422 || !strings.Contains(e.Message, "at most "+strconv.Itoa(max)+" on this list") {
			t.Errorf("%s PageSize=0: %d %+v, want 400 20422 naming the maximum %d", tmpl, rec.Code, e, max)
		}
	}
}
