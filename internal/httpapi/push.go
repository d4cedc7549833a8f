package httpapi

import (
	"net/http"

	"github.com/parley-dev/parley/internal/conv"
)

// GET /parley/v1/Push: the push outbox, every push Parley would have sent to FCM or APNs
// (conv/push.go), oldest first, paged like /parley/v1/Outbox, filters Identity, BindingSid
// and ConversationSid.

type pushJSON struct {
	Sid             string  `json:"sid"`
	AccountSid      string  `json:"account_sid"`
	ChatServiceSid  string  `json:"chat_service_sid"`
	ConversationSid string  `json:"conversation_sid"`
	MessageSid      *string `json:"message_sid"`
	BindingSid      string  `json:"binding_sid"`
	BindingType     string  `json:"binding_type"`
	CredentialSid   string  `json:"credential_sid"`
	Identity        string  `json:"identity"`
	Address         string  `json:"address"`
	MessageType     string  `json:"message_type"`
	Body            string  `json:"body"`
	Sound           *string `json:"sound"`
	Badge           *int64  `json:"badge"`
	// Payload is what the push provider would get: an FCM data message {"data": {...}}, or an
	// APNs payload with the same keys at the root next to "aps".
	Payload     map[string]any `json:"payload"`
	DateCreated twDate         `json:"date_created"`
}

// pushPayload renders p as FCM or APNs would receive it.
func pushPayload(p *conv.PushNotification) map[string]any {
	if p.BindingType != conv.CredentialAPN {
		return map[string]any{"data": p.Data}
	}
	out := make(map[string]any, len(p.Data)+1)
	for k, v := range p.Data {
		out[k] = v
	}
	aps := map[string]any{"alert": p.Body}
	if p.Sound != nil {
		aps["sound"] = *p.Sound
	}
	if p.Badge != nil {
		aps["badge"] = *p.Badge
	}
	out["aps"] = aps
	return out
}

func (p *Parley) listPushes(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	q := r.URL.Query()
	pg, err := parsePaging(q, rc.pageMax)
	if err != nil {
		return err
	}
	f := conv.PushFilter{Identity: q.Get("Identity"), BindingSid: q.Get("BindingSid"), ConversationSid: q.Get("ConversationSid")}
	var filters [][2]string
	for _, k := range []string{"Identity", "BindingSid", "ConversationSid"} {
		if v := q.Get(k); v != "" {
			filters = append(filters, [2]string{k, v})
		}
	}
	items, err := p.api.svc.ListPushes(r.Context(), rc.scope.AccountSid, f, pg.query())
	if err != nil {
		return err
	}
	items, meta := pageOf(pg, items, func(e *conv.PushNotification) int64 { return e.Seq }, rc.base+"/parley/v1/Push", filters, "notifications")
	out := make([]pushJSON, len(items))
	for i, e := range items {
		out[i] = pushJSON{Sid: e.Sid, AccountSid: e.AccountSid, ChatServiceSid: e.ServiceSid, ConversationSid: e.ConversationSid,
			MessageSid: nullable(e.MessageSid), BindingSid: e.BindingSid, BindingType: e.BindingType, CredentialSid: e.CredentialSid,
			Identity: e.Identity, Address: e.Address, MessageType: e.MessageType, Body: e.Body, Sound: e.Sound, Badge: e.Badge,
			Payload: pushPayload(e), DateCreated: twDate(e.DateCreated)}
	}
	writeJSON(w, http.StatusOK, listBody("notifications", out, meta))
	return nil
}
