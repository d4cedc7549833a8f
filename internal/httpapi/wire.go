package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"

	"github.com/parley-dev/parley/internal/conv"
)

// twDate marshals as Twilio writes dates: 2015-12-16T22:18:37Z.
type twDate time.Time

// MarshalJSON returns the date in conv.DateFormat.
func (d twDate) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Time(d).UTC().Format(conv.DateFormat) + `"`), nil
}

func datePtr(t *time.Time) *twDate {
	if t == nil {
		return nil
	}
	d := twDate(*t)
	return &d
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// writeJSON writes v as the response body, with '&', '<' and '>' unescaped as Twilio sends them.
// A v implementing jsonAppender encodes itself; anything else goes through encoding/json, and
// an encoding error is answered 500 (Twilio error 20500) instead.
func writeJSON(w http.ResponseWriter, status int, v any) {
	if a, ok := v.(jsonAppender); ok {
		writeJSONBytes(w, status, a.appendJSON(make([]byte, 0, 1024)))
		return
	}
	writeJSONReflect(w, status, v)
}

// writeJSONReflect is writeJSON through encoding/json whatever v is (the reference the
// jsonAppender tests compare with).
func writeJSONReflect(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(v)
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	if err != nil {
		http.Error(w, `{"code":20500,"message":"Internal Server Error","more_info":"https://www.twilio.com/docs/errors/20500","status":500}`, http.StatusInternalServerError)
		return
	}
	writeJSONBytes(w, status, b)
}

// writeJSONBytes writes the encoded JSON body b with its Content-Type and Content-Length.
func writeJSONBytes(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func itoa(n int) string {
	return string(appendInt(nil, n))
}

func appendInt(b []byte, n int) []byte {
	if n == 0 {
		return append(b, '0')
	}
	var tmp [20]byte
	i := len(tmp)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		tmp[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		tmp[i] = '-'
	}
	return append(b, tmp[i:]...)
}

// ---- participants ----

type bindingJSON struct {
	Type             string `json:"type"`
	Address          string `json:"address,omitempty"`
	ProxyAddress     string `json:"proxy_address,omitempty"`
	ProjectedAddress string `json:"projected_address,omitempty"`
}

type participantJSON struct {
	AccountSid           string       `json:"account_sid"`
	ChatServiceSid       *string      `json:"chat_service_sid,omitempty"` // service URL form only
	ConversationSid      string       `json:"conversation_sid"`
	Sid                  string       `json:"sid"`
	Identity             *string      `json:"identity"`
	Attributes           string       `json:"attributes"`
	MessagingBinding     *bindingJSON `json:"messaging_binding"`
	RoleSid              *string      `json:"role_sid"`
	DateCreated          twDate       `json:"date_created"`
	DateUpdated          twDate       `json:"date_updated"`
	URL                  string       `json:"url"`
	LastReadMessageIndex *int64       `json:"last_read_message_index"`
	LastReadTimestamp    *string      `json:"last_read_timestamp"`
}

func (rc *reqCtx) participant(p *conv.Participant) participantJSON {
	out := participantJSON{
		AccountSid: p.AccountSid, ConversationSid: p.ConversationSid, Sid: p.Sid, Identity: p.Identity,
		Attributes: p.Attributes, RoleSid: nullable(p.RoleSid), DateCreated: twDate(p.DateCreated),
		DateUpdated: twDate(p.DateUpdated), LastReadMessageIndex: p.LastReadMessageIndex, LastReadTimestamp: p.LastReadTimestamp,
	}
	// conversationURL(...) + "/Participants/" + p.Sid, in one concatenation (one allocation).
	if rc.serviceForm {
		out.URL = rc.base + "/v1/Services/" + p.ServiceSid + "/Conversations/" + p.ConversationSid + "/Participants/" + p.Sid
	} else {
		out.URL = rc.base + "/v1/Conversations/" + p.ConversationSid + "/Participants/" + p.Sid
	}
	if rc.serviceForm {
		out.ChatServiceSid = &p.ServiceSid
	}
	if b := p.Binding; b != nil {
		out.MessagingBinding = &bindingJSON{Type: b.Type, Address: b.Address, ProxyAddress: b.ProxyAddress, ProjectedAddress: b.ProjectedAddress}
	}
	return out
}

// ---- services ----

type serviceJSON struct {
	Sid          string            `json:"sid"`
	AccountSid   string            `json:"account_sid"`
	FriendlyName string            `json:"friendly_name"`
	DateCreated  twDate            `json:"date_created"`
	DateUpdated  twDate            `json:"date_updated"`
	URL          string            `json:"url"`
	Links        map[string]string `json:"links"`
}

func (rc *reqCtx) service(s *conv.ChatService) serviceJSON {
	u := rc.base + "/v1/Services/" + s.Sid
	return serviceJSON{Sid: s.Sid, AccountSid: s.AccountSid, FriendlyName: s.FriendlyName,
		DateCreated: twDate(s.DateCreated), DateUpdated: twDate(s.DateUpdated), URL: u,
		Links: map[string]string{"conversations": u + "/Conversations", "users": u + "/Users", "roles": u + "/Roles",
			"bindings": u + "/Bindings", "configuration": u + "/Configuration", "participant_conversations": u + "/ParticipantConversations",
			"conversation_with_participants": u + "/ConversationWithParticipants"}}
}

type serviceConfigJSON struct {
	ChatServiceSid                    string            `json:"chat_service_sid"`
	DefaultConversationCreatorRoleSid *string           `json:"default_conversation_creator_role_sid"`
	DefaultConversationRoleSid        *string           `json:"default_conversation_role_sid"`
	DefaultChatServiceRoleSid         *string           `json:"default_chat_service_role_sid"`
	ReachabilityEnabled               bool              `json:"reachability_enabled"`
	URL                               string            `json:"url"`
	Links                             map[string]string `json:"links"`
}

func (rc *reqCtx) serviceConfig(c *conv.ServiceConfig) serviceConfigJSON {
	u := rc.base + "/v1/Services/" + c.ServiceSid + "/Configuration"
	return serviceConfigJSON{ChatServiceSid: c.ServiceSid, DefaultConversationCreatorRoleSid: nullable(c.DefaultConversationCreatorRoleSid),
		DefaultConversationRoleSid: nullable(c.DefaultConversationRoleSid), DefaultChatServiceRoleSid: nullable(c.DefaultChatServiceRoleSid),
		ReachabilityEnabled: c.ReachabilityEnabled, URL: u,
		Links: map[string]string{"notifications": u + "/Notifications", "webhooks": u + "/Webhooks"}}
}
