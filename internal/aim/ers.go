package aim

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/gateway"
)

// The push registrar (host label "ers"), which @twilio/notifications calls over the socket
// when the app sets or removes a device token (client.setPushRegistrationId,
// unsetPushRegistrationId, removePushRegistrations):
//
//	POST   /v1/registrations?productId=ip_messaging       {channel_type, message_types, data:{registration_id}, …}
//	DELETE /v1/registrations/{id}?productId=ip_messaging  the registration the socket made
//	DELETE /v1/registrations?productId=ip_messaging       {binding_type, address}: every binding of that device
//
// A registration is a Conversations push binding (conv.RegisterPushBinding) of the socket's
// identity and service, with the access token's push_credential_sid; its id is the binding
// SID. The requests carry no token of their own: the socket's principal is the caller.

func (a *API) registerERS(rt *gateway.Router) {
	h := func(f func(context.Context, *call) *gateway.Response) gateway.Upstream {
		return gateway.UpstreamFunc(func(ctx context.Context, r *gateway.Request) *gateway.Response {
			if r.Principal.ServiceSid == "" {
				return gateway.ErrorResponse(http.StatusForbidden, 20403, "Forbidden: the access token has no chat grant")
			}
			return a.serve(ctx, r, f)
		})
	}
	rt.Handle("POST", "ers", "/v1/registrations", h(a.createRegistration))
	rt.Handle("DELETE", "ers", "/v1/registrations", h(a.removeDeviceRegistrations))
	rt.Handle("DELETE", "ers", "/v1/registrations/{id}", h(a.removeRegistration))
}

func (a *API) createRegistration(ctx context.Context, c *call) *gateway.Response {
	in := conv.PushRegistration{Identity: c.p.Identity, CredentialSid: c.p.PushCredentialSid}
	ct, ok := c.str("channel_type")
	if !ok || ct == nil {
		return badField("channel_type")
	}
	in.BindingType = *ct
	if raw, found := c.body["message_types"]; found && string(raw) != "null" {
		if err := json.Unmarshal(raw, &in.MessageTypes); err != nil {
			return badField("message_types")
		}
		if in.MessageTypes == nil {
			in.MessageTypes = []string{}
		}
	}
	var data struct {
		RegistrationID string `json:"registration_id"`
	}
	if raw, found := c.body["data"]; found {
		if err := json.Unmarshal(raw, &data); err != nil {
			return badField("data")
		}
	}
	in.Address = data.RegistrationID
	b, err := a.svc.RegisterPushBinding(ctx, c.sc, in)
	if err != nil {
		return fail(err)
	}
	return gateway.JSONResponse(http.StatusCreated, map[string]any{"id": b.Sid, "channel_type": b.BindingType, "message_types": b.MessageTypes})
}

func (a *API) removeRegistration(ctx context.Context, c *call) *gateway.Response {
	if err := a.svc.RemovePushRegistration(ctx, c.sc, c.p.Identity, c.param("id")); err != nil {
		return fail(err)
	}
	return &gateway.Response{Status: http.StatusNoContent}
}

func (a *API) removeDeviceRegistrations(ctx context.Context, c *call) *gateway.Response {
	bt, ok := c.str("binding_type")
	if !ok || bt == nil {
		return badField("binding_type")
	}
	addr, ok := c.str("address")
	if !ok || addr == nil {
		return badField("address")
	}
	if _, err := a.svc.RemovePushRegistrations(ctx, c.sc, *bt, *addr); err != nil {
		return fail(err)
	}
	return &gateway.Response{Status: http.StatusNoContent}
}
