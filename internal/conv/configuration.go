package conv

import (
	"context"
	"errors"
	"strings"
	"time"
)

// Configuration is an account's /v1/Configuration: its default Conversation Service and the
// defaults new conversations get. "" means not set.
type Configuration struct {
	AccountSid                 string
	DefaultChatServiceSid      string
	DefaultMessagingServiceSid string
	DefaultInactiveTimer       string
	DefaultClosedTimer         string
}

// ConfigurationUpdate are the form fields of the account configuration update; nil means
// absent, "" clears a value (except DefaultChatServiceSid, which cannot be cleared).
type ConfigurationUpdate struct {
	DefaultChatServiceSid      *string
	DefaultMessagingServiceSid *string
	DefaultInactiveTimer       *string
	DefaultClosedTimer         *string
}

// accountConfig returns the stored account configuration, or an empty one.
func (s *Service) accountConfig(ctx context.Context, st Store, accountSid string) (*AccountConfig, error) {
	c, err := st.GetAccountConfig(ctx, accountSid)
	if errors.Is(err, ErrNotFound) {
		return &AccountConfig{AccountSid: accountSid}, nil
	}
	return c, err
}

// FetchConfiguration returns the account's configuration; its default Conversation Service is
// created first when the account has none. Errors: 20404 (account).
func (s *Service) FetchConfiguration(ctx context.Context, accountSid string) (*Configuration, error) {
	svc, err := s.ResolveService(ctx, Scope{AccountSid: accountSid})
	if err != nil {
		return nil, err
	}
	ac, err := s.accountConfig(ctx, s.store, accountSid)
	if err != nil {
		return nil, err
	}
	return &Configuration{AccountSid: accountSid, DefaultChatServiceSid: svc.Sid, DefaultMessagingServiceSid: ac.DefaultMessagingServiceSid,
		DefaultInactiveTimer: ac.DefaultInactiveTimer, DefaultClosedTimer: ac.DefaultClosedTimer}, nil
}

// validateTimer checks a timer duration ("" clears it). inactive selects the inactive timer's
// rules (at least PT1M, errors 50379/50375), otherwise the closed timer's (at least PT10M,
// 50380/50376). name names the parameter in messages.
func validateTimer(name, v string, inactive bool) error {
	if v == "" {
		return nil
	}
	fmtCode, minCode, limit, limitText := 50380, 50376, 10*time.Minute, "10 minutes"
	if inactive {
		fmtCode, minCode, limit, limitText = 50379, 50375, time.Minute, "1 minute"
	}
	d, ok := ParseDuration(v)
	if !ok {
		return invalid(fmtCode, "%s format is invalid: %q is not an ISO 8601 duration", name, v)
	}
	if d < limit {
		return invalid(minCode, "%s should be greater or equal to %s", name, limitText)
	}
	return nil
}

// UpdateConfiguration changes the account's configuration. DefaultChatServiceSid changes the
// service the shortened /v1/Conversations, /v1/Roles, ... URLs use; the other defaults apply
// to conversations created afterwards without their own values.
// Errors: 20422 (DefaultChatServiceSid malformed or empty), 50050 (no such service in the
// account), 50341 (DefaultMessagingServiceSid not an MG SID), 50379/50375 and 50380/50376
// (timers).
func (s *Service) UpdateConfiguration(ctx context.Context, accountSid string, in ConfigurationUpdate) (*Configuration, error) {
	if in.DefaultChatServiceSid != nil && !IsSID(PrefixService, *in.DefaultChatServiceSid) {
		return nil, invalid(20422, "Invalid Parameter: DefaultChatServiceSid must match ^IS[0-9a-fA-F]{32}$, not %q", *in.DefaultChatServiceSid)
	}
	if v := in.DefaultMessagingServiceSid; v != nil && *v != "" && !IsSID("MG", *v) {
		return nil, invalid(50341, "Invalid messaging service SID: %q", *v)
	}
	if v := in.DefaultInactiveTimer; v != nil {
		if err := validateTimer("DefaultInactiveTimer", *v, true); err != nil {
			return nil, err
		}
	}
	if v := in.DefaultClosedTimer; v != nil {
		if err := validateTimer("DefaultClosedTimer", *v, false); err != nil {
			return nil, err
		}
	}
	if _, err := s.ResolveService(ctx, Scope{AccountSid: accountSid}); err != nil {
		return nil, err
	}
	err := s.store.WithTx(ctx, func(tx Store) error {
		if in.DefaultChatServiceSid != nil {
			if _, err := tx.GetService(ctx, accountSid, *in.DefaultChatServiceSid); errors.Is(err, ErrNotFound) {
				return invalid(50050, "Service Instance not found: %s is not a Conversation Service of this account", *in.DefaultChatServiceSid)
			} else if err != nil {
				return err
			}
			if err := tx.SetAccountDefaultService(ctx, accountSid, *in.DefaultChatServiceSid); err != nil {
				return mapStoreErr(err)
			}
		}
		ac, err := s.accountConfig(ctx, tx, accountSid)
		if err != nil {
			return err
		}
		if in.DefaultMessagingServiceSid != nil {
			ac.DefaultMessagingServiceSid = *in.DefaultMessagingServiceSid
		}
		if in.DefaultInactiveTimer != nil {
			ac.DefaultInactiveTimer = *in.DefaultInactiveTimer
		}
		if in.DefaultClosedTimer != nil {
			ac.DefaultClosedTimer = *in.DefaultClosedTimer
		}
		return tx.PutAccountConfig(ctx, ac)
	})
	if err != nil {
		return nil, err
	}
	return s.FetchConfiguration(ctx, accountSid)
}

// applyAccountDefaults gives a new conversation the account's default messaging service and
// timers where the request set none of its own (p is the create request).
func (s *Service) applyAccountDefaults(ctx context.Context, c *Conversation, p ConversationParams) error {
	ac, err := s.accountConfig(ctx, s.store, c.AccountSid)
	if err != nil {
		return err
	}
	if p.MessagingServiceSid == nil && ac.DefaultMessagingServiceSid != "" {
		c.MessagingServiceSid = ac.DefaultMessagingServiceSid
	}
	if c.State == StateClosed {
		return nil
	}
	if p.TimersInactive == nil && ac.DefaultInactiveTimer != "" {
		if d, ok := ParseDuration(ac.DefaultInactiveTimer); ok {
			t := c.DateUpdated.Add(d)
			c.TimerInactive, c.DateInactive = ac.DefaultInactiveTimer, &t
		}
	}
	if p.TimersClosed == nil && ac.DefaultClosedTimer != "" {
		if d, ok := ParseDuration(ac.DefaultClosedTimer); ok {
			t := c.DateUpdated.Add(d)
			c.TimerClosed, c.DateClosed = ac.DefaultClosedTimer, &t
		}
	}
	return nil
}

// ---- service configuration ----

// ServiceConfigUpdate are the form fields of the service configuration update; nil means
// absent.
type ServiceConfigUpdate struct {
	DefaultConversationCreatorRoleSid *string
	DefaultConversationRoleSid        *string
	DefaultChatServiceRoleSid         *string
	ReachabilityEnabled               *bool
}

// roleOfType checks that sid names a role of type typ in the service (share-locking it for the
// rest of tx) and returns a 400 with code otherwise.
func (s *Service) roleOfType(ctx context.Context, tx Store, serviceSid, param, sid, typ string, code int) error {
	bad := func(why string) error {
		return invalid(code, "%s: %s %s", roleNotFoundTitle(code), param, why)
	}
	if !IsSID(PrefixRole, sid) {
		return bad("is not a Role SID: " + sid)
	}
	r, err := tx.GetRole(ctx, serviceSid, sid)
	if errors.Is(err, ErrNotFound) {
		return bad(sid + " is not a role of this service")
	} else if err != nil {
		return err
	}
	if r.Type != typ {
		return bad(sid + " is a " + r.Type + " role, not a " + typ + " role")
	}
	if err := tx.ShareLockRole(ctx, sid); errors.Is(err, ErrNotFound) {
		return bad(sid + " is not a role of this service")
	} else if err != nil {
		return err
	}
	return nil
}

func roleNotFoundTitle(code int) string {
	if code == 50109 {
		return "Conversation role not found"
	}
	return "Role not found"
}

// UpdateServiceConfig changes the configuration of the scope's service. The default
// conversation and conversation-creator roles must be conversation roles of the service, the
// default service role a service role of it.
// Errors: 20404 (service), 50109 (conversation role missing or of the wrong type), 50100
// (service role missing or of the wrong type).
func (s *Service) UpdateServiceConfig(ctx context.Context, sc Scope, in ServiceConfigUpdate) (*ServiceConfig, error) {
	svc, err := s.ResolveService(ctx, sc)
	if err != nil {
		return nil, err
	}
	var out *ServiceConfig
	err = s.store.WithTx(ctx, func(tx Store) error {
		cfg, err := tx.GetServiceConfig(ctx, svc.Sid)
		if errors.Is(err, ErrNotFound) {
			cfg = &ServiceConfig{ServiceSid: svc.Sid}
		} else if err != nil {
			return err
		}
		if v := in.DefaultConversationCreatorRoleSid; v != nil {
			if err := s.roleOfType(ctx, tx, svc.Sid, "DefaultConversationCreatorRoleSid", *v, RoleTypeConversation, 50109); err != nil {
				return err
			}
			cfg.DefaultConversationCreatorRoleSid = *v
		}
		if v := in.DefaultConversationRoleSid; v != nil {
			if err := s.roleOfType(ctx, tx, svc.Sid, "DefaultConversationRoleSid", *v, RoleTypeConversation, 50109); err != nil {
				return err
			}
			cfg.DefaultConversationRoleSid = *v
		}
		if v := in.DefaultChatServiceRoleSid; v != nil {
			if err := s.roleOfType(ctx, tx, svc.Sid, "DefaultChatServiceRoleSid", *v, RoleTypeService, 50100); err != nil {
				return err
			}
			cfg.DefaultChatServiceRoleSid = *v
		}
		if in.ReachabilityEnabled != nil {
			cfg.ReachabilityEnabled = *in.ReachabilityEnabled
		}
		if err := tx.PutServiceConfig(ctx, cfg); err != nil {
			return err
		}
		out = cfg
		return nil
	})
	return out, err
}

// ---- service notifications ----

// Limits of the notification settings (see docs/compatibility.md).
const (
	MaxNotificationTemplateLen = 1024 // characters
	MaxNotificationSoundLen    = 256  // characters
)

// NotificationSettingUpdate are the form fields of one notification kind; nil means absent.
type NotificationSettingUpdate struct {
	Enabled  *bool
	Template *string // "" clears it
	Sound    *string // "" clears it
}

// NotificationsUpdate are the form fields of the service notification update.
type NotificationsUpdate struct {
	LogEnabled              *bool
	NewMessage              NotificationSettingUpdate
	NewMessageBadgeCount    *bool
	NewMessageWithMedia     NotificationSettingUpdate // Sound is not a parameter
	AddedToConversation     NotificationSettingUpdate
	RemovedFromConversation NotificationSettingUpdate
}

// ServiceNotificationsResult is a service's notification settings with the account they
// belong to.
type ServiceNotificationsResult struct {
	AccountSid string
	*ServiceNotifications
}

// FetchServiceNotifications returns the notification settings of the scope's service (all
// off and unset until updated). Errors: 20404.
func (s *Service) FetchServiceNotifications(ctx context.Context, sc Scope) (*ServiceNotificationsResult, error) {
	svc, err := s.ResolveService(ctx, sc)
	if err != nil {
		return nil, err
	}
	n, err := s.store.GetServiceNotifications(ctx, svc.Sid)
	if errors.Is(err, ErrNotFound) {
		n, err = &ServiceNotifications{ServiceSid: svc.Sid}, nil
	}
	if err != nil {
		return nil, err
	}
	return &ServiceNotificationsResult{AccountSid: svc.AccountSid, ServiceNotifications: n}, nil
}

func applySetting(dst *NotificationSetting, in NotificationSettingUpdate, name string) error {
	if in.Enabled != nil {
		dst.Enabled = *in.Enabled
	}
	if in.Template != nil {
		if err := checkLen(name+".Template", *in.Template, MaxNotificationTemplateLen, 50058); err != nil {
			return err
		}
		dst.Template = emptyToNil(*in.Template)
	}
	if in.Sound != nil {
		if err := checkLen(name+".Sound", *in.Sound, MaxNotificationSoundLen, 50059); err != nil {
			return err
		}
		dst.Sound = emptyToNil(*in.Sound)
	}
	return nil
}

// UpdateServiceNotifications changes the notification settings of the scope's service. They
// are stored and returned; Parley sends no push notifications.
// Errors: 20404, 50058 (template over 1024 characters), 50059 (sound over 256 characters).
func (s *Service) UpdateServiceNotifications(ctx context.Context, sc Scope, in NotificationsUpdate) (*ServiceNotificationsResult, error) {
	svc, err := s.ResolveService(ctx, sc)
	if err != nil {
		return nil, err
	}
	var out *ServiceNotifications
	err = s.store.WithTx(ctx, func(tx Store) error {
		n, err := tx.GetServiceNotifications(ctx, svc.Sid)
		if errors.Is(err, ErrNotFound) {
			n = &ServiceNotifications{ServiceSid: svc.Sid}
		} else if err != nil {
			return err
		}
		if in.LogEnabled != nil {
			n.LogEnabled = *in.LogEnabled
		}
		if in.NewMessageBadgeCount != nil {
			n.NewMessageBadgeCount = *in.NewMessageBadgeCount
		}
		for _, x := range []struct {
			dst  *NotificationSetting
			in   NotificationSettingUpdate
			name string
		}{
			{&n.NewMessage, in.NewMessage, "NewMessage"},
			{&n.NewMessageWithMedia, NotificationSettingUpdate{Enabled: in.NewMessageWithMedia.Enabled, Template: in.NewMessageWithMedia.Template}, "NewMessage.WithMedia"},
			{&n.AddedToConversation, in.AddedToConversation, "AddedToConversation"},
			{&n.RemovedFromConversation, in.RemovedFromConversation, "RemovedFromConversation"},
		} {
			if err := applySetting(x.dst, x.in, x.name); err != nil {
				return err
			}
		}
		if err := tx.PutServiceNotifications(ctx, n); err != nil {
			return err
		}
		out = n
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ServiceNotificationsResult{AccountSid: svc.AccountSid, ServiceNotifications: out}, nil
}

// ParseBool parses a form boolean the way the SDKs send them ("true"/"false", any case).
// Error: 20422 naming the parameter.
func ParseBool(name, v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, invalid(20422, "Invalid Parameter: %s must be true or false, not %q", name, v)
}
