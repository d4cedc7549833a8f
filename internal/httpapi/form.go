package httpapi

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/parley-dev/parley/internal/conv"
)

// MaxFormKeys is the most distinct parameters a request body may carry.
const MaxFormKeys = 200

// form is a decoded application/x-www-form-urlencoded body. Twilio's parameter names are
// PascalCase and case-sensitive; the first value of a repeated key wins (except for lists).
type form url.Values

// str returns a pointer to the parameter's value, or nil when the parameter is absent.
func (f form) str(key string) *string {
	vs, ok := f[key]
	if !ok || len(vs) == 0 {
		return nil
	}
	v := vs[0]
	return &v
}

// list returns every value of a repeated parameter.
func (f form) list(key string) []string { return f[key] }

// readForm decodes the request body of a POST. A JSON body (Content-Type application/json or
// a +json type, a common mistake) is a 400 (20001) saying the API takes form parameters:
// Twilio does not parse it and answers for the parameters it then lacks. Other bodies that
// are not form-encoded carry no parameters; a malformed form body or too many parameters is a
// 400 (20422), a body over the limit a 413 (20413).
func readForm(r *http.Request) (form, error) {
	if r.Body == nil {
		return form{}, nil
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, conv.Errorf(conv.KindTooLarge, 20413, "Request Entity Too Large: the body is over %d bytes", mbe.Limit)
		}
		return nil, conv.Errorf(conv.KindInvalid, 20422, "Unable to read the request body: %v", err)
	}
	if len(body) == 0 {
		return form{}, nil
	}
	ct := r.Header.Get("Content-Type")
	if ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		switch {
		case err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json")):
			return nil, conv.Errorf(conv.KindInvalid, 20001, "Missing required parameters in the post body: the body is %s, but this API takes form parameters (Content-Type application/x-www-form-urlencoded)", mt)
		case err != nil || mt != "application/x-www-form-urlencoded":
			return form{}, nil
		}
	}
	if n := strings.Count(string(body), "&") + 1; n > MaxFormKeys*4 {
		return nil, conv.Errorf(conv.KindInvalid, 20422, "Invalid Parameter: the body has %d parameters, the limit is %d", n, MaxFormKeys)
	}
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, conv.Errorf(conv.KindInvalid, 20422, "Invalid Parameter: the body is not valid application/x-www-form-urlencoded: %v", err)
	}
	if len(vals) > MaxFormKeys {
		return nil, conv.Errorf(conv.KindInvalid, 20422, "Invalid Parameter: the body has %d parameters, the limit is %d", len(vals), MaxFormKeys)
	}
	if err := checkValues(vals, "body"); err != nil { // door.go: text no store can hold
		return nil, err
	}
	return form(vals), nil
}

// webhookEnabled reads X-Twilio-Webhook-Enabled: absent or "false" is false, "true" is true
// (case-insensitive), anything else a 400 (20422).
func webhookEnabled(r *http.Request) (bool, error) {
	vs := r.Header.Values("X-Twilio-Webhook-Enabled")
	if len(vs) == 0 {
		return false, nil
	}
	switch strings.ToLower(strings.TrimSpace(vs[0])) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, conv.Errorf(conv.KindInvalid, 20422, "Invalid Parameter: X-Twilio-Webhook-Enabled must be true or false, not %q", vs[0])
}
