package accesstoken

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"math"
	"strings"
	"time"
)

// ContentType is the "cty" header of every Twilio Access Token.
const ContentType = "twilio-fpa;v=1"

// MaxTTL is the longest validity Twilio accepts (exp minus the start of validity).
const MaxTTL = 24 * time.Hour

// MaxTokenBytes bounds the token text the parser looks at.
const MaxTokenBytes = 16 << 10

// ChatGrant is the "chat" grant: the Conversation Service the token is scoped to.
type ChatGrant struct {
	ServiceSid        string `json:"service_sid,omitempty"`
	EndpointID        string `json:"endpoint_id,omitempty"`
	DeploymentRoleSid string `json:"deployment_role_sid,omitempty"`
	PushCredentialSid string `json:"push_credential_sid,omitempty"`
}

// Claims is a parsed token. Times are whole seconds; NotBefore and IssuedAt are zero when
// absent.
type Claims struct {
	ID         string // jti
	KeySid     string // iss: the API key (SK) that signed the token
	AccountSid string // sub: the account (AC) owning the key
	Region     string // header "twr", when present
	Algorithm  string // header "alg"
	IssuedAt   time.Time
	NotBefore  time.Time
	ExpiresAt  time.Time
	Identity   string     // grants.identity
	Chat       *ChatGrant // grants.chat, or the legacy grants.ip_messaging when chat is absent
}

// header is the JOSE header.
type header struct {
	Typ *string `json:"typ"` // required, "JWT" (every helper library writes it)
	Alg string  `json:"alg"`
	Cty string  `json:"cty"`
	Twr string  `json:"twr"`
}

// payload is the JWT claims set as Twilio's helper libraries write it.
type payload struct {
	Jti    string          `json:"jti"`
	Iss    string          `json:"iss"`
	Sub    string          `json:"sub"`
	Exp    json.RawMessage `json:"exp"`
	Nbf    json.RawMessage `json:"nbf"`
	Iat    json.RawMessage `json:"iat"`
	Grants json.RawMessage `json:"grants"`
}

// Parse decodes a token without verifying its signature or validity period; it checks the
// structure, the header and that the claims have the right JSON types. Rejections are *Error
// with code 20101. Use Verifier.Verify to authenticate a token.
func Parse(token string) (*Claims, error) {
	c, _, _, err := parse(token)
	return c, err
}

// parse returns the claims, the signing input ("header.payload") and the decoded signature.
func parse(token string) (*Claims, string, []byte, error) {
	if token == "" {
		return nil, "", nil, reject(CodeInvalid, "empty token")
	}
	if len(token) > MaxTokenBytes {
		return nil, "", nil, reject(CodeInvalid, "token is %d bytes, more than %d", len(token), MaxTokenBytes)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, "", nil, reject(CodeInvalid, "a JWT has 3 dot-separated parts, this one has %d", len(parts))
	}
	hb, err := b64(parts[0])
	if err != nil {
		return nil, "", nil, reject(CodeInvalid, "header is not base64url: %v", err)
	}
	pb, err := b64(parts[1])
	if err != nil {
		return nil, "", nil, reject(CodeInvalid, "payload is not base64url: %v", err)
	}
	sig, err := b64(parts[2])
	if err != nil {
		return nil, "", nil, reject(CodeInvalid, "signature is not base64url: %v", err)
	}
	var h header
	if err := strictJSON(hb, &h); err != nil {
		return nil, "", nil, reject(CodeInvalid, "header is not a JSON object: %v", err)
	}
	if h.Typ == nil || *h.Typ != "JWT" {
		return nil, "", nil, reject(CodeInvalid, "header typ is not \"JWT\"")
	}
	if hashFor(h.Alg) == nil {
		return nil, "", nil, reject(CodeInvalid, "header alg is %q, not HS256, HS384 or HS512", h.Alg)
	}
	if h.Cty != ContentType {
		return nil, "", nil, reject(CodeInvalid, "header cty is %q, not %q", h.Cty, ContentType)
	}
	var p payload
	if err := strictJSON(pb, &p); err != nil {
		return nil, "", nil, reject(CodeInvalid, "payload is not a JSON object: %v", err)
	}
	c := &Claims{ID: p.Jti, KeySid: p.Iss, AccountSid: p.Sub, Region: h.Twr, Algorithm: h.Alg}
	if c.ExpiresAt, err = numericDate(p.Exp); err != nil {
		return nil, "", nil, reject(CodeExpired, "exp: %v", err)
	}
	if c.NotBefore, err = numericDate(p.Nbf); err != nil {
		return nil, "", nil, reject(CodeNotYetValid, "nbf: %v", err)
	}
	if c.IssuedAt, err = numericDate(p.Iat); err != nil {
		return nil, "", nil, reject(CodeInvalid, "iat: %v", err)
	}
	if err := parseGrants(p.Grants, c); err != nil {
		return nil, "", nil, err
	}
	return c, parts[0] + "." + parts[1], sig, nil
}

// parseGrants fills Identity and Chat from the "grants" object. Wrong JSON types are 20106;
// whether the grants suffice for the chat SDK is checked by Verify.
func parseGrants(raw json.RawMessage, c *Claims) error {
	if isAbsent(raw) {
		return nil
	}
	var g struct {
		Identity    json.RawMessage `json:"identity"`
		Chat        json.RawMessage `json:"chat"`
		IPMessaging json.RawMessage `json:"ip_messaging"`
	}
	if err := json.Unmarshal(raw, &g); err != nil {
		return reject(CodeGrants, "grants is not a JSON object: %v", err)
	}
	if isAbsent(g.Chat) {
		// Programmable Chat's older grant (twilio-go's IpMessagingGrant) has the same fields
		// and the same product ("ip_messaging" is the SDK's productId).
		g.Chat = g.IPMessaging
	}
	if !isAbsent(g.Identity) {
		if err := json.Unmarshal(g.Identity, &c.Identity); err != nil {
			return reject(CodeGrants, "grants.identity is not a string")
		}
	}
	if !isAbsent(g.Chat) {
		c.Chat = &ChatGrant{}
		if err := json.Unmarshal(g.Chat, c.Chat); err != nil {
			return reject(CodeGrants, "grants.chat is not an object of strings: %v", err)
		}
	}
	return nil
}

func isAbsent(raw json.RawMessage) bool { return len(raw) == 0 || string(raw) == "null" }

// numericDate reads a JWT NumericDate (seconds since the epoch; twilio-go writes it as a
// float). Absent or null gives the zero time.
func numericDate(raw json.RawMessage) (time.Time, error) {
	if isAbsent(raw) {
		return time.Time{}, nil
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil {
		return time.Time{}, fmt.Errorf("not a number: %s", truncate(raw))
	}
	if f < 0 || f > 1<<40 || math.IsNaN(f) {
		return time.Time{}, fmt.Errorf("out of range: %s", truncate(raw))
	}
	return time.Unix(int64(f), 0).UTC(), nil
}

func truncate(b []byte) string {
	if len(b) > 32 {
		return string(b[:32]) + "…"
	}
	return string(b)
}

// b64 decodes base64url without padding, as JWTs are written.
func b64(s string) ([]byte, error) { return base64.RawURLEncoding.Strict().DecodeString(s) }

// strictJSON decodes one JSON object (nothing after it) into v.
func strictJSON(b []byte, v any) error {
	if t := bytes.TrimLeft(b, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return errors.New("not an object")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the object")
	}
	return nil
}

func hashFor(alg string) func() hash.Hash {
	switch alg {
	case "HS256":
		return sha256.New
	case "HS384":
		return sha512.New384
	case "HS512":
		return sha512.New
	}
	return nil
}

func sign(alg, secret, input string) []byte {
	m := hmac.New(hashFor(alg), []byte(secret))
	m.Write([]byte(input))
	return m.Sum(nil)
}

// KeyLookup finds an API key: its account SID and secret. It returns ErrKeyNotFound for an
// unknown SID; other errors are infrastructure failures and are passed through Verify.
type KeyLookup interface {
	LookupAPIKey(ctx context.Context, keySid string) (accountSid, secret string, err error)
}

// Verifier authenticates tokens against the stored API keys.
type Verifier struct {
	keys KeyLookup
	now  func() time.Time
}

// NewVerifier returns a Verifier reading keys from keys and the time from now.
func NewVerifier(keys KeyLookup, now func() time.Time) *Verifier {
	return &Verifier{keys: keys, now: now}
}

// Verify parses and authenticates token for the chat (Conversations) SDK. In order: the
// structure and header (20101), the issuer/subject and their key (20103), the signature
// (20107), the validity period (20104 expired, or exp missing or more than 24 h after the
// start of validity; 20105 nbf in the future) and the grants (20106: identity and
// chat.service_sid required). An error that is not an *Error comes from the KeyLookup.
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	c, input, sig, err := parse(token)
	if err != nil {
		return nil, err
	}
	if !isSID("SK", c.KeySid) {
		return nil, reject(CodeIssuerSubject, "iss %q is not an API key SID", c.KeySid)
	}
	if !isSID("AC", c.AccountSid) {
		return nil, reject(CodeIssuerSubject, "sub %q is not an Account SID", c.AccountSid)
	}
	acct, secret, err := v.keys.LookupAPIKey(ctx, c.KeySid)
	if errors.Is(err, ErrKeyNotFound) {
		return nil, reject(CodeIssuerSubject, "API key %s does not exist", c.KeySid)
	} else if err != nil {
		return nil, fmt.Errorf("accesstoken: looking up API key %s: %w", c.KeySid, err)
	}
	if acct != c.AccountSid {
		return nil, reject(CodeIssuerSubject, "API key %s does not belong to account %s", c.KeySid, c.AccountSid)
	}
	if !hmac.Equal(sig, sign(c.Algorithm, secret, input)) {
		return nil, reject(CodeSignature, "signature does not match the secret of API key %s", c.KeySid)
	}
	if err := checkTimes(c, v.now()); err != nil {
		return nil, err
	}
	if c.Identity == "" {
		return nil, reject(CodeGrants, "grants.identity is missing or empty")
	}
	if c.Chat == nil {
		return nil, reject(CodeGrants, "grants.chat is missing")
	}
	if !isSID("IS", c.Chat.ServiceSid) {
		return nil, reject(CodeGrants, "grants.chat.service_sid %q is not a Conversation Service SID", c.Chat.ServiceSid)
	}
	return c, nil
}

// checkTimes enforces exp, nbf and the 24-hour cap at instant now.
func checkTimes(c *Claims, now time.Time) error {
	if c.ExpiresAt.IsZero() {
		return reject(CodeExpired, "exp is missing")
	}
	if !now.Before(c.ExpiresAt) {
		return reject(CodeExpired, "expired at %s", c.ExpiresAt.Format(time.RFC3339))
	}
	if !c.NotBefore.IsZero() && now.Before(c.NotBefore) {
		return reject(CodeNotYetValid, "not valid before %s", c.NotBefore.Format(time.RFC3339))
	}
	start := now
	switch {
	case !c.NotBefore.IsZero():
		start = c.NotBefore
	case !c.IssuedAt.IsZero() && c.IssuedAt.Before(now):
		start = c.IssuedAt
	}
	if c.ExpiresAt.Sub(start) > MaxTTL {
		return reject(CodeExpired, "valid for %s, more than the maximum 24h", c.ExpiresAt.Sub(start))
	}
	return nil
}

// isSID reports whether s is prefix followed by 32 hex digits.
func isSID(prefix, s string) bool {
	if len(s) != 34 || s[:2] != prefix {
		return false
	}
	for i := 2; i < 34; i++ {
		switch ch := s[i]; {
		case ch >= '0' && ch <= '9', ch >= 'a' && ch <= 'f', ch >= 'A' && ch <= 'F':
		default:
			return false
		}
	}
	return true
}
