// Package webhook sends Parley's Conversations webhooks: the Dispatcher delivers the
// post-event webhooks the domain writes to the durable outbox (signed, with retries and a
// delivery log), and the Caller makes the synchronous pre-event webhook calls of SDK actions.
package webhook

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/url"
	"sort"
	"strings"
)

// Sign returns the X-Twilio-Signature of a request to fullURL (scheme, host, port, path and
// query exactly as called) with the form parameters params (nil for a GET, whose parameters
// are in the URL): Base64 of the HMAC-SHA1, keyed with the account's auth token, of the URL
// followed by each parameter name and value, names sorted, the values of a repeated name
// sorted. This is what the official validators (twilio-go RequestValidator, twilio-node
// validateRequest, twilio-python RequestValidator) check.
func Sign(authToken, fullURL string, params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(fullURL)
	for _, k := range keys {
		vals := append([]string(nil), params[k]...)
		sort.Strings(vals)
		for _, v := range vals {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	m := hmac.New(sha1.New, []byte(authToken))
	m.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}
