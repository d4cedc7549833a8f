package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

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
	if e, ok := conv.AsError(err); ok {
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
	} else {
		a.log.ErrorContext(r.Context(), "internal error", slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("err", err))
		body = errorBody{Code: 20500, Message: "Internal Server Error", Status: http.StatusInternalServerError}
	}
	body.MoreInfo = "https://www.twilio.com/docs/errors/" + strconv.Itoa(body.Code)
	writeJSON(w, body.Status, body)
}
