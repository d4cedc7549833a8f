package sdkgo_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	conversations "github.com/twilio/twilio-go/rest/conversations/v1"

	"github.com/parley-dev/parley/internal/store/storetest"
	"github.com/parley-dev/parley/internal/testserver"
)

// sseEvent is one Server-Sent Events block: an event (ID, Event, Data) or a comment.
type sseEvent struct {
	ID, Event, Data string
	Comment         string
}

// stream is a live message stream read by a plain HTTP client.
type stream struct {
	resp   *http.Response
	events chan sseEvent
	cancel context.CancelFunc
}

// openStream GETs path (a /parley/v1/.../Stream URL) with the first account's credentials and
// headers, and returns the stream when the answer is 200 text/event-stream; otherwise it
// returns nil and the status.
func openStream(t *testing.T, srv *testserver.Server, path string, headers map[string]string) (*stream, int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(testserver.AccountSid, testserver.AuthToken)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		resp.Body.Close()
		cancel()
		return nil, resp.StatusCode
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("stream Content-Type = %q", ct)
	}
	s := &stream{resp: resp, events: make(chan sseEvent, 100), cancel: cancel}
	go func() {
		defer close(s.events)
		r := bufio.NewReader(resp.Body)
		var ev sseEvent
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimRight(line, "\r\n")
			switch {
			case line == "":
				if ev != (sseEvent{}) {
					s.events <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, ":"):
				ev.Comment = strings.TrimSpace(line[1:])
			default:
				k, v, _ := strings.Cut(line, ":")
				v = strings.TrimPrefix(v, " ")
				switch k {
				case "id":
					ev.ID = v
				case "event":
					ev.Event = v
				case "data":
					ev.Data += v
				}
			}
		}
	}()
	t.Cleanup(s.close)
	return s, 200
}

func (s *stream) close() {
	s.cancel()
	s.resp.Body.Close()
}

// streamed is the data of a stream event.
type streamed struct {
	ID             int64
	DeliverySid    string `json:"delivery_sid"`
	ParticipantSid string `json:"participant_sid"`
	Identity       string `json:"identity"`
	Message        struct {
		Sid             string  `json:"sid"`
		Index           int     `json:"index"`
		Author          string  `json:"author"`
		Body            *string `json:"body"`
		ParticipantSid  *string `json:"participant_sid"`
		ConversationSid string  `json:"conversation_sid"`
		ChatServiceSid  *string `json:"chat_service_sid"`
		URL             string  `json:"url"`
	} `json:"message"`
}

// next returns the next message event, skipping comments, failing t after 10 s.
func (s *stream) next(t *testing.T) streamed {
	t.Helper()
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				t.Fatal("stream ended")
			}
			if ev.Event == "" {
				continue
			}
			if ev.Event != "onMessageAdded" {
				t.Fatalf("event type %q", ev.Event)
			}
			var m streamed
			if err := json.Unmarshal([]byte(ev.Data), &m); err != nil {
				t.Fatalf("event data %q: %v", ev.Data, err)
			}
			id, err := strconv.ParseInt(ev.ID, 10, 64)
			if err != nil {
				t.Fatalf("event id %q", ev.ID)
			}
			m.ID = id
			return m
		case <-time.After(10 * time.Second):
			t.Fatal("no stream event within 10 s")
		}
	}
}

// drain returns the message events that arrive before the next keep-alive comment. The
// server writes everything it has before it waits, so after a keep-alive nothing older is
// left to come.
func (s *stream) drain(t *testing.T) []streamed {
	t.Helper()
	var out []streamed
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				t.Fatal("stream ended")
			}
			if ev.Comment == "keep-alive" {
				return out
			}
			if ev.Event == "" {
				continue
			}
			var m streamed
			if err := json.Unmarshal([]byte(ev.Data), &m); err != nil {
				t.Fatalf("event data %q: %v", ev.Data, err)
			}
			m.ID, _ = strconv.ParseInt(ev.ID, 10, 64)
			out = append(out, m)
		case <-time.After(10 * time.Second):
			t.Fatal("no keep-alive within 10 s")
		}
	}
}

func bodies(ms []streamed) []string {
	var out []string
	for _, m := range ms {
		out = append(out, str(m.Message.Body))
	}
	return out
}

// outboxEntry is an entry of GET /parley/v1/Outbox.
type outboxEntry struct {
	Sid             string  `json:"sid"`
	DeliverySid     string  `json:"delivery_sid"`
	ParticipantSid  string  `json:"participant_sid"`
	ConversationSid string  `json:"conversation_sid"`
	MessageSid      string  `json:"message_sid"`
	Index           int     `json:"index"`
	To              string  `json:"to"`
	From            string  `json:"from"`
	Author          string  `json:"author"`
	Body            *string `json:"body"`
	Channel         string  `json:"channel"`
}

func outbox(t *testing.T, srv *testserver.Server, query string) []outboxEntry {
	t.Helper()
	st, body := srv.Do(t, "GET", "/parley/v1/Outbox?PageSize=1000&"+query, nil)
	var out struct {
		Messages []outboxEntry `json:"messages"`
		Meta     struct{ Key string }
	}
	if err := json.Unmarshal(body, &out); err != nil || st != 200 || out.Meta.Key != "messages" {
		t.Fatalf("outbox: %d %s", st, body)
	}
	return out.Messages
}

func outboxBodies(es []outboxEntry) []string {
	var out []string
	for _, e := range es {
		out = append(out, str(e.Body))
	}
	return out
}

// TestRemovedParticipantGetsOnlyEarlierMessages is the seed page's promise: a participant
// receives every message sent while it is in the conversation and none after it is removed,
// and the messages it wrote stay, still attributed to it.
func TestRemovedParticipantGetsOnlyEarlierMessages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		env := setup(t, e)
		ch := *env.conversation(t, "scenario").Sid
		env.chat(t, ch, "alice")
		writer := env.sms(t, ch, "+15557773004", "+15557773002")
		keeper := env.sms(t, ch, "+15557773003", "+15557773002")
		// Written before bob and the phone join: not delivered to them.
		mp := env.send(t, ch, "+15557773004", "the phone wrote this")
		bob := env.chat(t, ch, "bob")
		phone := env.sms(t, ch, "+15557773001", "+15557773002")
		live, _ := openStream(t, env.srv, "/parley/v1/Users/bob/Stream", nil)
		live.drain(t) // connected, nothing pending

		mb := env.send(t, ch, "bob", "bob wrote this") // not delivered to its author
		m1 := env.send(t, ch, "alice", "m1")
		if got := live.next(t); got.Message.Sid != *m1.Sid || got.Identity != "bob" || got.ParticipantSid != *bob.Sid {
			t.Fatalf("bob's first event = %+v, want m1", got)
		}
		eventually(t, "mb and m1 in the phone's outbox", func() bool { return len(outbox(t, env.srv, "To=%2B15557773001")) == 2 })

		for _, p := range []string{*bob.Sid, *phone.Sid, *writer.Sid} {
			if err := env.api.DeleteConversationParticipant(ch, p, nil); err != nil {
				t.Fatal(err)
			}
		}
		m2 := env.send(t, ch, "alice", "m2")
		eventually(t, "m2 sent to the remaining SMS participant", func() bool {
			return strings.Join(outboxBodies(outbox(t, env.srv, "To=%2B15557773003")), ",") == "the phone wrote this,bob wrote this,m1,m2"
		})

		// Bob got m1 only: nothing more on the live stream, and replaying everything ever
		// delivered to bob (Last-Event-ID 0) gives m1 alone.
		if more := live.drain(t); len(more) != 0 {
			t.Errorf("bob's live stream after m1: %v", bodies(more))
		}
		replay, _ := openStream(t, env.srv, "/parley/v1/Users/bob/Stream", map[string]string{"Last-Event-ID": "0"})
		if got := bodies(replay.drain(t)); strings.Join(got, ",") != "m1" {
			t.Errorf("everything delivered to bob = %v, want [m1]", got)
		}
		// The phone got bob's message and m1 only.
		if got := outboxBodies(outbox(t, env.srv, "To=%2B15557773001")); strings.Join(got, ",") != "bob wrote this,m1" {
			t.Errorf("the removed phone's outbox = %v", got)
		}
		// m2 has no receipt for bob or the phone; m1 has bob's (delivered on his stream).
		rs, _ := env.api.ListConversationMessageReceipt(ch, *m2.Sid, nil)
		if len(rs) != 1 || str(rs[0].ParticipantSid) != *keeper.Sid {
			t.Errorf("m2 receipts: %d", len(rs))
		}
		rs, _ = env.api.ListConversationMessageReceipt(ch, *m1.Sid, nil)
		got := map[string]string{}
		for _, r := range rs {
			got[str(r.ParticipantSid)] = str(r.Status)
		}
		if got[*bob.Sid] != "delivered" || got[*phone.Sid] != "sent" {
			t.Errorf("m1 receipts = %v", got)
		}
		// The messages bob and the phone wrote stay, still theirs.
		for _, w := range []struct {
			sid, author, participant string
		}{{*mb.Sid, "bob", *bob.Sid}, {*mp.Sid, "+15557773004", *writer.Sid}} {
			f, err := env.api.FetchConversationMessage(ch, w.sid)
			if err != nil || str(f.Author) != w.author || str(f.ParticipantSid) != w.participant {
				t.Errorf("message by a removed participant: %v author=%s participant_sid=%s", err, str(f.Author), str(f.ParticipantSid))
			}
		}
		list, _ := env.api.ListConversationMessage(ch, nil)
		if len(list) != 4 {
			t.Errorf("the conversation has %d messages, want 4", len(list))
		}
	})
}

func TestChatStream(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		env := setup(t, e)
		ch := *env.conversation(t, "live").Sid
		other := *env.conversation(t, "live2").Sid
		env.chat(t, ch, "alice")
		bob := env.chat(t, ch, "bob")
		env.chat(t, other, "bob")
		path := "/parley/v1/Users/bob/Stream"

		// Credentials, service and Last-Event-ID are checked.
		st, body := env.srv.DoAs(t, "", "", "GET", path, nil, nil)
		if st != 401 || !strings.Contains(string(body), `"code":20003`) {
			t.Errorf("no credentials: %d %s", st, body)
		}
		st, _ = env.srv.DoAs(t, testserver.Account2Sid, testserver.Auth2Token, "GET", "/parley/v1/Services/"+*mustConversation(t, env, ch).ChatServiceSid+"/Users/bob/Stream", nil, nil)
		if st != 404 {
			t.Errorf("another account's service: %d", st)
		}
		if _, st := openStream(t, env.srv, path, map[string]string{"Last-Event-ID": "x"}); st != 400 {
			t.Errorf("bad Last-Event-ID: %d", st)
		}
		if _, st := openStream(t, env.srv, "/parley/v1/Services/ISffffffffffffffffffffffffffffffff/Users/bob/Stream", nil); st != 404 {
			t.Errorf("unknown service: %d", st)
		}
		st, _ = env.srv.Do(t, "POST", path, map[string]string{})
		if st != 405 {
			t.Errorf("POST on the stream: %d", st)
		}

		s, _ := openStream(t, env.srv, path, nil)
		s.drain(t)
		// Messages of two conversations, interleaved: each arrives once, in index order per
		// conversation, with increasing ids.
		var want []string
		for i := 0; i < 4; i++ {
			want = append(want, *env.send(t, ch, "alice", "a"+strconv.Itoa(i)).Sid)
			want = append(want, *env.send(t, other, "", "b"+strconv.Itoa(i)).Sid)
		}
		env.send(t, ch, "bob", "not to bob") // his own message is not delivered to him
		var last int64
		var ids []int64
		next := map[string]int{}
		for i := range want {
			ev := s.next(t)
			ids = append(ids, ev.ID)
			if ev.Message.Sid != want[i] {
				t.Fatalf("event %d = %s (%s), want %s", i, ev.Message.Sid, str(ev.Message.Body), want[i])
			}
			if ev.ID <= last {
				t.Errorf("ids not increasing: %d after %d", ev.ID, last)
			}
			last = ev.ID
			if ev.Message.Index != next[ev.Message.ConversationSid] {
				t.Errorf("index %d in %s, want %d", ev.Message.Index, ev.Message.ConversationSid, next[ev.Message.ConversationSid])
			}
			next[ev.Message.ConversationSid]++
			if !receiptSidRE.MatchString(ev.DeliverySid) || ev.Identity != "bob" || !strings.HasPrefix(ev.Message.URL, env.srv.URL+"/v1/Conversations/") {
				t.Errorf("event = %+v", ev)
			}
		}
		if more := s.drain(t); len(more) != 0 {
			t.Errorf("unexpected events: %v", bodies(more))
		}
		// Streamed deliveries are settled as delivered.
		rs, _ := env.api.ListConversationMessageReceipt(ch, want[0], nil)
		if len(rs) != 1 || str(rs[0].Status) != "delivered" || str(rs[0].ParticipantSid) != *bob.Sid || rs[0].ChannelMessageSid != nil {
			t.Errorf("bob's receipt after streaming: %+v", rs)
		}

		// Disconnected, messages wait; a reconnect without Last-Event-ID gets the pending ones.
		s.close()
		eventually(t, "the server to end the closed stream", func() bool { return env.srv.Hub.Subscribers() == 0 })
		env.send(t, ch, "alice", "while away 1")
		env.send(t, ch, "alice", "while away 2")
		s2, _ := openStream(t, env.srv, path, nil)
		if got := bodies(s2.drain(t)); strings.Join(got, ",") != "while away 1,while away 2" {
			t.Errorf("pending after reconnect = %v", got)
		}
		s2.close()
		// Last-Event-ID replays what came after it, delivered or not.
		s3, _ := openStream(t, env.srv, path, map[string]string{"Last-Event-ID": strconv.FormatInt(last, 10)})
		if got := bodies(s3.drain(t)); strings.Join(got, ",") != "while away 1,while away 2" {
			t.Errorf("replay after %d = %v", last, got)
		}
		s3.close()
		s4, _ := openStream(t, env.srv, path+"?LastEventId="+url.QueryEscape(strconv.FormatInt(ids[6], 10)), nil)
		if got := bodies(s4.drain(t)); strings.Join(got, ",") != "b3,while away 1,while away 2" {
			t.Errorf("replay after %d = %v", ids[6], got)
		}
		s4.close()
		// A fresh stream with nothing pending stays quiet, then carries new messages live.
		s5, _ := openStream(t, env.srv, path, nil)
		if got := s5.drain(t); len(got) != 0 {
			t.Errorf("fresh stream: %v", bodies(got))
		}
		env.send(t, ch, "alice", "live again")
		if got := s5.next(t); str(got.Message.Body) != "live again" {
			t.Errorf("live again: %+v", got)
		}
	})
}

func TestChatStreamServiceForm(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		env := setup(t, e)
		svc, err := env.api.CreateService((&conversations.CreateServiceParams{}).SetFriendlyName("streams"))
		if err != nil {
			t.Fatal(err)
		}
		is := *svc.Sid
		c, err := env.api.CreateServiceConversation(is, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"ann", "ben cho/é"} {
			if _, err := env.api.CreateServiceConversationParticipant(is, *c.Sid, (&conversations.CreateServiceConversationParticipantParams{}).SetIdentity(id)); err != nil {
				t.Fatal(err)
			}
		}
		s, _ := openStream(t, env.srv, "/parley/v1/Services/"+is+"/Users/"+url.PathEscape("ben cho/é")+"/Stream", nil)
		s.drain(t)
		if _, err := env.api.CreateServiceConversationMessage(is, *c.Sid, (&conversations.CreateServiceConversationMessageParams{}).SetAuthor("ann").SetBody("hey")); err != nil {
			t.Fatal(err)
		}
		got := s.next(t)
		if got.Identity != "ben cho/é" || str(got.Message.ChatServiceSid) != is || str(got.Message.Body) != "hey" ||
			got.Message.URL != env.srv.URL+"/v1/Services/"+is+"/Conversations/"+*c.Sid+"/Messages/"+got.Message.Sid {
			t.Errorf("service form event = %+v", got)
		}
		// The default service's stream of the same identity sees nothing of it.
		d, _ := openStream(t, env.srv, "/parley/v1/Users/"+url.PathEscape("ben cho/é")+"/Stream", map[string]string{"Last-Event-ID": "0"})
		if got := d.drain(t); len(got) != 0 {
			t.Errorf("default service stream: %v", bodies(got))
		}
	})
}

func TestOutboxAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		env := setup(t, e)
		ch := *env.conversation(t, "texts").Sid
		env.sms(t, ch, "+15557774001", "+15557774009")
		env.sms(t, ch, "whatsapp:+15557774002", "whatsapp:+15557774009")
		m := env.send(t, ch, "", "hello phones")
		eventually(t, "two sent receipts", func() bool {
			rs, err := env.api.ListConversationMessageReceipt(ch, *m.Sid, nil)
			return err == nil && len(rs) == 2
		})
		es := outbox(t, env.srv, "ConversationSid="+ch)
		if len(es) != 2 || es[0].To != "+15557774001" || es[0].From != "+15557774009" || es[0].Channel != "sms" ||
			es[1].Channel != "whatsapp" || !strings.HasPrefix(es[1].Sid, "WA") || !strings.HasPrefix(es[0].Sid, "SM") ||
			es[0].MessageSid != *m.Sid || es[0].Author != "system" || str(es[0].Body) != "hello phones" || es[0].Index != 0 {
			t.Fatalf("outbox = %+v", es)
		}
		// The receipt carries the outbox entry's sid as channel_message_sid.
		rs, _ := env.api.ListConversationMessageReceipt(ch, *m.Sid, nil)
		if len(rs) == 2 && str(rs[0].ParticipantSid) != es[0].ParticipantSid {
			rs[0], rs[1] = rs[1], rs[0]
		}
		if len(rs) != 2 || str(rs[0].ChannelMessageSid) != es[0].Sid || str(rs[0].Sid) != es[0].DeliverySid {
			t.Errorf("receipts vs outbox: %+v", rs)
		}
		if got := outbox(t, env.srv, "To=whatsapp%3A%2B15557774002"); len(got) != 1 {
			t.Errorf("filter by To: %d", len(got))
		}
		// Another account sees none of it; no credentials, none at all.
		st, body := env.srv.DoAs(t, testserver.Account2Sid, testserver.Auth2Token, "GET", "/parley/v1/Outbox", nil, nil)
		if st != 200 || !strings.Contains(string(body), `"messages":[]`) {
			t.Errorf("other account: %d %s", st, body)
		}
		st, _ = env.srv.DoAs(t, "", "", "GET", "/parley/v1/Outbox", nil, nil)
		if st != 401 {
			t.Errorf("no credentials: %d", st)
		}
		st, _ = env.srv.Do(t, "GET", "/parley/v1/Nothing", nil)
		if st != 404 {
			t.Errorf("unknown Parley path: %d", st)
		}
	})
}

func mustConversation(t *testing.T, env *env, ch string) *conversations.ConversationsV1Conversation {
	t.Helper()
	c, err := env.api.FetchConversation(ch)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
