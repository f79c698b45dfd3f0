package httpd

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/cogniscape/cogniscape"
)

// unauthorizedBody is the one answer to every failed authentication, whether
// the customer key is unknown or the secret wrong or absent, so that nobody
// can learn which customer keys exist.
var unauthorizedBody = map[string]string{"error": "unauthorized"}

// dummySecret stands in for the secret of an unknown customer so that the
// request costs the same work as one for a known customer.
var dummySecret = []byte("cogniscape-no-such-customer-0000000000000")

func (s *Server) handleJiraWebhook(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	outcome := s.ingest(w, r, s.Jira, start)
	s.metrics.observe(outcome, time.Since(start))
}

// ingest authenticates, inspects and appends one delivery, and returns the
// outcome label for metrics.
func (s *Server) ingest(w http.ResponseWriter, r *http.Request, src WebhookSource, start time.Time) string {
	if r.ContentLength > s.MaxBody {
		writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": "body too large"})
		return "too_large"
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.MaxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": "body too large"})
			return "too_large"
		}
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "could not read body"})
		return "bad_request"
	}

	customerKey := r.PathValue("customerKey")
	customerID, secret, err := s.Customers.JiraSecret(r.Context(), customerKey)
	known := err == nil
	if err != nil && cogniscape.ErrorCode(err) != cogniscape.ENOTFOUND {
		s.Logger.Error("read customer secret", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "storage unavailable"})
		return "unavailable"
	}
	if !known {
		secret = dummySecret
	}
	if !src.Authenticate(r.Header, body, secret) || !known {
		if known {
			s.rejects.add(customerID, s.Now())
		}
		writeJSON(w, http.StatusUnauthorized, unauthorizedBody)
		return "rejected"
	}

	identifier, retry := src.DeliveryID(r.Header)
	received := s.Now().UTC()
	env, err := src.Inspect(body)
	if err != nil {
		d := cogniscape.Delivery{ReceivedAt: received, Event: env.Event, Identifier: identifier, Retry: retry, Size: len(body), Reason: err.Error()}
		if qerr := s.Events.Quarantine(r.Context(), customerID, d, body); qerr != nil {
			s.Logger.Error("quarantine", "err", qerr)
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "storage unavailable"})
			return "unavailable"
		}
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return string(cogniscape.OutcomeQuarantined)
	}

	ev := &cogniscape.Event{
		CustomerID: customerID, ReceivedAt: received, Source: "jira", Type: env.Event, Site: env.Site,
		Identifier: identifier, Retry: retry, DedupKey: dedupKey(env.Site, identifier, body),
		Timestamp: env.Timestamp, Body: body, Ignored: env.Ignored,
	}
	if ev.Timestamp.IsZero() {
		ev.Timestamp = received
	}
	outcome, err := s.Events.Append(r.Context(), ev, len(body))
	if err != nil {
		// 503 makes Jira Cloud retry later; nothing was acknowledged.
		s.Logger.Error("append event", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "storage unavailable"})
		return "unavailable"
	}
	if outcome == cogniscape.OutcomeAccepted && s.Appended != nil {
		s.Appended()
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": string(outcome)})
	return string(outcome)
}

// dedupKey identifies a delivery across retries: Jira Cloud's identifier is
// unique within a site and repeated on retries; without one, the body itself.
func dedupKey(site, identifier string, body []byte) string {
	if identifier != "" {
		return "id:" + site + "#" + identifier
	}
	sum := sha256.Sum256(body)
	return "sha256:" + hex.EncodeToString(sum[:])
}
