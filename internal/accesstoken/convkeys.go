package accesstoken

import (
	"context"
	"errors"

	"github.com/parley-dev/parley/internal/conv"
)

// APIKeyGetter is the part of conv.Store that reads API keys.
type APIKeyGetter interface {
	GetAPIKey(ctx context.Context, sid string) (*conv.APIKey, error)
}

// ConvKeys adapts Parley's store (the API keys conv.Service.PutAPIKey writes, the same ones
// REST Basic authentication accepts) to KeyLookup.
type ConvKeys struct{ Store APIKeyGetter }

// LookupAPIKey implements KeyLookup.
func (k ConvKeys) LookupAPIKey(ctx context.Context, keySid string) (string, string, error) {
	key, err := k.Store.GetAPIKey(ctx, keySid)
	if errors.Is(err, conv.ErrNotFound) {
		return "", "", ErrKeyNotFound
	} else if err != nil {
		return "", "", err
	}
	return key.AccountSid, key.Secret, nil
}
