// Package sdkgo_test drives Parley with the official twilio-go client, on every storage
// engine, with every response validated against Twilio's OpenAPI spec by the test server.
package sdkgo_test

import (
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
	conversations "github.com/twilio/twilio-go/rest/conversations/v1"

	"github.com/parley-dev/parley/internal/store/storetest"
	"github.com/parley-dev/parley/internal/testserver"
)

// redirectTransport sends every request to the local server (sdk-clients.md, recipe B).
type redirectTransport struct {
	target *url.URL
	next   http.RoundTripper
}

func (t redirectTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.URL.Scheme, r.URL.Host, r.Host = t.target.Scheme, t.target.Host, t.target.Host
	return t.next.RoundTrip(r)
}

// newClient returns a twilio-go client pointed at base with the given credentials.
func newClient(t testing.TB, base, user, pass, accountSid string) *twilio.RestClient {
	t.Helper()
	target, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	c := &client.Client{
		Credentials: client.NewCredentials(user, pass),
		HTTPClient: &http.Client{
			Timeout:       10 * time.Second,
			Transport:     redirectTransport{target: target, next: http.DefaultTransport},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	c.SetAccountSid(accountSid)
	return twilio.NewRestClientWithParams(twilio.ClientParams{Client: c})
}

type env struct {
	srv *testserver.Server
	api *conversations.ApiService
}

// setup starts a server on engine e and returns a client for the first account.
func setup(t *testing.T, e storetest.Engine) *env {
	t.Helper()
	srv := testserver.New(t, e)
	rc := newClient(t, srv.URL, testserver.AccountSid, testserver.AuthToken, testserver.AccountSid)
	return &env{srv: srv, api: rc.ConversationsV1}
}

func (e *env) conversation(t *testing.T, uniqueName string) *conversations.ConversationsV1Conversation {
	t.Helper()
	p := &conversations.CreateConversationParams{}
	p.SetFriendlyName("Test " + uniqueName)
	if uniqueName != "" {
		p.SetUniqueName(uniqueName)
	}
	c, err := e.api.CreateConversation(p)
	if err != nil {
		t.Fatalf("create conversation: %v", err)
	}
	return c
}

func (e *env) chat(t *testing.T, ch, identity string) *conversations.ConversationsV1ConversationParticipant {
	t.Helper()
	p, err := e.api.CreateConversationParticipant(ch, (&conversations.CreateConversationParticipantParams{}).SetIdentity(identity))
	if err != nil {
		t.Fatalf("create participant %q: %v", identity, err)
	}
	return p
}

// restError asserts err is a *client.TwilioRestError with the given status and code.
func restError(t *testing.T, err error, status, code int) *client.TwilioRestError {
	t.Helper()
	if err == nil {
		t.Fatalf("want error %d/%d, got success", status, code)
	}
	var re *client.TwilioRestError
	if !errors.As(err, &re) {
		t.Fatalf("want *client.TwilioRestError %d/%d, got %T: %v", status, code, err, err)
	}
	if re.Status != status || re.Code != code {
		t.Fatalf("want error %d/%d, got %d/%d: %s", status, code, re.Status, re.Code, re.Message)
	}
	if re.MoreInfo != "https://www.twilio.com/docs/errors/"+itoa(code) {
		t.Errorf("more_info = %q", re.MoreInfo)
	}
	return re
}

func itoa(n int) string {
	b := []byte{}
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

func str(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}
