package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parley-dev/parley/internal/conv"
)

// errorBody is Twilio's error shape: exactly what twilio-go's TwilioRestError and the Node
// and Python RestExceptions read.
type errorBody struct {
	Code     int    `json:"code"`
	Detail   string `json:"detail,omitempty"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

var kindStatus = map[conv.Kind]int{
	conv.KindInvalid:          http.StatusBadRequest,
	conv.KindUnauthorized:     http.StatusUnauthorized,
	conv.KindForbidden:        http.StatusForbidden,
	conv.KindNotFound:         http.StatusNotFound,
	conv.KindMethodNotAllowed: http.StatusMethodNotAllowed,
	conv.KindConflict:         http.StatusConflict,
	conv.KindTooLarge:         http.StatusRequestEntityTooLarge,
	conv.KindInternal:         http.StatusInternalServerError,
	conv.KindNotImplemented:   http.StatusNotImplemented,
}

// statusError is an HTTP-layer refusal with its own status (429 and 503, which no domain
// error kind carries): the server's own limits, not a rule of the domain.
type statusError struct {
	Status  int
	Code    int
	Message string
}

func (e *statusError) Error() string { return fmt.Sprintf("%d: %s", e.Code, e.Message) }

// resourcePath is the request path as Twilio names it in 404 messages: without /v1.
func resourcePath(r *http.Request) string {
	p := r.URL.EscapedPath()
	if strings.HasPrefix(p, "/v1/") {
		p = p[3:]
	}
	return p
}

// writeError is the one place errors become HTTP responses. Domain errors keep their Twilio
// code; a 20404 without a message gets Twilio's "The requested resource ... was not found";
// anything else is logged and answered as a generic 500.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var body errorBody
	var se *statusError
	if errors.As(err, &se) {
		body = errorBody{Code: se.Code, Message: se.Message, Status: se.Status}
	} else if e, ok := conv.AsError(err); ok {
		body.Code, body.Message = e.Code, e.Message
		body.Status = kindStatus[e.Kind]
		if body.Status == 0 {
			body.Status = http.StatusInternalServerError
		}
		if e.Kind == conv.KindNotFound && body.Message == "" {
			body.Message = "The requested resource " + resourcePath(r) + " was not found"
		}
		if e.Kind == conv.KindUnauthorized {
			body.Detail = "Your AccountSid or AuthToken was incorrect."
			w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
		}
	} else if errors.Is(err, context.Canceled) {
		return // the client went away
	} else if errors.Is(err, conv.ErrNotFound) {
		// A row read or locked inside a transaction was deleted concurrently (a conversation
		// deleted while a participant or message was being added to it, say): the resource
		// is gone, which is a 404 wherever in the operation it is noticed.
		body = errorBody{Code: 20404, Message: "The requested resource " + resourcePath(r) + " was not found", Status: http.StatusNotFound}
	} else if errors.Is(err, conv.ErrStorageFull) {
		a.storageFull(r, err)
		body = errorBody{Code: 20503, Message: "Service unavailable: the server's storage is full; nothing was written, retry once space is freed", Status: http.StatusServiceUnavailable}
	} else {
		a.log.ErrorContext(r.Context(), "internal error", slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("err", err))
		body = errorBody{Code: 20500, Message: "Internal Server Error", Status: http.StatusInternalServerError}
	}
	body.MoreInfo = "https://www.twilio.com/docs/errors/" + strconv.Itoa(body.Code)
	writeJSON(w, body.Status, body)
}

// storageFullQuiet is how long without a storage-full error ends an episode: the first error
// of an episode is logged, the rest are not.
const storageFullQuiet = time.Minute

// storageFull logs err when it begins an episode of full storage.
func (a *API) storageFull(r *http.Request, err error) {
	now := time.Now().UnixNano()
	if prev := a.lastFull.Swap(now); prev == 0 || now-prev > int64(storageFullQuiet) {
		a.log.ErrorContext(r.Context(), "storage full: writes are refused with 503 until space is freed (logged once per episode)",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("err", err))
	}
}
