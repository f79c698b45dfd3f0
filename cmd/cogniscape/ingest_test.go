package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cogniscape/cogniscape"
	"github.com/cogniscape/cogniscape/internal/httpd"
	"github.com/cogniscape/cogniscape/internal/jira"
)

func TestIngestCloudSignedDataCenterTokenBasicAuthAndIgnored(t *testing.T) {
	a := newApp(t)
	for i, tc := range []struct {
		file    string
		headers map[string]string
		want    string
	}{
		{"cloud/issue_created.json", signed(fixture(t, "cloud/issue_created.json"), a.secret, "69312270414585119"), "accepted"},
		{"cloud/comment_created.json", signed(fixture(t, "cloud/comment_created.json"), a.secret, "69312270414585120"), "accepted"},
		{"cloud/worklog_created.json", signed(fixture(t, "cloud/worklog_created.json"), a.secret, "69312270414585121"), "accepted"},
		{"cloud/issuelink_created.json", signed(fixture(t, "cloud/issuelink_created.json"), a.secret, "69312270414585122"), "accepted"},
		{"cloud/sprint_started.json", signed(fixture(t, "cloud/sprint_started.json"), a.secret, "69312270414585123"), "accepted"},
		{"cloud/version_released.json", signed(fixture(t, "cloud/version_released.json"), a.secret, "69312270414585124"), "accepted"},
		{"datacenter/dc_issue_updated_status.json", map[string]string{jira.HeaderToken: a.secret}, "accepted"},
		{"datacenter/dc_comment_created.json", map[string]string{"Authorization": basicAuth("jira", a.secret)}, "accepted"},
		{"ignored/board_created.json", signed(fixture(t, "ignored/board_created.json"), a.secret, "69312270414585125"), "ignored"},
		{"ignored/user_created.json", map[string]string{jira.HeaderToken: a.secret}, "ignored"},
		{"ignored/issue_property_set.json", map[string]string{jira.HeaderToken: a.secret}, "ignored"},
	} {
		status, body := deliver(t, a.url, a.key, fixture(t, tc.file), tc.headers)
		if status != 200 || body["status"] != tc.want {
			t.Errorf("%d %s: got %d %v, want 200 %s", i, tc.file, status, body, tc.want)
		}
	}
	var ds deliveriesAnswer
	if code := getJSON(t, a.url, a.token, "/api/v1/deliveries?limit=100", &ds); code != 200 {
		t.Fatalf("deliveries: %d", code)
	}
	if len(ds.Deliveries) != 11 {
		t.Fatalf("got %d deliveries, want 11", len(ds.Deliveries))
	}
	newest := ds.Deliveries[0]
	if newest.Event != "issue_property_set" || newest.Outcome != "ignored" || newest.ReceivedAt.IsZero() || newest.Size == 0 {
		t.Errorf("newest delivery = %+v", newest)
	}
	oldest := ds.Deliveries[len(ds.Deliveries)-1]
	if oldest.Event != "jira:issue_created" || oldest.Identifier != "69312270414585119" || oldest.Outcome != "accepted" {
		t.Errorf("oldest delivery = %+v", oldest)
	}
	// Ignored events are recorded in the log too, with their site.
	var stored, ignored int
	raw := openRaw(t, a.dir)
	raw.QueryRow(`SELECT count(*), sum(ignored) FROM events`).Scan(&stored, &ignored)
	if stored != 11 || ignored != 3 {
		t.Errorf("log holds %d events, %d ignored; want 11, 3", stored, ignored)
	}
	var site string
	raw.QueryRow(`SELECT site FROM events WHERE type = 'comment_created' AND identifier = ''`).Scan(&site)
	if site != "https://jira.acme-pay.internal" {
		t.Errorf("DC comment site = %q", site)
	}
}

func TestAuthenticationFailuresAllLookAlike(t *testing.T) {
	a := newApp(t)
	other, otherCreds, err := a.db.CreateCustomer(context.Background(), "Other")
	if err != nil {
		t.Fatal(err)
	}
	body := fixture(t, "cloud/issue_created.json")
	good := jira.Sign(body, []byte(a.secret))
	hexsig := strings.TrimPrefix(good, "sha256=")
	for _, tc := range []struct {
		name    string
		key     string
		body    []byte
		headers map[string]string
	}{
		{"wrong secret", a.key, body, map[string]string{jira.HeaderSignature: jira.Sign(body, []byte("wrong"))}},
		{"another customer's secret", a.key, body, map[string]string{jira.HeaderSignature: jira.Sign(body, []byte(otherCreds.JiraSecret))}},
		{"another customer's token", a.key, body, map[string]string{jira.HeaderToken: otherCreds.JiraSecret}},
		{"missing header", a.key, body, nil},
		{"prefix missing", a.key, body, map[string]string{jira.HeaderSignature: hexsig}},
		{"prefix unknown", a.key, body, map[string]string{jira.HeaderSignature: "sha512=" + hexsig}},
		{"truncated signature", a.key, body, map[string]string{jira.HeaderSignature: good[:40]}},
		{"non-hex signature", a.key, body, map[string]string{jira.HeaderSignature: "sha256=" + strings.Repeat("zz", 32)}},
		{"empty body", a.key, nil, map[string]string{jira.HeaderSignature: good}},
		{"unknown customer key", "no-such-customer-key-000", body, map[string]string{jira.HeaderSignature: good}},
		{"secret of the key's owner on another key", other.Key, body, map[string]string{jira.HeaderSignature: good}},
		{"wrong basic password", a.key, body, map[string]string{"Authorization": basicAuth("jira", "nope")}},
		{"API token is not a webhook secret", a.key, body, map[string]string{"Authorization": "Bearer " + a.token}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", a.url+"/api/v1/events/jira/"+tc.key, bytes.NewReader(tc.body))
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 401 || string(raw) != "{\"error\":\"unauthorized\"}\n" {
				t.Fatalf("got %d %q, want the one 401 body", resp.StatusCode, raw)
			}
		})
	}
	var n int
	openRaw(t, a.dir).QueryRow(`SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM deliveries)`).Scan(&n)
	if n != 0 {
		t.Fatalf("rejected requests left %d rows", n)
	}
	var metrics bytes.Buffer
	resp, _ := http.Get(a.url + "/metrics")
	io.Copy(&metrics, resp.Body)
	resp.Body.Close()
	if !strings.Contains(metrics.String(), `cogniscape_webhook_requests_total{outcome="rejected"} 13`) {
		t.Errorf("rejected requests not counted:\n%s", grepLines(metrics.String(), "requests_total"))
	}
	for _, s := range []string{a.key, other.Key, a.secret, "no-such-customer-key", "Acme"} {
		if strings.Contains(metrics.String(), s) {
			t.Errorf("metrics mention %q", s)
		}
	}
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestDuplicatesAreStoredOnce(t *testing.T) {
	a := newApp(t)
	body := fixture(t, "cloud/issue_updated_status_in_progress.json")
	h := signed(body, a.secret, "4242")
	if status, out := deliver(t, a.url, a.key, body, h); status != 200 || out["status"] != "accepted" {
		t.Fatalf("first: %d %v", status, out)
	}
	h[jira.HeaderRetry] = "1"
	if status, out := deliver(t, a.url, a.key, body, h); status != 200 || out["status"] != "duplicate" {
		t.Fatalf("retry: %d %v", status, out)
	}
	// Without an identifier (Data Center), the body itself identifies the delivery.
	dc := fixture(t, "datacenter/dc_issue_updated_status.json")
	for i, want := range []string{"accepted", "duplicate"} {
		if status, out := deliver(t, a.url, a.key, dc, map[string]string{jira.HeaderToken: a.secret}); status != 200 || out["status"] != want {
			t.Fatalf("DC delivery %d: %d %v, want %s", i, status, out, want)
		}
	}
	// Issue link events name no site: one identifier from two sites sending
	// to the same URL is two deliveries, and a retry of either is a duplicate.
	link := fixture(t, "cloud/issuelink_created.json")
	otherSite := bytes.Replace(link, []byte(`"id":`), []byte(`"id": `), 1) // another site's event: another body
	for i, d := range []struct {
		body []byte
		want string
	}{{link, "accepted"}, {otherSite, "accepted"}, {link, "duplicate"}, {otherSite, "duplicate"}} {
		if status, out := deliver(t, a.url, a.key, d.body, signed(d.body, a.secret, "777")); status != 200 || out["status"] != d.want {
			t.Fatalf("site-less delivery %d: %d %v, want %s", i, status, out, d.want)
		}
	}
	var events int
	openRaw(t, a.dir).QueryRow(`SELECT count(*) FROM events`).Scan(&events)
	if events != 4 {
		t.Fatalf("log holds %d events, want 4", events)
	}
	var ds deliveriesAnswer
	getJSON(t, a.url, a.token, "/api/v1/deliveries", &ds)
	if len(ds.Deliveries) != 8 {
		t.Fatalf("%d deliveries, want 8", len(ds.Deliveries))
	}
	// Every row has every documented field, empty or not (Data Center sends
	// no identifier).
	var raw struct {
		Deliveries []map[string]any `json:"deliveries"`
	}
	getJSON(t, a.url, a.token, "/api/v1/deliveries", &raw)
	for _, d := range raw.Deliveries {
		for _, field := range []string{"id", "received_at", "event", "outcome", "identifier", "retry", "size", "reason"} {
			if _, ok := d[field]; !ok {
				t.Fatalf("delivery without %q: %v", field, d)
			}
		}
	}
	ds.Deliveries = ds.Deliveries[4:] // newest first: the four before the issue links
	if len(ds.Deliveries) != 4 || ds.Deliveries[2].Outcome != "duplicate" || ds.Deliveries[2].Retry != 1 || ds.Deliveries[2].Identifier != "4242" {
		t.Fatalf("deliveries = %+v", ds.Deliveries)
	}
}

func TestBadInputIsQuarantinedNever5xx(t *testing.T) {
	a := newApp(t, func(s *httpd.Server) { s.MaxBody = 4096 })
	for _, tc := range []struct {
		name, body string
		status     int
		reason     string
	}{
		{"not JSON", `{"webhookEvent": "jira:issue_created", oops`, 400, "not valid JSON"},
		{"no webhookEvent", `{"timestamp": 1773400000000, "issue": {}}`, 400, "no webhookEvent"},
		{"array", `[1,2,3]`, 400, "not a JSON object"},
		{"empty", ``, 400, "not valid JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, out := deliver(t, a.url, a.key, []byte(tc.body), signed([]byte(tc.body), a.secret, ""))
			if status != tc.status || !strings.Contains(out["error"], tc.reason) {
				t.Fatalf("got %d %v, want %d with %q", status, out, tc.status, tc.reason)
			}
		})
	}
	big := bytes.Repeat([]byte("x"), 5000)
	if status, _ := deliver(t, a.url, a.key, big, signed(big, a.secret, "")); status != 413 {
		t.Fatalf("oversized body: %d, want 413", status)
	}
	var ds deliveriesAnswer
	getJSON(t, a.url, a.token, "/api/v1/deliveries?outcome=quarantined", &ds)
	if len(ds.Deliveries) != 4 {
		t.Fatalf("%d quarantined deliveries, want 4", len(ds.Deliveries))
	}
	q, err := a.db.QuarantinedBody(context.Background(), 1, ds.Deliveries[len(ds.Deliveries)-1].ID)
	if err != nil || !strings.Contains(string(q.Body), "oops") || !strings.Contains(q.Reason, "not valid JSON") {
		t.Fatalf("quarantined body = %+v, %v", q, err)
	}
	// Quarantine kept nothing in the event log, and an accepted event still works.
	body := fixture(t, "cloud/sprint_started.json")
	if status, out := deliver(t, a.url, a.key, body, signed(body, a.secret, "1")); status != 200 || out["status"] != "accepted" {
		t.Fatalf("after bad input: %d %v", status, out)
	}
}

// A storage failure answers 503 (so that Jira Cloud retries), keeps nothing
// half-written, and the service recovers when the store does.
func TestStoreFailureAnswers503AndRecovers(t *testing.T) {
	a := newApp(t)
	raw := openRaw(t, a.dir)
	if _, err := raw.Exec(`CREATE TRIGGER fail_appends BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'injected disk failure'); END`); err != nil {
		t.Fatal(err)
	}
	body := fixture(t, "cloud/issue_created.json")
	h := signed(body, a.secret, "777")
	if status, out := deliver(t, a.url, a.key, body, h); status != 503 {
		t.Fatalf("with a failing store: %d %v, want 503", status, out)
	}
	var n int
	raw.QueryRow(`SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM deliveries)`).Scan(&n)
	if n != 0 {
		t.Fatalf("failed append left %d rows", n)
	}
	if _, err := raw.Exec(`DROP TRIGGER fail_appends`); err != nil {
		t.Fatal(err)
	}
	h[jira.HeaderRetry] = "1"
	if status, out := deliver(t, a.url, a.key, body, h); status != 200 || out["status"] != "accepted" {
		t.Fatalf("after recovery: %d %v, want accepted (the failed attempt stored nothing)", status, out)
	}
}

func TestDeliveriesAPIRequiresTokenAndIsScoped(t *testing.T) {
	a := newApp(t)
	_, other, err := a.db.CreateCustomer(context.Background(), "Other")
	if err != nil {
		t.Fatal(err)
	}
	body := fixture(t, "cloud/sprint_started.json")
	deliver(t, a.url, a.key, body, signed(body, a.secret, "1"))
	if code := getJSON(t, a.url, "", "/api/v1/deliveries", nil); code != 401 {
		t.Errorf("no token: %d", code)
	}
	if code := getJSON(t, a.url, "cgs_wrong", "/api/v1/deliveries", nil); code != 401 {
		t.Errorf("wrong token: %d", code)
	}
	if code := getJSON(t, a.url, a.token, "/api/v1/deliveries?limit=0", nil); code != 400 {
		t.Errorf("limit=0: %d", code)
	}
	var ds deliveriesAnswer
	getJSON(t, a.url, other.APIToken, "/api/v1/deliveries", &ds)
	if len(ds.Deliveries) != 0 {
		t.Fatalf("customer B sees %d of A's deliveries", len(ds.Deliveries))
	}
}

func TestHealthReadyAndMetrics(t *testing.T) {
	a := newApp(t)
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/metrics": 200} {
		resp, err := http.Get(a.url + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
	}
	body := fixture(t, "cloud/sprint_started.json")
	deliver(t, a.url, a.key, body, signed(body, a.secret, "1"))
	resp, _ := http.Get(a.url + "/metrics")
	m, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`cogniscape_webhook_requests_total{outcome="accepted"} 1`, "cogniscape_webhook_ack_seconds_count 1", "cogniscape_event_log_events 1"} {
		if !strings.Contains(string(m), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	a.db.Close()
	resp, _ = http.Get(a.url + "/readyz")
	resp.Body.Close()
	if resp.StatusCode != 503 {
		t.Errorf("readyz with a closed store: %d", resp.StatusCode)
	}
}

// Tenant commands work against the data directory of a running server, and
// the server honours them at once.
func TestTenantCommandsWhileServing(t *testing.T) {
	dir := t.TempDir()
	var created struct {
		CustomerKey string `json:"customer_key"`
		JiraSecret  string `json:"jira_secret"`
		APIToken    string `json:"api_token"`
		WebhookURL  string `json:"webhook_url"`
	}
	p := startServe(t, dir, "--public-url", "https://cogniscape.example.com/")
	if !strings.Contains(p.out(), "Jira secret:") || strings.Contains(p.log(), "Jira secret") {
		t.Fatalf("first start must print credentials to stdout only\nstdout: %s\nlog: %s", p.out(), p.log())
	}
	out := cli(t, dir, "tenant", "create", "--name", "Second", "--json", "--public-url", "https://cogniscape.example.com")
	if err := json.Unmarshal(out, &created); err != nil {
		t.Fatalf("tenant create --json: %v: %s", err, out)
	}
	if len(created.CustomerKey) < 22 || len(created.JiraSecret) < 32 || created.APIToken == "" ||
		created.WebhookURL != "https://cogniscape.example.com/api/v1/events/jira/"+created.CustomerKey {
		t.Fatalf("created = %+v", created)
	}
	body := fixture(t, "cloud/version_released.json")
	if status, _ := deliver(t, p.url, created.CustomerKey, body, signed(body, created.JiraSecret, "1")); status != 200 {
		t.Fatalf("new customer not accepted at once: %d", status)
	}
	var rotated struct {
		JiraSecret string `json:"jira_secret"`
	}
	json.Unmarshal(cli(t, dir, "tenant", "rotate-secret", "--customer-key", created.CustomerKey, "--json"), &rotated)
	if rotated.JiraSecret == "" || rotated.JiraSecret == created.JiraSecret {
		t.Fatalf("rotate-secret gave %q", rotated.JiraSecret)
	}
	// The server still holds the old secret from the delivery above; the
	// old secret may not put a body into the quarantine...
	broken := []byte("not json")
	if status, _ := deliver(t, p.url, created.CustomerKey, broken, signed(broken, created.JiraSecret, "3")); status != 401 {
		t.Fatalf("old secret with a broken body after rotation: %d, want 401", status)
	}
	// ...nor into the log.
	body = fixture(t, "cloud/sprint_started.json")
	if status, _ := deliver(t, p.url, created.CustomerKey, body, signed(body, created.JiraSecret, "2")); status != 401 {
		t.Fatalf("old secret after rotation: %d, want 401", status)
	}
	if status, _ := deliver(t, p.url, created.CustomerKey, body, map[string]string{jira.HeaderToken: created.JiraSecret}); status != 401 {
		t.Fatalf("old secret as token after rotation: %d, want 401", status)
	}

	if status, _ := deliver(t, p.url, created.CustomerKey, body, signed(body, rotated.JiraSecret, "2")); status != 200 {
		t.Fatalf("new secret: %d, want 200", status)
	}
	// Rotated again while the server holds the secret it just accepted: that
	// secret is refused on the next request too (the store refuses an append
	// authenticated with a secret rotated away, and the server checks again).
	var again struct {
		JiraSecret string `json:"jira_secret"`
	}
	json.Unmarshal(cli(t, dir, "tenant", "rotate-secret", "--customer-key", created.CustomerKey, "--json"), &again)
	body = fixture(t, "cloud/sprint_closed.json")
	if status, _ := deliver(t, p.url, created.CustomerKey, body, signed(body, rotated.JiraSecret, "4")); status != 401 {
		t.Fatalf("secret rotated away while cached: %d, want 401", status)
	}
	if status, _ := deliver(t, p.url, created.CustomerKey, body, signed(body, again.JiraSecret, "4")); status != 200 {
		t.Fatalf("secret after the second rotation: %d, want 200", status)
	}
	var list struct {
		Customers []struct {
			Name        string `json:"name"`
			CustomerKey string `json:"customer_key"`
			JiraSecret  string `json:"jira_secret"`
		} `json:"customers"`
	}
	json.Unmarshal(cli(t, dir, "tenant", "list", "--json"), &list)
	if len(list.Customers) != 2 || list.Customers[0].Name != "Default" || list.Customers[1].JiraSecret != "" {
		t.Fatalf("tenant list = %+v", list)
	}
	if out := string(cli(t, dir, "deliveries", "--customer-key", created.CustomerKey)); strings.Count(out, "accepted") != 3 {
		t.Fatalf("deliveries CLI:\n%s", out)
	}
	// A leaked API token is replaced from the CLI: the old one is refused on
	// the very next request, the new one works.
	var deliveries struct {
		Deliveries []map[string]any `json:"deliveries"`
	}
	if status := getJSON(t, p.url, created.APIToken, "/api/v1/deliveries", &deliveries); status != 200 {
		t.Fatalf("API token before rotation: %d", status)
	}
	var newToken struct {
		APIToken string `json:"api_token"`
	}
	json.Unmarshal(cli(t, dir, "tenant", "rotate-token", "--customer-key", created.CustomerKey, "--json"), &newToken)
	if newToken.APIToken == "" || newToken.APIToken == created.APIToken {
		t.Fatalf("rotate-token gave %q", newToken.APIToken)
	}
	if status := getJSON(t, p.url, created.APIToken, "/api/v1/deliveries", &deliveries); status != 401 {
		t.Fatalf("API token after rotation: %d, want 401", status)
	}
	if status := getJSON(t, p.url, newToken.APIToken, "/api/v1/deliveries", &deliveries); status != 200 || len(deliveries.Deliveries) == 0 {
		t.Fatalf("new API token: %d, %d deliveries", status, len(deliveries.Deliveries))
	}
	// Secrets never reach the log.
	for _, s := range []string{created.JiraSecret, rotated.JiraSecret, again.JiraSecret, created.APIToken, newToken.APIToken} {
		if strings.Contains(p.log(), s) {
			t.Fatal("a secret appears in the server log")
		}
	}
	// SIGTERM drains and exits cleanly.
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, p.log())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no exit after SIGTERM")
	}
}

// rotateAfterRead rotates a customer's secret right after the server has
// read it for a request, as an administrator's rotation would while the
// request is under way. It offers no cache, so every request reads the
// secret from the store.
type rotateAfterRead struct {
	cogniscape.CustomerService
	once sync.Once
}

func (r *rotateAfterRead) JiraSecret(ctx context.Context, key string) (int64, []byte, string, error) {
	id, sec, version, err := r.CustomerService.JiraSecret(ctx, key)
	r.once.Do(func() {
		if _, err := r.CustomerService.RotateJiraSecret(ctx, key); err != nil {
			panic(err)
		}
	})
	return id, sec, version, err
}

// A delivery authenticated with a secret that is rotated before the
// delivery is stored is refused: the rotation has returned, so the old
// secret may no longer get anything in.
func TestRotationDuringARequestRefusesTheOldSecret(t *testing.T) {
	a := newApp(t, func(s *httpd.Server) { s.Customers = &rotateAfterRead{CustomerService: s.Customers} })
	body := fixture(t, "cloud/issue_created.json")
	if status, out := deliver(t, a.url, a.key, body, signed(body, a.secret, "1")); status != 401 {
		t.Fatalf("old secret, rotated during the request: %d %v, want 401", status, out)
	}
	if n, err := a.db.LogSize(context.Background()); err != nil || n != 0 {
		t.Fatalf("the log holds %d events (%v), want none", n, err)
	}
}

func TestFirstStartPrintsOnceOnly(t *testing.T) {
	dir := t.TempDir()
	p := startServe(t, dir)
	if !strings.Contains(p.out(), "/api/v1/events/jira/") {
		t.Fatalf("no webhook URL printed: %q", p.out())
	}
	// The served process exports what the projector left out.
	resp, err := http.Get(p.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), "cogniscape_projection_skipped_events_total 0") {
		t.Errorf("no skipped-events counter in /metrics")
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	<-p.exited
	p2 := startServe(t, dir)
	time.Sleep(100 * time.Millisecond)
	if p2.out() != "" {
		t.Fatalf("second start printed credentials again: %q", p2.out())
	}
}

func ExampleSign() {
	fmt.Println(jira.Sign([]byte("Hello World!"), []byte("It's a Secret to Everybody")))
	// Output: sha256=a4771c39fbe90f317c7824e83ddef3caae9cb3d976c214ace1f2937e133263c9
}

// A master key that cannot open the stored secrets stops the server at
// start, instead of a server that answers every webhook with 503: another
// key in the environment, or a data directory whose master.key went missing
// (restored without it), in which case no fresh key is left behind.
func TestWrongMasterKeyRefusesToStart(t *testing.T) {
	dir := t.TempDir()
	cli(t, dir, "tenant", "create", "--name", "A", "--json")
	fails := func(name string, env []string, args ...string) string {
		t.Helper()
		cmd := exec.Command(binary, args...)
		cmd.Env = append(append(os.Environ(), "COGNISCAPE_DATA="+dir), env...)
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "master key does not open") {
			t.Errorf("%s: %v\n%s", name, err, out)
		}
		return string(out)
	}
	other := strings.Repeat("ab", 32)
	fails("another key", []string{"COGNISCAPE_MASTER_KEY=" + other}, "tenant", "list")
	keyFile := filepath.Join(dir, "master.key")
	if err := os.Rename(keyFile, keyFile+".saved"); err != nil {
		t.Fatal(err)
	}
	if out := fails("no key file", nil, "serve", "--addr", "127.0.0.1:0"); !strings.Contains(out, "has no master.key") {
		t.Errorf("the error does not say the key file is missing:\n%s", out)
	}
	if _, err := os.Stat(keyFile); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a fresh master.key was left behind: %v", err)
	}
	if err := os.Rename(keyFile+".saved", keyFile); err != nil {
		t.Fatal(err)
	}
	cli(t, dir, "tenant", "list")
}

// Settings in the environment are refused when they do not parse, as the
// same values are on the command line, rather than silently replaced by the
// defaults (an "ingest-only" replica that projects, say).
func TestBadEnvironmentSettingsAreRefused(t *testing.T) {
	for _, env := range []string{"COGNISCAPE_PROJECTION=no", "COGNISCAPE_RAW_RETENTION=7d", "COGNISCAPE_MAX_BODY=10MiB"} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second) // a server that starts is killed
		defer cancel()
		cmd := exec.CommandContext(ctx, binary, "serve", "--addr", "127.0.0.1:0")
		cmd.Env = append(os.Environ(), "COGNISCAPE_DATA="+t.TempDir(), env)
		name, _, _ := strings.Cut(env, "=")
		if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), name) {
			t.Errorf("%s: %v\n%s", env, err, out)
		}
	}
}

// The first customer's credentials are shown once: even when creating the
// first portal admin fails, they are printed, with what to do next.
func TestFirstStartShowsCredentialsEvenIfTheAdminFails(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "serve", "--addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "COGNISCAPE_DATA="+t.TempDir(), "COGNISCAPE_ADMIN_EMAIL=not-an-address")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err == nil {
		t.Fatal("serve started with an invalid admin email")
	}
	if !strings.Contains(stdout.String(), "Jira secret:") || !strings.Contains(stdout.String(), "/api/v1/events/jira/") {
		t.Errorf("the customer's credentials were not shown:\n%s", stdout.String())
	}
	if !strings.Contains(stderr.String(), "user add --customer-key") {
		t.Errorf("the error does not say how to add an admin:\n%s", stderr.String())
	}
}

// `cogniscape backup` copies a database in use consistently, with its
// master key: a server started on the backup has every delivery
// acknowledged before the backup began, and the secrets open.
func TestBackupWhileServing(t *testing.T) {
	dir := t.TempDir()
	var tenant struct {
		CustomerKey string `json:"customer_key"`
		JiraSecret  string `json:"jira_secret"`
		APIToken    string `json:"api_token"`
	}
	mustJSON(t, cli(t, dir, "tenant", "create", "--name", "A", "--json"), &tenant)
	p := startServe(t, dir)
	bodies := [][]byte{fixture(t, "cloud/issue_created.json"), fixture(t, "cloud/sprint_started.json"), fixture(t, "cloud/comment_created.json")}
	for i, b := range bodies {
		if status, _ := deliver(t, p.url, tenant.CustomerKey, b, signed(b, tenant.JiraSecret, fmt.Sprint("b-", i))); status != 200 {
			t.Fatalf("delivery %d: %d", i, status)
		}
	}
	backup := filepath.Join(t.TempDir(), "backup")
	if out := string(cli(t, dir, "backup", "--out", backup)); !strings.Contains(out, "with the master key") {
		t.Errorf("backup said: %s", out)
	}
	if out, err := exec.Command(binary, "backup", "--out", backup, "--data", dir).CombinedOutput(); err == nil {
		t.Errorf("a second backup into the same directory: %s", out)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	<-p.exited

	restored := startServe(t, backup)
	var ds deliveriesAnswer
	if status := getJSON(t, restored.url, tenant.APIToken, "/api/v1/deliveries", &ds); status != 200 || len(ds.Deliveries) != len(bodies) {
		t.Fatalf("restored: %d, %d deliveries, want %d", status, len(ds.Deliveries), len(bodies))
	}
	b := fixture(t, "cloud/version_released.json")
	if status, _ := deliver(t, restored.url, tenant.CustomerKey, b, signed(b, tenant.JiraSecret, "after")); status != 200 {
		t.Errorf("the restored server does not open the secret: %d", status)
	}
}

// A data directory made beforehand, or files restored from elsewhere, keep
// their modes: serve warns when they are open to other users.
func TestServeWarnsOfOpenPermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := startServe(t, dir)
	if !strings.Contains(p.log(), "readable by other users") {
		t.Errorf("no warning for a 0755 data directory:\n%s", p.log())
	}
}
