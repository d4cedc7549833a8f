package httpapi

import (
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/parley-dev/parley/internal/conv"
)

// Text that a store cannot hold is refused at the door, once, for every request: the decoded
// path and every query parameter (checkRequestText, called by the front doors before routing)
// and every form parameter of a body (readForm). A NUL byte or invalid UTF-8 would otherwise
// fail inside PostgreSQL (SQLSTATE 22021, a 500) or be stored by SQLite and read back as
// U+FFFD, so the engines would disagree. Twilio answers a parameter it cannot use with 400
// Invalid Parameter (20422), which is what this answers, on both engines alike.

// badText reports why s cannot be stored ("" when it can).
func badText(s string) string {
	if !utf8.ValidString(s) {
		return "is not valid UTF-8"
	}
	if strings.IndexByte(s, 0) >= 0 {
		return "contains a NUL character"
	}
	return ""
}

func textError(what, why string) error {
	return conv.Errorf(conv.KindInvalid, 20422, "Invalid Parameter: %s %s", what, why)
}

// checkValues refuses parameter names or values that cannot be stored.
func checkValues(vals url.Values, where string) error {
	for k, vs := range vals {
		if why := badText(k); why != "" {
			return textError("a "+where+" parameter name", why)
		}
		for _, v := range vs {
			if why := badText(v); why != "" {
				return textError(oneLine(strings.ToValidUTF8(strings.ReplaceAll(k, "\x00", ""), "\uFFFD")), why)
			}
		}
	}
	return nil
}

// checkRequestText refuses a request whose decoded path or query parameters cannot be stored
// (400, 20422). It is the front doors' check (API.ServeHTTP, Parley.ServeHTTP).
func checkRequestText(r *http.Request) error {
	if why := badText(r.URL.Path); why != "" {
		return textError("the URL path", why)
	}
	if r.URL.RawQuery == "" {
		return nil
	}
	q, _ := url.ParseQuery(r.URL.RawQuery) // malformed pairs are dropped, as r.URL.Query() drops them
	return checkValues(q, "query")
}
