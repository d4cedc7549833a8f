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
	p, err := parsePaging(r.URL.Query(), rc.pageMax)
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
	p, err := parsePaging(r.URL.Query(), rc.pageMax)
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

func escapeSegment(s string) string {
	return strings.ReplaceAll(url.PathEscape(s), "+", "%2B")
}
