// Package jira understands Jira webhooks: how a delivery is authenticated,
// which events Cogniscape projects, and how a body becomes a
// cogniscape.Mutation (normalize.go).
package jira

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cogniscape/cogniscape"
)

// Header names Jira and our setup guide use.
const (
	HeaderSignature  = "X-Hub-Signature"                // Cloud (and DC 10+): sha256=<hex HMAC of the raw body>
	HeaderToken      = "X-Cogniscape-Token"             // DC/Server custom header carrying the secret itself
	HeaderIdentifier = "X-Atlassian-Webhook-Identifier" // Cloud: same across retries
	HeaderRetry      = "X-Atlassian-Webhook-Retry"      // Cloud: retry count, absent on the first attempt
)

// Authenticate reports whether the request carries proof of the secret by any
// one of the accepted methods: an X-Hub-Signature HMAC of body, the secret in
// X-Cogniscape-Token, or the secret as the password of HTTP basic auth. All
// comparisons are constant-time. A signature with an unknown method prefix
// proves nothing.
func Authenticate(h http.Header, body, secret []byte) bool {
	ok := 0
	if sig := h.Get(HeaderSignature); sig != "" {
		ok |= verifySignature(sig, body, secret)
	}
	if tok := h.Get(HeaderToken); tok != "" {
		ok |= subtle.ConstantTimeCompare([]byte(tok), secret)
	}
	if auth := h.Get("Authorization"); auth != "" {
		if pw, found := basicPassword(auth); found {
			ok |= subtle.ConstantTimeCompare(pw, secret)
		}
	}
	return ok == 1 && len(secret) > 0
}

func verifySignature(header string, body, secret []byte) int {
	method, hexsig, found := strings.Cut(header, "=")
	if !found || method != "sha256" {
		return 0
	}
	got, err := hex.DecodeString(hexsig)
	if err != nil || len(got) != sha256.Size {
		return 0
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	if hmac.Equal(got, mac.Sum(nil)) {
		return 1
	}
	return 0
}

func basicPassword(auth string) ([]byte, bool) {
	scheme, enc, found := strings.Cut(auth, " ")
	if !found || !strings.EqualFold(scheme, "Basic") {
		return nil, false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(enc))
	if err != nil {
		return nil, false
	}
	_, pw, found := bytes.Cut(raw, []byte(":"))
	return pw, found
}

// Source is Jira as a webhook source for the HTTP server.
type Source struct{}

// Authenticate implements the server's source interface; see Authenticate.
func (Source) Authenticate(h http.Header, body, secret []byte) bool {
	return Authenticate(h, body, secret)
}

// Inspect implements the server's source interface; see Inspect.
func (Source) Inspect(body []byte) (cogniscape.Envelope, error) { return Inspect(body) }

// DeliveryID returns Jira Cloud's delivery identifier (the same across
// retries) and the retry count; Data Center sends neither.
func (Source) DeliveryID(h http.Header) (identifier string, retry int) {
	identifier = strings.TrimSpace(h.Get(HeaderIdentifier))
	// Jira's are short decimal strings. Anything else is ours to bound, and
	// is replaced by its hash rather than cut, so that two identifiers never
	// become one (the identifier decides what is a duplicate).
	if len(identifier) > 128 || !PlainID(identifier) && identifier != "" {
		sum := sha256.Sum256([]byte(identifier))
		identifier = "sha256:" + hex.EncodeToString(sum[:])
	}
	retry, _ = strconv.Atoi(h.Get(HeaderRetry))
	if retry < 0 || retry > 1000 {
		retry = 0
	}
	return identifier, retry
}

// Sign returns the X-Hub-Signature value Jira would send for body.
func Sign(body, secret []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// processed lists the webhookEvent values Cogniscape projects into the graph.
// Everything else (board, issue type, user, filter, attachment, entity
// property, option_*, …) is recorded and acknowledged as ignored.
var processed = map[string]bool{
	"jira:issue_created": true, "jira:issue_updated": true, "jira:issue_deleted": true,
	"comment_created": true, "comment_updated": true, "comment_deleted": true,
	"worklog_created": true, "worklog_updated": true, "worklog_deleted": true, "jira:worklog_updated": true,
	"issuelink_created": true, "issuelink_deleted": true,
	"sprint_created": true, "sprint_updated": true, "sprint_deleted": true, "sprint_started": true, "sprint_closed": true,
	"project_created": true, "project_updated": true, "project_deleted": true, "project_soft_deleted": true,
	"project_restored_deleted": true, "project_archived": true, "project_restored_archived": true,
	"jira:version_created": true, "jira:version_updated": true, "jira:version_released": true,
	"jira:version_unreleased": true, "jira:version_moved": true, "jira:version_deleted": true, "jira:version_merged": true,
}

// Processed reports whether events of this webhookEvent type are projected.
func Processed(webhookEvent string) bool { return processed[webhookEvent] }

// ErrNotWebhook is returned by Inspect for a body that is not a Jira webhook.
var ErrNotWebhook = errors.New("not a Jira webhook body")

type selfOnly struct {
	Self string `json:"self"`
}

// envelope decodes only the fields Inspect needs; encoding/json skips the rest.
type envelope struct {
	WebhookEvent *string         `json:"webhookEvent"`
	Timestamp    json.RawMessage `json:"timestamp"`
	Issue        *selfOnly       `json:"issue"`
	Comment      *selfOnly       `json:"comment"`
	Worklog      *selfOnly       `json:"worklog"`
	Sprint       *selfOnly       `json:"sprint"`
	Version      *selfOnly       `json:"version"`
	Project      *selfOnly       `json:"project"`
	User         *selfOnly       `json:"user"`
	Board        *selfOnly       `json:"board"`
}

// Inspect reads a body's envelope. It fails with a reason, wrapping
// ErrNotWebhook, for a body that is not a JSON object with a string
// webhookEvent.
func Inspect(body []byte) (cogniscape.Envelope, error) {
	s, ok := scanEnvelope(body)
	if !ok {
		return inspectJSON(body)
	}
	if !s.hasEvent || len(s.event) == 0 {
		return cogniscape.Envelope{}, reasonf("body has no webhookEvent")
	}
	event := string(s.event)
	env := cogniscape.Envelope{Event: event, Ignored: !Processed(event)}
	if ms, ok := envelopeMillis(s.timestamp); ok {
		env.Timestamp = time.UnixMilli(ms).UTC()
	}
	for _, self := range s.selves {
		if site := SiteOf(string(self)); site != "" {
			env.Site = site
			break
		}
	}
	return env, nil
}

// inspectJSON is Inspect by encoding/json: for bodies the scanner does not
// handle, and to word the reason a body is refused.
func inspectJSON(body []byte) (cogniscape.Envelope, error) {
	var e envelope
	if err := json.Unmarshal(body, &e); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return cogniscape.Envelope{}, reasonf("body is not valid JSON (offset %d): %v", syn.Offset, err)
		case errors.As(err, &typ) && typ.Field == "":
			return cogniscape.Envelope{}, reasonf("body is not a JSON object")
		case errors.As(err, &typ):
			return cogniscape.Envelope{}, reasonf("field %s has the wrong type", typ.Field)
		}
		return cogniscape.Envelope{}, reasonf("body is not valid JSON: %v", err)
	}
	if e.WebhookEvent == nil || *e.WebhookEvent == "" {
		return cogniscape.Envelope{}, reasonf("body has no webhookEvent")
	}
	env := cogniscape.Envelope{Event: *e.WebhookEvent, Ignored: !Processed(*e.WebhookEvent)}
	if ms, ok := envelopeMillis(e.Timestamp); ok {
		env.Timestamp = time.UnixMilli(ms).UTC()
	}
	for _, s := range []*selfOnly{e.Issue, e.Comment, e.Worklog, e.Sprint, e.Version, e.Project, e.User, e.Board} {
		if s != nil {
			if site := SiteOf(s.Self); site != "" {
				env.Site = site
				break
			}
		}
	}
	return env, nil
}

type reasonError string // a caller-safe reason; Is(ErrNotWebhook)

func (r reasonError) Error() string        { return string(r) }
func (r reasonError) Is(target error) bool { return target == ErrNotWebhook }

func reasonf(format string, args ...any) error {
	return reasonError(strings.TrimSpace(fmt.Sprintf(format, args...)))
}

// SiteOf returns scheme://host of a Jira REST URL, lower-cased, or "" (also
// for a host no DNS name could have: a site is part of every node's key).
func SiteOf(self string) string {
	u, err := url.Parse(self)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || !PlainID(u.Host) {
		return ""
	}
	return strings.ToLower(u.Scheme + "://" + u.Host)
}

// maxIDLen bounds the identifiers taken from webhook bodies (people's ids,
// issue and project keys, hosts): Jira's are far shorter, and longer ones
// would not fit a database index entry.
const maxIDLen = 255

// PlainID reports whether s can serve as an identifier: not empty, at most
// maxIDLen bytes of valid UTF-8 with no control characters. Identifiers are
// parts of node keys and index entries; a NUL, say, could not be stored as
// it was read.
func PlainID(s string) bool {
	if s == "" || len(s) > maxIDLen || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

func envelopeMillis(raw json.RawMessage) (int64, bool) {
	s := strings.Trim(string(raw), `"`)
	if s == "" || s == "null" {
		return 0, false
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return ms, true
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f >= 0 && f < 1e15 {
		return int64(f), true
	}
	return 0, false
}
