package httpd

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/cogniscape/cogniscape"
	"github.com/cogniscape/cogniscape/internal/jira"
)

// memLog is a minimal in-memory event log. The end-to-end tests in
// cmd/cogniscape run the request path on the real SQLite store; this one lets
// the fuzzer reach thousands of executions a second, which the store's fsync
// per commit does not.
type memLog struct {
	mu     sync.Mutex
	byKey  map[string]*cogniscape.Event
	quar   int
	events []*cogniscape.Event
}

func (m *memLog) Append(_ context.Context, ev *cogniscape.Event, _ int) (cogniscape.Outcome, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, dup := m.byKey[ev.DedupKey]; dup {
		return cogniscape.OutcomeDuplicate, nil
	}
	m.byKey[ev.DedupKey] = ev
	m.events = append(m.events, ev)
	if ev.Ignored {
		return cogniscape.OutcomeIgnored, nil
	}
	return cogniscape.OutcomeAccepted, nil
}

func (m *memLog) Quarantine(context.Context, int64, cogniscape.Delivery, []byte) error {
	m.mu.Lock()
	m.quar++
	m.mu.Unlock()
	return nil
}

func (m *memLog) Deliveries(context.Context, int64, cogniscape.DeliveryFilter) ([]cogniscape.Delivery, error) {
	return nil, nil
}

func (m *memLog) QuarantinedBody(context.Context, int64, int64) (*cogniscape.Quarantined, error) {
	return nil, cogniscape.Errorf(cogniscape.ENOTFOUND, "none")
}

// oneCustomer is a CustomerService with a single customer.
type oneCustomer struct {
	cogniscape.CustomerService // unused methods panic
	key, secret                string
}

func (o oneCustomer) JiraSecret(_ context.Context, key string) (int64, []byte, string, error) {
	if key != o.key {
		return 0, nil, "", cogniscape.Errorf(cogniscape.ENOTFOUND, "unknown customer")
	}
	return 1, []byte(o.secret), "v1", nil
}

func FuzzIngest(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(0), "69312270414585119")
		f.Add(b, uint8(1), "sha256=deadbeef")
		f.Add(b, uint8(2), "1")
	}
	const secret = "pay-webhook-test-secret-2026"
	log := &memLog{byKey: map[string]*cogniscape.Event{}}
	srv := &Server{Customers: oneCustomer{key: "cust", secret: secret}, Events: log, Jira: jira.Source{}, MaxBody: 64 << 10,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	h := srv.Handler()

	f.Fuzz(func(t *testing.T, body []byte, mode uint8, header string) {
		req := httptest.NewRequest("POST", "/api/v1/events/jira/cust", bytes.NewReader(body))
		switch mode % 4 {
		case 0:
			req.Header.Set(jira.HeaderSignature, jira.Sign(body, []byte(secret)))
			req.Header.Set(jira.HeaderIdentifier, header)
		case 1:
			req.Header.Set(jira.HeaderSignature, header)
		case 2:
			req.Header.Set(jira.HeaderToken, secret)
			req.Header.Set(jira.HeaderRetry, header)
		case 3:
			req.Header.Set("Authorization", header)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK:
			var out map[string]string
			if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
				t.Fatalf("200 with a non-JSON body %q", rec.Body)
			}
			switch out["status"] {
			case "accepted", "duplicate", "ignored":
			default:
				t.Fatalf("200 with status %q", out["status"])
			}
			if mode%4 == 1 && header != jira.Sign(body, []byte(secret)) {
				t.Fatalf("accepted a forged signature %q", header)
			}
			if _, pw, ok := req.BasicAuth(); mode%4 == 3 && (!ok || pw != secret) {
				t.Fatalf("accepted Authorization %q", header)
			}
		case http.StatusBadRequest, http.StatusUnauthorized, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	})
}
