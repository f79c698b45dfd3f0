package httpd

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics never carry a customer key, name or secret as a label: the only
// labels are fixed outcome names, so an unknown key cannot create a series.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  prometheus.Histogram
}

// outcomes are every label value observe may see, pre-created so that
// dashboards show zeros rather than gaps.
var outcomes = []string{"accepted", "duplicate", "ignored", "quarantined", "rejected", "too_large", "bad_request", "unavailable"}

func newMetrics(logSize, lag func(context.Context) (int64, error), skipped func() int64) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cogniscape_webhook_requests_total",
			Help: "Webhook requests by outcome (rejected = failed authentication).",
		}, []string{"outcome"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "cogniscape_webhook_ack_seconds",
			Help:    "Time from request start to acknowledgement, including the durable commit.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}),
	}
	for _, o := range outcomes {
		m.requests.WithLabelValues(o)
	}
	m.reg.MustRegister(m.requests, m.latency, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	gauge := func(name, help string, f func(context.Context) (int64, error)) {
		if f == nil {
			return
		}
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			n, err := f(ctx)
			if err != nil {
				return -1
			}
			return float64(n)
		}))
	}
	gauge("cogniscape_event_log_events", "Events in the log (all customers).", logSize)
	gauge("cogniscape_projection_lag_events", "Events stored but not yet projected into the graph.", lag)
	if skipped != nil {
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "cogniscape_projection_skipped_events_total",
			Help: "Events left out of the graph because the store refused them (each is logged as an error)."},
			func() float64 { return float64(skipped()) }))
	}
	return m
}

func (m *metrics) observe(outcome string, d time.Duration) {
	m.requests.WithLabelValues(outcome).Inc()
	m.latency.Observe(d.Seconds())
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
