package httpapi

import (
	"net/http"

	"github.com/parley-dev/parley/internal/conv"
)

// ---- address configurations ----

// autoCreationJSON holds the keys of auto_creation that apply to its type, as Twilio's
// examples show them.
type autoCreationJSON struct {
	Enabled                bool      `json:"enabled"`
	Type                   string    `json:"type"`
	ConversationServiceSid *string   `json:"conversation_service_sid,omitempty"`
	WebhookURL             *string   `json:"webhook_url,omitempty"`
	WebhookMethod          *string   `json:"webhook_method,omitempty"`
	WebhookFilters         *[]string `json:"webhook_filters,omitempty"`
	StudioFlowSid          *string   `json:"studio_flow_sid,omitempty"`
	StudioRetryCount       *int64    `json:"studio_retry_count,omitempty"`
}

type addressConfigJSON struct {
	Sid            string           `json:"sid"`
	AccountSid     string           `json:"account_sid"`
	Type           string           `json:"type"`
	Address        string           `json:"address"`
	FriendlyName   *string          `json:"friendly_name"`
	AutoCreation   autoCreationJSON `json:"auto_creation"`
	DateCreated    twDate           `json:"date_created"`
	DateUpdated    twDate           `json:"date_updated"`
	URL            string           `json:"url"`
	AddressCountry *string          `json:"address_country"`
}

func (rc *reqCtx) addressConfig(a *conv.AddressConfig) addressConfigJSON {
	ac := a.AutoCreation
	out := autoCreationJSON{Enabled: ac.Enabled, Type: ac.Type, ConversationServiceSid: nullable(ac.ServiceSid)}
	switch ac.Type {
	case conv.AutoCreationWebhook:
		filters := ac.WebhookFilters
		if filters == nil {
			filters = []string{}
		}
		out.WebhookURL, out.WebhookMethod, out.WebhookFilters = nullable(ac.WebhookURL), nullable(ac.WebhookMethod), &filters
		if out.WebhookMethod == nil {
			post := "POST"
			out.WebhookMethod = &post
		}
	case conv.AutoCreationStudio:
		out.StudioFlowSid, out.StudioRetryCount = nullable(ac.StudioFlowSid), ac.StudioRetryCount
	}
	return addressConfigJSON{Sid: a.Sid, AccountSid: a.AccountSid, Type: a.Type, Address: a.Address, FriendlyName: a.FriendlyName,
		AutoCreation: out, DateCreated: twDate(a.DateCreated), DateUpdated: twDate(a.DateUpdated),
		URL: rc.base + "/v1/Configuration/Addresses/" + a.Sid, AddressCountry: a.AddressCountry}
}

func addressParams(f form) conv.AddressConfigParams {
	p := conv.AddressConfigParams{
		Type: f.str("Type"), Address: f.str("Address"), FriendlyName: f.str("FriendlyName"), AddressCountry: f.str("AddressCountry"),
		Enabled: f.str("AutoCreation.Enabled"), AutoType: f.str("AutoCreation.Type"),
		ServiceSid: f.str("AutoCreation.ConversationServiceSid"), WebhookURL: f.str("AutoCreation.WebhookUrl"),
		WebhookMethod: f.str("AutoCreation.WebhookMethod"), StudioFlowSid: f.str("AutoCreation.StudioFlowSid"),
		StudioRetryCount: f.str("AutoCreation.StudioRetryCount"),
	}
	if _, ok := f["AutoCreation.WebhookFilters"]; ok {
		p.WebhookFilters = append([]string{}, f.list("AutoCreation.WebhookFilters")...)
	}
	return p
}

func (a *API) createAddressConfig(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	f, err := readForm(r)
	if err != nil {
		return err
	}
	ac, err := a.svc.CreateAddressConfig(r.Context(), rc.scope.AccountSid, addressParams(f))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, rc.addressConfig(ac))
	return nil
}

func (a *API) fetchAddressConfig(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	ac, err := a.svc.FetchAddressConfig(r.Context(), rc.scope.AccountSid, r.PathValue("Sid"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rc.addressConfig(ac))
	return nil
}

func (a *API) listAddressConfigs(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	q := r.URL.Query()
	p, err := parsePaging(q, rc.pageMax)
	if err != nil {
		return err
	}
	typ := q.Get("Type")
	items, err := a.svc.ListAddressConfigs(r.Context(), rc.scope.AccountSid, typ, p.query())
	if err != nil {
		return err
	}
	var filters [][2]string
	if typ != "" {
		filters = append(filters, [2]string{"Type", typ})
	}
	return writeList(w, p, items, func(x *conv.AddressConfig) int64 { return x.Seq }, rc.base+"/v1/Configuration/Addresses", filters, "address_configurations", rc.addressConfig)
}

func (a *API) updateAddressConfig(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	f, err := readForm(r)
	if err != nil {
		return err
	}
	ac, err := a.svc.UpdateAddressConfig(r.Context(), rc.scope.AccountSid, r.PathValue("Sid"), addressParams(f))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rc.addressConfig(ac))
	return nil
}

func (a *API) deleteAddressConfig(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	if err := a.svc.DeleteAddressConfig(r.Context(), rc.scope.AccountSid, r.PathValue("Sid")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
