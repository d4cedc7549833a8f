package sdkgo_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twilio/twilio-go/client"
	conversations "github.com/twilio/twilio-go/rest/conversations/v1"

	"github.com/parley-dev/parley/internal/store/storetest"
	"github.com/parley-dev/parley/internal/testserver"
)

// hookReceiver is a real local HTTP server recording webhook requests, each checked with
// twilio-go's RequestValidator.
type hookReceiver struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []hookRequest
}

type hookRequest struct {
	path   string
	params url.Values
	valid  bool
}

func newHookReceiver(t *testing.T) *hookReceiver {
	h := &hookReceiver{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		full := "http://" + r.Host + r.URL.RequestURI()
		params, _ := url.ParseQuery(string(body))
		rv := client.NewRequestValidator(testserver.AuthToken)
		valid := rv.ValidateBody(full, body, r.Header.Get("X-Twilio-Signature"))
		h.mu.Lock()
		h.got = append(h.got, hookRequest{path: r.URL.Path, params: params, valid: valid})
		h.mu.Unlock()
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hookReceiver) requests() []hookRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookRequest(nil), h.got...)
}

// waitFor waits until n requests arrived (the test server's dispatcher sends them after
// commit), failing t after 10 s.
func (h *hookReceiver) waitFor(t *testing.T, n int) []hookRequest {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := h.requests()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("receiver got %d webhook requests, want %d", len(got), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestWebhookConfiguration drives the account-level and service-level webhook configuration
// through twilio-go.
func TestWebhookConfiguration(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		env := setup(t, e)
		cfg, err := env.api.FetchConfigurationWebhook()
		if err != nil {
			t.Fatal(err)
		}
		if str(cfg.Method) != "POST" || str(cfg.Target) != "webhook" || cfg.Filters != nil || cfg.PreWebhookUrl != nil ||
			cfg.PostWebhookUrl != nil || str(cfg.Url) != env.srv.URL+"/v1/Configuration/Webhooks" || str(cfg.AccountSid) != testserver.AccountSid {
			t.Errorf("default account configuration: %+v", cfg)
		}
		cfg, err = env.api.UpdateConfigurationWebhook((&conversations.UpdateConfigurationWebhookParams{}).
			SetPreWebhookUrl("https://example.com/pre").SetPostWebhookUrl("http://example.com/post").SetMethod("GET").
			SetFilters([]string{"onConversationUpdated", "onParticipantAdd"}).SetTarget("webhook"))
		if err != nil {
			t.Fatal(err)
		}
		if str(cfg.Method) != "GET" || strings.Join(*cfg.Filters, ",") != "onConversationUpdated,onParticipantAdd" ||
			str(cfg.PreWebhookUrl) != "https://example.com/pre" || str(cfg.PostWebhookUrl) != "http://example.com/post" {
			t.Errorf("updated account configuration: %+v", cfg)
		}
		cfg, err = env.api.UpdateConfigurationWebhook((&conversations.UpdateConfigurationWebhookParams{}).SetPreWebhookUrl(""))
		if err != nil || cfg.PreWebhookUrl != nil || str(cfg.PostWebhookUrl) != "http://example.com/post" || len(*cfg.Filters) != 2 {
			t.Errorf("partial update: %v %+v", err, cfg)
		}
		for _, bad := range []struct {
			p    *conversations.UpdateConfigurationWebhookParams
			code int
		}{
			{(&conversations.UpdateConfigurationWebhookParams{}).SetPostWebhookUrl("not a url"), 50078},
			{(&conversations.UpdateConfigurationWebhookParams{}).SetPreWebhookUrl("ftp://example.com/x"), 50077},
			{(&conversations.UpdateConfigurationWebhookParams{}).SetMethod("PUT"), 50055},
			{(&conversations.UpdateConfigurationWebhookParams{}).SetFilters([]string{"onMessageSent"}), 20422},
			{(&conversations.UpdateConfigurationWebhookParams{}).SetTarget("studio"), 20422},
		} {
			_, err := env.api.UpdateConfigurationWebhook(bad.p)
			restError(t, err, 400, bad.code)
		}

		is := *env.conversationService(t).Sid
		sc, err := env.api.FetchServiceWebhookConfiguration(is)
		if err != nil {
			t.Fatal(err)
		}
		if str(sc.Method) != "POST" || sc.Filters != nil || sc.PreWebhookUrl != nil || sc.PostWebhookUrl != nil || str(sc.ChatServiceSid) != is ||
			str(sc.Url) != env.srv.URL+"/v1/Services/"+is+"/Configuration/Webhooks" {
			t.Errorf("fresh service configuration: %+v", sc)
		}
		sc, err = env.api.UpdateServiceWebhookConfiguration(is, (&conversations.UpdateServiceWebhookConfigurationParams{}).
			SetPostWebhookUrl("https://www.example.com/post").SetFilters([]string{"onMessageRemoved", "onParticipantAdded"}).SetMethod("post"))
		if err != nil {
			t.Fatal(err)
		}
		if str(sc.Method) != "POST" || strings.Join(*sc.Filters, ",") != "onMessageRemoved,onParticipantAdded" || sc.PreWebhookUrl != nil {
			t.Errorf("updated service configuration: %+v", sc)
		}
		_, err = env.api.FetchServiceWebhookConfiguration("ISffffffffffffffffffffffffffffffff")
		restError(t, err, 404, 20404)
		_, err = env.api.UpdateServiceWebhookConfiguration(is, (&conversations.UpdateServiceWebhookConfigurationParams{}).SetFilters([]string{"onBogus"}))
		restError(t, err, 400, 20422)
	})
}

// conversationService creates a non-default Conversation Service.
func (e *env) conversationService(t *testing.T) *conversations.ConversationsV1Service {
	t.Helper()
	s, err := e.api.CreateService((&conversations.CreateServiceParams{}).SetFriendlyName("hooks"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestConversationScopedWebhooks: create, list, fetch, update and delete on both URL forms,
// with the limits and validation errors.
func TestConversationScopedWebhooks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		env := setup(t, e)
		ch := *env.conversation(t, "").Sid
		wh, err := env.api.CreateConversationScopedWebhook(ch, (&conversations.CreateConversationScopedWebhookParams{}).SetTarget("webhook").
			SetConfigurationUrl("https://example.com").SetConfigurationMethod("GET").SetConfigurationFilters([]string{"onMessageAdded", "onConversationRemoved"}))
		if err != nil {
			t.Fatal(err)
		}
		cfg, _ := (*wh.Configuration).(map[string]any)
		if str(wh.Target) != "webhook" || str(wh.ConversationSid) != ch || str(wh.Url) != env.srv.URL+"/v1/Conversations/"+ch+"/Webhooks/"+str(wh.Sid) ||
			cfg["url"] != "https://example.com" || cfg["method"] != "get" || len(cfg) != 3 {
			t.Errorf("created webhook: %+v %v", wh, cfg)
		}
		trig, err := env.api.CreateConversationScopedWebhook(ch, (&conversations.CreateConversationScopedWebhookParams{}).SetTarget("trigger").
			SetConfigurationUrl("https://example.com/t").SetConfigurationTriggers([]string{"keyword1", "keyword2"}))
		if err != nil {
			t.Fatal(err)
		}
		if cfg, _ := (*trig.Configuration).(map[string]any); cfg["method"] != "post" || len(cfg["triggers"].([]any)) != 2 {
			t.Errorf("trigger configuration: %v", cfg)
		}
		studio, err := env.api.CreateConversationScopedWebhook(ch, (&conversations.CreateConversationScopedWebhookParams{}).SetTarget("studio").
			SetConfigurationFlowSid("FWaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa").SetConfigurationReplayAfter(0))
		if err != nil {
			t.Fatal(err)
		}
		if cfg, _ := (*studio.Configuration).(map[string]any); cfg["flow_sid"] != "FWaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" || cfg["replay_after"] != float64(0) {
			t.Errorf("studio configuration: %v", cfg)
		}
		list, err := env.api.ListConversationScopedWebhook(ch, nil)
		if err != nil || len(list) != 3 || str(list[0].Sid) != str(wh.Sid) || str(list[2].Sid) != str(studio.Sid) {
			t.Fatalf("list: %v %d", err, len(list))
		}
		up, err := env.api.UpdateConversationScopedWebhook(ch, *wh.Sid, (&conversations.UpdateConversationScopedWebhookParams{}).
			SetConfigurationUrl("https://example.com/new"))
		if err != nil {
			t.Fatal(err)
		}
		if cfg, _ := (*up.Configuration).(map[string]any); cfg["url"] != "https://example.com/new" || cfg["method"] != "get" {
			t.Errorf("updated configuration: %v", cfg)
		}
		got, err := env.api.FetchConversationScopedWebhook(ch, *wh.Sid)
		if err != nil || str(got.Sid) != str(wh.Sid) {
			t.Fatalf("fetch: %v", err)
		}
		if err := env.api.DeleteConversationScopedWebhook(ch, *trig.Sid); err != nil {
			t.Fatal(err)
		}
		_, err = env.api.FetchConversationScopedWebhook(ch, *trig.Sid)
		restError(t, err, 404, 20404)
		_, err = env.api.FetchConversationScopedWebhook(ch, "WHffffffffffffffffffffffffffffffff")
		restError(t, err, 404, 20404)
		_, err = env.api.ListConversationScopedWebhook("CHffffffffffffffffffffffffffffffff", nil)
		restError(t, err, 404, 20404)

		mk := func() *conversations.CreateConversationScopedWebhookParams {
			return (&conversations.CreateConversationScopedWebhookParams{}).SetTarget("webhook").SetConfigurationUrl("https://example.com").
				SetConfigurationFilters([]string{"onMessageAdded"})
		}
		for _, bad := range []struct {
			p    *conversations.CreateConversationScopedWebhookParams
			code int
		}{
			{(&conversations.CreateConversationScopedWebhookParams{}).SetConfigurationUrl("https://example.com"), 50368},
			{mk().SetTarget("flex"), 50364},
			{mk().SetConfigurationUrl("https://example.com/" + strings.Repeat("x", 500)), 50372},
			{mk().SetConfigurationFilters([]string{"onMessageSent"}), 50365},
			{(&conversations.CreateConversationScopedWebhookParams{}).SetTarget("webhook").SetConfigurationUrl("https://example.com"), 50370},
			{(&conversations.CreateConversationScopedWebhookParams{}).SetTarget("webhook").SetConfigurationFilters([]string{"onMessageAdded"}), 50369},
			{(&conversations.CreateConversationScopedWebhookParams{}).SetTarget("trigger").SetConfigurationUrl("https://example.com"), 50371},
			{(&conversations.CreateConversationScopedWebhookParams{}).SetTarget("studio").SetConfigurationFlowSid("FW123"), 50367},
			{mk().SetConfigurationMethod("PATCH"), 50055},
		} {
			_, err := env.api.CreateConversationScopedWebhook(ch, bad.p)
			restError(t, err, 400, bad.code)
		}
		for i := 0; i < 3; i++ {
			if _, err := env.api.CreateConversationScopedWebhook(ch, mk()); err != nil {
				t.Fatal(err)
			}
		}
		_, err = env.api.CreateConversationScopedWebhook(ch, mk())
		restError(t, err, 400, 50361)

		// The service URL form carries chat_service_sid.
		is := *env.conversationService(t).Sid
		sch, err := env.api.CreateServiceConversation(is, &conversations.CreateServiceConversationParams{})
		if err != nil {
			t.Fatal(err)
		}
		sw, err := env.api.CreateServiceConversationScopedWebhook(is, *sch.Sid, (&conversations.CreateServiceConversationScopedWebhookParams{}).
			SetTarget("webhook").SetConfigurationUrl("https://example.com").SetConfigurationFilters([]string{"onParticipantAdded"}))
		if err != nil {
			t.Fatal(err)
		}
		if str(sw.ChatServiceSid) != is || str(sw.Url) != env.srv.URL+"/v1/Services/"+is+"/Conversations/"+*sch.Sid+"/Webhooks/"+str(sw.Sid) {
			t.Errorf("service form webhook: %+v", sw)
		}
		sl, err := env.api.ListServiceConversationScopedWebhook(is, *sch.Sid, nil)
		if err != nil || len(sl) != 1 {
			t.Fatalf("service form list: %v %d", err, len(sl))
		}
		if _, err := env.api.UpdateServiceConversationScopedWebhook(is, *sch.Sid, *sw.Sid, (&conversations.UpdateServiceConversationScopedWebhookParams{}).
			SetConfigurationFilters([]string{"onParticipantRemoved"})); err != nil {
			t.Fatal(err)
		}
		if _, err := env.api.FetchServiceConversationScopedWebhook(is, *sch.Sid, *sw.Sid); err != nil {
			t.Fatal(err)
		}
		if err := env.api.DeleteServiceConversationScopedWebhook(is, *sch.Sid, *sw.Sid); err != nil {
			t.Fatal(err)
		}
		// Another service's webhook is not reachable on this conversation.
		_, err = env.api.FetchServiceConversationScopedWebhook(is, ch, *wh.Sid)
		restError(t, err, 404, 20404)
	})
}

// TestWebhookHeaderRule sends REST changes through twilio-go with X-Twilio-Webhook-Enabled
// absent, false and true: only "true" produces webhooks, each signed as twilio-go's
// validator expects; Parley's delivery log shows what was sent.
func TestWebhookHeaderRule(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		env := setup(t, e)
		rc := newHookReceiver(t)
		ch := *env.conversation(t, "").Sid
		if _, err := env.api.CreateConversationScopedWebhook(ch, (&conversations.CreateConversationScopedWebhookParams{}).SetTarget("webhook").
			SetConfigurationUrl(rc.srv.URL+"/conv").SetConfigurationFilters([]string{"onParticipantAdded", "onParticipantUpdated", "onParticipantRemoved"})); err != nil {
			t.Fatal(err)
		}
		add := func(id, header string) *conversations.ConversationsV1ConversationParticipant {
			p := (&conversations.CreateConversationParticipantParams{}).SetIdentity(id)
			if header != "" {
				p.SetXTwilioWebhookEnabled(header)
			}
			got, err := env.api.CreateConversationParticipant(ch, p)
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		add("absent", "")
		add("off", "false")
		on := add("on", "true")
		if _, err := env.api.UpdateConversationParticipant(ch, *on.Sid, (&conversations.UpdateConversationParticipantParams{}).
			SetAttributes(`{"a":1}`).SetXTwilioWebhookEnabled("true")); err != nil {
			t.Fatal(err)
		}
		if _, err := env.api.UpdateConversationParticipant(ch, *on.Sid, (&conversations.UpdateConversationParticipantParams{}).
			SetAttributes(`{"a":2}`)); err != nil {
			t.Fatal(err)
		}
		if err := env.api.DeleteConversationParticipant(ch, *on.Sid, (&conversations.DeleteConversationParticipantParams{}).
			SetXTwilioWebhookEnabled("true")); err != nil {
			t.Fatal(err)
		}
		rc.waitFor(t, 3)
		time.Sleep(100 * time.Millisecond) // nothing else may come
		got := rc.requests()
		var seen []string
		for _, r := range got {
			seen = append(seen, r.params.Get("EventType")+"/"+r.params.Get("Identity")+"/"+r.params.Get("Attributes"))
			if !r.valid {
				t.Errorf("%s: twilio-go rejects the signature", r.params.Get("EventType"))
			}
			if r.params.Get("Source") != "API" || r.params.Get("ConversationSid") != ch || r.params.Get("AccountSid") != testserver.AccountSid {
				t.Errorf("params: %v", r.params)
			}
		}
		if want := `onParticipantAdded/on/{} onParticipantUpdated/on/{"a":1} onParticipantRemoved/on/{"a":2}`; strings.Join(seen, " ") != want {
			t.Errorf("webhooks:\n got  %s\n want %s", strings.Join(seen, " "), want)
		}

		// The delivery log: Parley's own endpoint, Basic auth, JSON, paged.
		st, body := env.srv.Do(t, "GET", "/parley/v1/Webhooks/Deliveries?PageSize=2", nil)
		if st != 200 {
			t.Fatalf("delivery log: %d %s", st, body)
		}
		var page struct {
			Deliveries []map[string]any `json:"deliveries"`
			Meta       map[string]any   `json:"meta"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatal(err)
		}
		if len(page.Deliveries) != 2 || page.Meta["key"] != "deliveries" || page.Meta["next_page_url"] == nil {
			t.Fatalf("delivery log page: %s", body)
		}
		d := page.Deliveries[0]
		params, _ := d["parameters"].(map[string]any)
		if d["event_type"] != "onParticipantAdded" || d["status"] != "delivered" || d["attempts"] != float64(1) || d["scope"] != "conversation" ||
			d["webhook_url"] != rc.srv.URL+"/conv" || d["method"] != "POST" || d["last_response_code"] != float64(200) || d["last_error"] != nil ||
			params["Identity"] != "on" || d["url"] != env.srv.URL+"/parley/v1/Webhooks/Deliveries/"+d["sid"].(string) {
			t.Errorf("delivery: %v", d)
		}
		st, body = env.srv.Do(t, "GET", "/parley/v1/Webhooks/Deliveries/"+d["sid"].(string), nil)
		if st != 200 || !strings.Contains(string(body), `"sid":"`+d["sid"].(string)+`"`) {
			t.Errorf("fetch delivery: %d %s", st, body)
		}
		next, _ := url.Parse(page.Meta["next_page_url"].(string))
		st, body = env.srv.Do(t, "GET", next.RequestURI(), nil)
		if st != 200 || !strings.Contains(string(body), "onParticipantRemoved") {
			t.Errorf("next page: %d %s", st, body)
		}
		st, body = env.srv.Do(t, "GET", "/parley/v1/Webhooks/Deliveries?Status=failed", nil)
		if st != 200 || !strings.Contains(string(body), `"deliveries":[]`) {
			t.Errorf("failed deliveries: %d %s", st, body)
		}
		if st, _ := env.srv.Do(t, "GET", "/parley/v1/Webhooks/Deliveries?Status=bogus", nil); st != 400 {
			t.Errorf("bad Status filter: %d", st)
		}
		if st, _ := env.srv.Do(t, "GET", "/parley/v1/Webhooks/Deliveries/WDffffffffffffffffffffffffffffffff", nil); st != 404 {
			t.Errorf("unknown delivery: %d", st)
		}
		if st, _ := env.srv.DoAs(t, "", "", "GET", "/parley/v1/Webhooks/Deliveries", nil, nil); st != 401 {
			t.Errorf("delivery log without credentials: %d", st)
		}
		if st, body := env.srv.DoAs(t, testserver.Account2Sid, testserver.Auth2Token, "GET", "/parley/v1/Webhooks/Deliveries", nil, nil); st != 200 ||
			!strings.Contains(string(body), `"deliveries":[]`) {
			t.Errorf("another account's log: %d %s", st, body)
		}
	})
}
