package metrics

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/parley-dev/parley/internal/metrics/route"
)

type fakeStore struct{}

func (fakeStore) GroupCommitStats() (int64, int64) { return 7, 3 }

func TestMetrics(t *testing.T) {
	m := New()
	m.ObserveStore(fakeStore{})
	m.ObserveStore(struct{}{}) // no figures: nothing registered
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/Conversations/CH1" {
			route.Set(r.Context(), "GET /v1/Conversations/{Sid}")
		}
		w.WriteHeader(404)
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/v1/Conversations/CH1", nil))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/v1/Nowhere/secret-identity", nil))
	c := &http.Client{Transport: m.Transport(rt(func(*http.Request) (*http.Response, error) { return nil, errors.New("refused") }))}
	_, _ = c.Get("http://127.0.0.1:1/hook")
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	text := string(b)
	for _, want := range []string{
		`parley_http_requests_total{method="GET",route="/v1/Conversations/{Sid}",status="404"} 1`,
		`parley_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`parley_store_write_transactions_total 7`, `parley_store_group_commits_total 3`,
		`parley_webhook_attempts_total{outcome="error"} 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %s", want)
		}
	}
	if strings.Contains(text, "CH1") || strings.Contains(text, "secret-identity") {
		t.Error("raw paths in labels")
	}
}

func TestOutcome(t *testing.T) {
	if Outcome(204, nil) != "2xx" || Outcome(503, nil) != "5xx" || Outcome(0, nil) != "error" || Outcome(200, errors.New("x")) != "error" {
		t.Error("Outcome")
	}
}
