// Package accesstoken verifies and mints Twilio Access Tokens (the "twilio-fpa;v=1" JWTs that
// twilio-node's twilio.jwt.AccessToken, twilio-go's client/jwt and twilio-python's
// twilio.jwt.access_token produce) for the Conversations client SDK.
//
// A token is an HS256 (HS384/HS512 also accepted, as twilio-node can mint them) JWT whose
// header is {"typ":"JWT","alg":"HS256","cty":"twilio-fpa;v=1"} (optionally "twr", the region),
// signed with the secret of the API key named in "iss"; "sub" is the account that owns the key.
// The payload carries jti, exp, nbf/iat and grants{identity, chat{service_sid, ...}}.
//
// Every rejection is an *Error carrying Twilio's error code (20101, 20103..20107), so the
// twilsock gateway can answer the SDK with the code it expects (20104 makes the SDK emit
// tokenExpired).
package accesstoken

import (
	"errors"
	"fmt"
)

// Twilio error codes for access-token failures (Twilio's public error dictionary).
const (
	CodeInvalid       = 20101 // Invalid Access Token
	CodeIssuerSubject = 20103 // Invalid Access Token issuer/subject
	CodeExpired       = 20104 // Access Token expired or expiration date invalid
	CodeNotYetValid   = 20105 // Access Token not yet valid
	CodeGrants        = 20106 // Invalid Access Token grants
	CodeSignature     = 20107 // Invalid Access Token signature
)

// Title returns Twilio's error-dictionary title for an access-token error code ("" for other
// codes).
func Title(code int) string {
	switch code {
	case CodeInvalid:
		return "Invalid Access Token"
	case CodeIssuerSubject:
		return "Invalid Access Token issuer/subject"
	case CodeExpired:
		return "Access Token expired or expiration date invalid"
	case CodeNotYetValid:
		return "Access Token not yet valid"
	case CodeGrants:
		return "Invalid Access Token grants"
	case CodeSignature:
		return "Invalid Access Token signature"
	}
	return ""
}

// Error is a token rejection. Code is Twilio's error code; Message is Twilio's title for it
// (what a client may be shown); Detail says precisely what was wrong (for logs and tests; it
// never contains the secret or the signature).
type Error struct {
	Code    int
	Message string
	Detail  string
}

func (e *Error) Error() string {
	if e.Detail == "" {
		return fmt.Sprintf("access token: %d %s", e.Code, e.Message)
	}
	return fmt.Sprintf("access token: %d %s: %s", e.Code, e.Message, e.Detail)
}

// Status is the HTTP-style status twilsock uses for the rejection: always 401.
func (e *Error) Status() int { return 401 }

func reject(code int, format string, args ...any) *Error {
	return &Error{Code: code, Message: Title(code), Detail: fmt.Sprintf(format, args...)}
}

// CodeOf returns the Twilio code of an *Error in err's chain, or 0.
func CodeOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}

// ErrKeyNotFound is what a KeyLookup returns for an unknown API key SID.
var ErrKeyNotFound = errors.New("accesstoken: API key not found")
