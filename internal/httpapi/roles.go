package httpapi

import (
	"net/http"

	"github.com/parley-dev/parley/internal/conv"
)

// Roles: wire shape and handlers (fetch and list are in handlers.go).

// ---- roles ----

type roleJSON struct {
	Sid            string   `json:"sid"`
	AccountSid     string   `json:"account_sid"`
	ChatServiceSid string   `json:"chat_service_sid"`
	FriendlyName   string   `json:"friendly_name"`
	Type           string   `json:"type"`
	Permissions    []string `json:"permissions"`
	DateCreated    twDate   `json:"date_created"`
	DateUpdated    twDate   `json:"date_updated"`
	URL            string   `json:"url"`
}

func (rc *reqCtx) role(r *conv.Role) roleJSON {
	return roleJSON{Sid: r.Sid, AccountSid: r.AccountSid, ChatServiceSid: r.ServiceSid, FriendlyName: r.FriendlyName,
		Type: r.Type, Permissions: r.Permissions, DateCreated: twDate(r.DateCreated), DateUpdated: twDate(r.DateUpdated),
		URL: rc.servicePrefix(r.ServiceSid) + "/Roles/" + r.Sid}
}

// ---- roles ----

func (a *API) createRole(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	f, err := readForm(r)
	if err != nil {
		return err
	}
	role, err := a.svc.CreateRole(r.Context(), rc.scope, conv.RoleCreate{FriendlyName: f.str("FriendlyName"), Type: f.str("Type"), Permissions: f.list("Permission")})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, rc.role(role))
	return nil
}

func (a *API) updateRole(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	f, err := readForm(r)
	if err != nil {
		return err
	}
	role, err := a.svc.UpdateRole(r.Context(), rc.scope, r.PathValue("Sid"), f.list("Permission"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rc.role(role))
	return nil
}

func (a *API) deleteRole(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	if err := a.svc.DeleteRole(r.Context(), rc.scope, r.PathValue("Sid")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
