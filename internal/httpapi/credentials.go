package httpapi

import (
	"net/http"

	"github.com/parley-dev/parley/internal/conv"
)

// ---- credentials ----

type credentialJSON struct {
	Sid          string  `json:"sid"`
	AccountSid   string  `json:"account_sid"`
	FriendlyName *string `json:"friendly_name"`
	Type         string  `json:"type"`
	Sandbox      string  `json:"sandbox"`
	DateCreated  twDate  `json:"date_created"`
	DateUpdated  twDate  `json:"date_updated"`
	URL          string  `json:"url"`
}

// credential writes a credential without its secrets; sandbox is "True" or "False" as in
// Twilio's examples.
func (rc *reqCtx) credential(c *conv.Credential) credentialJSON {
	sandbox := "False"
	if c.Sandbox {
		sandbox = "True"
	}
	return credentialJSON{Sid: c.Sid, AccountSid: c.AccountSid, FriendlyName: c.FriendlyName, Type: c.Type, Sandbox: sandbox,
		DateCreated: twDate(c.DateCreated), DateUpdated: twDate(c.DateUpdated), URL: rc.base + "/v1/Credentials/" + c.Sid}
}

func credentialParams(f form) conv.CredentialParams {
	return conv.CredentialParams{Type: f.str("Type"), FriendlyName: f.str("FriendlyName"), Certificate: f.str("Certificate"),
		PrivateKey: f.str("PrivateKey"), Sandbox: f.str("Sandbox"), APIKey: f.str("ApiKey"), Secret: f.str("Secret")}
}

func (a *API) createCredential(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	f, err := readForm(r)
	if err != nil {
		return err
	}
	c, err := a.svc.CreateCredential(r.Context(), rc.scope.AccountSid, credentialParams(f))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, rc.credential(c))
	return nil
}

func (a *API) fetchCredential(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	c, err := a.svc.FetchCredential(r.Context(), rc.scope.AccountSid, r.PathValue("Sid"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rc.credential(c))
	return nil
}

func (a *API) listCredentials(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	p, err := parsePaging(r.URL.Query(), rc.pageMax)
	if err != nil {
		return err
	}
	items, err := a.svc.ListCredentials(r.Context(), rc.scope.AccountSid, p.query())
	if err != nil {
		return err
	}
	return writeList(w, p, items, func(x *conv.Credential) int64 { return x.Seq }, rc.base+"/v1/Credentials", nil, "credentials", rc.credential)
}

func (a *API) updateCredential(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	f, err := readForm(r)
	if err != nil {
		return err
	}
	c, err := a.svc.UpdateCredential(r.Context(), rc.scope.AccountSid, r.PathValue("Sid"), credentialParams(f))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rc.credential(c))
	return nil
}

func (a *API) deleteCredential(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	if err := a.svc.DeleteCredential(r.Context(), rc.scope.AccountSid, r.PathValue("Sid")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// ---- push bindings ----

type pushBindingJSON struct {
	Sid            string   `json:"sid"`
	AccountSid     string   `json:"account_sid"`
	ChatServiceSid string   `json:"chat_service_sid"`
	CredentialSid  *string  `json:"credential_sid"`
	DateCreated    twDate   `json:"date_created"`
	DateUpdated    twDate   `json:"date_updated"`
	Endpoint       string   `json:"endpoint"`
	Identity       string   `json:"identity"`
	BindingType    string   `json:"binding_type"`
	MessageTypes   []string `json:"message_types"`
	URL            string   `json:"url"`
}

func (rc *reqCtx) pushBinding(b *conv.PushBinding) pushBindingJSON {
	types := b.MessageTypes
	if types == nil {
		types = []string{}
	}
	return pushBindingJSON{Sid: b.Sid, AccountSid: b.AccountSid, ChatServiceSid: b.ServiceSid, CredentialSid: nullable(b.CredentialSid),
		DateCreated: twDate(b.DateCreated), DateUpdated: twDate(b.DateUpdated), Endpoint: b.Endpoint, Identity: b.Identity,
		BindingType: b.BindingType, MessageTypes: types, URL: rc.base + "/v1/Services/" + b.ServiceSid + "/Bindings/" + b.Sid}
}

func (a *API) listPushBindings(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	q := r.URL.Query()
	p, err := parsePaging(q, rc.pageMax)
	if err != nil {
		return err
	}
	f := conv.PushBindingFilter{BindingTypes: q["BindingType"], Identities: q["Identity"]}
	items, err := a.svc.ListPushBindings(r.Context(), rc.scope, f, p.query())
	if err != nil {
		return err
	}
	var filters [][2]string
	for _, k := range []string{"BindingType", "Identity"} {
		for _, v := range q[k] {
			filters = append(filters, [2]string{k, v})
		}
	}
	listURL := rc.base + "/v1/Services/" + rc.scope.ServiceSid + "/Bindings"
	return writeList(w, p, items, func(x *conv.PushBinding) int64 { return x.Seq }, listURL, filters, "bindings", rc.pushBinding)
}

func (a *API) fetchPushBinding(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	b, err := a.svc.FetchPushBinding(r.Context(), rc.scope, r.PathValue("Sid"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rc.pushBinding(b))
	return nil
}

func (a *API) deletePushBinding(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	if err := a.svc.DeletePushBinding(r.Context(), rc.scope, r.PathValue("Sid")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
