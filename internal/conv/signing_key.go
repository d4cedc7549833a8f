package conv

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
)

// SigningKeySid returns the SID of the account's Parley signing key: the API key Parley mints
// chat access tokens with (parley token, POST /parley/v1/Tokens). It is derived from the
// account SID, so every process finds the same key.
func SigningKeySid(accountSid string) string {
	h := sha256.Sum256([]byte("parley-signing-key:" + accountSid))
	return PrefixAPIKey + hex.EncodeToString(h[:16])
}

// EnsureSigningKey returns the account's signing key, creating it with a random secret, kept
// in the store, on first use. Errors: 20404 when the account does not exist.
func (s *Service) EnsureSigningKey(ctx context.Context, accountSid string) (*APIKey, error) {
	sid := SigningKeySid(accountSid)
	k, err := s.store.GetAPIKey(ctx, sid)
	if err == nil {
		return k, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	if _, err := s.store.GetAccount(ctx, accountSid); err != nil {
		return nil, mapStoreErr(err)
	}
	err = s.store.WithTx(ctx, func(tx Store) error {
		if _, err := tx.GetAPIKey(ctx, sid); err == nil {
			return nil // created meanwhile
		}
		return tx.PutAPIKey(ctx, &APIKey{Sid: sid, AccountSid: accountSid, Secret: randomToken(),
			FriendlyName: "Parley signing key", DateCreated: s.clock()})
	})
	if err != nil && !errors.Is(err, ErrConflict) {
		return nil, err
	}
	k, err = s.store.GetAPIKey(ctx, sid)
	return k, mapStoreErr(err)
}
