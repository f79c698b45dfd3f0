package portal

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/cogniscape/cogniscape"
)

// TokenHeader is the header Jira Data Center sends the secret in when it
// cannot sign deliveries.
const TokenHeader = "X-Cogniscape-Token"

type setupPage struct {
	Tab        string // cloud or dc
	WebhookURL string
	Secret     string // only when shown without JavaScript, after an audited reveal
	Header     string
	Rotated    bool
	Verify     verifyPanel
	Audit      []cogniscape.AuditEntry
}

// verifyPanel tells the admin whether Jira's deliveries arrive and pass.
type verifyPanel struct {
	State        string // ok, rejected, quarantined or waiting
	Headline     string
	Detail       string
	Hints        []string
	Recent       []cogniscape.Delivery
	LastOK       *cogniscape.Delivery
	Rejected24   int
	LastRejected time.Time
	Counted      bool // whether rejected requests are counted at all
}

func (p *Portal) verifyPanel(ctx context.Context, customerID int64) (verifyPanel, error) {
	v := verifyPanel{Counted: p.Rejected != nil}
	ds, err := p.Events.Deliveries(ctx, customerID, cogniscape.DeliveryFilter{Limit: 8})
	if err != nil {
		return v, err
	}
	v.Recent = ds
	for i, d := range ds {
		if d.Outcome != cogniscape.OutcomeQuarantined {
			v.LastOK = &ds[i]
			break
		}
	}
	if v.LastOK == nil {
		// Older authenticated events count too, however many quarantined came since.
		ok, err := p.lastAuthenticated(ctx, customerID)
		if err != nil {
			return v, err
		}
		v.LastOK = ok
	}
	now := p.Now()
	if p.Rejected != nil {
		v.Rejected24, v.LastRejected = p.Rejected(customerID, now.Add(-24*time.Hour))
	}
	secretHints := []string{
		"If the secret was regenerated, paste the new one into the webhook in Jira: the old one stopped working at once.",
		"Jira Cloud and Data Center 10+: paste the secret into the webhook's Secret field, with nothing before or after it.",
		"Data Center with a header: the line must read exactly " + TokenHeader + ": <secret> — that name, a colon, a space and the secret.",
	}
	switch {
	case v.LastOK != nil:
		v.State = "ok"
		v.Headline = "Connected: Jira's events arrive and pass authentication."
		v.Detail = "Last authenticated event: " + v.LastOK.Event + ", " + ago(now, v.LastOK.ReceivedAt) + "."
		if !v.LastRejected.IsZero() && v.LastRejected.After(v.LastOK.ReceivedAt) {
			v.Hints = append([]string{plainCount(v.Rejected24, "request was", "requests were") +
				" rejected in the last 24 hours, the last one after this event: another webhook may still use an old secret."}, secretHints[:1]...)
		}
	case v.Rejected24 > 0:
		v.State = "rejected"
		v.Headline = "Jira reaches Cogniscape, but its requests are rejected."
		v.Detail = plainCount(v.Rejected24, "request was", "requests were") + " rejected in the last 24 hours (the last " +
			ago(now, v.LastRejected) + "): the secret or the header does not match."
		v.Hints = secretHints
	case len(ds) > 0:
		v.State = "quarantined"
		v.Headline = "Requests pass authentication, but their bodies are not Jira events."
		v.Detail = "They were quarantined; an admin can read them in Deliveries."
		v.Hints = []string{"Make sure \"Exclude body\" is not ticked in the webhook's settings in Jira."}
	default:
		v.State = "waiting"
		v.Headline = "Waiting for the first event from Jira."
		v.Detail = "Save the webhook in Jira, then create or edit an issue. This panel updates by itself."
		v.Hints = []string{"Requests to a mistyped URL are rejected without being counted here: if nothing shows up at all, check the URL."}
	}
	return v, nil
}

// lastAuthenticated finds the newest delivery that was not quarantined.
func (p *Portal) lastAuthenticated(ctx context.Context, customerID int64) (*cogniscape.Delivery, error) {
	for _, o := range []cogniscape.Outcome{cogniscape.OutcomeAccepted, cogniscape.OutcomeDuplicate, cogniscape.OutcomeIgnored} {
		ds, err := p.Events.Deliveries(ctx, customerID, cogniscape.DeliveryFilter{Outcome: o, Limit: 1})
		if err != nil {
			return nil, err
		}
		if len(ds) == 1 {
			return &ds[0], nil
		}
	}
	return nil, nil
}

func plainCount(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return itoa(n) + " " + many
}

func (p *Portal) setupPage(r *http.Request, s *cogniscape.Session) (setupPage, error) {
	d := setupPage{Tab: "cloud", WebhookURL: p.baseURL(r) + "/api/v1/events/jira/" + s.Customer.Key, Header: TokenHeader,
		Rotated: r.URL.Query().Has("rotated")}
	if r.URL.Query().Get("tab") == "dc" {
		d.Tab = "dc"
	}
	var err error
	if d.Verify, err = p.verifyPanel(r.Context(), s.Customer.ID); err != nil {
		return d, err
	}
	log, err := p.Users.AuditLog(r.Context(), s.Customer.ID, 200)
	if err != nil {
		return d, err
	}
	for _, e := range log {
		if strings.HasPrefix(e.Action, "secret.") && len(d.Audit) < 8 {
			d.Audit = append(d.Audit, e)
		}
	}
	return d, nil
}

func (p *Portal) handleSetup(w http.ResponseWriter, r *http.Request, s *cogniscape.Session) error {
	d, err := p.setupPage(r, s)
	if err != nil {
		return err
	}
	p.render(w, r, s, http.StatusOK, "setup.html", "Connect Jira", "setup", d)
	return nil
}

func (p *Portal) handleVerify(w http.ResponseWriter, r *http.Request, s *cogniscape.Session) error {
	v, err := p.verifyPanel(r.Context(), s.Customer.ID)
	if err != nil {
		return err
	}
	p.fragment(w, "verify", v)
	return nil
}

// handleReveal shows the secret: as JSON to the page's script, or as the
// whole page when the browser runs no script. Every reveal is audited first;
// without the audit entry, no secret.
func (p *Portal) handleReveal(w http.ResponseWriter, r *http.Request, s *cogniscape.Session) error {
	_, secret, _, err := p.Customers.JiraSecret(r.Context(), s.Customer.Key)
	if err != nil {
		return err
	}
	if err := p.audit(r.Context(), r, s, "secret.reveal", "Jira webhook secret shown"); err != nil {
		return err
	}
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		w.Header().Set("Content-Type", "application/json")
		return json.NewEncoder(w).Encode(map[string]string{"secret": string(secret)})
	}
	d, err := p.setupPage(r, s)
	if err != nil {
		return err
	}
	d.Secret = string(secret)
	if r.PostFormValue("tab") == "dc" {
		d.Tab = "dc"
	}
	p.render(w, r, s, http.StatusOK, "setup.html", "Connect Jira", "setup", d)
	return nil
}

func (p *Portal) handleRotateConfirm(w http.ResponseWriter, r *http.Request, s *cogniscape.Session) error {
	p.render(w, r, s, http.StatusOK, "rotate.html", "Regenerate the secret", "setup", nil)
	return nil
}

func (p *Portal) handleRotate(w http.ResponseWriter, r *http.Request, s *cogniscape.Session) error {
	if r.PostFormValue("confirm") != "yes" {
		http.Redirect(w, r, Prefix+"/setup/jira/rotate", http.StatusSeeOther)
		return nil
	}
	if _, err := p.Customers.RotateJiraSecret(r.Context(), s.Customer.Key); err != nil {
		return err
	}
	p.audit(r.Context(), r, s, "secret.rotate", "Jira webhook secret regenerated; the old one stopped working")
	http.Redirect(w, r, Prefix+"/setup/jira?rotated=1", http.StatusSeeOther)
	return nil
}
