package syncview_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/gateway"
	"github.com/parley-dev/parley/internal/store/storetest"
	"github.com/parley-dev/parley/internal/syncview"
	"github.com/parley-dev/parley/internal/twilsock"
)

type fixture struct {
	st   syncview.Store
	svc  *conv.Service
	sc   conv.Scope
	acct string
	view *syncview.View
	rt   *gateway.Router
}

func setup(t *testing.T, e storetest.Engine) *fixture {
	t.Helper()
	ctx := context.Background()
	st := e.Open(t).(syncview.Store)
	svc := conv.NewService(st, conv.Options{Changes: syncview.NewProjector(nil)})
	acct, err := svc.EnsureDevAccount(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := svc.ResolveService(ctx, conv.Scope{AccountSid: acct.Sid})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{st: st, svc: svc, sc: conv.Scope{AccountSid: acct.Sid, ServiceSid: cs.Sid}, acct: acct.Sid, rt: gateway.NewRouter()}
	f.view = syncview.New(st, syncview.NewFanout(st, nil, 0))
	f.view.Register(f.rt)
	return f
}

func ptr(s string) *string { return &s }

func (f *fixture) conversation(t *testing.T, identities ...string) *conv.Conversation {
	t.Helper()
	c, err := f.svc.CreateConversation(context.Background(), f.sc, conv.ConversationParams{FriendlyName: ptr("c")}, conv.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range identities {
		if _, err := f.svc.CreateParticipant(context.Background(), f.sc, c.Sid, conv.ParticipantCreate{Identity: ptr(id)}, conv.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// get sends an upstream GET as identity and decodes the JSON answer.
func (f *fixture) get(t *testing.T, identity, path string, params map[string]string) (int, map[string]any) {
	t.Helper()
	r := &gateway.Request{Principal: gateway.Principal{AccountSid: f.acct, ServiceSid: f.sc.ServiceSid, Identity: identity},
		Method: "GET", Host: "cds.us1.twilio.com", Service: "cds", Path: path}
	if params != nil {
		r.Params = map[string]twilsock.MultiValue{}
		for k, v := range params {
			r.Params[k] = twilsock.MultiValue{v}
		}
	}
	resp := f.rt.ServeUpstream(context.Background(), r)
	var m map[string]any
	if err := json.Unmarshal(resp.Body, &m); err != nil {
		t.Fatalf("%s: %v: %s", path, err, resp.Body)
	}
	return resp.Status, m
}

func TestProjectionAndReads(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		f := setup(t, e)
		c := f.conversation(t, "alice", "bob")
		for i := range 5 {
			if _, err := f.svc.CreateMessage(ctx, f.sc, c.Sid, conv.MessageCreate{Author: ptr("alice"), Body: ptr(fmt.Sprint("m", i))}, conv.WriteOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		list := syncview.MessagesList(f.sc.ServiceSid, c.Sid)
		// Events: one per message, ids 1..5 without gaps.
		evs, err := f.st.SyncEvents(ctx, list.Sid, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 5 {
			t.Fatalf("messages list events = %d, want 5", len(evs))
		}
		for i, ev := range evs {
			if ev.ID != int64(i+1) || ev.Type != "list_item_added" {
				t.Errorf("event %d = %d %s", i, ev.ID, ev.Type)
			}
		}
		// Replay after id 3 returns 4 and 5.
		if evs, _ := f.st.SyncEvents(ctx, list.Sid, 3, 100); len(evs) != 2 || evs[0].ID != 4 {
			t.Errorf("replay after 3 = %+v", evs)
		}

		// The list, read by name and SID, and its items paged backwards like the SDK does.
		st, obj := f.get(t, "alice", "/v3/Lists/"+list.Sid, nil)
		if st != 200 || obj["last_event_id"].(float64) != 5 || obj["revision"] != "5" {
			t.Fatalf("list = %d %v", st, obj)
		}
		items := "/v3/Services/" + f.sc.ServiceSid + "/Lists/" + list.Sid + "/Items"
		_, page := f.get(t, "alice", items, map[string]string{"Order": "desc", "PageSize": "2"})
		got := page["items"].([]any)
		if len(got) != 2 || got[0].(map[string]any)["index"].(float64) != 4 || got[1].(map[string]any)["index"].(float64) != 3 {
			t.Fatalf("desc page = %v", page)
		}
		meta := page["meta"].(map[string]any)
		if meta["next_token"] == nil || meta["previous_token"] != nil {
			t.Errorf("desc meta = %v", meta)
		}
		_, page = f.get(t, "alice", items, map[string]string{"PageToken": meta["next_token"].(string), "PageSize": "2"})
		got = page["items"].([]any)
		if len(got) != 2 || got[0].(map[string]any)["index"].(float64) != 2 {
			t.Fatalf("next page = %v", page)
		}
		_, page = f.get(t, "alice", items, map[string]string{"From": "3", "PageSize": "10"})
		if got = page["items"].([]any); len(got) != 2 || page["meta"].(map[string]any)["previous_token"] == nil {
			t.Fatalf("From=3 = %v", page)
		}
		_, page = f.get(t, "alice", items, map[string]string{"Index": "2"})
		if got = page["items"].([]any); len(got) != 1 || got[0].(map[string]any)["data"].(map[string]any)["text"] != "m2" {
			t.Fatalf("Index=2 = %v", page)
		}
		if st, _ := f.get(t, "alice", items, map[string]string{"PageSize": "x"}); st != 400 {
			t.Errorf("PageSize=x: %d", st)
		}

		// The conversation document carries the last message; the roster both participants.
		doc := syncview.ConversationDoc(f.sc.ServiceSid, c.Sid)
		_, d := f.get(t, "alice", "/v3/Documents/"+doc.UniqueName, nil)
		if lm := d["data"].(map[string]any)["lastMessage"].(map[string]any); lm["index"].(float64) != 4 {
			t.Errorf("lastMessage = %v", lm)
		}
		roster := syncview.Roster(f.sc.ServiceSid, c.Sid)
		_, r := f.get(t, "bob", "/v3/Maps/"+roster.Sid, map[string]string{"Include": "items"})
		if n := len(r["items"].([]any)); n != 2 {
			t.Errorf("roster items = %d", n)
		}

		// Visibility: carol sees the document but not the roster or list, nor alice's map.
		if st, _ := f.get(t, "carol", "/v3/Documents/"+doc.Sid, nil); st != 200 {
			t.Errorf("carol document: %d", st)
		}
		for _, p := range []string{"/v3/Maps/" + roster.Sid, "/v3/Lists/" + list.Sid, "/v3/Maps/" + syncview.MyConversations(f.sc.ServiceSid, "alice").Sid, items} {
			if st, body := f.get(t, "carol", p, nil); st != 404 || body["code"].(float64) != 54100 {
				t.Errorf("carol %s: %d %v", p, st, body)
			}
		}
		// Another service never resolves.
		if st, _ := f.get(t, "alice", "/v3/Services/IS00000000000000000000000000000000/Lists/"+list.Sid+"/Items", nil); st != 404 {
			t.Errorf("other service: %d", st)
		}

		// Removing bob removes his roster item and his my-conversations item.
		if err := f.svc.DeleteParticipant(ctx, f.sc, c.Sid, "bob", conv.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		mine := syncview.MyConversations(f.sc.ServiceSid, "bob")
		evs, _ = f.st.SyncEvents(ctx, mine.Sid, 0, 10)
		if len(evs) != 2 || evs[1].Type != "map_item_removed" {
			t.Errorf("bob's my_conversations events = %+v", evs)
		}
		// Deleting the conversation removes its objects and alice's item, with events.
		if err := f.svc.DeleteConversation(ctx, f.sc, c.Sid, conv.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.st.SyncObject(ctx, f.sc.ServiceSid, doc.Sid); err != conv.ErrNotFound {
			t.Errorf("document after delete: %v", err)
		}
		evs, _ = f.st.SyncEvents(ctx, doc.Sid, 0, 100)
		if evs[len(evs)-1].Type != "document_removed" {
			t.Errorf("last document event = %s", evs[len(evs)-1].Type)
		}
		if _, err := f.st.SyncItem(ctx, syncview.MyConversations(f.sc.ServiceSid, "alice").Sid, c.Sid); err != conv.ErrNotFound {
			t.Errorf("alice's item after delete: %v", err)
		}
	})
}

// TestConcurrentChangesOfOneObject: one identity joins many conversations at once; its
// my-conversations map gets one event per join, ids 1..n without gaps or conflicts.
func TestConcurrentChangesOfOneObject(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		f := setup(t, e)
		const n = 8
		convs := make([]*conv.Conversation, n)
		for i := range convs {
			convs[i] = f.conversation(t)
		}
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for _, c := range convs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := f.svc.CreateParticipant(ctx, f.sc, c.Sid, conv.ParticipantCreate{Identity: ptr("zoe")}, conv.WriteOptions{})
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		evs, err := f.st.SyncEvents(ctx, syncview.MyConversations(f.sc.ServiceSid, "zoe").Sid, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != n {
			t.Fatalf("events = %d, want %d", len(evs), n)
		}
		for i, ev := range evs {
			if ev.ID != int64(i+1) {
				t.Errorf("event %d has id %d", i, ev.ID)
			}
		}
		o, err := f.st.SyncObject(ctx, f.sc.ServiceSid, "my_conversations:zoe")
		if err != nil || o.LastEventID != n || o.Revision != n {
			t.Errorf("object = %+v, %v", o, err)
		}
	})
}

// TestBackfill: data older than the view (written without the projector) appears in it when
// the user first logs in (EnsureUser), with the conversation's participants and messages.
func TestBackfill(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		st := e.Open(t).(syncview.Store)
		old := conv.NewService(st, conv.Options{}) // no projector: the view misses everything
		acct, err := old.EnsureDevAccount(ctx)
		if err != nil {
			t.Fatal(err)
		}
		cs, _ := old.ResolveService(ctx, conv.Scope{AccountSid: acct.Sid})
		sc := conv.Scope{AccountSid: acct.Sid, ServiceSid: cs.Sid}
		c, _ := old.CreateConversation(ctx, sc, conv.ConversationParams{}, conv.WriteOptions{})
		for _, id := range []string{"ann", "ben"} {
			if _, err := old.CreateParticipant(ctx, sc, c.Sid, conv.ParticipantCreate{Identity: ptr(id)}, conv.WriteOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := old.CreateMessage(ctx, sc, c.Sid, conv.MessageCreate{Author: ptr("ann"), Body: ptr("old")}, conv.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		view := syncview.New(st, syncview.NewFanout(st, nil, 0))
		u, err := old.FetchUser(ctx, sc, "ann")
		if err != nil {
			t.Fatal(err)
		}
		if err := view.EnsureUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		if _, err := st.SyncItem(ctx, syncview.MyConversations(cs.Sid, "ann").Sid, c.Sid); err != nil {
			t.Errorf("ann's conversation: %v", err)
		}
		items, _ := st.ListSyncItems(ctx, syncview.Roster(cs.Sid, c.Sid).Sid, syncview.ItemQuery{})
		if len(items) != 2 {
			t.Errorf("roster items = %d", len(items))
		}
		items, _ = st.ListSyncItems(ctx, syncview.MessagesList(cs.Sid, c.Sid).Sid, syncview.ItemQuery{ByIndex: true})
		if len(items) != 1 {
			t.Errorf("message items = %d", len(items))
		}
		doc, err := st.SyncObject(ctx, cs.Sid, syncview.ConversationDoc(cs.Sid, c.Sid).Sid)
		if err != nil || !json.Valid(doc.Data) || string(doc.Data) == "{}" {
			t.Errorf("document = %+v, %v", doc, err)
		}
	})
}
