package httpapi

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/parley-dev/parley/internal/conv"
)

// ---- services ----

func (a *API) createService(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	f, err := readForm(r)
	if err != nil {
		return err
	}
	s, err := a.svc.CreateService(r.Context(), rc.scope.AccountSid, f.str("FriendlyName"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, rc.service(s))
	return nil
}

func (a *API) fetchService(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	s, err := a.svc.FetchService(r.Context(), rc.scope.AccountSid, r.PathValue("Sid"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rc.service(s))
	return nil
}

func (a *API) listServices(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	p, err := parsePaging(r.URL.Query())
	if err != nil {
		return err
	}
	items, err := a.svc.ListServices(r.Context(), rc.scope.AccountSid, p.query())
	if err != nil {
		return err
	}
	return writeList(w, p, items, func(s *conv.ChatService) int64 { return s.Seq }, rc.base+"/v1/Services", nil, "services", rc.service)
}

func (a *API) deleteService(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	if err := a.svc.DeleteService(r.Context(), rc.scope.AccountSid, r.PathValue("Sid")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) fetchServiceConfig(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	c, err := a.svc.ServiceConfig(r.Context(), rc.scope)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rc.serviceConfig(c))
	return nil
}

// ---- roles ----

func (a *API) fetchRole(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	role, err := a.svc.FetchRole(r.Context(), rc.scope, r.PathValue("Sid"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rc.role(role))
	return nil
}

func (a *API) listRoles(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	p, err := parsePaging(r.URL.Query())
	if err != nil {
		return err
	}
	items, err := a.svc.ListRoles(r.Context(), rc.scope, p.query())
	if err != nil {
		return err
	}
	listURL := rc.base + "/v1/Roles"
	if rc.serviceForm {
		listURL = rc.base + "/v1/Services/" + rc.scope.ServiceSid + "/Roles"
	}
	return writeList(w, p, items, func(x *conv.Role) int64 { return x.Seq }, listURL, nil, "roles", rc.role)
}

// ---- conversations ----

func conversationParams(f form) conv.ConversationParams {
	return conv.ConversationParams{
		FriendlyName: f.str("FriendlyName"), UniqueName: f.str("UniqueName"), Attributes: f.str("Attributes"),
		MessagingServiceSid: f.str("MessagingServiceSid"), State: f.str("State"),
		TimersInactive: f.str("Timers.Inactive"), TimersClosed: f.str("Timers.Closed"),
		DateCreated: f.str("DateCreated"), DateUpdated: f.str("DateUpdated"),
		EmailAddress: f.str("Bindings.Email.Address"), EmailName: f.str("Bindings.Email.Name"),
	}
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
	c, err := a.svc.CreateConversation(r.Context(), rc.scope, conversationParams(f), o)
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
	c, err := a.svc.UpdateConversation(r.Context(), rc.scope, r.PathValue("Sid"), conversationParams(f), o)
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
	p, err := parsePaging(q)
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

// escapeSegment escapes a path segment the way it must appear in a URL we hand back.
func escapeSegment(s string) string {
	return strings.ReplaceAll(url.PathEscape(s), "+", "%2B")
}
