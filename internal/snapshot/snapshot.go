// Package snapshot is the wire format of account snapshots (GET/POST /parley/v1/Snapshot,
// "parley serve -seed"): a JSON document, or YAML for hand-written fixtures, of the form
//
//	{"version": 1, "account_sid": "AC…", "default_service_sid": "IS…",
//	 "tables": {"services": [{"sid": "IS…", ...}], "conversations": [...], ...}}
//
// Rows are keyed by column name; dates (date_*) are RFC 3339 strings.
package snapshot

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/parley-dev/parley/internal/conv"
	yaml "go.yaml.in/yaml/v4"
)

type document struct {
	Version           *int                        `json:"version"`
	AccountSid        string                      `json:"account_sid"`
	DefaultServiceSid string                      `json:"default_service_sid"`
	Tables            map[string][]map[string]any `json:"tables"`
}

// ErrMalformed is wrapped by the errors of a document that cannot be read.
var ErrMalformed = errors.New("malformed snapshot")

// Encode writes s as indented JSON; the same state always gives the same bytes.
func Encode(w io.Writer, s *conv.Snapshot) error {
	v := s.Version
	doc := document{Version: &v, AccountSid: s.AccountSid, DefaultServiceSid: s.DefaultServiceSid, Tables: map[string][]map[string]any{}}
	for name, rows := range s.Tables {
		out := make([]map[string]any, len(rows))
		for i, r := range rows {
			out[i] = r
		}
		doc.Tables[name] = out
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// Decode reads a JSON document. Errors wrap ErrMalformed.
func Decode(r io.Reader) (*conv.Snapshot, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	dec.DisallowUnknownFields()
	var doc document
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: data after the document", ErrMalformed)
	}
	if doc.Version == nil {
		return nil, fmt.Errorf("%w: version is missing", ErrMalformed)
	}
	s := &conv.Snapshot{Version: *doc.Version, AccountSid: doc.AccountSid, DefaultServiceSid: doc.DefaultServiceSid,
		Tables: map[string][]conv.SnapshotRow{}}
	for name, rows := range doc.Tables {
		out := make([]conv.SnapshotRow, len(rows))
		for i, row := range rows {
			if row == nil {
				return nil, fmt.Errorf("%w: tables.%s[%d] is not an object", ErrMalformed, name, i)
			}
			for k, v := range row {
				switch v.(type) {
				case map[string]any, []any:
					return nil, fmt.Errorf("%w: tables.%s[%d].%s must be a string, number, boolean or null", ErrMalformed, name, i, k)
				}
			}
			out[i] = conv.SnapshotRow(row)
		}
		s.Tables[name] = out
	}
	return s, nil
}

// DecodeYAML reads a YAML document (the same structure as the JSON one; unquoted dates are
// taken as RFC 3339 strings). It uses go.yaml.in/yaml/v4, the maintained successor of
// gopkg.in/yaml.v3 (already a dependency of the OpenAPI validator), so hand-written fixtures
// need not be JSON. Errors wrap ErrMalformed.
func DecodeYAML(r io.Reader) (*conv.Snapshot, error) {
	var v any
	dec := yaml.NewDecoder(r)
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	v, err := jsonable(v)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return Decode(bytes.NewReader(b))
}

// jsonable turns YAML-decoded values into ones encoding/json writes as the same document.
func jsonable(v any) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			j, err := jsonable(e)
			if err != nil {
				return nil, err
			}
			x[k] = j
		}
		return x, nil
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			ks, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("key %v is not a string", k)
			}
			j, err := jsonable(e)
			if err != nil {
				return nil, err
			}
			m[ks] = j
		}
		return m, nil
	case []any:
		for i, e := range x {
			j, err := jsonable(e)
			if err != nil {
				return nil, err
			}
			x[i] = j
		}
		return x, nil
	case time.Time:
		return x.UTC().Format(time.RFC3339), nil
	}
	return v, nil
}
