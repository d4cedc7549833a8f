package aim

import (
	"context"
	"net/http"
	"slices"

	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/gateway"
)

// SDK users act under Twilio's roles: the permissions of their service role (the user's role,
// else the service's default chat service role) and, inside a conversation they take part in,
// those of their conversation role (the participant's role, else the service's default
// conversation role). The REST API, acting for the application, is not restricted.

func forbidden() *gateway.Response {
	return gateway.ErrorResponse(http.StatusForbidden, 50107, "User not authorized to perform the requested action")
}

// perms is what the caller may do, and their participant in the conversation (nil when
// they are not one).
type perms struct {
	set map[string]bool
	me  *conv.Participant
}

func (p perms) has(names ...string) bool {
	for _, n := range names {
		if !p.set[n] {
			return false
		}
	}
	return true
}

func (a *API) rolePerms(ctx context.Context, c *call, roleSid string, into map[string]bool) error {
	if roleSid == "" {
		return nil
	}
	r, err := a.svc.FetchRole(ctx, c.sc, roleSid)
	if err != nil {
		return err
	}
	for _, p := range r.Permissions {
		into[p] = true
	}
	return nil
}

// permsIn returns the caller's permissions, in conversation convRef when it is not "".
func (a *API) permsIn(ctx context.Context, c *call, convRef string) (perms, *gateway.Response) {
	out := perms{set: map[string]bool{}}
	cfg, err := a.svc.ServiceConfig(ctx, c.sc)
	if err != nil {
		return out, fail(err)
	}
	role := cfg.DefaultChatServiceRoleSid
	if u, err := a.svc.FetchUser(ctx, c.sc, c.p.Identity); err == nil && u.RoleSid != "" {
		role = u.RoleSid
	}
	if err := a.rolePerms(ctx, c, role, out.set); err != nil {
		return out, fail(err)
	}
	if convRef == "" {
		return out, nil
	}
	me, err := a.svc.FetchParticipant(ctx, c.sc, convRef, c.p.Identity)
	if err != nil {
		if _, err := a.svc.FetchConversation(ctx, c.sc, convRef); err != nil {
			return out, fail(err) // unknown conversation: 404
		}
		return out, nil
	}
	out.me = me
	role = cfg.DefaultConversationRoleSid
	if me.RoleSid != "" {
		role = me.RoleSid
	}
	if err := a.rolePerms(ctx, c, role, out.set); err != nil {
		return out, fail(err)
	}
	return out, nil
}

// require answers 403 unless the caller has every permission named in convRef.
func (a *API) require(ctx context.Context, c *call, convRef string, names ...string) *gateway.Response {
	p, bad := a.permsIn(ctx, c, convRef)
	if bad != nil {
		return bad
	}
	if !p.has(names...) {
		return forbidden()
	}
	return nil
}

// requireMember answers 403 unless the caller takes part in convRef and has every
// permission named there.
func (a *API) requireMember(ctx context.Context, c *call, convRef string, names ...string) *gateway.Response {
	p, bad := a.permsIn(ctx, c, convRef)
	if bad != nil {
		return bad
	}
	if p.me == nil || !p.has(names...) {
		return forbidden()
	}
	return nil
}

// requireOnMessage checks an edit or delete of message sid: own messages need own, others'
// need any.
func (a *API) requireOnMessage(ctx context.Context, c *call, convRef, sid string, own, any []string) *gateway.Response {
	p, bad := a.permsIn(ctx, c, convRef)
	if bad != nil {
		return bad
	}
	m, err := a.svc.FetchMessage(ctx, c.sc, convRef, sid)
	if err != nil {
		return fail(err)
	}
	need := any
	if m.Author == c.p.Identity {
		need = own
	}
	if p.me == nil || !p.has(need...) {
		return forbidden()
	}
	return nil
}

// isSelf reports whether participant ref (SID or identity) of convRef is the caller.
func (a *API) isSelf(ctx context.Context, c *call, convRef, ref string) (bool, *gateway.Response) {
	if ref == c.p.Identity {
		return true, nil
	}
	p, err := a.svc.FetchParticipant(ctx, c.sc, convRef, ref)
	if err != nil {
		return false, fail(err)
	}
	return p.Identity != nil && *p.Identity == c.p.Identity, nil
}

func appendIf(xs []string, cond bool, x string) []string {
	if cond && !slices.Contains(xs, x) {
		return append(xs, x)
	}
	return xs
}
