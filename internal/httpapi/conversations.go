package httpapi

import (
	"net/http"
	"net/url"
	"time"

	"github.com/parley-dev/parley/internal/conv"
)

// conversationParams reads the parameters of conversation create and update. Errors: those
// of dates.
func conversationParams(f form) (conv.ConversationParams, error) {
	p := conv.ConversationParams{
		FriendlyName: f.str("FriendlyName"), UniqueName: f.str("UniqueName"), Attributes: f.str("Attributes"),
		MessagingServiceSid: f.str("MessagingServiceSid"), State: f.str("State"),
		TimersInactive: f.str("Timers.Inactive"), TimersClosed: f.str("Timers.Closed"),
		EmailAddress: f.str("Bindings.Email.Address"), EmailName: f.str("Bindings.Email.Name"),
	}
	var err error
	p.DateCreated, p.DateUpdated, err = f.dates()
	return p, err
}

func (a *API) createConversation(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	o, err := writeOpts(r)
	if err != nil {
		return err
	}
	f, err := readForm(r)
	if err != nil {
		return err
	}
	p, err := conversationParams(f)
	if err != nil {
		return err
	}
	c, err := a.svc.CreateConversation(r.Context(), rc.scope, p, o)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, rc.conversation(c))
	return nil
}

func (a *API) fetchConversation(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	c, err := a.svc.FetchConversation(r.Context(), rc.scope, r.PathValue("Sid"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rc.conversation(c))
	return nil
}

func (a *API) updateConversation(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	o, err := writeOpts(r)
	if err != nil {
		return err
	}
	f, err := readForm(r)
	if err != nil {
		return err
	}
	p, err := conversationParams(f)
	if err != nil {
		return err
	}
	c, err := a.svc.UpdateConversation(r.Context(), rc.scope, r.PathValue("Sid"), p, o)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rc.conversation(c))
	return nil
}

func (a *API) deleteConversation(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	o, err := writeOpts(r)
	if err != nil {
		return err
	}
	if err := a.svc.DeleteConversation(r.Context(), rc.scope, r.PathValue("Sid"), o); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// parseListDate parses StartDate/EndDate filters (ISO 8601 date or date-time).
func parseListDate(q url.Values, name string) (*time.Time, error) {
	v := q.Get(name)
	if v == "" {
		return nil, nil
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return &t, nil
	}
	if t, ok := conv.ParseDate(v); ok {
		return &t, nil
	}
	return nil, conv.Errorf(conv.KindInvalid, 20422, "Invalid Parameter: %s must be an ISO 8601 date, not %q", name, v)
}

func (a *API) listConversations(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	q := r.URL.Query()
	p, err := parsePaging(q, rc.pageMax)
	if err != nil {
		return err
	}
	var f conv.ConversationFilter
	var filters [][2]string
	if f.StartDate, err = parseListDate(q, "StartDate"); err != nil {
		return err
	}
	if f.EndDate, err = parseListDate(q, "EndDate"); err != nil {
		return err
	}
	f.State = q.Get("State")
	for _, k := range []string{"StartDate", "EndDate", "State"} {
		if v := q.Get(k); v != "" {
			filters = append(filters, [2]string{k, v})
		}
	}
	items, err := a.svc.ListConversations(r.Context(), rc.scope, f, p.query())
	if err != nil {
		return err
	}
	listURL := rc.servicePrefix(rc.scope.ServiceSid) + "/Conversations"
	return writeList(w, p, items, func(c *conv.Conversation) int64 { return c.Seq }, listURL, filters, "conversations", rc.conversation)
}

// ---- conversations ----

type timersJSON struct {
	DateInactive *twDate `json:"date_inactive,omitempty"`
	DateClosed   *twDate `json:"date_closed,omitempty"`
}

type emailBindingJSON struct {
	ProjectedAddress string `json:"projected_address"`
	Name             string `json:"name"`
}

type bindingsJSON struct {
	Email *emailBindingJSON `json:"email,omitempty"`
}

type conversationJSON struct {
	Sid                 string            `json:"sid"`
	AccountSid          string            `json:"account_sid"`
	ChatServiceSid      string            `json:"chat_service_sid"`
	MessagingServiceSid *string           `json:"messaging_service_sid"`
	FriendlyName        *string           `json:"friendly_name"`
	UniqueName          *string           `json:"unique_name"`
	Attributes          string            `json:"attributes"`
	DateCreated         twDate            `json:"date_created"`
	DateUpdated         twDate            `json:"date_updated"`
	State               string            `json:"state"`
	Timers              timersJSON        `json:"timers"`
	Bindings            bindingsJSON      `json:"bindings"`
	URL                 string            `json:"url"`
	Links               map[string]string `json:"links"`
}

func (rc *reqCtx) conversation(c *conv.Conversation) conversationJSON {
	u := rc.conversationURL(c.ServiceSid, c.Sid)
	out := conversationJSON{
		Sid: c.Sid, AccountSid: c.AccountSid, ChatServiceSid: c.ServiceSid, MessagingServiceSid: nullable(c.MessagingServiceSid),
		FriendlyName: c.FriendlyName, UniqueName: c.UniqueName, Attributes: c.Attributes,
		DateCreated: twDate(c.DateCreated), DateUpdated: twDate(c.DateUpdated), State: c.State,
		Timers: timersJSON{DateInactive: datePtr(c.DateInactive), DateClosed: datePtr(c.DateClosed)},
		URL:    u,
		Links: map[string]string{"participants": u + "/Participants", "messages": u + "/Messages",
			"webhooks": u + "/Webhooks", "export": u + "/Export"},
	}
	if c.EmailAddress != "" || c.EmailName != "" {
		out.Bindings.Email = &emailBindingJSON{ProjectedAddress: c.EmailAddress, Name: c.EmailName}
	}
	return out
}
