package accesstoken

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"time"
)

// DefaultTTL is the validity of a minted token when MintParams.TTL is zero (the helper
// libraries' default).
const DefaultTTL = time.Hour

// MintParams describes a chat access token to mint.
type MintParams struct {
	AccountSid string // sub
	KeySid     string // iss: the API key (SK) whose secret signs the token
	KeySecret  string
	Identity   string    // grants.identity
	Chat       ChatGrant // grants.chat (ServiceSid required)
	TTL        time.Duration
	Region     string // optional "twr" header
}

// Mint returns a signed HS256 access token issued at now, shaped exactly like twilio-node's
// AccessToken.toJwt with a ChatGrant: header {"alg","typ","cty"[,"twr"]}, payload {jti
// "SK…-<unix>", grants{identity, chat}, iat, exp, iss, sub}. It validates its input with the
// same rules as Verify (an *Error for bad parameters) so a minted token always verifies within
// its validity period.
func Mint(p MintParams, now time.Time) (string, error) {
	ttl := p.TTL
	if ttl == 0 {
		ttl = DefaultTTL
	}
	switch {
	case !isSID("SK", p.KeySid):
		return "", reject(CodeIssuerSubject, "key SID %q is not an API key SID", p.KeySid)
	case !isSID("AC", p.AccountSid):
		return "", reject(CodeIssuerSubject, "account SID %q is not an Account SID", p.AccountSid)
	case p.KeySecret == "":
		return "", reject(CodeSignature, "the API key secret is empty")
	case ttl < time.Second || ttl > MaxTTL:
		return "", reject(CodeExpired, "TTL %s is not between 1s and 24h", ttl)
	case p.Identity == "":
		return "", reject(CodeGrants, "identity is empty")
	case !isSID("IS", p.Chat.ServiceSid):
		return "", reject(CodeGrants, "service SID %q is not a Conversation Service SID", p.Chat.ServiceSid)
	}
	type hdr struct {
		Alg string `json:"alg"`
		Typ string `json:"typ"`
		Cty string `json:"cty"`
		Twr string `json:"twr,omitempty"`
	}
	type grants struct {
		Identity string    `json:"identity"`
		Chat     ChatGrant `json:"chat"`
	}
	type claims struct {
		Jti    string `json:"jti"`
		Grants grants `json:"grants"`
		Iat    int64  `json:"iat"`
		Exp    int64  `json:"exp"`
		Iss    string `json:"iss"`
		Sub    string `json:"sub"`
	}
	iat := now.Unix()
	hb, err := json.Marshal(hdr{Alg: "HS256", Typ: "JWT", Cty: ContentType, Twr: p.Region})
	if err != nil {
		return "", err
	}
	pb, err := json.Marshal(claims{
		Jti:    p.KeySid + "-" + strconv.FormatInt(iat, 10),
		Grants: grants{Identity: p.Identity, Chat: p.Chat},
		Iat:    iat,
		Exp:    iat + int64(ttl/time.Second),
		Iss:    p.KeySid,
		Sub:    p.AccountSid,
	})
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	input := enc.EncodeToString(hb) + "." + enc.EncodeToString(pb)
	return input + "." + enc.EncodeToString(sign("HS256", p.KeySecret, input)), nil
}

// MintWithKey mints a chat token signed by the stored API key keySid (its account and secret
// come from keys): what `parley token` calls. Errors: 20103 for an unknown key, the
// parameter errors of Mint, or the lookup's own error.
func MintWithKey(ctx context.Context, keys KeyLookup, keySid, identity, serviceSid string, ttl time.Duration, now time.Time) (string, error) {
	if !isSID("SK", keySid) {
		return "", reject(CodeIssuerSubject, "key SID %q is not an API key SID", keySid)
	}
	acct, secret, err := keys.LookupAPIKey(ctx, keySid)
	if errors.Is(err, ErrKeyNotFound) {
		return "", reject(CodeIssuerSubject, "API key %s does not exist", keySid)
	} else if err != nil {
		return "", err
	}
	return Mint(MintParams{AccountSid: acct, KeySid: keySid, KeySecret: secret, Identity: identity, Chat: ChatGrant{ServiceSid: serviceSid}, TTL: ttl}, now)
}
