package sdkgo_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/parley-dev/parley/internal/store/storetest"
	"github.com/parley-dev/parley/internal/testserver"
)

// anySIDRE finds SIDs in a body.
var anySIDRE = regexp.MustCompile(`\b[A-Z]{2}[0-9a-f]{32}\b`)

// TestCrossAccountWalk calls every served operation whose path names a resource, on the first
// account's resources, with the second account's credentials: each must answer 404 (20404),
// name none of the first account's SIDs but those of the request's own path, and change
// nothing (a DELETE leaves the resource in place).
func TestCrossAccountWalk(t *testing.T) {
	spec := testserver.Spec(t)
	storetest.Each(t, func(t *testing.T, e storetest.Engine) {
		fx := &fixtures{t: t, srv: testserver.New(t, e), shared: map[string]string{}, identities: map[string]string{}}
		asB := func(method, path string, query, form url.Values) (int, []byte) {
			t.Helper()
			u := fx.srv.URL + path
			if len(query) > 0 {
				u += "?" + query.Encode()
			}
			var body io.Reader
			if method == http.MethodPost {
				body = strings.NewReader(form.Encode())
			}
			req, err := http.NewRequest(method, u, body)
			if err != nil {
				t.Fatal(err)
			}
			if body != nil {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			req.SetBasicAuth(testserver.Account2Sid, testserver.Auth2Token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, b
		}
		walked := 0
		for _, op := range spec.Operations() {
			if !strings.Contains(op.Path, "{") {
				continue // collections of the caller's own account
			}
			t.Run(op.OperationID, func(t *testing.T) {
				fx.t = t
				path, query, err := fx.resolve(op)
				if err != nil {
					t.Fatalf("%s %s: %v", op.Method, op.Path, err)
				}
				walked++
				status, body := asB(op.Method, path, query, formFor(op, fx))
				var eb struct {
					Code   int `json:"code"`
					Status int `json:"status"`
				}
				if status != http.StatusNotFound || json.Unmarshal(body, &eb) != nil || eb.Code != 20404 {
					t.Errorf("account B: %s %s answered %d: %s, want 404/20404", op.Method, path, status, body)
				}
				for _, sid := range anySIDRE.FindAllString(string(body), -1) {
					if !strings.Contains(path, sid) && sid != testserver.Account2Sid {
						t.Errorf("account B: %s %s leaked %s: %s", op.Method, path, sid, body)
					}
				}
				if op.Method == http.MethodDelete {
					if st, b := fx.call(http.MethodGet, path, nil, nil); st != http.StatusOK {
						t.Errorf("after account B's DELETE %s, account A's GET answers %d: %s", path, st, b)
					}
				}
			})
		}
		if walked < 40 {
			t.Errorf("walked only %d operations", walked)
		}
	})
}
