package conv

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Account origins (CredentialStore.SetAccountOrigin).
const (
	OriginConfigured = "configured" // given by the server's configuration (-account)
	OriginGenerated  = "generated"  // the development account made when none is configured
)

// CredentialStore is what SyncCredentials needs of a store beyond Store. Retiring an account
// clears its auth token (an empty token never authenticates) and keeps every row it owns.
type CredentialStore interface {
	SetAccountOrigin(ctx context.Context, sid, origin string) error
	// AccountByOrigin returns the oldest account of origin ("" for accounts older than
	// origins), only among those not retired when active is set; else ErrNotFound.
	AccountByOrigin(ctx context.Context, origin string, active bool) (*Account, error)
	// RetireAccountsExcept retires every account not in keep and returns their SIDs.
	RetireAccountsExcept(ctx context.Context, keep []string) ([]string, error)
	// DeleteAPIKeysExcept deletes every API key not in keep.
	DeleteAPIKeysExcept(ctx context.Context, keep []string) (int64, error)
}

// NormalizeSID returns sid with its hexadecimal part in lower case, as Twilio writes SIDs, when
// it is a SID of prefix (any case); else sid unchanged.
func NormalizeSID(prefix, sid string) string {
	if IsSID(prefix, sid) {
		return prefix + strings.ToLower(sid[len(prefix):])
	}
	return sid
}

// ConfiguredAccount is an account the server's configuration gives (-account).
type ConfiguredAccount struct{ Sid, AuthToken string }

// ConfiguredAPIKey is an API key the configuration gives (-api-key); AccountSid "" is the
// first account.
type ConfiguredAPIKey struct{ Sid, Secret, AccountSid string }

// SyncCredentials makes the configuration the truth about who may authenticate. SIDs are
// normalised to lower-case hex. Every configured account is created or gets its token; every
// account not configured is retired (its token cleared: it stops authenticating, its data
// stays, unreachable, until it is configured again) and every API key not configured is
// deleted. With no account configured, the development account is kept (or made, or an
// account from before account origins adopted) and everything else retired. It returns the
// accounts that authenticate, the first being the default owner of keys.
func (s *Service) SyncCredentials(ctx context.Context, accounts []ConfiguredAccount, apiKeys []ConfiguredAPIKey) ([]*Account, error) {
	cs, ok := credentialStore(s.store)
	if !ok {
		return nil, errors.New("credentials: the store cannot retire credentials")
	}
	var out []*Account
	var keep []string
	seen := map[string]bool{}
	for _, a := range accounts {
		sid := NormalizeSID(PrefixAccount, a.Sid)
		if seen[sid] {
			return nil, fmt.Errorf("account %s is configured twice", sid)
		}
		seen[sid] = true
		acct, err := s.EnsureAccount(ctx, sid, a.AuthToken)
		if err != nil {
			return nil, fmt.Errorf("account %s: %w", sid, err)
		}
		if err := s.setOrigin(ctx, sid, OriginConfigured); err != nil {
			return nil, fmt.Errorf("account %s: %w", sid, err)
		}
		out = append(out, acct)
		keep = append(keep, sid)
	}
	if len(out) == 0 {
		acct, err := s.devAccount(ctx, cs)
		if err != nil {
			return nil, fmt.Errorf("development account: %w", err)
		}
		out, keep = append(out, acct), append(keep, acct.Sid)
	}
	var keys []string
	for _, k := range apiKeys {
		keySid, owner := NormalizeSID(PrefixAPIKey, k.Sid), out[0].Sid
		if k.AccountSid != "" {
			owner = NormalizeSID(PrefixAccount, k.AccountSid)
		}
		if !seen[owner] && owner != out[0].Sid {
			return nil, fmt.Errorf("API key %s: account %s is not configured", keySid, owner)
		}
		if err := s.PutAPIKey(ctx, owner, keySid, k.Secret); err != nil {
			return nil, fmt.Errorf("API key %s: %w", keySid, err)
		}
		keys = append(keys, keySid)
	}
	for _, a := range out { // the accounts' Parley signing keys (signing_key.go) stay too
		keys = append(keys, SigningKeySid(a.Sid))
	}
	err := s.store.WithTx(ctx, func(tx Store) error {
		tcs, _ := credentialStore(tx)
		if _, err := tcs.RetireAccountsExcept(ctx, keep); err != nil {
			return err
		}
		_, err := tcs.DeleteAPIKeysExcept(ctx, keys)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("credentials: retire: %w", err)
	}
	s.cache.clear() // nothing verified before the sync is reused
	return out, nil
}

// devAccount returns the development account: the generated one (given a new token when it was
// retired), else the oldest active account from before origins (a database that ran in
// development mode), else a new one.
func (s *Service) devAccount(ctx context.Context, cs CredentialStore) (*Account, error) {
	a, err := cs.AccountByOrigin(ctx, OriginGenerated, false)
	if errors.Is(err, ErrNotFound) {
		a, err = cs.AccountByOrigin(ctx, "", true)
	}
	var acct *Account
	switch {
	case errors.Is(err, ErrNotFound):
		acct, err = s.EnsureAccount(ctx, s.sids.New(PrefixAccount), randomToken())
	case err != nil:
		return nil, err
	default:
		token := a.AuthToken
		if token == "" {
			token = randomToken()
		}
		acct, err = s.EnsureAccount(ctx, a.Sid, token)
	}
	if err != nil {
		return nil, err
	}
	if err := s.setOrigin(ctx, acct.Sid, OriginGenerated); err != nil {
		return nil, err
	}
	if _, err := s.ResolveService(ctx, Scope{AccountSid: acct.Sid}); err != nil {
		return nil, err
	}
	return acct, nil
}

// credentialStore returns st, under the Service's cache wrapper, as a CredentialStore. The
// sync runs once at startup and clears the whole cache afterwards, so it may bypass it.
func credentialStore(st Store) (CredentialStore, bool) {
	if c, ok := st.(*cacheStore); ok {
		st = c.Store
	}
	cs, ok := st.(CredentialStore)
	return cs, ok
}

// setOrigin records the account's origin, in a write transaction.
func (s *Service) setOrigin(ctx context.Context, sid, origin string) error {
	return s.store.WithTx(ctx, func(tx Store) error {
		cs, _ := credentialStore(tx)
		return cs.SetAccountOrigin(ctx, sid, origin)
	})
}
