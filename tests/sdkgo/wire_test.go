package sdkgo_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	conversations "github.com/twilio/twilio-go/rest/conversations/v1"

	"github.com/parley-dev/parley/internal/store/storetest"
	"github.com/parley-dev/parley/internal/testserver"
)

func TestAuthentication(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		env := setup(t, e)
		ch := *env.conversation(t, "auth").Sid
		// Wrong token, unknown account, no credentials: 401 20003 with WWW-Authenticate.
		for _, c := range []struct{ user, pass, msg string }{
			{testserver.AccountSid, "wrongtoken", "Authentication Error - invalid password"},
			{"AC00000000000000000000000000000000", "x", "Authentication Error - invalid username"},
			{"", "", "Authentication Error - No credentials provided"},
			{testserver.APIKeySid, "wrong", "Authentication Error - invalid password"},
		} {
			req, _ := http.NewRequest("GET", env.srv.URL+"/v1/Conversations", nil)
			if c.user != "" {
				req.SetBasicAuth(c.user, c.pass)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var body map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if resp.StatusCode != 401 || body["code"] != float64(20003) || body["message"] != c.msg || body["status"] != float64(401) ||
				resp.Header.Get("WWW-Authenticate") != `Basic realm="Twilio API"` {
				t.Errorf("%s: %d %v %q", c.user, resp.StatusCode, body, resp.Header.Get("WWW-Authenticate"))
			}
		}
		bad := newClient(t, env.srv.URL, testserver.AccountSid, "wrongtoken", testserver.AccountSid)
		_, err := bad.ConversationsV1.FetchConversation(ch)
		restError(t, err, 401, 20003)
		// An API key works like the account's credentials.
		key := newClient(t, env.srv.URL, testserver.APIKeySid, testserver.APIKeySecret, testserver.AccountSid)
		if _, err := key.ConversationsV1.FetchConversation(ch); err != nil {
			t.Fatalf("API key: %v", err)
		}
		// Another account sees none of it: 404, not 403.
		other := newClient(t, env.srv.URL, testserver.Account2Sid, testserver.Auth2Token, testserver.Account2Sid).ConversationsV1
		_, err = other.FetchConversation(ch)
		restError(t, err, 404, 20404)
		_, err = other.CreateConversationParticipant(ch, (&conversations.CreateConversationParticipantParams{}).SetIdentity("intruder"))
		restError(t, err, 404, 20404)
		svc := env.conversation(t, "").ChatServiceSid
		_, err = other.FetchService(*svc)
		restError(t, err, 404, 20404)
		_, err = other.ListServiceConversationParticipant(*svc, ch, nil)
		restError(t, err, 404, 20404)
		// The other account has its own default service and can reuse the unique name.
		c2, err := other.CreateConversation((&conversations.CreateConversationParams{}).SetUniqueName("auth"))
		if err != nil || *c2.ChatServiceSid == *svc {
			t.Fatalf("second account: %v", err)
		}
	})
}

func TestRoutingAndBadInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		env := setup(t, e)
		ch := *env.conversation(t, "wire").Sid
		cases := []struct {
			method, path string
			form         map[string]string
			status, code int
		}{
			{"GET", "/v1/Nope", nil, 404, 20404},
			{"GET", "/v1/Conversations/" + ch + "/Participants/", nil, 404, 20404},
			{"PUT", "/v1/Conversations/" + ch + "/Participants", nil, 405, 20004},
			{"PATCH", "/v1/Conversations", nil, 405, 20004},
			{"GET", "/v1/Conversations/CH00000000000000000000000000000000", nil, 404, 20404},
			{"GET", "/v1/Conversations/no-such-name/Participants", nil, 404, 20404},
			{"POST", "/v1/Conversations", map[string]string{"Attributes": "{"}, 400, 50304},
			{"POST", "/v1/Conversations", map[string]string{"State": "closed"}, 400, 50384},
			{"POST", "/v1/Conversations", map[string]string{"State": "sleepy"}, 400, 50378},
			{"POST", "/v1/Conversations", map[string]string{"UniqueName": "CH00000000000000000000000000000000"}, 400, 50390},
			{"POST", "/v1/Conversations", map[string]string{"UniqueName": "wire"}, 409, 50353},
			{"POST", "/v1/Conversations", map[string]string{"Timers.Inactive": "PT30S"}, 400, 50375},
			{"POST", "/v1/Conversations", map[string]string{"Timers.Closed": "soon"}, 400, 50380},
			{"POST", "/v1/Services", map[string]string{}, 400, 20001},
			{"POST", "/v1/Users", map[string]string{}, 400, 20001},
			{"GET", "/v1/Users/USffffffffffffffffffffffffffffffff/Conversations", nil, 404, 20404},
		}
		for _, c := range cases {
			st, body := env.srv.Do(t, c.method, c.path, c.form)
			var eb struct{ Code, Status int }
			_ = json.Unmarshal(body, &eb)
			if st != c.status || eb.Code != c.code || eb.Status != c.status {
				t.Errorf("%s %s %v: %d %s, want %d/%d", c.method, c.path, c.form, st, body, c.status, c.code)
			}
		}
		// A malformed form body is a 400 and stores nothing.
		req, _ := http.NewRequest("POST", env.srv.URL+"/v1/Conversations/"+ch+"/Participants", strings.NewReader("Identity=%zz"))
		req.SetBasicAuth(testserver.AccountSid, testserver.AuthToken)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("malformed form: %d", resp.StatusCode)
		}
		// An oversized body is a 413.
		st, body := env.srv.Do(t, "POST", "/v1/Conversations/"+ch+"/Participants", map[string]string{"Identity": "big", "Attributes": strings.Repeat("x", 100<<10)})
		if st != 413 || !strings.Contains(string(body), `"code":20413`) {
			t.Errorf("oversized body: %d %s", st, body)
		}
		if ps, err := env.api.ListConversationParticipant(ch, nil); err != nil || len(ps) != 0 {
			t.Errorf("bad requests stored participants: %v %d", err, len(ps))
		}
		// Identities with URL-reserved characters are fetched by identity through the path.
		id := "alice smith@x.com+1"
		p := env.chat(t, ch, id)
		got, err := env.api.FetchConversationParticipant(ch, "alice%20smith@x.com+1")
		if err != nil || *got.Sid != *p.Sid {
			t.Fatalf("fetch %q by identity: %v", id, err)
		}
	})
}

func TestConversationResource(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		env := setup(t, e)
		c, err := env.api.CreateConversation((&conversations.CreateConversationParams{}).SetFriendlyName("Home Repair Visit").
			SetUniqueName("repair-1").SetAttributes(`{"topic":"feedback"}`).SetTimersInactive("PT1M").SetTimersClosed("PT10M"))
		if err != nil {
			t.Fatal(err)
		}
		timers, _ := json.Marshal(c.Timers)
		if string(timers) != `{"date_closed":"2015-12-16T22:28:37Z","date_inactive":"2015-12-16T22:19:37Z"}` {
			t.Errorf("timers = %s", timers)
		}
		if *c.State != "active" || *c.Attributes != `{"topic":"feedback"}` || c.MessagingServiceSid != nil {
			t.Errorf("conversation = %+v", c)
		}
		got, err := env.api.FetchConversation("repair-1")
		if err != nil || *got.Sid != *c.Sid {
			t.Fatalf("fetch by unique name: %v", err)
		}
		up, err := env.api.UpdateConversation("repair-1", (&conversations.UpdateConversationParams{}).SetState("inactive").SetFriendlyName("renamed"))
		if err != nil || *up.State != "inactive" || *up.FriendlyName != "renamed" {
			t.Fatalf("update: %v", err)
		}
		list, err := env.api.ListConversation((&conversations.ListConversationParams{}).SetState("inactive"))
		if err != nil || len(list) != 1 {
			t.Fatalf("list by state: %v %d", err, len(list))
		}
		if _, err := env.api.UpdateConversation(*c.Sid, (&conversations.UpdateConversationParams{}).SetState("closed")); err != nil {
			t.Fatal(err)
		}
		_, err = env.api.UpdateConversation(*c.Sid, (&conversations.UpdateConversationParams{}).SetState("active"))
		restError(t, err, 400, 50377)
		if err := env.api.DeleteConversation("repair-1", nil); err != nil {
			t.Fatal(err)
		}
		_, err = env.api.FetchConversation(*c.Sid)
		restError(t, err, 404, 20404)
	})
}

func TestServices(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		env := setup(t, e)
		def := *env.conversation(t, "").ChatServiceSid
		s, err := env.api.CreateService((&conversations.CreateServiceParams{}).SetFriendlyName("mine"))
		if err != nil {
			t.Fatal(err)
		}
		all, err := env.api.ListService(nil)
		if err != nil || len(all) != 2 || *all[0].Sid != def || *all[1].Sid != *s.Sid {
			t.Fatalf("list services: %v %d", err, len(all))
		}
		roles, err := env.api.ListServiceRole(*s.Sid, nil)
		if err != nil || len(roles) != 4 {
			t.Fatalf("default roles: %v %d", err, len(roles))
		}
		if err := env.api.DeleteService(*s.Sid); err != nil {
			t.Fatal(err)
		}
		_, err = env.api.FetchService(*s.Sid)
		restError(t, err, 404, 20404)
		// Deleting the default service: the next shortened-URL call gets a new default.
		if err := env.api.DeleteService(def); err != nil {
			t.Fatal(err)
		}
		c := env.conversation(t, "")
		if *c.ChatServiceSid == def {
			t.Fatal("default service was not replaced")
		}
	})
}
