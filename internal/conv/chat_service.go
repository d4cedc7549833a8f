package conv

import (
	"context"
	"errors"
)

// Conversation Services (IS...): each account has a default one.

// defaultServiceTx returns the account's default service, creating it (with its roles and
// configuration) when the account has none or it was deleted.
func (s *Service) defaultServiceTx(ctx context.Context, tx Store, a *Account) (*ChatService, error) {
	if a.DefaultServiceSid != "" {
		svc, err := tx.GetService(ctx, a.Sid, a.DefaultServiceSid)
		if err == nil {
			return svc, nil
		}
		if !errors.Is(err, ErrNotFound) {
			return nil, err
		}
	}
	svc, err := s.createServiceTx(ctx, tx, a.Sid, "Default Conversations Service")
	if err != nil {
		return nil, err
	}
	if err := tx.SetAccountDefaultService(ctx, a.Sid, svc.Sid); err != nil {
		return nil, err
	}
	a.DefaultServiceSid = svc.Sid
	return svc, nil
}

// Permissions Twilio defines for each role type.
var (
	ServicePermissions = []string{"addParticipant", "createConversation", "deleteAnyMessage", "deleteConversation",
		"editAnyMessage", "editAnyMessageAttributes", "editAnyUserInfo", "editConversationAttributes",
		"editConversationName", "editOwnMessage", "editOwnMessageAttributes", "editOwnUserInfo",
		"joinConversation", "removeParticipant"}
	ConversationPermissions = []string{"addParticipant", "deleteAnyMessage", "deleteOwnMessage", "deleteConversation",
		"editAnyMessage", "editAnyMessageAttributes", "editAnyUserInfo", "editConversationAttributes",
		"editConversationName", "editOwnMessage", "editOwnMessageAttributes", "editOwnUserInfo",
		"leaveConversation", "removeParticipant", "sendMediaMessage", "sendMessage"}
)

// defaultRoles are the roles every new service gets (Programmable Chat heritage names).
var defaultRoles = []struct {
	name, typ string
	perms     []string
}{
	{"channel admin", RoleTypeConversation, ConversationPermissions},
	{"channel user", RoleTypeConversation, []string{"sendMessage", "sendMediaMessage", "leaveConversation",
		"editOwnMessage", "editOwnMessageAttributes", "deleteOwnMessage", "editOwnUserInfo"}},
	{"service admin", RoleTypeService, ServicePermissions},
	{"service user", RoleTypeService, []string{"createConversation", "joinConversation", "editOwnUserInfo"}},
}

func (s *Service) createServiceTx(ctx context.Context, tx Store, accountSid, name string) (*ChatService, error) {
	now := s.clock()
	svc := &ChatService{Sid: s.sids.New(PrefixService), AccountSid: accountSid, FriendlyName: name, DateCreated: now, DateUpdated: now}
	if err := tx.CreateService(ctx, svc); err != nil {
		return nil, err
	}
	sids := make([]string, len(defaultRoles))
	for i, d := range defaultRoles {
		r := &Role{Sid: s.sids.New(PrefixRole), AccountSid: accountSid, ServiceSid: svc.Sid, FriendlyName: d.name,
			Type: d.typ, Permissions: append([]string(nil), d.perms...), Builtin: true, DateCreated: now, DateUpdated: now}
		if err := tx.CreateRole(ctx, r); err != nil {
			return nil, err
		}
		sids[i] = r.Sid
	}
	cfg := &ServiceConfig{ServiceSid: svc.Sid, DefaultConversationCreatorRoleSid: sids[0],
		DefaultConversationRoleSid: sids[1], DefaultChatServiceRoleSid: sids[3]}
	if err := tx.PutServiceConfig(ctx, cfg); err != nil {
		return nil, err
	}
	return svc, nil
}

// CreateService creates a Conversation Service with Twilio's default roles and configuration.
// Errors: 20001 when friendlyName is missing, 50003 when it is over 256 characters.
func (s *Service) CreateService(ctx context.Context, accountSid string, friendlyName *string) (*ChatService, error) {
	if friendlyName == nil || *friendlyName == "" {
		return nil, invalid(20001, "Missing required parameter FriendlyName in the post body")
	}
	if err := checkLen("FriendlyName", *friendlyName, MaxFriendlyNameLen, 50003); err != nil {
		return nil, err
	}
	var out *ChatService
	err := s.store.WithTx(ctx, func(tx Store) error {
		svc, err := s.createServiceTx(ctx, tx, accountSid, *friendlyName)
		out = svc
		return err
	})
	return out, err
}

// ResolveService returns the service a scope names: its ServiceSid, or the account's default
// service (created on first use). Errors: 20404 when the service is not the account's. The
// answer is reused for up to Options.LookupCacheTTL.
func (s *Service) ResolveService(ctx context.Context, sc Scope) (*ChatService, error) {
	if svc, ok := s.cache.service(sc); ok {
		return svc, nil
	}
	gen := s.cache.generation()
	svc, err := s.resolveService(ctx, sc)
	if err == nil {
		s.cache.putService(gen, sc, svc)
	}
	return svc, err
}

func (s *Service) resolveService(ctx context.Context, sc Scope) (*ChatService, error) {
	if sc.ServiceSid != "" {
		if !IsSID(PrefixService, sc.ServiceSid) {
			return nil, NotFound()
		}
		svc, err := s.store.GetService(ctx, sc.AccountSid, sc.ServiceSid)
		return svc, mapStoreErr(err)
	}
	a, err := s.store.GetAccount(ctx, sc.AccountSid)
	if err != nil {
		return nil, mapStoreErr(err)
	}
	if a.DefaultServiceSid != "" {
		svc, err := s.store.GetService(ctx, a.Sid, a.DefaultServiceSid)
		if err == nil {
			return svc, nil
		}
		if !errors.Is(err, ErrNotFound) {
			return nil, err
		}
	}
	var out *ChatService
	err = s.store.WithTx(ctx, func(tx Store) error {
		a, err := tx.GetAccount(ctx, sc.AccountSid)
		if err != nil {
			return mapStoreErr(err)
		}
		out, err = s.defaultServiceTx(ctx, tx, a)
		return err
	})
	return out, err
}

// FetchService returns one of the account's services. Errors: 20404.
func (s *Service) FetchService(ctx context.Context, accountSid, sid string) (*ChatService, error) {
	return s.ResolveService(ctx, Scope{AccountSid: accountSid, ServiceSid: sid})
}

// ListServices returns one page of the account's services.
func (s *Service) ListServices(ctx context.Context, accountSid string, q PageQuery) ([]*ChatService, error) {
	return s.store.ListServices(ctx, accountSid, q)
}

// DeleteService deletes a service with everything in it. Deleting the default service is
// allowed; a new default is created on next use. Errors: 20404.
func (s *Service) DeleteService(ctx context.Context, accountSid, sid string) error {
	if !IsSID(PrefixService, sid) {
		return NotFound()
	}
	return mapStoreErr(s.store.WithTx(ctx, func(tx Store) error {
		return tx.DeleteService(ctx, accountSid, sid)
	}))
}

// ServiceConfig returns the configuration of the scope's service. Errors: 20404.
func (s *Service) ServiceConfig(ctx context.Context, sc Scope) (*ServiceConfig, error) {
	svc, err := s.ResolveService(ctx, sc)
	if err != nil {
		return nil, err
	}
	cfg, err := s.store.GetServiceConfig(ctx, svc.Sid)
	return cfg, mapStoreErr(err)
}
