// Package conv is Parley's domain: the Conversations resources (accounts, services, roles,
// conversations, participants), their SIDs, the error kinds Twilio answers with, the Store
// interface that persistence engines implement, and the Service that enforces every business
// rule. It imports neither net/http nor database/sql, and knows no wire format: the front
// doors (package httpapi) decode requests into typed commands (Opt for fields that may be
// cleared) and package webhook renders events as webhook requests.
package conv

import (
	"errors"
	"fmt"
)

// Kind classifies a domain error; the HTTP layer maps each kind to one status code.
type Kind int

// Error kinds, each answered with one HTTP status by the HTTP layer.
const (
	KindInvalid          Kind = iota + 1 // 400
	KindUnauthorized                     // 401
	KindForbidden                        // 403
	KindNotFound                         // 404
	KindMethodNotAllowed                 // 405
	KindConflict                         // 409
	KindTooLarge                         // 413
	KindInternal                         // 500
	KindNotImplemented                   // 501
)

// Error is a domain error carrying the Twilio error code and message a client sees.
// A NotFound error with Code 20404 and an empty Message is completed by the HTTP layer
// with Twilio's "The requested resource <path> was not found" text.
type Error struct {
	Kind    Kind
	Code    int
	Message string
}

// Error returns the message with its Twilio code.
func (e *Error) Error() string { return fmt.Sprintf("%d: %s", e.Code, e.Message) }

// Errorf builds an *Error of the given kind and Twilio code.
func Errorf(kind Kind, code int, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Store-level sentinel errors. Engines return these (wrapped or not); the Service turns them
// into *Error values with Twilio codes.
var (
	// ErrNotFound means the row does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict means a uniqueness constraint rejected the write.
	ErrConflict = errors.New("conflict")
)

// NotFound is the generic Twilio 20404 error; the HTTP layer fills in the message.
func NotFound() *Error { return &Error{Kind: KindNotFound, Code: 20404} }

// AsError returns err as *Error when it is one (possibly wrapped).
func AsError(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

// Invalid is a 400 error with Twilio code code: the front doors use it for the parameters
// they parse themselves (dates, JSON parameters), so that the client sees the same code and
// message whichever layer refused the value.
func Invalid(code int, format string, args ...any) *Error {
	return Errorf(KindInvalid, code, format, args...)
}

// invalid is shorthand for Invalid.
func invalid(code int, format string, args ...any) *Error { return Invalid(code, format, args...) }
