package conv

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Webhook events an auto-created conversation's webhook may filter on.
var AutoCreationWebhookFilters = []string{"onMessageAdded", "onMessageUpdated", "onMessageRemoved", "onConversationUpdated",
	"onConversationStateUpdated", "onConversationRemoved", "onParticipantAdded", "onParticipantUpdated", "onParticipantRemoved",
	"onDeliveryUpdated"}

// MaxStudioRetryCount is the largest AutoCreation.StudioRetryCount accepted.
const MaxStudioRetryCount = 3

// AddressConfigParams are the form fields of address configuration create and update; nil
// means absent. Type, Address and AddressCountry are create-only.
type AddressConfigParams struct {
	Type             *string
	Address          *string
	FriendlyName     *string
	AddressCountry   *string
	Enabled          *string // AutoCreation.Enabled
	AutoType         *string // AutoCreation.Type
	ServiceSid       *string // AutoCreation.ConversationServiceSid
	WebhookURL       *string
	WebhookMethod    *string
	WebhookFilters   []string // nil: absent
	StudioFlowSid    *string
	StudioRetryCount *string
}

func badParam(format string, args ...any) error {
	return invalid(20422, "Invalid Parameter: "+format, args...)
}

// validWebhookURL reports whether u is an absolute http(s) URL.
func validWebhookURL(u string) bool {
	p, err := url.Parse(u)
	return err == nil && (p.Scheme == "http" || p.Scheme == "https") && p.Host != "" && utf8.RuneCountInString(u) <= 1024
}

// applyAddressParams validates in and writes it onto a (the account is a.AccountSid), reading
// through st.
// Errors: 50003, 20422, 50050, 20001 (webhook URL or flow SID missing for its type).
func (s *Service) applyAddressParams(ctx context.Context, st Store, a *AddressConfig, in AddressConfigParams) error {
	ac := &a.AutoCreation
	if in.FriendlyName != nil {
		if err := checkLen("FriendlyName", *in.FriendlyName, MaxFriendlyNameLen, 50003); err != nil {
			return err
		}
		a.FriendlyName = emptyToNil(*in.FriendlyName)
	}
	if in.Enabled != nil {
		b, err := ParseBool("AutoCreation.Enabled", *in.Enabled)
		if err != nil {
			return err
		}
		ac.Enabled = b
	}
	if in.AutoType != nil {
		t := strings.ToLower(*in.AutoType)
		if t != AutoCreationWebhook && t != AutoCreationStudio && t != AutoCreationDefault {
			return badParam("AutoCreation.Type must be webhook, studio or default, not %q", *in.AutoType)
		}
		ac.Type = t
	}
	if in.ServiceSid != nil {
		if v := *in.ServiceSid; v != "" {
			if !IsSID(PrefixService, v) {
				return badParam("AutoCreation.ConversationServiceSid must match ^IS[0-9a-fA-F]{32}$, not %q", v)
			}
			if _, err := st.GetService(ctx, a.AccountSid, v); errors.Is(err, ErrNotFound) {
				return invalid(50050, "Service Instance not found: %s is not a Conversation Service of this account", v)
			} else if err != nil {
				return err
			}
		}
		ac.ServiceSid = *in.ServiceSid
	}
	if in.WebhookURL != nil {
		if v := *in.WebhookURL; v != "" && !validWebhookURL(v) {
			return badParam("AutoCreation.WebhookUrl must be an absolute http or https URL of at most 1024 characters, not %q", v)
		}
		ac.WebhookURL = *in.WebhookURL
	}
	if in.WebhookMethod != nil {
		m := strings.ToUpper(*in.WebhookMethod)
		if m != "GET" && m != "POST" && m != "" {
			return badParam("AutoCreation.WebhookMethod must be get or post, not %q", *in.WebhookMethod)
		}
		ac.WebhookMethod = m
	}
	if in.WebhookFilters != nil {
		var fs []string
		for _, f := range in.WebhookFilters {
			if !slices.Contains(AutoCreationWebhookFilters, f) {
				return badParam("AutoCreation.WebhookFilters: %q is not a webhook event (%s)", f, strings.Join(AutoCreationWebhookFilters, ", "))
			}
			if !slices.Contains(fs, f) {
				fs = append(fs, f)
			}
		}
		ac.WebhookFilters = fs
	}
	if in.StudioFlowSid != nil {
		if v := *in.StudioFlowSid; v != "" && !IsSID("FW", v) {
			return badParam("AutoCreation.StudioFlowSid must match ^FW[0-9a-fA-F]{32}$, not %q", v)
		}
		ac.StudioFlowSid = *in.StudioFlowSid
	}
	if in.StudioRetryCount != nil {
		n, err := strconv.ParseInt(strings.TrimSpace(*in.StudioRetryCount), 10, 64)
		if err != nil || n < 0 || n > MaxStudioRetryCount {
			return badParam("AutoCreation.StudioRetryCount must be an integer from 0 to %d, not %q", MaxStudioRetryCount, *in.StudioRetryCount)
		}
		ac.StudioRetryCount = &n
	}
	switch {
	case ac.Type == AutoCreationWebhook && ac.WebhookURL == "":
		return invalid(20001, "Missing required parameter AutoCreation.WebhookUrl: auto-creation type webhook needs a webhook URL")
	case ac.Type == AutoCreationStudio && ac.StudioFlowSid == "":
		return invalid(20001, "Missing required parameter AutoCreation.StudioFlowSid: auto-creation type studio needs a Studio flow")
	}
	return nil
}

// CreateAddressConfig creates an address configuration (IG) in the account. Type is one of
// AddressTypes (any case); auto-creation is off, of type default, unless set.
// Errors: 20001 (Type or Address missing), 20422 (bad Type, Address, AddressCountry or
// AutoCreation.* value), 50003, 50050, 20409 (409, the account already configures that
// address for that type).
func (s *Service) CreateAddressConfig(ctx context.Context, accountSid string, in AddressConfigParams) (*AddressConfig, error) {
	if in.Type == nil || *in.Type == "" {
		return nil, invalid(20001, "Missing required parameter Type in the post body")
	}
	if in.Address == nil || *in.Address == "" {
		return nil, invalid(20001, "Missing required parameter Address in the post body")
	}
	typ := strings.ToLower(*in.Type)
	if !slices.Contains(AddressTypes, typ) {
		return nil, badParam("Type must be one of %s, not %q", strings.Join(AddressTypes, ", "), *in.Type)
	}
	addr := *in.Address
	if utf8.RuneCountInString(addr) > MaxAddressLen || strings.ContainsAny(addr, " \t\r\n") || !utf8.ValidString(addr) {
		return nil, badParam("Address must be at most %d characters without spaces, not %q", MaxAddressLen, addr)
	}
	now := s.clock()
	a := &AddressConfig{Sid: s.sids.New(PrefixAddressConfig), AccountSid: accountSid, Type: typ, Address: addr,
		AutoCreation: AutoCreation{Type: AutoCreationDefault}, DateCreated: now, DateUpdated: now}
	if in.AddressCountry != nil && *in.AddressCountry != "" {
		c := strings.ToUpper(*in.AddressCountry)
		if len(c) != 2 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z' {
			return nil, badParam("AddressCountry must be an ISO 3166-1 alpha-2 country code, not %q", *in.AddressCountry)
		}
		a.AddressCountry = &c
	}
	if err := s.applyAddressParams(ctx, s.store, a, in); err != nil {
		return nil, err
	}
	err := s.store.WithTx(ctx, func(tx Store) error {
		if err := tx.CreateAddressConfig(ctx, a); errors.Is(err, ErrConflict) {
			return Errorf(KindConflict, 20409, "Conflict: an address configuration for %s address %s already exists", typ, addr)
		} else if err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// FetchAddressConfig returns one of the account's address configurations. Errors: 20404.
func (s *Service) FetchAddressConfig(ctx context.Context, accountSid, sid string) (*AddressConfig, error) {
	if !IsSID(PrefixAddressConfig, sid) {
		return nil, NotFound()
	}
	a, err := s.store.GetAddressConfig(ctx, accountSid, sid)
	return a, mapStoreErr(err)
}

// ListAddressConfigs returns one page of the account's address configurations, of type typ
// (any case) unless it is "". Errors: 20422 (unknown type).
func (s *Service) ListAddressConfigs(ctx context.Context, accountSid, typ string, q PageQuery) ([]*AddressConfig, error) {
	typ = strings.ToLower(typ)
	if typ != "" && !slices.Contains(AddressTypes, typ) {
		return nil, badParam("Type must be one of %s, not %q", strings.Join(AddressTypes, ", "), typ)
	}
	return s.store.ListAddressConfigs(ctx, accountSid, typ, q)
}

// UpdateAddressConfig changes an address configuration's friendly name and auto-creation
// settings. Errors: 20404, and those of CreateAddressConfig's AutoCreation.* checks.
func (s *Service) UpdateAddressConfig(ctx context.Context, accountSid, sid string, in AddressConfigParams) (*AddressConfig, error) {
	if !IsSID(PrefixAddressConfig, sid) {
		return nil, NotFound()
	}
	in.Type, in.Address, in.AddressCountry = nil, nil, nil
	var out *AddressConfig
	err := s.store.WithTx(ctx, func(tx Store) error {
		a, err := tx.GetAddressConfig(ctx, accountSid, sid)
		if err != nil {
			return mapStoreErr(err)
		}
		if err := s.applyAddressParams(ctx, tx, a, in); err != nil {
			return err
		}
		a.DateUpdated = s.clock()
		if err := tx.UpdateAddressConfig(ctx, a); err != nil {
			return mapStoreErr(err)
		}
		out = a
		return nil
	})
	return out, err
}

// DeleteAddressConfig deletes an address configuration. Errors: 20404.
func (s *Service) DeleteAddressConfig(ctx context.Context, accountSid, sid string) error {
	if !IsSID(PrefixAddressConfig, sid) {
		return NotFound()
	}
	return mapStoreErr(s.store.WithTx(ctx, func(tx Store) error {
		return tx.DeleteAddressConfig(ctx, accountSid, sid)
	}))
}
