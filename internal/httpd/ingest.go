package httpd

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
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

// webhookCredential is what a request is authenticated against.
type webhookCredential struct {
	customerID int64
	secret     []byte
	version    string // of the secret: the store keeps the delivery only while it is current
	known      bool   // the customer key exists
	cached     bool
}

// authenticates reports whether the request carries this credential's
// secret. An unknown customer is checked against a dummy secret, so that it
// costs the same as a known one, and always fails.
func (c webhookCredential) authenticates(src WebhookSource, h http.Header, body []byte) bool {
	secret := c.secret
	if !c.known {
		secret = dummySecret
	}
	return src.Authenticate(h, body, secret) && c.known
}

// webhookSecret returns the customer's Jira secret: from the store's cache
// when it has one and fresh is false, otherwise read from the store. An
// unknown key is not an error: the credential is then not known.
func (s *Server) webhookSecret(ctx context.Context, customerKey string, fresh bool) (webhookCredential, error) {
	if cache, ok := s.Customers.(cogniscape.SecretCache); ok && !fresh {
		if id, secret, version, ok := cache.CachedJiraSecret(customerKey); ok {
			return webhookCredential{customerID: id, secret: secret, version: version, known: true, cached: true}, nil
		}
	}
	id, secret, version, err := s.Customers.JiraSecret(ctx, customerKey)
	switch {
	case cogniscape.ErrorCode(err) == cogniscape.ENOTFOUND:
		return webhookCredential{}, nil
	case err != nil:
		return webhookCredential{}, err
	}
	return webhookCredential{customerID: id, secret: secret, version: version, known: true}, nil
}

// authenticate returns the credential the request is signed with, or writes
// the refusal and returns its outcome label. A cached secret that fails is
// not the last word (it may predate a rotation to the secret the request
// carries): the store's secret decides. fresh skips the cache altogether.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, src WebhookSource, body []byte, fresh bool) (webhookCredential, string) {
	customerKey := r.PathValue("customerKey")
	cred, err := s.webhookSecret(r.Context(), customerKey, fresh)
	if err == nil && cred.cached && !cred.authenticates(src, r.Header, body) {
		cred, err = s.webhookSecret(r.Context(), customerKey, true)
	}
	if err != nil {
		s.Logger.Error("read customer secret", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "storage unavailable"})
		return cred, "unavailable"
	}
	if !cred.authenticates(src, r.Header, body) {
		if cred.known {
			s.rejects.add(cred.customerID, s.Now())
		}
		writeJSON(w, http.StatusUnauthorized, unauthorizedBody)
		return cred, "rejected"
	}
	return cred, ""
}

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
	body, release, err := readBody(http.MaxBytesReader(w, r.Body, s.MaxBody), r.ContentLength, &s.bodies)
	defer release()
	if err != nil {
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": "body too large"})
			return "too_large"
		case errors.Is(err, errBodyBudget):
			// Jira retries a 503; the memory is free again by then.
			w.Header().Set("Retry-After", "5")
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "server busy"})
			return "unavailable"
		}
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "could not read body"})
		return "bad_request"
	}

	cred, refused := s.authenticate(w, r, src, body, false)
	if refused != "" {
		return refused
	}

	identifier, retry := src.DeliveryID(r.Header)
	received := s.Now().UTC()
	env, err := src.Inspect(body)
	if err != nil && cred.cached {
		// Nothing checks a cached secret's version on the quarantine path:
		// authenticate on the store's secret before keeping the body.
		if _, refused := s.authenticate(w, r, src, body, true); refused != "" {
			return refused
		}
	}
	if err != nil {
		d := cogniscape.Delivery{ReceivedAt: received, Event: env.Event, Identifier: identifier, Retry: retry, Size: len(body), Reason: err.Error()}
		if qerr := s.Events.Quarantine(r.Context(), cred.customerID, d, body); qerr != nil {
			s.Logger.Error("quarantine", "err", qerr)
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "storage unavailable"})
			return "unavailable"
		}
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return string(cogniscape.OutcomeQuarantined)
	}

	ev := &cogniscape.Event{
		CustomerID: cred.customerID, ReceivedAt: received, Source: "jira", Type: env.Event, Site: env.Site,
		Identifier: identifier, Retry: retry, DedupKey: dedupKey(env.Site, identifier, body),
		Timestamp: env.Timestamp, Body: body, Ignored: env.Ignored, SecretVersion: cred.version,
	}
	if ev.Timestamp.IsZero() {
		ev.Timestamp = received
	}
	outcome, err := s.Events.Append(r.Context(), ev, len(body))
	if cogniscape.ErrorCode(err) == cogniscape.ECONFLICT {
		// The secret was rotated after it authenticated this request (by
		// another process, or while the request was under way):
		// authenticate again on the current one.
		if cred, refused = s.authenticate(w, r, src, body, true); refused != "" {
			return refused
		}
		ev.SecretVersion = cred.version
		outcome, err = s.Events.Append(r.Context(), ev, len(body))
	}
	if err != nil {
		// 503 makes Jira Cloud retry later; nothing was acknowledged.
		s.Logger.Error("append event", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "storage unavailable"})
		return "unavailable"
	}
	if outcome == cogniscape.OutcomeAccepted && s.Appended != nil {
		s.Appended()
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	w.Write(statusBodies[outcome])
	return string(outcome)
}

// statusBodies are the 200 answers, encoded once: every acknowledgement
// sends one.
var statusBodies = func() map[cogniscape.Outcome][]byte {
	m := map[cogniscape.Outcome][]byte{}
	for _, o := range []cogniscape.Outcome{cogniscape.OutcomeAccepted, cogniscape.OutcomeDuplicate, cogniscape.OutcomeIgnored} {
		b, _ := json.Marshal(map[string]string{"status": string(o)})
		m[o] = append(b, '\n')
	}
	return m
}()

// dedupKey identifies a delivery across retries: Jira Cloud's identifier,
// repeated on retries, qualified by the site it is unique within; without
// one, the body itself. An event that names no site (issue links, among
// others) qualifies its identifier with its body: two sites sending to one
// URL may use the same identifier, and a retry repeats the body.
func dedupKey(site, identifier string, body []byte) string {
	if identifier != "" && site != "" {
		return "id:" + site + "#" + identifier
	}
	sum := sha256.Sum256(body)
	if identifier != "" {
		return "id:#" + identifier + "#" + hex.EncodeToString(sum[:])
	}
	return "sha256:" + hex.EncodeToString(sum[:])
}

// bodyBuffers recycles the buffers of webhook bodies up to pooledBodyLimit:
// they are half of what an acknowledgement allocates, and nothing keeps a
// body once its request is answered (the stores copy it into the
// transaction).
var bodyBuffers sync.Pool

const pooledBodyLimit = 64 << 10

// errBodyBudget means the bodies being read at once already hold all the
// memory allowed for them.
var errBodyBudget = errors.New("too many large request bodies in flight")

// bodyBudget bounds the memory held by request bodies larger than
// pooledBodyLimit, across all requests. Bodies are read before they can be
// authenticated (the signature covers them), so without it anyone could
// make the server hold MaxBody per connection.
type bodyBudget struct {
	limit int64
	used  atomic.Int64
}

func (b *bodyBudget) take(n int64) bool {
	if b.used.Add(n) > b.limit {
		b.used.Add(-n)
		return false
	}
	return true
}

func (b *bodyBudget) give(n int64) { b.used.Add(-n) }

// readBody reads a request body; contentLength is the declared length (-1
// when unknown), which net/http enforces. Bodies up to pooledBodyLimit are
// read into a recycled buffer of that length. Larger ones grow as their
// bytes arrive, never beyond the declared length, and are charged to
// budget: a client that declares 25 MiB and then sends one byte holds a few
// kilobytes, not 25 MiB. release returns the memory: call it once the body
// is no longer needed.
func readBody(body io.Reader, contentLength int64, budget *bodyBudget) (_ []byte, release func(), err error) {
	if contentLength <= 0 || contentLength > pooledBodyLimit {
		return readGrowing(body, contentLength, budget)
	}
	p, _ := bodyBuffers.Get().(*[]byte)
	if p == nil {
		p = new([]byte)
	}
	if int64(cap(*p)) < contentLength {
		*p = make([]byte, contentLength, max(contentLength, 16<<10))
	}
	buf := (*p)[:contentLength]
	release = func() { bodyBuffers.Put(p) }
	if _, err := io.ReadFull(body, buf); err != nil {
		return nil, release, err
	}
	return buf, release, nil
}

// readGrowing reads a body whose size is large or unknown, doubling its
// buffer as it fills.
func readGrowing(body io.Reader, contentLength int64, budget *bodyBudget) (_ []byte, release func(), err error) {
	var held int64
	release = func() { budget.give(held) }
	grow := func(buf []byte) ([]byte, error) {
		size := max(int64(cap(buf))*2, pooledBodyLimit)
		if contentLength > 0 {
			size = min(size, contentLength)
		}
		if !budget.take(size) {
			return buf, errBodyBudget
		}
		grown := make([]byte, len(buf), size)
		copy(grown, buf)
		budget.give(held)
		held = size
		return grown, nil
	}
	var buf []byte
	for {
		if len(buf) == cap(buf) {
			if contentLength > 0 && int64(len(buf)) == contentLength {
				return buf, release, nil // net/http ends the body here
			}
			if buf, err = grow(buf); err != nil {
				return nil, release, err
			}
		}
		n, err := body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		switch {
		case err == io.EOF:
			if contentLength > 0 && int64(len(buf)) < contentLength {
				return nil, release, io.ErrUnexpectedEOF
			}
			return buf, release, nil
		case err != nil:
			return nil, release, err
		}
	}
}
