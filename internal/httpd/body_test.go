package httpd

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/cogniscape/cogniscape"
	"github.com/cogniscape/cogniscape/internal/jira"
)

// stallingBody yields its data and then ends, as a client does that declares
// a large body, sends a little and goes away.
type stallingBody struct{ data []byte }

func (s *stallingBody) Read(p []byte) (int, error) {
	if len(s.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.data)
	s.data = s.data[n:]
	return n, nil
}

func TestReadBodyAllocatesWhatArrives(t *testing.T) {
	budget := &bodyBudget{limit: 1 << 30}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, release, err := readBody(&stallingBody{data: make([]byte, 1000)}, DefaultMaxBody, budget)
	runtime.ReadMemStats(&after)
	release()
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("err = %v, want unexpected EOF", err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
		t.Errorf("a body declared as %d bytes of which 1000 arrived allocated %d bytes", DefaultMaxBody, got)
	}
	if n := budget.used.Load(); n != 0 {
		t.Errorf("budget still holds %d bytes after release", n)
	}
}

func TestReadBodyReadsEveryByte(t *testing.T) {
	for _, size := range []int{0, 1, pooledBodyLimit, pooledBodyLimit + 1, 300 << 10, 1<<20 + 7} {
		for _, declared := range []bool{true, false} {
			t.Run(fmt.Sprintf("%d/declared=%v", size, declared), func(t *testing.T) {
				want := make([]byte, size)
				for i := range want {
					want[i] = byte(i * 7)
				}
				length := int64(size)
				if !declared {
					length = -1
				}
				budget := &bodyBudget{limit: 4 << 20}
				got, release, err := readBody(bytes.NewReader(want), length, budget)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("read %d bytes, not the %d sent", len(got), size)
				}
				release()
				if n := budget.used.Load(); n != 0 {
					t.Errorf("budget still holds %d bytes after release", n)
				}
			})
		}
	}
}

func TestReadBodyStopsAtTheBudget(t *testing.T) {
	budget := &bodyBudget{limit: 200 << 10}
	_, release, err := readBody(bytes.NewReader(make([]byte, 1<<20)), 1<<20, budget)
	if !errors.Is(err, errBodyBudget) {
		t.Fatalf("err = %v, want errBodyBudget", err)
	}
	release()
	if n := budget.used.Load(); n != 0 {
		t.Errorf("budget still holds %d bytes after release", n)
	}
}

// Past the memory allowed for large bodies a delivery gets 503, which Jira
// retries; smaller ones and those that fit go on being accepted.
func TestLargeBodiesBeyondTheBudgetAreRetried(t *testing.T) {
	const secret = "pay-webhook-test-secret-2026"
	log := &memLog{byKey: map[string]*cogniscape.Event{}}
	srv := &Server{Customers: oneCustomer{key: "cust", secret: secret}, Events: log, Jira: jira.Source{},
		BodyMemory: 512 << 10, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	h := srv.Handler()
	send := func(size int) *httptest.ResponseRecorder {
		body := []byte(`{"webhookEvent":"jira:issue_updated","timestamp":1772535739345,"issue":{"id":"10101","self":"https://acme-pay.atlassian.net/rest/api/2/issue/10101","fields":{"description":"` +
			strings.Repeat("x", size) + `"}}}`)
		req := httptest.NewRequest("POST", "/api/v1/events/jira/cust", bytes.NewReader(body))
		req.Header.Set(jira.HeaderSignature, jira.Sign(body, []byte(secret)))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	for _, tc := range []struct {
		size int
		want int
	}{{10 << 10, http.StatusOK}, {200 << 10, http.StatusOK}, {1 << 20, http.StatusServiceUnavailable}} {
		rec := send(tc.size)
		if rec.Code != tc.want {
			t.Errorf("%d-byte body: status %d (%s), want %d", tc.size, rec.Code, rec.Body, tc.want)
		}
		if tc.want == http.StatusServiceUnavailable && rec.Header().Get("Retry-After") == "" {
			t.Errorf("503 without Retry-After")
		}
	}
	if len(log.events) != 2 {
		t.Errorf("%d events stored, want 2", len(log.events))
	}
	if n := srv.bodies.used.Load(); n != 0 {
		t.Errorf("budget still holds %d bytes after the requests", n)
	}
}
