package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cogniscape/cogniscape/internal/httpd"
	"github.com/cogniscape/cogniscape/internal/jirasim"
)

type tenantCreds struct {
	CustomerKey string `json:"customer_key"`
	JiraSecret  string `json:"jira_secret"`
	APIToken    string `json:"api_token"`
}

func createTenant(t *testing.T, dir string) tenantCreds {
	var c tenantCreds
	mustJSON(t, cli(t, dir, "tenant", "create", "--name", "Sim", "--json"), &c)
	return c
}

// simulate runs `cogniscape simulate` against a server and returns its output.
func simulate(t *testing.T, url string, c tenantCreds, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"simulate", "--url", url, "--customer-key", c.CustomerKey, "--secret", c.JiraSecret,
		"--api-token", c.APIToken}, args...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// A simulation of mixed Cloud and Data Center deliveries, with retries of
// duplicates, reordering and bad requests, ends in a graph that matches the
// simulator's own model of the world.
func TestSimulationVerifies(t *testing.T) {
	dir := t.TempDir()
	c := createTenant(t, dir)
	p := startServe(t, dir)
	out, err := simulate(t, p.url, c, "--flavor", "mix", "--events", "2000", "--duplicates", "0.05", "--shuffle", "50", "--bad", "0.01",
		"--concurrency", "16", "--verify")
	if err != nil {
		t.Fatalf("simulate --verify: %v\n%s\nserver log:\n%s", err, out, p.log())
	}
	if !strings.Contains(out, "0 mismatches") && !strings.Contains(out, "no mismatches") {
		t.Logf("%s", out)
	}
}

// kill -9 in the middle of a simulated load (while projecting), restart, and
// finish: nothing acknowledged is lost and the graph matches the model.
func TestKill9DuringLoadThenVerify(t *testing.T) {
	if testing.Short() {
		t.Skip("long fault test skipped in -short mode")
	}
	events := 10000
	if os.Getenv("CI") == "true" {
		events = 100000 // the full-size run, where CI has the time
	}
	dir := t.TempDir()
	c := createTenant(t, dir)
	p := startServe(t, dir)
	file := dir + "/load.jsonl"
	if out, err := exec.Command(binary, "simulate", "--events", fmt.Sprint(events), "--teams", "8", "--out", file).CombinedOutput(); err != nil {
		t.Fatalf("simulate --out: %v\n%s", err, out)
	}
	// Send in the background and kill the server a third of the way through.
	send := exec.Command(binary, "simulate", "--in", file, "--url", p.url, "--customer-key", c.CustomerKey, "--secret", c.JiraSecret,
		"--concurrency", "16")
	sendOut := &strings.Builder{}
	send.Stdout, send.Stderr = sendOut, sendOut
	if err := send.Start(); err != nil {
		t.Fatal(err)
	}
	raw := openRaw(t, dir)
	waitWithin(t, 15*time.Minute, func() bool {
		var n int
		raw.QueryRow(`SELECT count(*) FROM events`).Scan(&n)
		return n >= events/3
	})
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
	send.Process.Signal(syscall.SIGKILL)
	send.Wait()

	// Restart and deliver everything again, as Jira's retries would: what
	// was stored before the kill comes back as duplicates.
	p2 := startServe(t, dir)
	if out, err := exec.Command(binary, "simulate", "--in", file, "--url", p2.url, "--customer-key", c.CustomerKey, "--secret", c.JiraSecret,
		"--concurrency", "16").CombinedOutput(); err != nil {
		t.Fatalf("resend: %v\n%s", err, out)
	}
	var stored, distinct int
	raw.QueryRow(`SELECT count(*), count(DISTINCT identifier) FROM events`).Scan(&stored, &distinct)
	if stored != events || distinct != events {
		t.Fatalf("log holds %d events (%d distinct), want %d exactly once", stored, distinct, events)
	}
	// The graph, projected partly before the kill and partly after, matches the model.
	out, err := exec.Command(binary, "simulate", "--events", fmt.Sprint(events), "--teams", "8", "--url", p2.url,
		"--customer-key", c.CustomerKey, "--secret", c.JiraSecret, "--api-token", c.APIToken, "--concurrency", "16", "--verify").CombinedOutput()
	if err != nil {
		t.Fatalf("verify after kill -9: %v\n%s", err, out)
	}
}

// A write failure at the store while deliveries arrive: 503s (Jira
// retries), nothing half-stored, and the service recovers with the store.
func TestStoreFailureUnderLoadRecovers(t *testing.T) {
	dir := t.TempDir()
	c := createTenant(t, dir)
	p := startServe(t, dir)
	raw := openRaw(t, dir)
	done := make(chan jirasim.Report, 1)
	go func() {
		sim := jirasim.New(jirasim.Config{Seed: 11, Teams: 2, Target: 1500})
		rep, _ := jirasim.Send(context.Background(), sim, jirasim.SendConfig{URL: p.url, CustomerKey: c.CustomerKey, Secret: c.JiraSecret,
			Concurrency: 8, Rate: 100, MaxRetries: 30, RetryBase: 100 * time.Millisecond}) // paced, so the failure lands mid-stream
		done <- rep
	}()
	waitFor(t, func() bool {
		var n int
		raw.QueryRow(`SELECT count(*) FROM events`).Scan(&n)
		return n >= 200
	})
	if _, err := raw.Exec(`CREATE TRIGGER fail_appends BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'injected disk failure'); END`); err != nil {
		t.Fatal(err)
	}
	// Keep the store failing until the server has answered 503 a few times,
	// however long the trigger took to get the write lock on a busy machine.
	waitFor(t, func() bool {
		return metricValue(t, p.url, `cogniscape_webhook_requests_total{outcome="unavailable"}`) >= 10
	})
	if _, err := raw.Exec(`DROP TRIGGER fail_appends`); err != nil {
		t.Fatal(err)
	}
	rep := <-done
	if rep.Outcomes["503"] != 0 || rep.Lost != 0 {
		t.Fatalf("after recovery: %+v (retried deliveries must end accepted)", rep.Outcomes)
	}
	if rep.Retries == 0 {
		t.Fatalf("no delivery was answered 503 while the store failed: %+v", rep)
	}
	var events, deliveries int
	raw.QueryRow(`SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM deliveries WHERE outcome != 'duplicate')`).Scan(&events, &deliveries)
	if events != 1500 || deliveries != 1500 {
		t.Fatalf("events %d, non-duplicate deliveries %d; want 1500 each (no partial rows)", events, deliveries)
	}
	out, err := simulate(t, p.url, c, "--events", "1500", "--teams", "2", "--seed", "11", "--verify")
	if err != nil {
		t.Fatalf("verify: %v\n%s", err, out)
	}
}

// Slow and idle clients are cut off, and cannot starve a well-behaved one.
func TestSlowClientsAreCutOff(t *testing.T) {
	a := newApp(t, func(s *httpd.Server) { s.ReadHeaderTimeout = 500 * time.Millisecond; s.IdleTimeout = time.Second })
	addr := strings.TrimPrefix(a.url, "http://")
	var conns []net.Conn
	for i := 0; i < 50; i++ {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conn.Write([]byte("POST /api/v1/events/jira/" + a.key + " HTTP/1.1\r\nHost: x\r\n")) // never finishes its headers
		conns = append(conns, conn)
	}
	body := fixture(t, "cloud/sprint_started.json")
	if status, _ := deliver(t, a.url, a.key, body, signed(body, a.secret, "1")); status != 200 {
		t.Fatalf("well-behaved client got %d beside slow ones", status)
	}
	for i, conn := range conns {
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadAll(conn); err != nil {
			t.Fatalf("slow connection %d not closed by the server: %v", i, err)
		}
		conn.Close()
	}
}

// serve --demo fills a demo customer with 90 days of activity.
func TestServeDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("demo load skipped in -short mode")
	}
	dir := t.TempDir()
	p := startServe(t, dir, "--demo")
	token := ""
	for _, line := range strings.Split(p.out(), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "API" && f[1] == "token:" {
			token = f[2]
		}
	}
	if token == "" {
		t.Fatalf("no API token printed:\n%s", p.out())
	}
	waitFor(t, func() bool { return strings.Contains(p.log(), "demo activity loaded") })
	waitFor(t, func() bool { return lag(context.Background(), p.url) == 0 })
	var activity struct {
		Items []json.RawMessage `json:"items"`
	}
	getJSON(t, p.url, token, "/api/v1/activity?since=7d&limit=100", &activity)
	var issues struct {
		Issues []json.RawMessage `json:"issues"`
	}
	getJSON(t, p.url, token, "/api/v1/issues?limit=500", &issues)
	if len(activity.Items) < 20 || len(issues.Issues) < 100 {
		t.Fatalf("demo: %d activity items this week, %d issues", len(activity.Items), len(issues.Issues))
	}
}

// metricValue reads one sample from the server's Prometheus endpoint; 0 when
// it is absent.
func metricValue(t *testing.T, url, series string) float64 {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return f
		}
	}
	return 0
}

// serve --demo on a data directory that already has a first customer (and
// so the first admin's address): the demo customer is made, its credentials
// shown, and the server starts.
func TestServeDemoBesideAFirstCustomer(t *testing.T) {
	dir := t.TempDir()
	first := startServe(t, dir)
	first.cmd.Process.Signal(syscall.SIGTERM)
	<-first.exited
	demo := startServe(t, dir, "--demo")
	if out := demo.out(); !strings.Contains(out, "Jira secret:") || !strings.Contains(out, "belongs to another customer") {
		t.Errorf("demo beside a first customer printed:\n%s", out)
	}
}
