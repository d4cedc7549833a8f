package httpapi

import (
	"net/http"
	"net/url"
	"strings"

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

// ---- participants ----

func (a *API) createParticipant(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	o, err := writeOpts(r)
	if err != nil {
		return err
	}
	f, err := readForm(r)
	if err != nil {
		return err
	}
	in := conv.ParticipantCreate{
		Identity: f.str("Identity"), Address: f.str("MessagingBinding.Address"), ProxyAddress: f.str("MessagingBinding.ProxyAddress"),
		ProjectedAddress: f.str("MessagingBinding.ProjectedAddress"), Attributes: f.str("Attributes"), RoleSid: f.str("RoleSid"),
		DateCreated: f.str("DateCreated"), DateUpdated: f.str("DateUpdated"),
	}
	p, err := a.svc.CreateParticipant(r.Context(), rc.scope, r.PathValue("ConversationSid"), in, o)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, rc.participant(p))
	return nil
}

func (a *API) fetchParticipant(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	p, err := a.svc.FetchParticipant(r.Context(), rc.scope, r.PathValue("ConversationSid"), r.PathValue("Sid"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rc.participant(p))
	return nil
}

func (a *API) listParticipants(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	p, err := parsePaging(r.URL.Query())
	if err != nil {
		return err
	}
	convRef := r.PathValue("ConversationSid")
	items, err := a.svc.ListParticipants(r.Context(), rc.scope, convRef, p.query())
	if err != nil {
		return err
	}
	listURL := rc.servicePrefix(rc.scope.ServiceSid) + "/Conversations/" + escapeSegment(convRef) + "/Participants"
	return writeList(w, p, items, func(x *conv.Participant) int64 { return x.Seq }, listURL, nil, "participants", rc.participant)
}

func (a *API) updateParticipant(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	o, err := writeOpts(r)
	if err != nil {
		return err
	}
	f, err := readForm(r)
	if err != nil {
		return err
	}
	in := conv.ParticipantUpdate{
		Identity: f.str("Identity"), Attributes: f.str("Attributes"), RoleSid: f.str("RoleSid"),
		ProxyAddress: f.str("MessagingBinding.ProxyAddress"), ProjectedAddress: f.str("MessagingBinding.ProjectedAddress"),
		LastReadMessageIndex: f.str("LastReadMessageIndex"), LastReadTimestamp: f.str("LastReadTimestamp"),
		DateCreated: f.str("DateCreated"), DateUpdated: f.str("DateUpdated"),
	}
	p, err := a.svc.UpdateParticipant(r.Context(), rc.scope, r.PathValue("ConversationSid"), r.PathValue("Sid"), in, o)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rc.participant(p))
	return nil
}

func (a *API) deleteParticipant(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	o, err := writeOpts(r)
	if err != nil {
		return err
	}
	if err := a.svc.DeleteParticipant(r.Context(), rc.scope, r.PathValue("ConversationSid"), r.PathValue("Sid"), o); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// escapeSegment escapes a path segment the way it must appear in a URL we hand back.
func escapeSegment(s string) string {
	return strings.ReplaceAll(url.PathEscape(s), "+", "%2B")
}
