package portal

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cogniscape/cogniscape"
	"github.com/cogniscape/cogniscape/internal/jira"
	"github.com/cogniscape/cogniscape/internal/projector"
	"github.com/cogniscape/cogniscape/internal/sqlite"
)

const testPassword = "correct horse battery"

// clock is a settable time source shared by the portal and the store.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is a portal over a real SQLite store with two customers: A has
// deliveries but no graph; B has the whole Jira Cloud fixture story,
// projected.
type env struct {
	t        *testing.T
	db       *sqlite.DB
	p        *Portal
	url      string
	clock    *clock
	a, b     *cogniscape.Customer
	rejected map[int64]int
	mu       sync.Mutex
	qA, qB   int64 // a quarantined delivery of each
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(t.TempDir(), make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := &env{t: t, db: db, clock: &clock{t: time.Now().UTC()}, rejected: map[int64]int{}}
	db.Now = e.clock.Now
	if e.a, _, err = db.CreateCustomer(ctx, "Acme"); err != nil {
		t.Fatal(err)
	}
	if e.b, _, err = db.CreateCustomer(ctx, "Beta"); err != nil {
		t.Fatal(err)
	}
	hash, err := HashPassword(testPassword)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []cogniscape.User{
		{CustomerID: e.a.ID, Email: "admin@a.example", Role: cogniscape.RoleAdmin},
		{CustomerID: e.a.ID, Email: "member@a.example", Role: cogniscape.RoleMember},
		{CustomerID: e.b.ID, Email: "admin@b.example", Role: cogniscape.RoleAdmin},
		{CustomerID: e.b.ID, Email: "member@b.example", Role: cogniscape.RoleMember},
	} {
		if err := db.CreateUser(ctx, &u, hash); err != nil {
			t.Fatal(err)
		}
	}
	// B: the Cloud story, in the order Jira sent it.
	files, _ := filepath.Glob(filepath.Join("..", "jira", "testdata", "cloud", "*.json"))
	type fx struct {
		body []byte
		env  cogniscape.Envelope
	}
	var story []fx
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		en, err := jira.Inspect(body)
		if err != nil {
			t.Fatal(err)
		}
		story = append(story, fx{body, en})
	}
	slices.SortStableFunc(story, func(x, y fx) int { return x.env.Timestamp.Compare(y.env.Timestamp) })
	for i, s := range story {
		e.append(e.b.ID, s.body, s.env, fmt.Sprint(i))
	}
	// A: an event that is recorded but not projected.
	body, _ := os.ReadFile(filepath.Join("..", "jira", "testdata", "ignored", "board_created.json"))
	en, _ := jira.Inspect(body)
	e.append(e.a.ID, body, en, "a1")
	e.qA = e.quarantine(e.a.ID, []byte(`{"hello":"world"}`))
	e.qB = e.quarantine(e.b.ID, []byte(`{"password":"hunter2","note":"<script>alert(1)</script>","nested":{"token":"abc"}}`))

	proj := projector.New(db, jira.Normalize, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if _, err := proj.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	e.p = &Portal{Customers: db, Events: db, Users: db, Graph: &cogniscape.Reader{Store: db},
		Rejected: func(id int64, since time.Time) (int, time.Time) {
			e.mu.Lock()
			defer e.mu.Unlock()
			if n := e.rejected[id]; n > 0 {
				return n, e.clock.Now().Add(-time.Minute)
			}
			return 0, time.Time{}
		},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: e.clock.Now}
	srv := httptest.NewServer(e.p.Handler())
	t.Cleanup(srv.Close)
	e.url = srv.URL
	return e
}

func (e *env) append(customerID int64, body []byte, en cogniscape.Envelope, id string) {
	e.t.Helper()
	ev := &cogniscape.Event{CustomerID: customerID, ReceivedAt: e.clock.Now(), Source: "jira", Type: en.Event, Site: en.Site,
		Identifier: id, DedupKey: "id:" + en.Site + "#" + id, Timestamp: en.Timestamp, Body: body, Ignored: en.Ignored}
	if _, err := e.db.Append(context.Background(), ev, len(body)); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) quarantine(customerID int64, body []byte) int64 {
	e.t.Helper()
	ctx := context.Background()
	d := cogniscape.Delivery{ReceivedAt: e.clock.Now(), Size: len(body), Reason: "not a webhook"}
	if err := e.db.Quarantine(ctx, customerID, d, body); err != nil {
		e.t.Fatal(err)
	}
	ds, err := e.db.Deliveries(ctx, customerID, cogniscape.DeliveryFilter{Outcome: cogniscape.OutcomeQuarantined, Limit: 1})
	if err != nil || len(ds) != 1 {
		e.t.Fatal(err)
	}
	return ds[0].ID
}

// client is a browser: it keeps cookies and does not follow redirects.
type client struct {
	t    *testing.T
	hc   *http.Client
	base string
	// forwardedFor, if set, is sent as X-Forwarded-For, as a reverse proxy
	// in front of the portal would.
	forwardedFor string
}

func (e *env) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: e.t, base: e.url, hc: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

type answer struct {
	status int
	body   string
	header http.Header
}

func (c *client) do(req *http.Request) answer {
	c.t.Helper()
	if c.forwardedFor != "" {
		req.Header.Set("X-Forwarded-For", c.forwardedFor)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, string(b), resp.Header}
}

func (c *client) get(path string) answer {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.base+path, nil)
	return c.do(req)
}

func (c *client) post(path string, form url.Values, headers ...string) answer {
	c.t.Helper()
	req, _ := http.NewRequest("POST", c.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return c.do(req)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf reads the CSRF token from a page.
func (c *client) csrf(path string) string {
	c.t.Helper()
	a := c.get(path)
	m := csrfRE.FindStringSubmatch(a.body)
	if m == nil {
		c.t.Fatalf("no CSRF token on %s (%d)", path, a.status)
	}
	return m[1]
}

func (c *client) signIn(email, password string) answer {
	c.t.Helper()
	tok := c.csrf("/portal/signin")
	return c.post("/portal/signin", url.Values{"csrf": {tok}, "email": {email}, "password": {password}, "next": {"/portal/"}})
}

func (e *env) signedIn(email string) *client {
	e.t.Helper()
	c := e.client()
	if a := c.signIn(email, testPassword); a.status != http.StatusSeeOther {
		e.t.Fatalf("sign in %s: %d %s", email, a.status, a.body)
	}
	return c
}

func wantStatus(t *testing.T, what string, a answer, status int) {
	t.Helper()
	if a.status != status {
		body := a.body
		if len(body) > 600 {
			body = body[:600]
		}
		t.Errorf("%s: status %d, want %d\n%s", what, a.status, status, body)
	}
}

func TestEveryPageRenders(t *testing.T) {
	e := newEnv(t)
	c := e.signedIn("admin@b.example")
	pages := map[string][]string{ // path → texts the page must contain
		"/portal/setup/jira":                                {"Connect Jira", "/api/v1/events/jira/" + e.b.Key, "Jira Cloud", "Tick these events", "Regenerate secret", `data-state="ok"`},
		"/portal/setup/jira?tab=dc":                         {"X-Cogniscape-Token", "Jira Data Center / Server", "basic authentication"},
		"/portal/setup/jira/verify?fragment=1":              {`id="verify"`, "Connected"},
		"/portal/setup/jira/rotate":                         {"stops working immediately", "rotate-confirm"},
		"/portal/deliveries":                                {"accepted", "quarantined", "View body"},
		"/portal/deliveries?outcome=quarantined":            {"quarantined"},
		"/portal/deliveries?event=sprint_started":           {"sprint_started"},
		"/portal/deliveries?since=24h":                      {"Deliveries"},
		fmt.Sprintf("/portal/deliveries/%d", e.qB):          {"Quarantined delivery", "[redacted]", "&lt;script&gt;"},
		"/portal/activity":                                  {"Marco Bellini moved PAY-101 from To Do to In Progress"},
		"/portal/activity?project=PAY&since=":               {"PAY-101"},
		"/portal/activity?person=5f8a2c7d9e1b4a0068c3d2e1":  {"Marco Bellini"},
		"/portal/issues":                                    {"PAY-101", "PAY-102"},
		"/portal/issues?q=PAY-101&status=indeterminate":     {"PAY-101"},
		"/portal/issues/PAY-101":                            {"Lifecycle", `id="status-history"`, "To Do", "In Progress", "Marco Bellini", "Neighbourhood", "<svg"},
		"/portal/issues/10102":                              {"PAY-102", "pooled transport"},
		"/portal/issues/PAY-101?depth=2":                    {"Neighbourhood"},
		"/portal/people":                                    {"Marco Bellini"},
		"/portal/people/5f8a2c7d9e1b4a0068c3d2e1":           {"Marco Bellini", "Working on"},
		"/portal/people/5f8a2c7d9e1b4a0068c3d2e1?since=all": {"PAY-101"},
		"/portal/sprints":                                   {"PAY Sprint 14"},
		"/portal/sprints/37":                                {"PAY Sprint 14", "Burn-up", "Scope change"},
		"/portal/releases":                                  {"2.4.0"},
		"/portal/releases/10021":                            {"2.4.0", "Progress"},
		"/portal/flow":                                      {"Cumulative flow", "Cycle time", "Throughput", "Aging work in progress"},
		"/portal/flow?project=PAY&since=52w":                {"Cumulative flow"},
		"/portal/graph?node=PAY-101":                        {"Neighbourhood of PAY-101"},
		"/portal/account":                                   {"admin@b.example", "Change your password"},
	}
	for path, want := range pages {
		a := c.get(path)
		wantStatus(t, path, a, http.StatusOK)
		for _, w := range want {
			if !strings.Contains(a.body, w) {
				t.Errorf("%s lacks %q", path, w)
			}
		}
		if a.status == http.StatusOK && !strings.Contains(a.header.Get("Content-Security-Policy"), "default-src 'none'") {
			t.Errorf("%s: CSP = %q", path, a.header.Get("Content-Security-Policy"))
		}
	}
	// The home page sends an admin with deliveries to the activity.
	if a := c.get("/portal/"); a.status != http.StatusSeeOther || a.header.Get("Location") != "/portal/activity" {
		t.Errorf("home: %d → %s", a.status, a.header.Get("Location"))
	}
	// Static files and the redirect from /.
	wantStatus(t, "css", c.get("/portal/static/portal.css"), http.StatusOK)
	wantStatus(t, "js", c.get("/portal/static/portal.js"), http.StatusOK)
	wantStatus(t, "missing static", c.get("/portal/static/nope.js"), http.StatusNotFound)
	wantStatus(t, "unknown page", c.get("/portal/nope"), http.StatusNotFound)
	if a := c.get("/"); a.status != http.StatusSeeOther || a.header.Get("Location") != "/portal/" {
		t.Errorf("/: %d → %s", a.status, a.header.Get("Location"))
	}
	// Bad input is a 400 page, not a 500.
	for _, path := range []string{"/portal/deliveries?outcome=nonsense", "/portal/deliveries?since=forever", "/portal/deliveries?before=x",
		"/portal/issues?status=weird", "/portal/activity?since=x", "/portal/graph", "/portal/issues?cursor=garbage"} {
		if a := c.get(path); a.status != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", path, a.status)
		}
	}
}

func TestEmptyCustomerPages(t *testing.T) {
	e := newEnv(t)
	c := e.signedIn("member@a.example")
	for _, path := range []string{"/portal/deliveries", "/portal/activity", "/portal/issues", "/portal/people", "/portal/sprints",
		"/portal/releases", "/portal/flow", "/portal/account"} {
		a := c.get(path)
		wantStatus(t, path, a, http.StatusOK)
		if strings.Contains(a.body, "PAY-") || strings.Contains(a.body, "Marco Bellini") || strings.Contains(a.body, "PAY Sprint") {
			t.Errorf("%s shows customer B's data", path)
		}
	}
	// A member's home is the activity, even without deliveries.
	if a := c.get("/portal/"); a.header.Get("Location") != "/portal/activity" {
		t.Errorf("member home → %s", a.header.Get("Location"))
	}
}

// TestScoping: a user of customer A reaches none of customer B's pages or
// objects by putting B's ids into the URL, whatever the role.
func TestScoping(t *testing.T) {
	e := newEnv(t)
	paths := []string{
		"/portal/issues/PAY-101", "/portal/issues/10101", "/portal/issues/pay-102", "/portal/issues/PAY-106",
		"/portal/sprints/37", "/portal/releases/10021", "/portal/people/5f8a2c7d9e1b4a0068c3d2e1",
		"/portal/flow?project=PAY", "/portal/graph?node=PAY-101", "/portal/graph?node=person:5f8a2c7d9e1b4a0068c3d2e1",
		"/portal/graph?node=sprint:37", "/portal/graph?node=version:10021", "/portal/graph?node=project:PAY",
	}
	for _, email := range []string{"member@a.example", "admin@a.example"} {
		c := e.signedIn(email)
		for _, p := range paths {
			wantStatus(t, email+" GET "+p, c.get(p), http.StatusNotFound)
		}
		// Lists filtered by B's values are simply empty.
		for _, p := range []string{"/portal/issues?project=PAY", "/portal/issues?sprint=37", "/portal/issues?assignee=5f8a2c7d9e1b4a0068c3d2e1",
			"/portal/activity?project=PAY", "/portal/activity?person=5f8a2c7d9e1b4a0068c3d2e1"} {
			a := c.get(p)
			wantStatus(t, email+" GET "+p, a, http.StatusOK)
			if strings.Contains(a.body, "PAY-101") {
				t.Errorf("%s: %s shows B's issue", email, p)
			}
		}
	}
	// B's quarantined body: 404 for A's admin; A's admin sees A's own.
	ca := e.signedIn("admin@a.example")
	wantStatus(t, "A admin reads B's quarantined body", ca.get(fmt.Sprintf("/portal/deliveries/%d", e.qB)), http.StatusNotFound)
	wantStatus(t, "A admin reads A's quarantined body", ca.get(fmt.Sprintf("/portal/deliveries/%d", e.qA)), http.StatusOK)
	// A's deliveries list holds only A's rows.
	a := ca.get("/portal/deliveries")
	if strings.Contains(a.body, "sprint_started") || !strings.Contains(a.body, "board_created") {
		t.Errorf("A's delivery log shows B's rows or lacks its own")
	}
	// A's setup page names A's key, never B's.
	a = ca.get("/portal/setup/jira")
	if !strings.Contains(a.body, e.a.Key) || strings.Contains(a.body, e.b.Key) {
		t.Errorf("A's setup page shows the wrong customer key")
	}
	// And the reverse: B sees its issue, not A's delivery.
	cb := e.signedIn("admin@b.example")
	wantStatus(t, "B admin reads A's quarantined body", cb.get(fmt.Sprintf("/portal/deliveries/%d", e.qA)), http.StatusNotFound)
	wantStatus(t, "B reads PAY-101", cb.get("/portal/issues/PAY-101"), http.StatusOK)
}

func TestRolesAndSignInRequired(t *testing.T) {
	e := newEnv(t)
	anon := e.client()
	for _, p := range []string{"/portal/", "/portal/setup/jira", "/portal/deliveries", "/portal/activity", "/portal/issues/PAY-101",
		"/portal/people", "/portal/sprints/37", "/portal/releases", "/portal/flow", "/portal/account"} {
		a := anon.get(p)
		if a.status != http.StatusSeeOther || !strings.HasPrefix(a.header.Get("Location"), "/portal/signin?next=") {
			t.Errorf("anonymous GET %s: %d → %q", p, a.status, a.header.Get("Location"))
		}
	}
	wantStatus(t, "anonymous reveal", anon.post("/portal/setup/jira/secret", nil), http.StatusUnauthorized)
	wantStatus(t, "anonymous verify fragment", anon.get("/portal/setup/jira/verify?fragment=1"), http.StatusUnauthorized)

	m := e.signedIn("member@b.example")
	for _, p := range []string{"/portal/setup/jira", "/portal/setup/jira/rotate", "/portal/setup/jira/verify", fmt.Sprintf("/portal/deliveries/%d", e.qB)} {
		wantStatus(t, "member GET "+p, m.get(p), http.StatusForbidden)
	}
	tok := m.csrf("/portal/deliveries")
	wantStatus(t, "member reveal", m.post("/portal/setup/jira/secret", url.Values{"csrf": {tok}}), http.StatusForbidden)
	wantStatus(t, "member rotate", m.post("/portal/setup/jira/rotate", url.Values{"csrf": {tok}, "confirm": {"yes"}}), http.StatusForbidden)
	if a := m.get("/portal/deliveries"); strings.Contains(a.body, "View body") || strings.Contains(a.body, "Get started") {
		t.Errorf("member sees admin links")
	}
	_, s1, _, _ := e.db.JiraSecret(context.Background(), e.b.Key)
	_, s2, _, _ := e.db.JiraSecret(context.Background(), e.b.Key)
	if string(s1) != string(s2) {
		t.Errorf("secret changed")
	}
}

func auditActions(t *testing.T, e *env, customerID int64) []string {
	t.Helper()
	log, err := e.db.AuditLog(context.Background(), customerID, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range log {
		out = append(out, a.Action)
	}
	return out
}

func TestRevealRotateAndCSRF(t *testing.T) {
	e := newEnv(t)
	c := e.signedIn("admin@b.example")
	ctx := context.Background()
	_, secret, _, _ := e.db.JiraSecret(ctx, e.b.Key)

	// The page never carries the secret itself.
	if a := c.get("/portal/setup/jira"); strings.Contains(a.body, string(secret)) {
		t.Fatal("setup page shows the secret before a reveal")
	}
	// CSRF: none, a wrong one, one from another session: refused, nothing revealed, nothing audited.
	other := e.signedIn("member@b.example").csrf("/portal/deliveries")
	before := len(auditActions(t, e, e.b.ID))
	for name, tok := range map[string]string{"no token": "", "wrong token": "x", "another session's token": other} {
		a := c.post("/portal/setup/jira/secret", url.Values{"csrf": {tok}}, "Accept", "application/json")
		wantStatus(t, "reveal with "+name, a, http.StatusForbidden)
		if strings.Contains(a.body, string(secret)) {
			t.Errorf("reveal with %s leaked the secret", name)
		}
	}
	wantStatus(t, "rotate without token", c.post("/portal/setup/jira/rotate", url.Values{"confirm": {"yes"}}), http.StatusForbidden)
	wantStatus(t, "sign out without token", c.post("/portal/signout", nil), http.StatusForbidden)
	wantStatus(t, "password change without token", c.post("/portal/account/password", url.Values{"current": {testPassword}}), http.StatusForbidden)
	if after := len(auditActions(t, e, e.b.ID)); after != before {
		t.Errorf("refused requests wrote %d audit entries", after-before)
	}
	if _, now, _, _ := e.db.JiraSecret(ctx, e.b.Key); string(now) != string(secret) {
		t.Fatal("a refused rotation changed the secret")
	}
	// A browser marking the request as cross-site is refused even with the token.
	tok := c.csrf("/portal/setup/jira")
	wantStatus(t, "cross-site reveal", c.post("/portal/setup/jira/secret", url.Values{"csrf": {tok}}, "Sec-Fetch-Site", "cross-site"), http.StatusForbidden)

	// Reveal through the script (JSON, token in a header) and without it (form).
	a := c.post("/portal/setup/jira/secret", nil, "Accept", "application/json", "X-CSRF-Token", tok)
	wantStatus(t, "reveal JSON", a, http.StatusOK)
	var got map[string]string
	json.Unmarshal([]byte(a.body), &got)
	if got["secret"] != string(secret) {
		t.Errorf("revealed %q, want the secret", got["secret"])
	}
	a = c.post("/portal/setup/jira/secret", url.Values{"csrf": {tok}, "tab": {"dc"}})
	wantStatus(t, "reveal form", a, http.StatusOK)
	if !strings.Contains(a.body, string(secret)) || !strings.Contains(a.body, "X-Cogniscape-Token") {
		t.Error("the form reveal does not show the secret in the header line")
	}
	if acts := auditActions(t, e, e.b.ID); acts[0] != "secret.reveal" || acts[1] != "secret.reveal" {
		t.Errorf("audit after two reveals: %v", acts)
	}

	// Rotation: confirmation first, then a new secret, audited.
	a = c.post("/portal/setup/jira/rotate", url.Values{"csrf": {tok}})
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/portal/setup/jira/rotate" {
		t.Errorf("rotate without confirm: %d → %s", a.status, a.header.Get("Location"))
	}
	a = c.post("/portal/setup/jira/rotate", url.Values{"csrf": {tok}, "confirm": {"yes"}})
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/portal/setup/jira?rotated=1" {
		t.Fatalf("rotate: %d → %s", a.status, a.header.Get("Location"))
	}
	_, rotated, _, _ := e.db.JiraSecret(ctx, e.b.Key)
	if string(rotated) == string(secret) {
		t.Fatal("secret unchanged after rotation")
	}
	if acts := auditActions(t, e, e.b.ID); acts[0] != "secret.rotate" {
		t.Errorf("audit after rotation: %v", acts)
	}
	if a := c.get("/portal/setup/jira?rotated=1"); !strings.Contains(a.body, "The old one no longer works") || !strings.Contains(a.body, "Regenerated") {
		t.Error("the setup page does not say the secret was regenerated")
	}

	// Sign out ends the session on the server, too.
	cookie := sessionCookieOf(t, c)
	a = c.post("/portal/signout", url.Values{"csrf": {tok}})
	if a.status != http.StatusSeeOther {
		t.Fatalf("sign out: %d", a.status)
	}
	if _, err := e.db.SessionByToken(ctx, cookie); cogniscape.ErrorCode(err) != cogniscape.EUNAUTHORIZED {
		t.Errorf("session after sign out: %v", err)
	}
	if a := c.get("/portal/activity"); a.status != http.StatusSeeOther {
		t.Errorf("page after sign out: %d", a.status)
	}
}

func sessionCookieOf(t *testing.T, c *client) string {
	t.Helper()
	u, _ := url.Parse(c.base + "/portal/")
	for _, ck := range c.hc.Jar.Cookies(u) {
		if ck.Name == sessionCookie {
			return ck.Value
		}
	}
	t.Fatal("no session cookie")
	return ""
}

func TestSignIn(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	a := c.get("/portal/signin")
	wantStatus(t, "sign-in form", a, http.StatusOK)
	var signinSet bool
	for _, ck := range a.header.Values("Set-Cookie") {
		if strings.HasPrefix(ck, signinCookie+"=") && strings.Contains(ck, "HttpOnly") && strings.Contains(ck, "SameSite=Lax") {
			signinSet = true
		}
	}
	if !signinSet {
		t.Errorf("sign-in form cookie: %v", a.header.Values("Set-Cookie"))
	}
	// Without the form's cookie (a forged cross-site form), refused.
	wantStatus(t, "sign in without the form cookie", e.client().post("/portal/signin",
		url.Values{"csrf": {"forged"}, "email": {"admin@b.example"}, "password": {testPassword}}), http.StatusForbidden)
	// Wrong password, unknown user: the same answer.
	a1 := c.signIn("admin@b.example", "wrong password!")
	a2 := c.signIn("nobody@b.example", testPassword)
	wantStatus(t, "wrong password", a1, http.StatusUnauthorized)
	wantStatus(t, "unknown user", a2, http.StatusUnauthorized)
	if !strings.Contains(a1.body, "is not right") || !strings.Contains(a2.body, "is not right") {
		t.Error("failed sign-ins do not say so")
	}
	// The right one: a session cookie with the right attributes, then the page asked for.
	tok := c.csrf("/portal/signin?next=/portal/issues/PAY-101")
	a = c.post("/portal/signin", url.Values{"csrf": {tok}, "email": {"Admin@B.example"}, "password": {testPassword}, "next": {"/portal/issues/PAY-101"}})
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/portal/issues/PAY-101" {
		t.Fatalf("sign in: %d → %s", a.status, a.header.Get("Location"))
	}
	var cookie string
	for _, ck := range a.header.Values("Set-Cookie") {
		if strings.HasPrefix(ck, sessionCookie+"=") {
			cookie = ck
		}
	}
	for _, attr := range []string{"HttpOnly", "SameSite=Lax", "Path=/portal"} {
		if !strings.Contains(cookie, attr) {
			t.Errorf("session cookie %q lacks %s", cookie, attr)
		}
	}
	if strings.Contains(cookie, "Secure") {
		t.Errorf("session cookie over plain HTTP without an https public URL is Secure: %q", cookie)
	}
	if acts := auditActions(t, e, e.b.ID); !slices.Contains(acts, "signin") || !slices.Contains(acts, "signin.failed") {
		t.Errorf("audit = %v", acts)
	}
	// Open redirects are not followed.
	for _, next := range []string{"https://evil.example/", "//evil.example/x", "/api/v1/issues", "/portal/\\evil"} {
		c2 := e.client()
		tok := c2.csrf("/portal/signin")
		a := c2.post("/portal/signin", url.Values{"csrf": {tok}, "email": {"admin@b.example"}, "password": {testPassword}, "next": {next}})
		if a.header.Get("Location") != "/portal/" {
			t.Errorf("next=%q → %s", next, a.header.Get("Location"))
		}
	}
	// Behind HTTPS the cookie is Secure.
	e.p.PublicURL = "https://cogniscape.example.com"
	c3 := e.client()
	a = c3.signIn("admin@b.example", testPassword)
	if ck := strings.Join(a.header.Values("Set-Cookie"), "\n"); !strings.Contains(ck, "Secure") {
		t.Errorf("cookies with an https public URL: %s", ck)
	}
	e.p.PublicURL = ""

	// Sessions expire.
	c4 := e.signedIn("member@b.example")
	wantStatus(t, "fresh session", c4.get("/portal/activity"), http.StatusOK)
	e.clock.add(13 * time.Hour)
	if a := c4.get("/portal/activity"); a.status != http.StatusSeeOther {
		t.Errorf("expired session: %d", a.status)
	}
}

func TestSignInThrottling(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	for i := 0; i < maxFailsPerAccount; i++ {
		wantStatus(t, fmt.Sprintf("failure %d", i+1), c.signIn("admin@b.example", "wrong password!"), http.StatusUnauthorized)
	}
	// Now even the right password is refused, without being checked.
	a := c.signIn("admin@b.example", testPassword)
	wantStatus(t, "after 5 failures", a, http.StatusTooManyRequests)
	if a.header.Get("Retry-After") == "" || !strings.Contains(a.body, "Too many failed sign-in attempts") {
		t.Errorf("throttled answer: Retry-After %q", a.header.Get("Retry-After"))
	}
	// Another account from the same address still works (the per-account limit).
	if a := e.client().signIn("member@b.example", testPassword); a.status != http.StatusSeeOther {
		t.Errorf("other account: %d", a.status)
	}
	// The window passes.
	e.clock.add(throttleWindow + time.Second)
	if a := c.signIn("admin@b.example", testPassword); a.status != http.StatusSeeOther {
		t.Errorf("after the window: %d", a.status)
	}

	// Per address: many accounts guessed from one address.
	e.clock.add(throttleWindow + time.Second)
	guesser := e.client()
	for i := 0; i < maxFailsPerAddr; i++ {
		guesser.signIn(fmt.Sprintf("guess%d@b.example", i), "wrong password!")
	}
	wantStatus(t, "address over its limit", e.client().signIn("member@a.example", testPassword), http.StatusTooManyRequests)
	e.clock.add(throttleWindow + time.Second)
	if a := e.client().signIn("member@a.example", testPassword); a.status != http.StatusSeeOther {
		t.Errorf("address after the window: %d", a.status)
	}

	// Changing the password counts failures too.
	m := e.signedIn("member@a.example")
	tok := m.csrf("/portal/account")
	for i := 0; i < maxFailsPerAccount; i++ {
		m.post("/portal/account/password", url.Values{"csrf": {tok}, "current": {"nope nope nope"}, "new": {"a new password!"}, "confirm": {"a new password!"}})
	}
	wantStatus(t, "password change after failures", m.post("/portal/account/password",
		url.Values{"csrf": {tok}, "current": {testPassword}, "new": {"a new password!"}, "confirm": {"a new password!"}}), http.StatusTooManyRequests)
}

// Behind a trusted reverse proxy, sign-in throttling is per client, not per
// proxy: one guesser does not lock everybody out. An untrusted peer's
// X-Forwarded-For counts for nothing, or a guesser could dodge the limit.
func TestSignInThrottlingBehindAProxy(t *testing.T) {
	e := newEnv(t)
	from := func(addr string) *client {
		c := e.client()
		c.forwardedFor = addr
		return c
	}
	guess := func(addr string) {
		guesser := from(addr)
		for i := 0; i < maxFailsPerAddr; i++ {
			guesser.signIn(fmt.Sprintf("guess%d@b.example", i), "wrong password!")
		}
	}

	// Not trusted: every request comes from the proxy's address, whatever it forwards.
	guess("203.0.113.7")
	wantStatus(t, "untrusted proxy: another forwarded client", from("198.51.100.9").signIn("member@a.example", testPassword), http.StatusTooManyRequests)
	e.clock.add(throttleWindow + time.Second)

	// Trusted: the forwarded client is the one throttled.
	e.p.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	guess("203.0.113.7")
	wantStatus(t, "the guesser", from("203.0.113.7").signIn("member@a.example", testPassword), http.StatusTooManyRequests)
	wantStatus(t, "a spoofed left part does not help the guesser", from("192.0.2.1, 203.0.113.7").signIn("member@a.example", testPassword), http.StatusTooManyRequests)
	wantStatus(t, "another client behind the same proxy", from("198.51.100.9").signIn("member@a.example", testPassword), http.StatusSeeOther)
}

func TestClientAddr(t *testing.T) {
	p := &Portal{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32")}}
	for _, tc := range []struct {
		remote, xff, want string
	}{
		{"192.0.2.1:5000", "", "192.0.2.1"},
		{"192.0.2.1:5000", "203.0.113.7", "192.0.2.1"}, // untrusted peer: header ignored
		{"127.0.0.1:5000", "", "127.0.0.1"},
		{"127.0.0.1:5000", "203.0.113.7", "203.0.113.7"},
		{"127.0.0.1:5000", "6.6.6.6, 203.0.113.7", "203.0.113.7"},  // the client's own part is not believed
		{"127.0.0.1:5000", "203.0.113.7, 10.1.2.3", "203.0.113.7"}, // through two trusted proxies
		{"127.0.0.1:5000", "10.1.2.3, 10.4.5.6", "10.1.2.3"},       // all trusted: the left-most
		{"127.0.0.1:5000", "garbage, 203.0.113.7", "203.0.113.7"},  // stops at the first untrusted
		{"127.0.0.1:5000", "203.0.113.7, garbage", "127.0.0.1"},    // malformed right-most: the peer
		{"127.0.0.1:5000", "2001:db8::1", "2001:db8::1"},           // IPv6 client
		{"[::ffff:127.0.0.1]:5000", "203.0.113.7", "203.0.113.7"},  // IPv4-mapped peer
		{"127.0.0.1:5000", "::ffff:203.0.113.7", "203.0.113.7"},    // IPv4-mapped hop
	} {
		r := httptest.NewRequest("GET", "/portal/", nil)
		r.RemoteAddr = tc.remote
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		if got := p.clientAddr(r); got != tc.want {
			t.Errorf("clientAddr(%s, X-Forwarded-For %q) = %s, want %s", tc.remote, tc.xff, got, tc.want)
		}
	}
}

func TestThrottleIsBounded(t *testing.T) {
	th := newThrottle()
	now := time.Now()
	for range maxFailsPerAccount {
		th.attempt(now, "a:victim@y") // at its limit: must survive what follows
	}
	for i := 0; i < maxThrottleKeys+500; i++ {
		th.attempt(now, fmt.Sprintf("i:10.0.%d.%d", i/256, i%256))
	}
	if n := len(th.fails); n > maxThrottleKeys {
		t.Errorf("throttle holds %d keys", n)
	}
	if wait, _ := th.attempt(now, "a:victim@y"); wait == 0 {
		t.Error("a flood of other keys lifted the block on an account at its limit")
	}
	for range 100 {
		th.attempt(now, "a:x@y")
	}
	if n := len(th.fails["a:x@y"]); n > maxFailsPerAccount {
		t.Errorf("one key holds %d failures", n)
	}
}

func TestThrottleAttemptCountsUntilItSucceeds(t *testing.T) {
	th := newThrottle()
	now := time.Now()
	var pending []func()
	for i := range maxFailsPerAccount {
		wait, ok := th.attempt(now, "a:x@y", "i:192.0.2.1")
		if wait != 0 {
			t.Fatalf("attempt %d refused", i+1)
		}
		pending = append(pending, ok)
	}
	// Five checks under way: a sixth must wait although none has failed yet.
	if wait, _ := th.attempt(now, "a:x@y", "i:192.0.2.1"); wait == 0 {
		t.Fatal("a sixth concurrent attempt was let through")
	}
	pending[0]() // one was the right password
	if wait, _ := th.attempt(now, "a:x@y", "i:192.0.2.1"); wait != 0 {
		t.Fatalf("a succeeded attempt still counts: wait %s", wait)
	}
}

func TestThrottleAddr(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"192.0.2.1", "192.0.2.1"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"},
		{"::ffff:192.0.2.1", "::ffff:192.0.2.1"},
		{"not an address", "not an address"},
	} {
		if got := throttleAddr(tc.in); got != tc.want {
			t.Errorf("throttleAddr(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Guesses sent at once are held to the limit too: each reserves its try
// before the slow password check rather than after it.
func TestSignInThrottlingConcurrentGuesses(t *testing.T) {
	e := newEnv(t)
	const guesses = 4 * maxFailsPerAccount
	clients := make([]*client, guesses)
	for i := range clients {
		clients[i] = e.client()
	}
	statuses := make([]int, guesses)
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Go(func() { statuses[i] = c.signIn("admin@b.example", "wrong password!").status })
	}
	wg.Wait()
	checked := 0
	for _, st := range statuses {
		switch st {
		case http.StatusUnauthorized:
			checked++
		case http.StatusTooManyRequests:
		default:
			t.Errorf("status %d", st)
		}
	}
	if checked > maxFailsPerAccount {
		t.Errorf("%d of %d concurrent guesses had their password checked; the limit is %d", checked, guesses, maxFailsPerAccount)
	}
}

func TestPasswordChange(t *testing.T) {
	e := newEnv(t)
	c := e.signedIn("member@b.example")
	other := e.signedIn("member@b.example")
	tok := c.csrf("/portal/account")
	wantStatus(t, "too short", c.post("/portal/account/password", url.Values{"csrf": {tok}, "current": {testPassword}, "new": {"short"}, "confirm": {"short"}}), http.StatusBadRequest)
	wantStatus(t, "mismatch", c.post("/portal/account/password", url.Values{"csrf": {tok}, "current": {testPassword}, "new": {"long enough one"}, "confirm": {"long enough two"}}), http.StatusBadRequest)
	a := c.post("/portal/account/password", url.Values{"csrf": {tok}, "current": {testPassword}, "new": {"a brand new password"}, "confirm": {"a brand new password"}})
	if a.status != http.StatusSeeOther {
		t.Fatalf("change: %d %s", a.status, a.body)
	}
	wantStatus(t, "this browser keeps a session", c.get("/portal/account?changed=1"), http.StatusOK)
	if a := other.get("/portal/activity"); a.status != http.StatusSeeOther {
		t.Errorf("the other session survived the password change: %d", a.status)
	}
	wantStatus(t, "old password", e.client().signIn("member@b.example", testPassword), http.StatusUnauthorized)
	if a := e.client().signIn("member@b.example", "a brand new password"); a.status != http.StatusSeeOther {
		t.Errorf("new password: %d", a.status)
	}
}

// Every form the portal takes is bounded: an oversized one is refused
// whole, whichever route it is sent to.
func TestPortalFormsAreBounded(t *testing.T) {
	e := newEnv(t)
	c := e.signedIn("member@b.example")
	tok := c.csrf("/portal/account")
	a := c.post("/portal/account/password", url.Values{"csrf": {tok}, "current": {testPassword}, "new": {"a brand new password"},
		"confirm": {"a brand new password"}, "padding": {strings.Repeat("x", maxFormBytes)}})
	if a.status < 400 {
		t.Errorf("oversized form: %d", a.status)
	}
	if a := e.client().signIn("member@b.example", testPassword); a.status != http.StatusSeeOther {
		t.Errorf("the oversized form changed the password: sign-in with the old one %d", a.status)
	}
}

func TestVerifyPanel(t *testing.T) {
	e := newEnv(t)
	c := e.signedIn("admin@a.example")
	// A has only an ignored event: that is authenticated, so green.
	if a := c.get("/portal/setup/jira/verify?fragment=1"); !strings.Contains(a.body, `data-state="ok"`) {
		t.Errorf("A with an ignored event: %s", a.body)
	}
	// A fresh customer: waiting; rejected requests: red with hints.
	ctx := context.Background()
	cc, _, _ := e.db.CreateCustomer(ctx, "Gamma")
	hash, _ := HashPassword(testPassword)
	e.db.CreateUser(ctx, &cogniscape.User{CustomerID: cc.ID, Email: "admin@c.example", Role: cogniscape.RoleAdmin}, hash)
	g := e.signedIn("admin@c.example")
	if a := g.get("/portal/"); a.header.Get("Location") != "/portal/setup/jira" {
		t.Errorf("new admin's home → %s", a.header.Get("Location"))
	}
	if a := g.get("/portal/setup/jira/verify?fragment=1"); !strings.Contains(a.body, `data-state="waiting"`) {
		t.Errorf("fresh customer: %s", a.body)
	}
	e.mu.Lock()
	e.rejected[cc.ID] = 3
	e.mu.Unlock()
	a := g.get("/portal/setup/jira/verify?fragment=1")
	for _, want := range []string{`data-state="rejected"`, "3 requests were rejected", "X-Cogniscape-Token", `id="rejected-count">3<`} {
		if !strings.Contains(a.body, want) {
			t.Errorf("rejected panel lacks %q", want)
		}
	}
	if a := g.get("/portal/deliveries"); !strings.Contains(a.body, `id="rejected-24h">3<`) {
		t.Error("deliveries page lacks the rejected count")
	}
	// Only quarantined bodies: amber.
	e.quarantine(cc.ID, []byte("not json"))
	if a := g.get("/portal/setup/jira/verify?fragment=1"); !strings.Contains(a.body, `data-state="rejected"`) {
		t.Errorf("rejected still wins over quarantined: %s", a.body)
	}
	e.mu.Lock()
	e.rejected[cc.ID] = 0
	e.mu.Unlock()
	if a := g.get("/portal/setup/jira/verify?fragment=1"); !strings.Contains(a.body, `data-state="quarantined"`) || !strings.Contains(a.body, "Exclude body") {
		t.Errorf("quarantined only: %s", a.body)
	}
}

func TestDeliveriesPaging(t *testing.T) {
	e := newEnv(t)
	c := e.signedIn("admin@b.example")
	seen := map[string]bool{}
	path := "/portal/deliveries"
	rowRE := regexp.MustCompile(`<tr class="outcome-[a-z]+">\s*<td><time datetime="[^"]+">[^<]+</time></td>\s*<td><code>([^<]*)</code>`)
	pages := 0
	for path != "" && pages < 10 {
		a := c.get(path)
		wantStatus(t, path, a, http.StatusOK)
		rows := rowRE.FindAllStringSubmatch(a.body, -1)
		if len(rows) == 0 || len(rows) > deliveriesPerPage {
			t.Fatalf("%s: %d rows", path, len(rows))
		}
		for _, r := range rows {
			seen[r[0]] = true
		}
		m := regexp.MustCompile(`href="([^"]+)" class="btn btn-ghost" id="older"`).FindStringSubmatch(a.body)
		path = ""
		if m != nil {
			path = strings.ReplaceAll(m[1], "&amp;", "&")
		}
		pages++
	}
	if pages != 1 {
		// The story has fewer than 50 deliveries; add more to page.
		t.Logf("pages: %d", pages)
	}
	for i := 0; i < deliveriesPerPage+5; i++ {
		e.quarantine(e.b.ID, []byte(fmt.Sprintf("junk %d", i)))
	}
	a := c.get("/portal/deliveries?outcome=quarantined")
	if !strings.Contains(a.body, `id="older"`) {
		t.Fatal("no link to older deliveries")
	}
	older := regexp.MustCompile(`href="([^"]+)" class="btn btn-ghost" id="older"`).FindStringSubmatch(a.body)[1]
	a = c.get(strings.ReplaceAll(older, "&amp;", "&"))
	wantStatus(t, "older page", a, http.StatusOK)
	if n := strings.Count(a.body, `<tr class="outcome-quarantined">`); n != 6 {
		t.Errorf("older page has %d rows, want 6 (56 quarantined, 50 per page)", n)
	}
	if !strings.Contains(a.body, "← Newest") || strings.Contains(a.body, `id="older"`) {
		t.Error("older page links")
	}
}

func TestSanitiseBody(t *testing.T) {
	text, isJSON, _, n := sanitiseBody([]byte(`{"password":"p","user":{"api_key":"k","name":"x"},"list":["token=abc"],"ok":"fine"}`))
	if !isJSON || n != 3 || strings.Contains(text, `"p"`) || strings.Contains(text, "abc") || !strings.Contains(text, "fine") {
		t.Errorf("JSON: %d redacted, %s", n, text)
	}
	text, isJSON, _, _ = sanitiseBody([]byte("a\x00b\x1b[31mred\u202eevil\r\nsecret=xyz&x=1\xff"))
	if isJSON || strings.ContainsAny(text, "\x00\x1b\u202e\r") || strings.Contains(text, "xyz") || !strings.Contains(text, "x=1") {
		t.Errorf("text: %q", text)
	}
	big := make([]byte, maxShownBody+10)
	for i := range big {
		big[i] = 'a'
	}
	if text, _, trunc, _ := sanitiseBody(big); !trunc || len(text) != maxShownBody {
		t.Errorf("big body: truncated %v, %d bytes", trunc, len(text))
	}
}

func TestPasswordHashing(t *testing.T) {
	h, err := HashPassword("open sesame 123")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash = %s", h)
	}
	if !VerifyPassword(h, "open sesame 123") || VerifyPassword(h, "open sesame 124") || VerifyPassword("garbage", "x") {
		t.Error("verify")
	}
	if h2, _ := HashPassword("open sesame 123"); h2 == h {
		t.Error("no salt")
	}
	// A stored hash asking for absurd memory is refused, not computed.
	if VerifyPassword("$argon2id$v=19$m=99999999,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaA", "x") {
		t.Error("absurd parameters accepted")
	}
	for _, pw := range []string{"short", " leading space1", strings.Repeat("x", 2000)} {
		if CheckPassword(pw) == nil {
			t.Errorf("CheckPassword(%q) = nil", pw)
		}
	}
	if p := NewPassword(); len(p) != 23 || CheckPassword(p) != nil {
		t.Errorf("NewPassword() = %q", p)
	}
}

func TestBurnup(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sv, err := e.p.Graph.Sprint(ctx, e.b.ID, "37")
	if err != nil {
		t.Fatal(err)
	}
	start, end := parseT(sv.StartDate), parseT(sv.CompleteDate)
	pts, err := e.p.burnup(ctx, e.b.ID, "37", start, end)
	if err != nil {
		t.Fatal(err)
	}
	first, last := pts[0], pts[len(pts)-1]
	// Committed PAY-101, PAY-102, PAY-104; PAY-103 added on 4 March;
	// PAY-104 done on 9 March; nothing else done by the close.
	if first.Scope != 3 || first.Done != 0 || last.Scope != 4 || last.Done != 1 || !last.At.Equal(end) {
		t.Errorf("burn-up from %+v to %+v", first, last)
	}
	for _, p := range pts {
		day := p.At.Format("2006-01-02")
		if day == "2026-03-05" && p.Scope != 4 {
			t.Errorf("scope after PAY-103 joined: %+v", p)
		}
		if day < "2026-03-09" && p.Done != 0 || day > "2026-03-10" && p.Done != 1 {
			t.Errorf("done on %s: %d", day, p.Done)
		}
	}
	// Another customer's sprint does not exist for A.
	if _, err := e.p.burnup(ctx, e.a.ID, "37", start, end); cogniscape.ErrorCode(err) != cogniscape.ENOTFOUND {
		t.Errorf("A's burn-up of B's sprint: %v", err)
	}
	// Sprint dates come from webhooks: a start in year 1 draws a year, not
	// 740,000 days.
	pts, err = e.p.burnup(ctx, e.b.ID, "37", time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), end)
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) > 368 || !pts[0].At.Equal(end.Add(-maxBurnupSpan)) {
		t.Errorf("burn-up from year 1: %d points from %s", len(pts), pts[0].At)
	}
}

// Status categories come from webhook data and end up in an SVG attribute.
func TestTimelineChartEscapesCategories(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	out := string(timelineChart("x", "label", t0, t0.Add(48*time.Hour), []lane{{Label: "Status", Category: `x"/><foreignObject>hi</foreignObject><rect class="`,
		Bars: []bar{{From: t0, To: t0.Add(24 * time.Hour), Title: "In Progress"}}}}, nil))
	if strings.Contains(out, "<foreignObject") {
		t.Errorf("category broke out of its attribute:\n%s", out)
	}
}
