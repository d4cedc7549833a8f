package sdkgo_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/oapi"
	"github.com/parley-dev/parley/internal/store/storetest"
	"github.com/parley-dev/parley/internal/testserver"
)

// TestEveryOperation calls every operation of the OpenAPI spec through the real test server
// (which validates each response against the spec) with real SIDs, and requires a documented
// 2xx. DELETE operations act on fixtures of their own, so the order does not matter.
func TestEveryOperation(t *testing.T) {
	spec := testserver.Spec(t)
	ops := spec.Operations()
	if len(ops) != 103 {
		t.Fatalf("the spec has %d operations, want 103", len(ops))
	}
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		fx := &fixtures{t: t, srv: testserver.New(t, e), shared: map[string]string{}, identities: map[string]string{}}
		for _, op := range ops {
			key := op.Method + " " + op.Path
			t.Run(op.OperationID, func(t *testing.T) {
				fx.t = t
				path, query, fixErr := fx.resolve(op)
				if fixErr != nil {
					t.Fatalf("%s is served, but its path cannot be built: %v", key, fixErr)
				}
				status, body := fx.call(op.Method, path, query, formFor(op, fx))
				if status < 200 || status > 299 {
					t.Errorf("%s %s answered %d: %s", op.Method, path, status, body)
				}
			})
		}
	})
}

// fixtures creates, through the API, the resources the operations' paths name.
type fixtures struct {
	t   *testing.T
	srv *testserver.Server
	// shared holds one resource per kind and parent, reused by non-DELETE operations.
	shared map[string]string
	// identities maps user SIDs to their identities.
	identities map[string]string
	n          int
}

func (f *fixtures) next() int { f.n++; return f.n }

// call sends one request with the first account's credentials.
func (f *fixtures) call(method, path string, query, form url.Values) (int, []byte) {
	f.t.Helper()
	u := f.srv.URL + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		f.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.SetBasicAuth(testserver.AccountSid, testserver.AuthToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return resp.StatusCode, b
}

// create POSTs form to path and returns the new resource's sid.
func (f *fixtures) create(what, path string, form url.Values) (string, error) {
	status, body := f.call(http.MethodPost, path, nil, form)
	if status < 200 || status > 299 {
		return "", fmt.Errorf("creating the %s fixture (POST %s) answered %d: %s", what, path, status, body)
	}
	var v struct {
		Sid string `json:"sid"`
	}
	if err := json.Unmarshal(body, &v); err != nil || v.Sid == "" {
		return "", fmt.Errorf("creating the %s fixture: no sid in %s", what, body)
	}
	return v.Sid, nil
}

// once returns the shared resource under key, making it with mk the first time.
func (f *fixtures) once(key string, mk func() (string, error)) (string, error) {
	if sid, ok := f.shared[key]; ok {
		return sid, nil
	}
	sid, err := mk()
	if err == nil {
		f.shared[key] = sid
	}
	return sid, err
}

// resolve builds the request path (and query) of op with real SIDs. The resource a DELETE
// removes is always a fresh one.
func (f *fixtures) resolve(op oapi.Operation) (string, url.Values, error) {
	segs := strings.Split(strings.TrimPrefix(op.Path, "/"), "/")
	var path strings.Builder
	prefix := "/v1" // where service-scoped collections live: /v1 or /v1/Services/IS…
	svc := ""       // the service SID of the service form ("" on the shortened form)
	user := ""      // the user SID once the path names one
	for i, seg := range segs {
		if !strings.HasPrefix(seg, "{") {
			path.WriteString("/" + seg)
			continue
		}
		fresh := op.Method == http.MethodDelete && i == len(segs)-1
		parent := path.String()
		var sid string
		var err error
		switch coll := segs[i-1]; coll {
		case "Services":
			mk := func() (string, error) {
				return f.create("service", "/v1/Services", url.Values{"FriendlyName": {"coverage"}})
			}
			if fresh {
				sid, err = mk()
			} else {
				sid, err = f.once("service", mk)
			}
			svc, prefix = sid, "/v1/Services/"+sid
		case "Conversations":
			if user != "" {
				// A conversation the user takes part in.
				mk := func() (string, error) { return f.membership(prefix, user) }
				if fresh {
					sid, err = mk()
				} else {
					sid, err = f.once("membership|"+user, mk)
				}
			} else {
				mk := func() (string, error) { return f.conversation(prefix) }
				if fresh {
					sid, err = mk()
				} else {
					sid, err = f.once("conversation|"+prefix, mk)
				}
			}
		case "Participants":
			mk := func() (string, error) {
				return f.create("participant", parent, url.Values{"Identity": {fmt.Sprintf("cov-p-%d", f.next())}})
			}
			if fresh {
				sid, err = mk()
			} else {
				sid, err = f.once("participant|"+parent, mk)
			}
		case "Messages":
			mk := func() (string, error) {
				return f.create("message", parent, url.Values{"Body": {"coverage"}, "Author": {"cov-author"}})
			}
			if fresh {
				sid, err = mk()
			} else {
				sid, err = f.once("message|"+parent, mk)
			}
		case "Receipts":
			// The dispatcher records the SMS delivery shortly after the message is created.
			for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				sid, err = f.firstOf(parent, "delivery_receipts", "delivery receipt (of a message to an SMS participant)")
				if err == nil || time.Now().After(deadline) {
					break
				}
			}
		case "Webhooks":
			mk := func() (string, error) {
				return f.create("conversation webhook", parent, url.Values{"Target": {"webhook"},
					"Configuration.Url": {"https://example.com/coverage"}, "Configuration.Method": {"POST"}, "Configuration.Filters": {"onMessageAdded"}})
			}
			if fresh {
				sid, err = mk()
			} else {
				sid, err = f.once("webhook|"+parent, mk)
			}
		case "Roles":
			mk := func() (string, error) {
				return f.create("role", parent, url.Values{"FriendlyName": {"coverage"}, "Type": {"conversation"}, "Permission": {"sendMessage"}})
			}
			if fresh {
				sid, err = mk()
			} else {
				sid, err = f.once("role|"+parent, mk)
			}
		case "Users":
			mk := func() (string, error) {
				identity := fmt.Sprintf("cov-user-%d", f.next())
				sid, err := f.create("user", parent, url.Values{"Identity": {identity}})
				if err == nil {
					f.identities[sid] = identity
				}
				return sid, err
			}
			if fresh {
				sid, err = mk()
			} else {
				sid, err = f.once("user|"+parent, mk)
			}
			user = sid
		case "Credentials":
			mk := func() (string, error) {
				return f.create("credential", parent, url.Values{"Type": {"fcm"}, "Secret": {"coverage"}})
			}
			if fresh {
				sid, err = mk()
			} else {
				sid, err = f.once("credential", mk)
			}
		case "Addresses":
			mk := func() (string, error) {
				return f.create("address configuration", parent, url.Values{"Type": {"sms"}, "Address": {fmt.Sprintf("+1555300%04d", f.next())}})
			}
			if fresh {
				sid, err = mk()
			} else {
				sid, err = f.once("address", mk)
			}
		case "Bindings":
			mk := func() (string, error) { return f.pushBinding(svc) }
			if fresh {
				sid, err = mk()
			} else {
				sid, err = f.once("binding|"+svc, mk)
			}
		default:
			return "", nil, fmt.Errorf("no fixture for a {%s} under %s", seg, coll)
		}
		if err != nil {
			return "", nil, err
		}
		path.WriteString("/" + sid)
	}
	var query url.Values
	if strings.HasSuffix(op.Path, "/ParticipantConversations") {
		query = url.Values{"Identity": {"cov-user-any"}}
	}
	return path.String(), query, nil
}

// conversation creates a conversation under prefix with an SMS participant, so that its
// messages have delivery receipts.
func (f *fixtures) conversation(prefix string) (string, error) {
	sid, err := f.create("conversation", prefix+"/Conversations", url.Values{"FriendlyName": {"coverage"}})
	if err != nil {
		return "", err
	}
	n := f.next()
	_, err = f.create("participant", prefix+"/Conversations/"+sid+"/Participants", url.Values{
		"MessagingBinding.Address": {fmt.Sprintf("+1555500%04d", n)}, "MessagingBinding.ProxyAddress": {fmt.Sprintf("+1555600%04d", n)}})
	return sid, err
}

// membership creates a conversation under prefix that the user takes part in.
func (f *fixtures) membership(prefix, userSid string) (string, error) {
	identity, ok := f.identities[userSid]
	if !ok {
		return "", fmt.Errorf("unknown user %s", userSid)
	}
	sid, err := f.create("conversation", prefix+"/Conversations", url.Values{"FriendlyName": {"coverage"}})
	if err != nil {
		return "", err
	}
	_, err = f.create("participant", prefix+"/Conversations/"+sid+"/Participants", url.Values{"Identity": {identity}})
	return sid, err
}

// firstOf lists collection and returns the sid of its first item (under key).
func (f *fixtures) firstOf(collection, key, what string) (string, error) {
	status, body := f.call(http.MethodGet, collection, nil, nil)
	if status != http.StatusOK {
		return "", fmt.Errorf("listing %s for %s answered %d: %s", collection, what, status, body)
	}
	var page map[string]json.RawMessage
	var items []struct {
		Sid string `json:"sid"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		return "", err
	}
	if err := json.Unmarshal(page[key], &items); err != nil || len(items) == 0 {
		return "", fmt.Errorf("%s lists no %s: %s", collection, what, body)
	}
	return items[0].Sid, nil
}

// pushBinding stores a push binding in service svc (client SDKs make them; REST cannot).
func (f *fixtures) pushBinding(svc string) (string, error) {
	now := f.srv.Clock.Now()
	b := &conv.PushBinding{Sid: fmt.Sprintf("BS%032x", 0xc0de0000+f.next()), AccountSid: testserver.AccountSid, ServiceSid: svc,
		Endpoint: "coverage-endpoint", Identity: "coverage", BindingType: "fcm", MessageTypes: []string{"new_message"},
		DateCreated: now, DateUpdated: now}
	ctx := context.Background()
	return b.Sid, f.srv.Store.WithTx(ctx, func(tx conv.Store) error { return tx.CreatePushBinding(ctx, b) })
}

// formFor returns a valid body for a POST operation (nil for other methods).
func formFor(op oapi.Operation, f *fixtures) url.Values {
	if op.Method != http.MethodPost {
		return nil
	}
	tmpl := strings.TrimPrefix(op.Path, "/v1/Services/{ChatServiceSid}")
	if tmpl == op.Path {
		tmpl = strings.TrimPrefix(op.Path, "/v1")
	}
	n := f.next()
	switch tmpl {
	case "/Services":
		return url.Values{"FriendlyName": {"coverage"}}
	case "/Configuration": // account (/v1/Configuration) or service configuration
		if strings.HasPrefix(op.Path, "/v1/Services/") {
			return url.Values{"ReachabilityEnabled": {"true"}}
		}
		return url.Values{"DefaultInactiveTimer": {"PT1H"}}
	case "/Configuration/Notifications":
		return url.Values{"LogEnabled": {"true"}, "NewMessage.Enabled": {"true"}}
	case "/Configuration/Webhooks":
		return url.Values{"Method": {"POST"}, "PostWebhookUrl": {"https://example.com/coverage-post"}, "Filters": {"onMessageAdded"}}
	case "/Configuration/Addresses":
		return url.Values{"Type": {"sms"}, "Address": {fmt.Sprintf("+1555400%04d", n)}, "AutoCreation.Enabled": {"true"}}
	case "/Configuration/Addresses/{Sid}":
		return url.Values{"FriendlyName": {"coverage"}}
	case "/Credentials":
		return url.Values{"Type": {"apn"}, "Certificate": {"cert"}, "PrivateKey": {"key"}}
	case "/Credentials/{Sid}":
		return url.Values{"FriendlyName": {"coverage"}}
	case "/Roles":
		return url.Values{"FriendlyName": {"coverage"}, "Type": {"service"}, "Permission": {"joinConversation", "createConversation"}}
	case "/Roles/{Sid}":
		return url.Values{"Permission": {"sendMessage", "leaveConversation"}}
	case "/ConversationWithParticipants":
		return url.Values{"FriendlyName": {"coverage"}, "Participant": {fmt.Sprintf(`{"identity": "cov-cwp-%d"}`, n)}}
	case "/Conversations":
		return url.Values{"FriendlyName": {"coverage"}}
	case "/Conversations/{Sid}":
		return url.Values{"FriendlyName": {"coverage updated"}}
	case "/Conversations/{ConversationSid}/Participants":
		return url.Values{"Identity": {fmt.Sprintf("cov-new-%d", n)}}
	case "/Conversations/{ConversationSid}/Participants/{Sid}":
		return url.Values{"Attributes": {`{"coverage":true}`}}
	case "/Conversations/{ConversationSid}/Messages":
		return url.Values{"Body": {"hello"}, "Author": {"cov-author"}}
	case "/Conversations/{ConversationSid}/Messages/{Sid}":
		return url.Values{"Body": {"edited"}}
	case "/Conversations/{ConversationSid}/Webhooks":
		return url.Values{"Target": {"webhook"}, "Configuration.Url": {"https://example.com/coverage"}, "Configuration.Method": {"POST"},
			"Configuration.Filters": {"onMessageAdded"}}
	case "/Conversations/{ConversationSid}/Webhooks/{Sid}":
		return url.Values{"Configuration.Url": {"https://example.com/coverage-updated"}}
	case "/Users":
		return url.Values{"Identity": {fmt.Sprintf("cov-new-user-%d", n)}}
	case "/Users/{Sid}":
		return url.Values{"FriendlyName": {"coverage"}}
	case "/Users/{UserSid}/Conversations/{ConversationSid}":
		return url.Values{"NotificationLevel": {"default"}}
	}
	return url.Values{}
}
