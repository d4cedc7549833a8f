// Package oapi validates HTTP responses produced by Parley against Twilio's
// OpenAPI description of the Conversations v1 REST API
// (api/twilio_conversations_v1.json).
//
// It is meant for tests: load the spec once with Load(SpecPath()), then either
// call ValidateResponse directly or wrap an http.Client's transport with
// Spec.Transport so that every response a test sees is checked.
//
// On top of what the spec literally says, validation is stricter in a few
// ways that matter for wire compatibility:
//
//   - Routing is done on the URL path alone (the spec's servers entry,
//     https://conversations.twilio.com, is ignored), with an own matcher over
//     the spec's path templates.
//   - A response status that the operation does not document is an error.
//   - The "date-time" format must be RFC 3339 (e.g. 2015-12-16T22:18:37Z) and
//     the "uri" format must be an absolute URL with scheme and host.
//   - JSON objects may not carry keys that their schema does not declare, even
//     though the spec leaves additionalProperties unspecified (which JSON
//     Schema reads as "anything goes").
//   - Error responses (status >= 400), which the spec does not describe, must
//     have Twilio's error shape: code, message, more_info, status and an
//     optional detail, and nothing else.
//
// Request validation and security (HTTP basic auth) are not checked.
package oapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// specRelPath is where the spec lives relative to the module root.
var specRelPath = filepath.Join("api", "twilio_conversations_v1.json")

// Operation identifies one operation of the spec.
type Operation struct {
	Method      string // upper-case HTTP method, e.g. "GET"
	Path        string // path template, e.g. "/v1/Conversations/{Sid}"
	OperationID string // e.g. "FetchConversation"
}

// Spec is a loaded OpenAPI document prepared for response validation. It is
// immutable after Load and safe for concurrent use.
type Spec struct {
	doc        *openapi3.T
	routes     []*route
	ops        []Operation
	schemaOpts []openapi3.SchemaValidationOption
}

// route is one path template of the spec, split into segments.
type route struct {
	template string
	segs     []string // literal segment, or "" for a {param} segment
	names    []string // parameter name for {param} segments, "" otherwise
	literals int
	item     *openapi3.PathItem
}

// Load parses the OpenAPI document at specPath (resolving its internal
// references), checks that it is a structurally valid OpenAPI document and
// prepares a path router over its path templates. It returns the prepared
// *Spec, or an error if the file cannot be read or parsed, if the document
// does not validate, or if a path template is malformed.
func Load(specPath string) (*Spec, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(specPath)
	if err != nil {
		return nil, fmt.Errorf("oapi: loading %s: %w", specPath, err)
	}
	// The spec's own examples are checked by the tests, not here: a few of
	// them are inconsistent with their schemas.
	if err := doc.Validate(context.Background(), openapi3.DisableExamplesValidation()); err != nil {
		return nil, fmt.Errorf("oapi: invalid OpenAPI document %s: %w", specPath, err)
	}

	doc.SetStringFormatValidator("date-time", openapi3.NewCallbackValidator(validateDateTime))
	doc.SetStringFormatValidator("uri", openapi3.NewCallbackValidator(validateURI))

	s := &Spec{doc: doc}
	s.schemaOpts = append(s.schemaOpts, doc.GetSchemaValidationOptions()...)

	if doc.Paths == nil || doc.Paths.Len() == 0 {
		return nil, fmt.Errorf("oapi: %s declares no paths", specPath)
	}
	for tmpl, item := range doc.Paths.Map() {
		r, err := newRoute(tmpl, item)
		if err != nil {
			return nil, fmt.Errorf("oapi: %s: %w", specPath, err)
		}
		s.routes = append(s.routes, r)
		for method, op := range item.Operations() {
			s.ops = append(s.ops, Operation{Method: strings.ToUpper(method), Path: tmpl, OperationID: op.OperationID})
		}
	}
	sort.Slice(s.routes, func(i, j int) bool { return s.routes[i].template < s.routes[j].template })
	sort.Slice(s.ops, func(i, j int) bool {
		a, b := s.ops[i], s.ops[j]
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		if a.Method != b.Method {
			return a.Method < b.Method
		}
		return a.OperationID < b.OperationID
	})
	return s, nil
}

func newRoute(tmpl string, item *openapi3.PathItem) (*route, error) {
	if !strings.HasPrefix(tmpl, "/") {
		return nil, fmt.Errorf("path template %q does not start with /", tmpl)
	}
	r := &route{template: tmpl, item: item}
	for _, seg := range strings.Split(tmpl[1:], "/") {
		switch {
		case len(seg) > 2 && seg[0] == '{' && seg[len(seg)-1] == '}' && !strings.ContainsAny(seg[1:len(seg)-1], "{}"):
			r.segs = append(r.segs, "")
			r.names = append(r.names, seg[1:len(seg)-1])
		case seg == "" || strings.ContainsAny(seg, "{}"):
			return nil, fmt.Errorf("unsupported path template %q", tmpl)
		default:
			r.segs = append(r.segs, seg)
			r.names = append(r.names, "")
			r.literals++
		}
	}
	return r, nil
}

// match reports whether segs (the request path split on "/") matches r and
// returns the path parameters if so.
func (r *route) match(segs []string) (map[string]string, bool) {
	if len(segs) != len(r.segs) {
		return nil, false
	}
	var params map[string]string
	for i, seg := range segs {
		if seg == "" {
			return nil, false
		}
		if r.names[i] == "" {
			if seg != r.segs[i] {
				return nil, false
			}
			continue
		}
		if params == nil {
			params = make(map[string]string)
		}
		if v, err := url.PathUnescape(seg); err == nil {
			seg = v
		}
		params[r.names[i]] = seg
	}
	return params, true
}

// moreSpecific reports whether a should win over b when both match the same
// path: more literal segments first, then a literal earlier in the path.
func moreSpecific(a, b *route) bool {
	if a.literals != b.literals {
		return a.literals > b.literals
	}
	for i := range a.segs {
		al, bl := a.names[i] == "", b.names[i] == ""
		if al != bl {
			return al
		}
	}
	return a.template < b.template
}

// findRoute returns the most specific route whose template matches path.
func (s *Spec) findRoute(path string) (*route, map[string]string) {
	if !strings.HasPrefix(path, "/") {
		return nil, nil
	}
	segs := strings.Split(path[1:], "/")
	var best *route
	var bestParams map[string]string
	for _, r := range s.routes {
		params, ok := r.match(segs)
		if !ok {
			continue
		}
		if best == nil || moreSpecific(r, best) {
			best, bestParams = r, params
		}
	}
	return best, bestParams
}

// requestPath extracts the path from urlPath, which may be a bare path, a
// path with a query string and/or fragment, or an absolute URL.
func requestPath(urlPath string) string {
	if strings.Contains(urlPath, "://") {
		if u, err := url.Parse(urlPath); err == nil {
			return u.EscapedPath()
		}
	}
	if i := strings.IndexAny(urlPath, "?#"); i >= 0 {
		urlPath = urlPath[:i]
	}
	return urlPath
}

// Operations returns every operation of the spec as (method, path template,
// operationId), sorted by path template, then method. The slice is a fresh
// copy; it never returns an error.
func (s *Spec) Operations() []Operation {
	return slices.Clone(s.ops)
}

// ValidateResponse checks one response against the spec and returns nil if it
// conforms, or an error describing every problem found.
//
// method is the request's HTTP method; urlPath is the request path (e.g.
// "/v1/Services/IS.../Conversations"), optionally followed by a query string
// (ignored) or given as an absolute URL (only its path is used); status,
// contentType and body are those of the response.
//
// For status < 400 it returns an error if no path template + method of the
// spec matches, if status is not a documented response of that operation, if
// a response documented without content (204) has a non-empty body, or if the
// body is not a single JSON document of the documented media type that
// validates against the documented schema (including the date-time and uri
// formats) and declares no keys its schema does not list.
//
// For status >= 400 (not described by the spec) it does not require the path
// to match an operation (unknown routes legitimately yield 404s) and returns
// an error unless the Content-Type is application/json and the body is a JSON
// object with exactly the keys code (integer), message (string), more_info
// (string), status (integer equal to the HTTP status) and optionally detail
// (string).
func (s *Spec) ValidateResponse(method, urlPath string, status int, contentType string, body []byte) error {
	method = strings.ToUpper(method)
	path := requestPath(urlPath)
	if status >= 400 {
		if err := validateErrorBody(status, contentType, body); err != nil {
			return fmt.Errorf("%s %s -> %d: %w", method, path, status, err)
		}
		return nil
	}

	r, params := s.findRoute(path)
	if r == nil {
		return fmt.Errorf("%s %s -> %d: no path template of the spec matches %q", method, path, status, path)
	}
	op := r.item.GetOperation(method)
	if op == nil {
		return fmt.Errorf("%s %s -> %d: path template %s has no %s operation", method, path, status, r.template, method)
	}
	where := fmt.Sprintf("%s %s -> %d (%s %s)", method, path, status, op.OperationID, r.template)

	var respRef *openapi3.ResponseRef
	if op.Responses != nil {
		respRef = op.Responses.Status(status)
	}
	if respRef == nil || respRef.Value == nil {
		var documented []string
		if op.Responses != nil {
			documented = op.Responses.Keys()
			slices.Sort(documented)
		}
		return fmt.Errorf("%s: status %d is not a documented response (documented: %s)", where, status, strings.Join(documented, ", "))
	}
	resp := respRef.Value

	if len(resp.Content) == 0 {
		if len(body) != 0 {
			return fmt.Errorf("%s: response is documented without content but has a %d-byte body: %s", where, len(body), abbreviate(string(body)))
		}
		return nil
	}

	value, err := decodeJSON(body)
	if err != nil {
		return fmt.Errorf("%s: body is not a single JSON document: %w (body: %s)", where, err, abbreviate(string(body)))
	}

	var errs []error
	req := &http.Request{Method: method, URL: &url.URL{Path: path}, Header: http.Header{}}
	opts := &openapi3filter.Options{
		IncludeResponseStatus:   true,
		MultiError:              true,
		AuthenticationFunc:      openapi3filter.NoopAuthenticationFunc,
		SchemaValidationOptions: s.schemaOpts,
	}
	opts.WithCustomSchemaErrorFunc(schemaErrorMessage)
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request:    req,
			PathParams: params,
			Route: &routers.Route{
				Spec:      s.doc,
				Path:      r.template,
				PathItem:  r.item,
				Method:    method,
				Operation: op,
			},
			Options: opts,
		},
		Status:  status,
		Header:  http.Header{"Content-Type": {contentType}},
		Options: opts,
	}
	input.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), input); err != nil {
		errs = append(errs, err)
	}

	if mt := resp.Content.Get(contentType); mt != nil && mt.Schema != nil {
		errs = append(errs, undeclaredKeys(mt.Schema, value, "")...)
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s: %w", where, errors.Join(errs...))
	}
	return nil
}

// decodeJSON decodes exactly one JSON document (numbers as json.Number).
func decodeJSON(body []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		if err == nil {
			err = errors.New("trailing data after the JSON document")
		}
		return nil, err
	}
	return v, nil
}

// undeclaredKeys walks value along schema and reports object keys that the
// schema does not declare, for object schemas that declare properties and
// leave additionalProperties unspecified. It descends into declared
// properties and array items. Schemas without properties (e.g. the untyped
// "messaging_binding", "bindings", "timers" or "links") accept anything.
func undeclaredKeys(ref *openapi3.SchemaRef, value any, at string) []error {
	if ref == nil || ref.Value == nil || value == nil {
		return nil
	}
	schema := ref.Value
	var errs []error
	switch v := value.(type) {
	case map[string]any:
		if len(schema.Properties) == 0 {
			return nil
		}
		ap := schema.AdditionalProperties
		checkExtra := ap.Has == nil && ap.Schema == nil
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			prop, declared := schema.Properties[k]
			if !declared {
				if checkExtra {
					errs = append(errs, fmt.Errorf("at %s: key %q is not declared by the schema%s", pointer(at), k, schemaName(ref)))
				} else if ap.Schema != nil {
					errs = append(errs, undeclaredKeys(ap.Schema, v[k], at+"/"+k)...)
				}
				continue
			}
			errs = append(errs, undeclaredKeys(prop, v[k], at+"/"+k)...)
		}
	case []any:
		for i, elem := range v {
			errs = append(errs, undeclaredKeys(schema.Items, elem, fmt.Sprintf("%s/%d", at, i))...)
		}
	}
	return errs
}

func pointer(at string) string {
	if at == "" {
		return "/"
	}
	return at
}

func schemaName(ref *openapi3.SchemaRef) string {
	switch {
	case ref.Ref != "":
		return " " + strings.TrimPrefix(ref.Ref, "#/components/schemas/")
	case ref.Value.Title != "":
		return " " + ref.Value.Title
	}
	return ""
}

// schemaErrorMessage renders a kin-openapi schema error without dumping the
// whole schema: the JSON pointer, the reason and an abbreviated value.
func schemaErrorMessage(err *openapi3.SchemaError) string {
	reason := err.Reason
	if reason == "" {
		reason = fmt.Sprintf("doesn't match schema %q", err.SchemaField)
	}
	val, _ := json.Marshal(err.Value)
	return fmt.Sprintf("at /%s: %s (value: %s)", strings.Join(err.JSONPointer(), "/"), reason, abbreviate(string(val)))
}

func abbreviate(s string) string {
	const max = 200
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}

var dateTimeRE = regexp.MustCompile(openapi3.FormatOfStringDateTime)

// validateDateTime enforces RFC 3339 date-times such as 2015-12-16T22:18:37Z.
func validateDateTime(v string) error {
	if !dateTimeRE.MatchString(v) {
		return fmt.Errorf("not an RFC 3339 date-time like 2015-12-16T22:18:37Z: %q", v)
	}
	if _, err := time.Parse(time.RFC3339Nano, v); err != nil {
		return fmt.Errorf("not an RFC 3339 date-time: %w", err)
	}
	return nil
}

// validateURI enforces absolute URLs with a scheme and a host.
func validateURI(v string) error {
	u, err := url.Parse(v)
	if err != nil {
		return fmt.Errorf("not a URL: %w", err)
	}
	if u.Scheme == "" || u.Host == "" {
		return fmt.Errorf("not an absolute URL with scheme and host: %q", v)
	}
	return nil
}

// validateErrorBody checks Twilio's error representation, e.g.
// {"code": 20404, "message": "...", "more_info": "https://www.twilio.com/docs/errors/20404", "status": 404}.
func validateErrorBody(status int, contentType string, body []byte) error {
	var errs []error
	if mt, _, err := mime.ParseMediaType(contentType); err != nil || mt != "application/json" {
		errs = append(errs, fmt.Errorf("error response Content-Type is %q, want application/json", contentType))
	}
	value, err := decodeJSON(body)
	if err != nil {
		return errors.Join(append(errs, fmt.Errorf("error body is not a single JSON document: %w (body: %s)", err, abbreviate(string(body))))...)
	}
	obj, ok := value.(map[string]any)
	if !ok {
		return errors.Join(append(errs, fmt.Errorf("error body is not a JSON object: %s", abbreviate(string(body))))...)
	}

	integer := func(key string) (int64, bool) {
		v, present := obj[key]
		if !present {
			errs = append(errs, fmt.Errorf("error body lacks %q", key))
			return 0, false
		}
		n, isNum := v.(json.Number)
		if !isNum {
			errs = append(errs, fmt.Errorf("error body %q is %s, want an integer", key, jsonKind(v)))
			return 0, false
		}
		i, err := n.Int64()
		if err != nil {
			errs = append(errs, fmt.Errorf("error body %q is %s, want an integer", key, n))
			return 0, false
		}
		return i, true
	}
	str := func(key string, required bool) {
		v, present := obj[key]
		if !present {
			if required {
				errs = append(errs, fmt.Errorf("error body lacks %q", key))
			}
			return
		}
		if _, isStr := v.(string); !isStr {
			errs = append(errs, fmt.Errorf("error body %q is %s, want a string", key, jsonKind(v)))
		}
	}

	integer("code")
	str("message", true)
	str("more_info", true)
	if st, ok := integer("status"); ok && st != int64(status) {
		errs = append(errs, fmt.Errorf("error body status is %d, but the HTTP status is %d", st, status))
	}
	str("detail", false)

	var extra []string
	for k := range obj {
		switch k {
		case "code", "message", "more_info", "status", "detail":
		default:
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	for _, k := range extra {
		errs = append(errs, fmt.Errorf("error body has unexpected key %q", k))
	}
	return errors.Join(errs...)
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// SpecPath returns the absolute path of api/twilio_conversations_v1.json in
// the module that contains the current working directory: it walks up from
// the working directory to the first directory holding a go.mod file. It
// returns an error if the working directory cannot be determined, if no
// go.mod is found, or if the spec file is missing there.
func SpecPath() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("oapi: %w", err)
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("oapi: %w", err)
	}
	for {
		if fi, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil && !fi.IsDir() {
			p := filepath.Join(dir, specRelPath)
			if _, err := os.Stat(p); err != nil {
				return "", fmt.Errorf("oapi: spec not found next to %s: %w", filepath.Join(dir, "go.mod"), err)
			}
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("oapi: no go.mod found in the working directory or its parents")
		}
		dir = parent
	}
}

// Transport returns an http.RoundTripper that sends requests through next
// (http.DefaultTransport if nil), reads each response body fully, restores it
// so the caller can still read it, and validates the response with
// ValidateResponse. Validation failures, and failures to read a body, are
// passed to onError (if non-nil) with the request method and URL; they never
// change what RoundTrip returns, except that a body read error is also
// returned as RoundTrip's error. Errors from next are returned unchanged and
// not reported.
func (s *Spec) Transport(next http.RoundTripper, onError func(method, url string, err error)) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &transport{spec: s, next: next, onError: onError}
}

type transport struct {
	spec    *Spec
	next    http.RoundTripper
	onError func(method, url string, err error)
}

func (t *transport) report(req *http.Request, err error) {
	if t.onError != nil {
		t.onError(req.Method, req.URL.String(), err)
	}
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	var body []byte
	if resp.Body != nil {
		body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			err = fmt.Errorf("oapi: reading response body: %w", err)
			t.report(req, err)
			return nil, err
		}
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err := t.spec.ValidateResponse(req.Method, req.URL.EscapedPath(), resp.StatusCode, resp.Header.Get("Content-Type"), body); err != nil {
		t.report(req, err)
	}
	return resp, nil
}
