// Package metrics exposes Parley's Prometheus metrics (GET /metrics): requests by route
// pattern and status, their latency, webhook and delivery outcomes and open streams. Labels
// never carry account data (no SIDs, identities or raw paths). Everything is registered on
// the Registry a Metrics owns; nothing is global.
package metrics

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/delivery"
	"github.com/parley-dev/parley/internal/metrics/route"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds Parley's collectors.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	webhooks *prometheus.CounterVec
	carrier  *prometheus.CounterVec
	streams  prometheus.Gauge
	inflight prometheus.Gauge
}

// New returns Metrics on a new registry, with the Go runtime and process collectors.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parley_http_requests_total",
		Help: "API requests by route pattern (e.g. GET /v1/Conversations/{Sid}), method and status."}, []string{"route", "method", "status"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "parley_http_request_duration_seconds",
		Help: "API request latency by route pattern.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}, []string{"route", "method"})
	m.webhooks = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parley_webhook_attempts_total",
		Help: "Outgoing webhook attempts by outcome (2xx, 4xx, 5xx, error)."}, []string{"outcome"})
	m.carrier = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parley_carrier_attempts_total",
		Help: "SMS/WhatsApp sends to the carrier by outcome (sent, retry, failed)."}, []string{"outcome"})
	m.streams = prometheus.NewGauge(prometheus.GaugeOpts{Name: "parley_open_streams",
		Help: "Open live message streams (Server-Sent Events)."})
	m.inflight = prometheus.NewGauge(prometheus.GaugeOpts{Name: "parley_http_requests_in_flight",
		Help: "API requests being served."})
	m.reg.MustRegister(m.requests, m.latency, m.webhooks, m.carrier, m.streams, m.inflight,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry returns the registry, to add engine-specific collectors (store figures).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Middleware counts and times every request next serves, labelled by the route pattern the
// router recorded (route.Set), "unmatched" when none.
func (m *Metrics) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/metrics" {
			next.ServeHTTP(w, r)
			return
		}
		ctx, slot := route.Slot(r.Context())
		stream := strings.HasSuffix(r.URL.Path, "/Stream")
		if stream {
			m.streams.Inc()
			defer m.streams.Dec()
		}
		m.inflight.Inc()
		defer m.inflight.Dec()
		start := time.Now()
		rec := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r.WithContext(ctx))
		pattern := *slot
		if pattern == "" {
			pattern = "unmatched"
		} else if _, p, ok := strings.Cut(pattern, " "); ok {
			pattern = p
		}
		m.requests.WithLabelValues(pattern, r.Method, strconv.Itoa(rec.status)).Inc()
		m.latency.WithLabelValues(pattern, r.Method).Observe(time.Since(start).Seconds())
	})
}

// Outcome names an HTTP attempt's outcome: "2xx" ... "5xx", or "error" (no answer).
func Outcome(status int, err error) string {
	if err != nil || status < 100 {
		return "error"
	}
	return strconv.Itoa(status/100) + "xx"
}

// Transport counts the outcomes of the outgoing webhook requests of next.
func (m *Metrics) Transport(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	c := m.webhooks
	return rt(func(r *http.Request) (*http.Response, error) {
		resp, err := next.RoundTrip(r)
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		c.WithLabelValues(Outcome(status, err)).Inc()
		return resp, err
	})
}

type rt func(*http.Request) (*http.Response, error)

func (f rt) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusWriter) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer (flushes of streams).
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Carrier counts the outcomes of the carrier's sends: "sent", "retry" (a failure retried
// later) or "failed" (a permanent failure).
func (m *Metrics) Carrier(next delivery.Carrier) delivery.Carrier {
	return carrierFunc(func(ctx context.Context, o *conv.Outbound) (delivery.Result, error) {
		res, err := next.Send(ctx, o)
		var perm *delivery.PermanentError
		switch {
		case err == nil:
			m.carrier.WithLabelValues("sent").Inc()
		case errors.As(err, &perm):
			m.carrier.WithLabelValues("failed").Inc()
		default:
			m.carrier.WithLabelValues("retry").Inc()
		}
		return res, err
	})
}

type carrierFunc func(ctx context.Context, o *conv.Outbound) (delivery.Result, error)

func (f carrierFunc) Send(ctx context.Context, o *conv.Outbound) (delivery.Result, error) {
	return f(ctx, o)
}

// GroupCommitter is implemented by stores that batch write transactions (SQLite).
type GroupCommitter interface {
	GroupCommitStats() (txs, batches int64)
}

// ObserveStore exports the store's figures when it has any: for a group-committing store,
// write transactions and the commits (batches) that made them durable.
func (m *Metrics) ObserveStore(st any) {
	g, ok := st.(GroupCommitter)
	if !ok {
		return
	}
	m.reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "parley_store_write_transactions_total",
			Help: "Write transactions run by the store."}, func() float64 { txs, _ := g.GroupCommitStats(); return float64(txs) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "parley_store_group_commits_total",
			Help: "Commits of the store's group commit (each makes one or more write transactions durable)."},
			func() float64 { _, b := g.GroupCommitStats(); return float64(b) }))
}
