package conv

import (
	"context"
	"errors"
	"slices"
)

// RoleCreate are the form fields of role create; nil means absent.
type RoleCreate struct {
	FriendlyName *string
	Type         *string
	Permissions  []string // the repeated Permission parameter
}

// permissionsFor returns the permission names Twilio defines for a role type.
func permissionsFor(typ string) []string {
	if typ == RoleTypeService {
		return ServicePermissions
	}
	return ConversationPermissions
}

// validatePermissions checks the Permission values against the role type and returns them
// without duplicates, in the order given. Errors: 20001 (none given), 50104 (unknown for the
// type).
func validatePermissions(typ string, perms []string) ([]string, error) {
	if len(perms) == 0 {
		return nil, invalid(20001, "Missing required parameter Permission in the post body")
	}
	allowed := permissionsFor(typ)
	out := make([]string, 0, len(perms))
	for _, p := range perms {
		if !slices.Contains(allowed, p) {
			return nil, invalid(50104, "Permission not found: %q is not a permission of %s roles", p, typ)
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out, nil
}

// CreateRole creates a role in the scope's service.
// Errors: 20404 (service), 20001 (FriendlyName, Type or Permission missing), 50003 (name over
// 64 characters), 50105 (Type not conversation or service), 50104 (unknown permission).
func (s *Service) CreateRole(ctx context.Context, sc Scope, in RoleCreate) (*Role, error) {
	if in.FriendlyName == nil || *in.FriendlyName == "" {
		return nil, invalid(20001, "Missing required parameter FriendlyName in the post body")
	}
	if err := checkLen("FriendlyName", *in.FriendlyName, MaxRoleNameLen, 50003); err != nil {
		return nil, err
	}
	if in.Type == nil || *in.Type == "" {
		return nil, invalid(20001, "Missing required parameter Type in the post body")
	}
	typ := *in.Type
	if typ != RoleTypeConversation && typ != RoleTypeService {
		return nil, invalid(50105, "Invalid role type: %q (conversation or service)", typ)
	}
	perms, err := validatePermissions(typ, in.Permissions)
	if err != nil {
		return nil, err
	}
	svc, err := s.ResolveService(ctx, sc)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	r := &Role{Sid: s.sids.New(PrefixRole), AccountSid: svc.AccountSid, ServiceSid: svc.Sid, FriendlyName: *in.FriendlyName,
		Type: typ, Permissions: perms, DateCreated: now, DateUpdated: now}
	err = s.store.WithTx(ctx, func(tx Store) error { return tx.CreateRole(ctx, r) })
	if err != nil {
		return nil, err
	}
	return r, nil
}

// UpdateRole replaces the permissions of a role of the scope's service (Twilio's update
// replaces the whole set). Errors: 20404, 20001 (no Permission), 50104 (unknown permission).
func (s *Service) UpdateRole(ctx context.Context, sc Scope, sid string, perms []string) (*Role, error) {
	svc, err := s.ResolveService(ctx, sc)
	if err != nil {
		return nil, err
	}
	if !IsSID(PrefixRole, sid) {
		return nil, NotFound()
	}
	var out *Role
	err = s.store.WithTx(ctx, func(tx Store) error {
		r, err := tx.GetRole(ctx, svc.Sid, sid)
		if err != nil {
			return mapStoreErr(err)
		}
		p, err := validatePermissions(r.Type, perms)
		if err != nil {
			return err
		}
		r.Permissions, r.DateUpdated = p, s.clock()
		if err := tx.UpdateRole(ctx, r); err != nil {
			return mapStoreErr(err)
		}
		out = r
		return nil
	})
	return out, err
}

// DeleteRole deletes a role of the scope's service. A role that is in use cannot be deleted:
// a built-in role, a role the service configuration names as a default, or a role a
// participant or a user holds. Errors: 20404, 20409 (409, in use).
func (s *Service) DeleteRole(ctx context.Context, sc Scope, sid string) error {
	svc, err := s.ResolveService(ctx, sc)
	if err != nil {
		return err
	}
	if !IsSID(PrefixRole, sid) {
		return NotFound()
	}
	return s.store.WithTx(ctx, func(tx Store) error {
		r, err := tx.GetRole(ctx, svc.Sid, sid)
		if err != nil {
			return mapStoreErr(err)
		}
		// The write lock waits for transactions assigning the role (they share-lock it) and
		// makes later ones find it gone.
		if err := tx.LockRole(ctx, sid); err != nil {
			return mapStoreErr(err)
		}
		inUse := func(why string) error {
			return Errorf(KindConflict, 20409, "Conflict: role %s cannot be deleted: %s", sid, why)
		}
		if r.Builtin {
			return inUse("it is one of the roles every service is created with")
		}
		cfg, err := tx.GetServiceConfig(ctx, svc.Sid)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		if cfg != nil && (cfg.DefaultConversationRoleSid == sid || cfg.DefaultConversationCreatorRoleSid == sid || cfg.DefaultChatServiceRoleSid == sid) {
			return inUse("the service configuration names it as a default role")
		}
		assigned, err := tx.RoleAssigned(ctx, sid)
		if err != nil {
			return err
		}
		if assigned {
			return inUse("participants or users hold it")
		}
		return mapStoreErr(tx.DeleteRole(ctx, svc.Sid, sid))
	})
}

// FetchRole returns a role of the scope's service. Errors: 20404.
func (s *Service) FetchRole(ctx context.Context, sc Scope, sid string) (*Role, error) {
	svc, err := s.ResolveService(ctx, sc)
	if err != nil {
		return nil, err
	}
	if !IsSID(PrefixRole, sid) {
		return nil, NotFound()
	}
	r, err := s.store.GetRole(ctx, svc.Sid, sid)
	return r, mapStoreErr(err)
}

// ListRoles returns one page of the scope's service roles.
func (s *Service) ListRoles(ctx context.Context, sc Scope, q PageQuery) ([]*Role, error) {
	svc, err := s.ResolveService(ctx, sc)
	if err != nil {
		return nil, err
	}
	return s.store.ListRoles(ctx, svc.Sid, q)
}
