package conv

import (
	"context"
	"slices"
	"strings"
)

// MaxCredentialNameLen is the longest credential friendly name, in characters.
const MaxCredentialNameLen = 64

// CredentialParams are the form fields of credential create and update; nil means absent.
type CredentialParams struct {
	Type         *string
	FriendlyName *string
	Certificate  *string
	PrivateKey   *string
	Sandbox      *string
	APIKey       *string
	Secret       *string
}

// applyCredentialParams validates in and writes it onto c, then checks that c has the secrets
// its type needs. Errors: 20422 (Type, Sandbox), 50003 (name over 64 characters), 20001 (a
// secret the type needs is missing).
func applyCredentialParams(c *Credential, in CredentialParams) error {
	if in.Type != nil {
		t := strings.ToLower(*in.Type)
		if t != CredentialAPN && t != CredentialGCM && t != CredentialFCM {
			return badParam("Type must be apn, gcm or fcm, not %q", *in.Type)
		}
		c.Type = t
	}
	if in.FriendlyName != nil {
		if err := checkLen("FriendlyName", *in.FriendlyName, MaxCredentialNameLen, 50003); err != nil {
			return err
		}
		c.FriendlyName = emptyToNil(*in.FriendlyName)
	}
	if in.Sandbox != nil {
		b, err := ParseBool("Sandbox", *in.Sandbox)
		if err != nil {
			return err
		}
		c.Sandbox = b
	}
	for _, f := range []struct {
		in  *string
		dst *string
	}{{in.Certificate, &c.Certificate}, {in.PrivateKey, &c.PrivateKey}, {in.APIKey, &c.APIKey}, {in.Secret, &c.Secret}} {
		if f.in != nil {
			*f.dst = *f.in
		}
	}
	missing := func(param, what string) error {
		return invalid(20001, "Missing required parameter %s: %s credentials need %s", param, c.Type, what)
	}
	switch c.Type {
	case CredentialAPN:
		if c.Certificate == "" {
			return missing("Certificate", "a certificate and a private key")
		}
		if c.PrivateKey == "" {
			return missing("PrivateKey", "a certificate and a private key")
		}
	case CredentialGCM:
		if c.APIKey == "" {
			return missing("ApiKey", "an API key")
		}
	case CredentialFCM:
		if c.Secret == "" {
			return missing("Secret", "the server key (Secret)")
		}
	}
	return nil
}

// CreateCredential creates a push credential (CR) in the account. Its secrets are stored and
// never returned. Errors: 20001 (Type missing, or a secret the type needs), 20422, 50003.
func (s *Service) CreateCredential(ctx context.Context, accountSid string, in CredentialParams) (*Credential, error) {
	if in.Type == nil || *in.Type == "" {
		return nil, invalid(20001, "Missing required parameter Type in the post body")
	}
	now := s.clock()
	c := &Credential{Sid: s.sids.New(PrefixCredential), AccountSid: accountSid, DateCreated: now, DateUpdated: now}
	if err := applyCredentialParams(c, in); err != nil {
		return nil, err
	}
	if err := s.store.WithTx(ctx, func(tx Store) error { return tx.CreateCredential(ctx, c) }); err != nil {
		return nil, err
	}
	return c, nil
}

// FetchCredential returns one of the account's credentials. Errors: 20404.
func (s *Service) FetchCredential(ctx context.Context, accountSid, sid string) (*Credential, error) {
	if !IsSID(PrefixCredential, sid) {
		return nil, NotFound()
	}
	c, err := s.store.GetCredential(ctx, accountSid, sid)
	return c, mapStoreErr(err)
}

// ListCredentials returns one page of the account's credentials.
func (s *Service) ListCredentials(ctx context.Context, accountSid string, q PageQuery) ([]*Credential, error) {
	return s.store.ListCredentials(ctx, accountSid, q)
}

// UpdateCredential changes a credential; changing its Type requires the secrets of the new
// type (given now or stored before). Errors: 20404, and those of CreateCredential.
func (s *Service) UpdateCredential(ctx context.Context, accountSid, sid string, in CredentialParams) (*Credential, error) {
	if !IsSID(PrefixCredential, sid) {
		return nil, NotFound()
	}
	var out *Credential
	err := s.store.WithTx(ctx, func(tx Store) error {
		c, err := tx.GetCredential(ctx, accountSid, sid)
		if err != nil {
			return mapStoreErr(err)
		}
		if err := applyCredentialParams(c, in); err != nil {
			return err
		}
		c.DateUpdated = s.clock()
		if err := tx.UpdateCredential(ctx, c); err != nil {
			return mapStoreErr(err)
		}
		out = c
		return nil
	})
	return out, err
}

// DeleteCredential deletes a credential. Errors: 20404.
func (s *Service) DeleteCredential(ctx context.Context, accountSid, sid string) error {
	if !IsSID(PrefixCredential, sid) {
		return NotFound()
	}
	return mapStoreErr(s.store.WithTx(ctx, func(tx Store) error { return tx.DeleteCredential(ctx, accountSid, sid) }))
}

// ---- push bindings ----

// ListPushBindings returns one page of the push bindings of the scope's service, restricted
// to the given binding types (any case) and identities when those are not empty.
// Errors: 20404 (service), 20422 (unknown binding type).
func (s *Service) ListPushBindings(ctx context.Context, sc Scope, f PushBindingFilter, q PageQuery) ([]*PushBinding, error) {
	svc, err := s.ResolveService(ctx, sc)
	if err != nil {
		return nil, err
	}
	types := make([]string, 0, len(f.BindingTypes))
	for _, t := range f.BindingTypes {
		t = strings.ToLower(t)
		if !slices.Contains(PushBindingTypes, t) {
			return nil, badParam("BindingType must be one of %s, not %q", strings.Join(PushBindingTypes, ", "), t)
		}
		types = append(types, t)
	}
	f.BindingTypes = types
	return s.store.ListPushBindings(ctx, svc.Sid, f, q)
}

// FetchPushBinding returns a push binding of the scope's service. Errors: 20404.
func (s *Service) FetchPushBinding(ctx context.Context, sc Scope, sid string) (*PushBinding, error) {
	svc, err := s.ResolveService(ctx, sc)
	if err != nil {
		return nil, err
	}
	if !IsSID(PrefixPushBinding, sid) {
		return nil, NotFound()
	}
	b, err := s.store.GetPushBinding(ctx, svc.Sid, sid)
	return b, mapStoreErr(err)
}

// DeletePushBinding deletes a push binding of the scope's service. Errors: 20404.
func (s *Service) DeletePushBinding(ctx context.Context, sc Scope, sid string) error {
	svc, err := s.ResolveService(ctx, sc)
	if err != nil {
		return err
	}
	if !IsSID(PrefixPushBinding, sid) {
		return NotFound()
	}
	return mapStoreErr(s.store.WithTx(ctx, func(tx Store) error { return tx.DeletePushBinding(ctx, svc.Sid, sid) }))
}
