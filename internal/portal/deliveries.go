package portal

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/cogniscape/cogniscape"
)

const deliveriesPerPage = 50

type deliveriesPage struct {
	Outcome, Event, Since string
	Rows                  []cogniscape.Delivery
	Older                 string // URL of the next (older) page; "" at the end
	Paged                 bool   // not the newest page
	FirstPage             string
	Rejected24            int
	LastRejected          time.Time
	Counted               bool
	Outcomes              []string
	Periods               [][2]string
	Events                []string
}

var deliveryPeriods = [][2]string{{"", "Any time"}, {"1h", "Last hour"}, {"24h", "Last 24 hours"}, {"7d", "Last 7 days"}, {"30d", "Last 30 days"}}

// parsePeriod reads 1h, 24h, 7d, 30d…; "" is no bound.
func parsePeriod(v string, now time.Time) (time.Time, error) {
	if v == "" || v == "all" {
		return time.Time{}, nil
	}
	bad := cogniscape.Errorf(cogniscape.EINVALID, "The period must look like 24h, 7d or 12w.")
	if len(v) < 2 || len(v) > 6 {
		return time.Time{}, bad
	}
	n, err := strconv.Atoi(v[:len(v)-1])
	if err != nil || n <= 0 {
		return time.Time{}, bad
	}
	unit := map[byte]time.Duration{'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour}[v[len(v)-1]]
	if unit == 0 {
		return time.Time{}, bad
	}
	return now.Add(-time.Duration(n) * unit), nil
}

func (p *Portal) handleDeliveries(w http.ResponseWriter, r *http.Request, s *cogniscape.Session) error {
	q := r.URL.Query()
	d := deliveriesPage{Outcome: q.Get("outcome"), Event: strings.TrimSpace(q.Get("event")), Since: q.Get("since"),
		Counted: p.Rejected != nil, Periods: deliveryPeriods,
		Outcomes: []string{string(cogniscape.OutcomeAccepted), string(cogniscape.OutcomeDuplicate), string(cogniscape.OutcomeIgnored), string(cogniscape.OutcomeQuarantined)}}
	if d.Outcome != "" && !slices.Contains(d.Outcomes, d.Outcome) {
		return cogniscape.Errorf(cogniscape.EINVALID, "Unknown outcome %q.", d.Outcome)
	}
	if len(d.Event) > 100 {
		return cogniscape.Errorf(cogniscape.EINVALID, "The event type is too long.")
	}
	now := p.Now()
	since, err := parsePeriod(d.Since, now)
	if err != nil {
		return err
	}
	f := cogniscape.DeliveryFilter{Outcome: cogniscape.Outcome(d.Outcome), Event: d.Event, Limit: deliveriesPerPage + 1}
	if v := q.Get("before"); v != "" {
		if f.Before, err = strconv.ParseInt(v, 10, 64); err != nil || f.Before <= 0 {
			return cogniscape.Errorf(cogniscape.EINVALID, "The page position is not valid.")
		}
		d.Paged = true
	}
	rows, err := p.Events.Deliveries(r.Context(), s.Customer.ID, f)
	if err != nil {
		return err
	}
	more := len(rows) > deliveriesPerPage
	if more {
		rows = rows[:deliveriesPerPage]
	}
	for _, row := range rows {
		if row.ReceivedAt.Before(since) {
			more = false
			break
		}
		d.Rows = append(d.Rows, row)
	}
	link := func(before int64) string {
		v := url.Values{}
		for k, val := range map[string]string{"outcome": d.Outcome, "event": d.Event, "since": d.Since} {
			if val != "" {
				v.Set(k, val)
			}
		}
		if before > 0 {
			v.Set("before", strconv.FormatInt(before, 10))
		}
		if len(v) == 0 {
			return Prefix + "/deliveries"
		}
		return Prefix + "/deliveries?" + v.Encode()
	}
	if more && len(d.Rows) > 0 {
		d.Older = link(d.Rows[len(d.Rows)-1].ID)
	}
	d.FirstPage = link(0)
	if p.Rejected != nil {
		d.Rejected24, d.LastRejected = p.Rejected(s.Customer.ID, now.Add(-24*time.Hour))
	}
	// Event types seen lately, to pick from.
	recent, err := p.Events.Deliveries(r.Context(), s.Customer.ID, cogniscape.DeliveryFilter{Limit: 500})
	if err != nil {
		return err
	}
	for _, row := range recent {
		if row.Event != "" && !slices.Contains(d.Events, row.Event) {
			d.Events = append(d.Events, row.Event)
		}
	}
	slices.Sort(d.Events)
	p.render(w, r, s, http.StatusOK, "deliveries.html", "Deliveries", "deliveries", d)
	return nil
}

type quarantinePage struct {
	D         cogniscape.Delivery
	Body      string
	JSON      bool
	Truncated bool
	Redacted  int
}

func (p *Portal) handleQuarantined(w http.ResponseWriter, r *http.Request, s *cogniscape.Session) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return errNotFound
	}
	q, err := p.Events.QuarantinedBody(r.Context(), s.Customer.ID, id)
	if err != nil {
		return err
	}
	if err := p.audit(r.Context(), r, s, "quarantine.view", "delivery "+strconv.FormatInt(id, 10)); err != nil {
		return err
	}
	d := quarantinePage{D: q.Delivery}
	d.Body, d.JSON, d.Truncated, d.Redacted = sanitiseBody(q.Body)
	p.render(w, r, s, http.StatusOK, "quarantine.html", "Quarantined delivery", "deliveries", d)
	return nil
}

// maxShownBody bounds how much of a quarantined body the page shows.
const maxShownBody = 256 << 10

var sensitiveKey = regexp.MustCompile(`(?i)pass(word|wd)?|secret|token|authori[sz]ation|cookie|api[-_]?key|credential|session|signature`)

var sensitivePair = regexp.MustCompile(`(?i)((?:pass(?:word|wd)?|secret|token|api[-_]?key|signature)\s*[=:]\s*)("[^"]*"|[^\s&,;"]+)`)

// sanitiseBody makes a quarantined body safe to show: valid UTF-8 without
// control characters, values under secret-looking keys redacted, JSON
// indented, and at most maxShownBody bytes. The page's template escapes the
// result, so markup in the body is shown, never run.
func sanitiseBody(body []byte) (text string, isJSON, truncated bool, redacted int) {
	if len(body) > maxShownBody {
		body, truncated = body[:maxShownBody], true
	}
	if !truncated && json.Valid(body) {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		var v any
		if dec.Decode(&v) == nil {
			v = redactJSON(v, &redacted)
			var out bytes.Buffer
			enc := json.NewEncoder(&out)
			enc.SetEscapeHTML(false) // the template escapes; \u003c would only be harder to read
			enc.SetIndent("", "  ")
			if err := enc.Encode(v); err == nil {
				return cleanText(strings.TrimSuffix(out.String(), "\n")), true, false, redacted
			}
		}
	}
	s := strings.ToValidUTF8(string(body), "\uFFFD")
	s = sensitivePair.ReplaceAllStringFunc(s, func(m string) string {
		redacted++
		return sensitivePair.ReplaceAllString(m, "${1}[redacted]")
	})
	return cleanText(s), false, truncated, redacted
}

func redactJSON(v any, n *int) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if sensitiveKey.MatchString(k) {
				if _, isObj := val.(map[string]any); !isObj {
					x[k] = "[redacted]"
					*n++
					continue
				}
			}
			x[k] = redactJSON(val, n)
		}
	case []any:
		for i := range x {
			x[i] = redactJSON(x[i], n)
		}
	case string:
		if sensitivePair.MatchString(x) {
			*n++
			return sensitivePair.ReplaceAllString(x, "${1}[redacted]")
		}
	}
	return v
}

// cleanText replaces control and invisible formatting characters (which can
// hide or reorder text) with a visible mark, keeping newlines and tabs.
func cleanText(s string) string {
	var b strings.Builder
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		s = s[size:]
		switch {
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case r == '\r':
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			b.WriteRune('\uFFFD')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
