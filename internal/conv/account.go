package conv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
)

// Accounts, their API keys and authentication.

func randomToken() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("conv: crypto/rand failed: %v", err))
	}
	return hex.EncodeToString(b[:])
}

// EnsureAccount makes sure the account sid exists with the given auth token (creating it, or
// replacing its token) and has a default service. It returns the account.
// Errors: 20422 when sid is not an AC SID or token is empty.
func (s *Service) EnsureAccount(ctx context.Context, sid, token string) (*Account, error) {
	if !IsSID(PrefixAccount, sid) {
		return nil, invalid(20422, "Account SID %q does not match ^AC[0-9a-fA-F]{32}$", sid)
	}
	if token == "" {
		return nil, invalid(20422, "Auth token for %s is empty", sid)
	}
	var out *Account
	ensure := func(tx Store) error {
		a, err := tx.GetAccount(ctx, sid)
		switch {
		case errors.Is(err, ErrNotFound):
			now := s.clock()
			a = &Account{Sid: sid, AuthToken: token, FriendlyName: "Parley account", DateCreated: now, DateUpdated: now}
			if err := tx.CreateAccount(ctx, a); err != nil {
				return err
			}
		case err != nil:
			return err
		case a.AuthToken != token:
			if err := tx.UpdateAccountToken(ctx, sid, token); err != nil {
				return err
			}
			a.AuthToken = token
		}
		if _, err := s.defaultServiceTx(ctx, tx, a); err != nil {
			return err
		}
		out = a
		return nil
	}
	// Replicas starting together race to create the account: the losers' insert conflicts
	// once the winner commits, and running again finds the winner's account.
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if err = s.store.WithTx(ctx, ensure); !errors.Is(err, ErrConflict) {
			break
		}
	}
	return out, err
}

// EnsureDevAccount returns the first stored account, creating a development account with a
// random SID and token when the store has none, so that a restart keeps the same credentials.
func (s *Service) EnsureDevAccount(ctx context.Context) (*Account, error) {
	accts, err := s.store.ListAccounts(ctx)
	if err != nil {
		return nil, err
	}
	if len(accts) > 0 {
		return accts[0], nil
	}
	return s.EnsureAccount(ctx, s.sids.New(PrefixAccount), randomToken())
}

// PutAPIKey stores an API key (SK sid and secret) for an existing account.
// Errors: 20422 for a malformed SID or empty secret, 20404 when the account does not exist.
func (s *Service) PutAPIKey(ctx context.Context, accountSid, keySid, secret string) error {
	if !IsSID(PrefixAPIKey, keySid) || secret == "" {
		return invalid(20422, "API key %q must match ^SK[0-9a-fA-F]{32}$ and have a secret", keySid)
	}
	if _, err := s.store.GetAccount(ctx, accountSid); err != nil {
		return mapStoreErr(err)
	}
	return s.store.WithTx(ctx, func(tx Store) error {
		return tx.PutAPIKey(ctx, &APIKey{Sid: keySid, AccountSid: accountSid, Secret: secret, FriendlyName: "Parley API key", DateCreated: s.clock()})
	})
}

// Authenticate checks HTTP Basic credentials: an Account SID with its auth token, or an API
// key SID with its secret. It returns the account, or a 401 error (20003) on any mismatch.
// Verified credentials are reused for up to Options.LookupCacheTTL (the token is still
// compared on every request).
func (s *Service) Authenticate(ctx context.Context, user, pass string) (*Account, error) {
	if a, ok := s.cache.verify(user, pass); ok {
		return a, nil
	}
	gen := s.cache.generation()
	fail := &Error{Kind: KindUnauthorized, Code: 20003, Message: "Authentication Error - invalid username"}
	switch {
	case IsSID(PrefixAccount, user):
		a, err := s.store.GetAccount(ctx, user)
		if errors.Is(err, ErrNotFound) {
			return nil, fail
		} else if err != nil {
			return nil, err
		}
		if a.AuthToken == "" || !constantTimeEqual(a.AuthToken, pass) { // "": retired (credentials.go)
			fail.Message = "Authentication Error - invalid password"
			return nil, fail
		}
		s.cache.putCred(gen, user, a.AuthToken, a)
		return a, nil
	case IsSID(PrefixAPIKey, user):
		k, err := s.store.GetAPIKey(ctx, user)
		if errors.Is(err, ErrNotFound) {
			return nil, fail
		} else if err != nil {
			return nil, err
		}
		if !constantTimeEqual(k.Secret, pass) {
			fail.Message = "Authentication Error - invalid password"
			return nil, fail
		}
		a, err := s.store.GetAccount(ctx, k.AccountSid)
		if err != nil || a.AuthToken == "" {
			return nil, fail
		}
		s.cache.putCred(gen, user, k.Secret, a)
		return a, nil
	}
	return nil, fail
}

func constantTimeEqual(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	var v byte
	for i := 0; i < len(a); i++ {
		v |= a[i] ^ b[i]
	}
	return v == 0
}
