package httpapi

import (
	"net/http"

	"github.com/parley-dev/parley/internal/conv"
)

// Handlers of the configuration resources: roles (create, update, delete), the account and
// service configuration, service notifications, address configurations, push credentials and
// bindings, and ConversationWithParticipants.

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

// ---- account configuration ----

type configurationJSON struct {
	AccountSid                 string            `json:"account_sid"`
	DefaultChatServiceSid      *string           `json:"default_chat_service_sid"`
	DefaultMessagingServiceSid *string           `json:"default_messaging_service_sid"`
	DefaultInactiveTimer       *string           `json:"default_inactive_timer"`
	DefaultClosedTimer         *string           `json:"default_closed_timer"`
	URL                        string            `json:"url"`
	Links                      map[string]string `json:"links"`
}

func (rc *reqCtx) configuration(c *conv.Configuration) configurationJSON {
	u := rc.base + "/v1/Configuration"
	out := configurationJSON{AccountSid: c.AccountSid, DefaultChatServiceSid: nullable(c.DefaultChatServiceSid),
		DefaultMessagingServiceSid: nullable(c.DefaultMessagingServiceSid), DefaultInactiveTimer: nullable(c.DefaultInactiveTimer),
		DefaultClosedTimer: nullable(c.DefaultClosedTimer), URL: u, Links: map[string]string{"webhooks": u + "/Webhooks"}}
	if c.DefaultChatServiceSid != "" {
		out.Links["service"] = rc.base + "/v1/Services/" + c.DefaultChatServiceSid + "/Configuration"
	}
	return out
}

func (a *API) fetchConfiguration(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	c, err := a.svc.FetchConfiguration(r.Context(), rc.scope.AccountSid)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rc.configuration(c))
	return nil
}

func (a *API) updateConfiguration(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	f, err := readForm(r)
	if err != nil {
		return err
	}
	c, err := a.svc.UpdateConfiguration(r.Context(), rc.scope.AccountSid, conv.ConfigurationUpdate{
		DefaultChatServiceSid: f.str("DefaultChatServiceSid"), DefaultMessagingServiceSid: f.str("DefaultMessagingServiceSid"),
		DefaultInactiveTimer: f.str("DefaultInactiveTimer"), DefaultClosedTimer: f.str("DefaultClosedTimer"),
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rc.configuration(c))
	return nil
}

// boolParam returns the parameter as a bool, nil when absent. Error: 20422.
func (f form) boolParam(key string) (*bool, error) {
	v := f.str(key)
	if v == nil {
		return nil, nil
	}
	b, err := conv.ParseBool(key, *v)
	if err != nil {
		return nil, err
	}
	return &b, nil
}

// ---- service configuration ----

func (a *API) updateServiceConfig(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	f, err := readForm(r)
	if err != nil {
		return err
	}
	reach, err := f.boolParam("ReachabilityEnabled")
	if err != nil {
		return err
	}
	c, err := a.svc.UpdateServiceConfig(r.Context(), rc.scope, conv.ServiceConfigUpdate{
		DefaultConversationCreatorRoleSid: f.str("DefaultConversationCreatorRoleSid"),
		DefaultConversationRoleSid:        f.str("DefaultConversationRoleSid"),
		DefaultChatServiceRoleSid:         f.str("DefaultChatServiceRoleSid"),
		ReachabilityEnabled:               reach,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rc.serviceConfig(c))
	return nil
}

// ---- service notifications ----

type notificationSettingJSON struct {
	Enabled  bool    `json:"enabled"`
	Template *string `json:"template"`
	Sound    *string `json:"sound"`
}

type withMediaJSON struct {
	Enabled  bool    `json:"enabled"`
	Template *string `json:"template"`
}

type newMessageJSON struct {
	Enabled           bool          `json:"enabled"`
	Template          *string       `json:"template"`
	Sound             *string       `json:"sound"`
	BadgeCountEnabled bool          `json:"badge_count_enabled"`
	WithMedia         withMediaJSON `json:"with_media"`
}

type notificationsJSON struct {
	AccountSid              string                  `json:"account_sid"`
	ChatServiceSid          string                  `json:"chat_service_sid"`
	LogEnabled              bool                    `json:"log_enabled"`
	NewMessage              newMessageJSON          `json:"new_message"`
	AddedToConversation     notificationSettingJSON `json:"added_to_conversation"`
	RemovedFromConversation notificationSettingJSON `json:"removed_from_conversation"`
	URL                     string                  `json:"url"`
}

func (rc *reqCtx) notifications(n *conv.ServiceNotificationsResult) notificationsJSON {
	setting := func(s conv.NotificationSetting) notificationSettingJSON {
		return notificationSettingJSON{Enabled: s.Enabled, Template: s.Template, Sound: s.Sound}
	}
	return notificationsJSON{
		AccountSid: n.AccountSid, ChatServiceSid: n.ServiceSid, LogEnabled: n.LogEnabled,
		NewMessage: newMessageJSON{Enabled: n.NewMessage.Enabled, Template: n.NewMessage.Template, Sound: n.NewMessage.Sound,
			BadgeCountEnabled: n.NewMessageBadgeCount,
			WithMedia:         withMediaJSON{Enabled: n.NewMessageWithMedia.Enabled, Template: n.NewMessageWithMedia.Template}},
		AddedToConversation:     setting(n.AddedToConversation),
		RemovedFromConversation: setting(n.RemovedFromConversation),
		URL:                     rc.base + "/v1/Services/" + n.ServiceSid + "/Configuration/Notifications",
	}
}

func (a *API) fetchServiceNotifications(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	n, err := a.svc.FetchServiceNotifications(r.Context(), rc.scope)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rc.notifications(n))
	return nil
}

// settingParams reads the Enabled, Template and Sound parameters under prefix.
func (f form) settingParams(prefix string, sound bool) (conv.NotificationSettingUpdate, error) {
	en, err := f.boolParam(prefix + ".Enabled")
	if err != nil {
		return conv.NotificationSettingUpdate{}, err
	}
	u := conv.NotificationSettingUpdate{Enabled: en, Template: f.str(prefix + ".Template")}
	if sound {
		u.Sound = f.str(prefix + ".Sound")
	}
	return u, nil
}

func (a *API) updateServiceNotifications(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	f, err := readForm(r)
	if err != nil {
		return err
	}
	var in conv.NotificationsUpdate
	if in.LogEnabled, err = f.boolParam("LogEnabled"); err != nil {
		return err
	}
	if in.NewMessageBadgeCount, err = f.boolParam("NewMessage.BadgeCountEnabled"); err != nil {
		return err
	}
	for _, x := range []struct {
		dst    *conv.NotificationSettingUpdate
		prefix string
		sound  bool
	}{
		{&in.NewMessage, "NewMessage", true},
		{&in.NewMessageWithMedia, "NewMessage.WithMedia", false},
		{&in.AddedToConversation, "AddedToConversation", true},
		{&in.RemovedFromConversation, "RemovedFromConversation", true},
	} {
		if *x.dst, err = f.settingParams(x.prefix, x.sound); err != nil {
			return err
		}
	}
	n, err := a.svc.UpdateServiceNotifications(r.Context(), rc.scope, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rc.notifications(n))
	return nil
}

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
	p, err := parsePaging(q)
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
	p, err := parsePaging(r.URL.Query())
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
	p, err := parsePaging(q)
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
