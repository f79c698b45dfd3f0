package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cogniscape/cogniscape"
	"github.com/cogniscape/cogniscape/internal/httpd"
	"github.com/cogniscape/cogniscape/internal/jira"
	"github.com/cogniscape/cogniscape/internal/portal"
	"github.com/cogniscape/cogniscape/internal/projector"
)

// The browser tests drive a real headless Chromium against the real server
// on a random port. Without a browser they skip, except under CI=true, where
// a missing browser is a failure: a green CI must not hide that they never
// ran.

func browserPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no Chromium or Chrome on PATH: install one (Debian: apt-get install --no-install-recommends chromium fonts-liberation) to run the browser tests"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// startBrowser starts a headless browser for the test and returns its
// context. The first action owns the browser, so it runs without a deadline;
// a watchdog bounds the start instead.
func startBrowser(t *testing.T) context.Context {
	t.Helper()
	path := browserPath(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.WindowSize(1280, 900),
		// No lookups off the machine: only the test server's address resolves.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"))
	allocCtx, stopAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, stopBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { stopBrowser(); stopAlloc() })
	guard := time.AfterFunc(90*time.Second, stopAlloc)
	err := chromedp.Do(ctx)
	guard.Stop()
	if err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	return ctx
}

// browserSession wraps the steps of one scenario with deadlines and names.
type browserSession struct {
	t    *testing.T
	ctx  context.Context
	base string
	dir  string
	shot int
}

func (b *browserSession) do(name string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", name, err)
	}
}

// toggleSecret clicks Reveal (or Hide) until the secret shows masked or
// not as wanted. On a loaded machine a click can land before the page has
// settled and come to nothing; it is then tried again, at most three times,
// and never once the wanted state is reached.
func (b *browserSession) toggleSecret(name, masked string) {
	b.t.Helper()
	want := chromedp.CSS(`#secret[data-masked="` + masked + `"]`)
	for attempt := 1; ; attempt++ {
		b.do(name, chromedp.Click(chromedp.ID("reveal")))
		ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
		err := chromedp.Do(ctx, chromedp.WaitVisible(want))
		cancel()
		if err == nil {
			return
		}
		if attempt == 3 {
			b.t.Fatalf("%s: %v", name, err)
		}
		b.t.Logf("%s: no change 10 s after the click; clicking again", name)
	}
}

func browse[T any](b *browserSession, name string, action chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, action)
	if err != nil {
		b.t.Fatalf("%s: %v", name, err)
	}
	return v
}

func (b *browserSession) text(sel string) string {
	b.t.Helper()
	return strings.TrimSpace(browse(b, "read "+sel, chromedp.Text(chromedp.CSS(sel))))
}

func (b *browserSession) attr(sel, name string) string {
	b.t.Helper()
	return browse(b, "read "+sel+"@"+name, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%q).getAttribute(%q) || ""`, sel, name)))
}

// open navigates to a portal path and waits for the page's heading and its
// script.
func (b *browserSession) open(path string) {
	b.t.Helper()
	b.do("open "+path, chromedp.Navigate(b.base+path), chromedp.WaitVisible(chromedp.CSS("main h1")), scriptReady)
}

// scriptReady waits until portal.js has attached its handlers (it marks the
// page when it has): on a busy machine a click can come first otherwise.
var scriptReady = chromedp.WaitReady(chromedp.CSS(`html[data-js="ready"]`))

// screenshot saves a full-page PNG into the test's output directory.
func (b *browserSession) screenshot(name string) {
	b.t.Helper()
	b.shot++
	b.do("scroll to the top", chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
	buf := browse(b, "screenshot "+name, chromedp.FullScreenshot(100))
	file := filepath.Join(b.dir, fmt.Sprintf("%02d-%s.png", b.shot, name))
	if err := os.WriteFile(file, buf, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// viewShot saves what the screen shows, scrolled to sel ("" for the top).
func (b *browserSession) viewShot(name, sel string) {
	b.t.Helper()
	b.shot++
	js := `window.scrollTo(0, 0)`
	if sel != "" {
		js = fmt.Sprintf(`document.querySelector(%q).scrollIntoView()`, sel)
	}
	b.do("scroll for "+name, chromedp.Evaluate[chromedp.Void](js))
	buf := browse(b, "screenshot "+name, chromedp.CaptureScreenshot())
	if err := os.WriteFile(filepath.Join(b.dir, fmt.Sprintf("%02d-%s.png", b.shot, name)), buf, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// postWebhook delivers body to a webhook URL as read from the page.
func postWebhook(t *testing.T, webhookURL string, body []byte, headers map[string]string) int {
	t.Helper()
	req, _ := http.NewRequest("POST", webhookURL, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestPortalInBrowser(t *testing.T) {
	browserPath(t) // skip before starting a server when there is no browser
	var proj *projector.Projector
	a := newApp(t, func(s *httpd.Server) {
		db := s.Customers.(cogniscape.Store)
		proj = projector.New(db, jira.Normalize, s.Logger)
		s.Graph = &cogniscape.Reader{Store: db}
		s.Lag = db.ProjectionLag
		wirePortal(s, db, s.Graph, "", s.Logger)
	})
	ctx := context.Background()
	cust, err := a.db.CustomerByKey(ctx, a.key)
	if err != nil {
		t.Fatal(err)
	}
	password := portal.NewPassword()
	hash, _ := portal.HashPassword(password)
	if err := a.db.CreateUser(ctx, &cogniscape.User{CustomerID: cust.ID, Email: "ada@acme.example", Role: cogniscape.RoleAdmin}, hash); err != nil {
		t.Fatal(err)
	}
	// The server's cleanup was registered first, so the browser closes before it.
	b := &browserSession{t: t, ctx: startBrowser(t), base: a.url, dir: t.ArtifactDir()}
	t.Logf("screenshots in %s", b.dir)

	// Sign in; an admin without deliveries lands on the Jira setup.
	b.do("sign-in page", chromedp.Navigate(a.url+"/portal/"), chromedp.WaitVisible(chromedp.ID("email")))
	b.screenshot("signin")
	b.do("sign in",
		chromedp.SendKeys(chromedp.ID("email"), "ada@acme.example"),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.ID("signin")),
		chromedp.WaitVisible(chromedp.ID("verify")), scriptReady)
	if loc := browse(b, "location", chromedp.Location()); !strings.HasSuffix(loc, "/portal/setup/jira") {
		t.Fatalf("after sign-in at %s", loc)
	}
	if st := b.attr("#verify", "data-state"); st != "waiting" {
		t.Errorf("Verify panel before any delivery: %q", st)
	}

	// Read the URL and the secret off the page, the way an admin would.
	webhookURL := b.text("#webhook-url")
	if webhookURL != a.url+"/api/v1/events/jira/"+a.key {
		t.Fatalf("webhook URL on the page = %q", webhookURL)
	}
	b.do("copy the URL", chromedp.Click(chromedp.ID("copy-url")))
	if got := b.attr("#copy-url", "data-copy-text"); got != webhookURL {
		t.Errorf("copy button copied %q", got)
	}
	if masked := b.text("#secret"); strings.Contains(masked, a.secret) || b.attr("#secret", "data-masked") != "true" {
		t.Fatalf("secret not masked before reveal: %q", masked)
	}
	b.toggleSecret("reveal the secret", "false")
	secret := b.text("#secret")
	if secret != a.secret {
		t.Fatalf("revealed secret %q, want the customer's", secret)
	}
	if log, _ := a.db.AuditLog(ctx, cust.ID, 10); len(log) == 0 || log[0].Action != "secret.reveal" || log[0].Email != "ada@acme.example" {
		t.Errorf("the reveal was not audited: %+v", log)
	}
	b.toggleSecret("hide the secret", "true")
	b.screenshot("setup-cloud")

	// A wrong secret: rejected, and the Verify panel says so.
	body := fixture(t, "cloud/issue_created.json")
	if code := postWebhook(t, webhookURL, body, signed(body, "not-the-secret", "wrong-1")); code != http.StatusUnauthorized {
		t.Fatalf("wrong secret: %d", code)
	}
	b.do("Verify shows the rejection", chromedp.WaitVisible(chromedp.CSS(`#verify[data-state="rejected"]`)))
	if hint := b.text("#verify"); !strings.Contains(hint, "X-Cogniscape-Token") || !strings.Contains(hint, "rejected") {
		t.Errorf("rejection hint: %q", hint)
	}
	b.screenshot("verify-rejected")

	// The right secret, read from the page: the panel turns green by itself.
	if code := postWebhook(t, webhookURL, body, signed(body, secret, "browser-1")); code != http.StatusOK {
		t.Fatalf("signed delivery with the page's values: %d", code)
	}
	b.do("Verify turns green", chromedp.WaitVisible(chromedp.CSS(`#verify[data-state="ok"]`)))
	if recent := b.text("#recent-deliveries"); !strings.Contains(recent, "issue created") || !strings.Contains(recent, "accepted") {
		t.Errorf("recent deliveries: %q", recent)
	}
	b.screenshot("verify-ok")

	// The Data Center tab: the header line, masked until revealed.
	b.do("Data Center tab", chromedp.Click(chromedp.ID("tab-dc")), chromedp.WaitVisible(chromedp.ID("panel-dc")))
	if line := b.text("#header-line"); !strings.HasPrefix(line, "X-Cogniscape-Token: ") || strings.Contains(line, secret) {
		t.Errorf("header line before reveal: %q", line)
	}
	b.toggleSecret("reveal on the DC tab", "false")
	if line := b.text("#header-line"); line != "X-Cogniscape-Token: "+secret {
		t.Errorf("header line after reveal: %q", line)
	}
	b.screenshot("setup-datacenter")

	// Regenerate behind its confirmation; the old secret stops working at once.
	b.do("regenerate", chromedp.Click(chromedp.ID("rotate")), chromedp.WaitVisible(chromedp.ID("rotate-confirm")))
	if warn := b.text("main"); !strings.Contains(warn, "stops working immediately") {
		t.Errorf("confirmation: %q", warn)
	}
	b.screenshot("rotate-confirm")
	b.do("confirm", chromedp.Click(chromedp.ID("rotate-confirm")), chromedp.WaitVisible(chromedp.ID("rotated")))
	b.toggleSecret("reveal the new secret", "false")
	newSecret := b.text("#secret")
	if newSecret == secret || len(newSecret) < 40 {
		t.Fatalf("secret after regeneration: %q", newSecret)
	}
	body2 := fixture(t, "cloud/comment_created.json")
	if code := postWebhook(t, webhookURL, body2, signed(body2, secret, "browser-2")); code != http.StatusUnauthorized {
		t.Errorf("old secret after regeneration: %d, want 401", code)
	}
	if code := postWebhook(t, webhookURL, body2, map[string]string{jira.HeaderToken: secret}); code != http.StatusUnauthorized {
		t.Errorf("old secret in the Data Center header: %d, want 401", code)
	}
	if code := postWebhook(t, webhookURL, body2, signed(body2, newSecret, "browser-2")); code != http.StatusOK {
		t.Errorf("new secret: %d, want 200", code)
	}
	if code := postWebhook(t, webhookURL, body2, map[string]string{jira.HeaderToken: newSecret}); code != http.StatusOK {
		t.Errorf("new secret in the Data Center header: %d, want 200", code)
	}
	b.screenshot("setup-rotated")

	// The PAY story, delivered and projected: the issue page shows its history.
	a.secret = newSecret
	deliverAll(t, a, cloudStory(t))
	catchUp(t, proj)
	b.open("/portal/issues/PAY-101")
	hist := b.text("#status-history")
	if !strings.Contains(hist, "To Do") || !strings.Contains(hist, "In Progress") || !strings.Contains(hist, "now") {
		t.Errorf("status history of PAY-101: %q", hist)
	}
	if st := b.text("#status"); !strings.Contains(st, "In Progress") {
		t.Errorf("status: %q", st)
	}
	lanes := browse(b, "timeline lanes", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('#lifecycle .lane-label')).map(e => e.textContent)`))
	if strings.Join(lanes, ",") != "To Do,In Progress,Assignee,Sprint" {
		t.Errorf("timeline lanes = %v", lanes)
	}
	vb := b.attr("#graph", "viewBox")
	b.do("zoom the graph", chromedp.Click(chromedp.CSS(`[data-zoom="in"]`)))
	if b.attr("#graph", "viewBox") == vb {
		t.Error("zooming did not change the graph's view")
	}
	b.do("reset the graph", chromedp.Click(chromedp.CSS(`[data-zoom="reset"]`)))
	b.screenshot("issue")

	// Every main page, as a screenshot.
	for _, p := range []struct{ path, name, want string }{
		{"/portal/deliveries", "deliveries", "#deliveries"},
		{"/portal/activity", "activity", "#activity"},
		{"/portal/issues", "issues", "#issues"},
		{"/portal/people", "people", "#people-list"},
		{"/portal/people/5f8a2c7d9e1b4a0068c3d2e1?since=all", "person", "#working-on"},
		{"/portal/sprints", "sprints", "#sprints"},
		{"/portal/sprints/37", "sprint", "#burnup"},
		{"/portal/releases", "releases", "#releases"},
		{"/portal/releases/10021", "release", "main h1"},
		{"/portal/flow?project=PAY", "flow", "#cfd"},
		{"/portal/account", "account", "main h1"},
	} {
		b.open(p.path)
		b.do("wait for "+p.want+" on "+p.path, chromedp.WaitVisible(chromedp.CSS(p.want)))
		b.screenshot(p.name)
	}

	// A phone: nothing wider than the screen, the navigation scrolls on its own.
	b.do("phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(2)))
	for _, p := range []struct{ path, name, at string }{
		{"/portal/setup/jira", "phone-setup", "#verify"},
		{"/portal/issues/PAY-101", "phone-issue", "#life-h"},
		{"/portal/flow?project=PAY", "phone-flow", "#cfd-h"},
	} {
		b.open(p.path)
		if w := browse(b, "page width", chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > 390 {
			t.Errorf("%s is %d px wide on a 390 px phone", p.path, w)
		}
		b.viewShot(p.name, "")
		b.viewShot(p.name+"-more", p.at)
	}
	b.do("desktop viewport", chromedp.ResetViewport())

	// Sign out.
	b.open("/portal/activity")
	b.do("sign out", chromedp.Click(chromedp.ID("signout")), chromedp.WaitVisible(chromedp.ID("email")))
	b.do("signed out", chromedp.Navigate(a.url+"/portal/activity"), chromedp.WaitVisible(chromedp.ID("email")))
}
