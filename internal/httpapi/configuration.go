package httpapi

import (
	"net/http"

	"github.com/parley-dev/parley/internal/conv"
)

// Handlers of the account and service configuration and of service notifications.

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
