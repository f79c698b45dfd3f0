package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cogniscape/cogniscape/internal/httpd"
	"github.com/cogniscape/cogniscape/internal/jira"
	"github.com/cogniscape/cogniscape/internal/secret"
	"github.com/cogniscape/cogniscape/internal/sqlite"
)

// binary is the cogniscape binary built once by TestMain for the tests that
// run it as a separate process.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "cogniscape-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "cogniscape")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build cogniscape: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// fixture reads a Jira webhook body from testdata/jira.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "jira", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// app is a real server on a random port over a real SQLite file, in-process.
type app struct {
	t      testing.TB
	dir    string
	db     *sqlite.DB
	srv    *httpd.Server
	url    string
	key    string // the first customer's key
	secret string
	token  string
}

func newApp(t testing.TB, configure ...func(*httpd.Server)) *app {
	t.Helper()
	dir := t.TempDir()
	key, err := secret.LoadKey("", dir)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(dir, key)
	if err != nil {
		t.Fatal(err)
	}
	cust, creds, err := db.CreateCustomer(context.Background(), "Acme Pay")
	if err != nil {
		t.Fatal(err)
	}
	srv := &httpd.Server{Addr: "127.0.0.1:0", Customers: db, Events: db, Jira: jira.Source{}, Ready: db.Ping, LogSize: db.LogSize,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, f := range configure {
		f(srv)
	}
	if err := srv.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Shutdown(context.Background())
		db.Close()
	})
	return &app{t: t, dir: dir, db: db, srv: srv, url: srv.URL(), key: cust.Key, secret: creds.JiraSecret, token: creds.APIToken}
}

// deliver posts body to the customer's Jira webhook URL with headers.
func deliver(t testing.TB, baseURL, customerKey string, body []byte, headers map[string]string) (int, map[string]string) {
	t.Helper()
	req, err := http.NewRequest("POST", baseURL+"/api/v1/events/jira/"+customerKey, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json; charset=UTF-8")
	req.Header.Set("User-Agent", "Atlassian Webhook HTTP Client")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]string
	raw, _ := io.ReadAll(resp.Body)
	json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

func signed(body []byte, secret string, identifier string) map[string]string {
	h := map[string]string{jira.HeaderSignature: jira.Sign(body, []byte(secret)), "X-Atlassian-Webhook-Flow": "Primary"}
	if identifier != "" {
		h[jira.HeaderIdentifier] = identifier
	}
	return h
}

func basicAuth(user, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
}

// getJSON GETs path with the API token and decodes the answer into v.
func getJSON(t testing.TB, baseURL, token, path string, v any) int {
	t.Helper()
	req, _ := http.NewRequest("GET", baseURL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if v != nil {
		raw, _ := io.ReadAll(resp.Body)
		if err := json.Unmarshal(raw, v); err != nil && resp.StatusCode == 200 {
			t.Fatalf("GET %s: %v in %s", path, err, raw)
		}
	}
	return resp.StatusCode
}

type deliveriesAnswer struct {
	Deliveries []struct {
		ID         int64     `json:"id"`
		ReceivedAt time.Time `json:"received_at"`
		Event      string    `json:"event"`
		Outcome    string    `json:"outcome"`
		Identifier string    `json:"identifier"`
		Retry      int       `json:"retry"`
		Size       int       `json:"size"`
		Reason     string    `json:"reason"`
	} `json:"deliveries"`
}

// cli runs the built binary with args and returns its standard output.
func cli(t testing.TB, dataDir string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), "COGNISCAPE_DATA="+dataDir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("cogniscape %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// process is `cogniscape serve` running as a child process.
type process struct {
	cmd    *exec.Cmd
	url    string
	mu     sync.Mutex // guards stdout and stderr, written as the child runs
	stdout bytes.Buffer
	stderr bytes.Buffer
	exited chan error
}

// processStdout collects the child's standard output under the process's lock.
type processStdout struct{ p *process }

func (w processStdout) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	return w.p.stdout.Write(b)
}

// out is what the child printed to standard output so far.
func (p *process) out() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stdout.String()
}

var servingRE = regexp.MustCompile(`msg=serving url=(\S+)`)

// startServe starts `cogniscape serve` on a random port and waits until it
// listens.
func startServe(t testing.TB, dataDir string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"serve", "--addr", "127.0.0.1:0", "--data", dataDir}, args...)...)
	cmd.Env = os.Environ()
	p := &process{cmd: cmd, exited: make(chan error, 1)}
	cmd.Stdout = processStdout{p}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	urlCh := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.stderr.WriteString(line + "\n")
			p.mu.Unlock()
			if m := servingRE.FindStringSubmatch(line); m != nil {
				urlCh <- m[1]
			}
		}
		p.exited <- cmd.Wait()
	}()
	t.Cleanup(func() { cmd.Process.Kill() })
	select {
	case p.url = <-urlCh:
	case err := <-p.exited:
		t.Fatalf("serve exited before listening: %v\n%s", err, p.log())
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not start\n%s", p.log())
	}
	return p
}

func (p *process) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// openRaw opens the data directory's database read-only for assertions and
// fault injection, beside the running server.
func openRaw(t testing.TB, dataDir string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dataDir, sqlite.FileName)+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

var interruptSignal = syscall.SIGTERM

func mustJSON(t testing.TB, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%v: %s", err, data)
	}
}

// waitFor polls cond for up to 30 s.
func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	waitWithin(t, 30*time.Second, cond)
}

// waitWithin polls cond for up to limit.
func waitWithin(t testing.TB, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s", limit)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func regexpMatch(pattern, s string) bool { return regexp.MustCompile(pattern).MatchString(s) }

func openForTest(dir string) (*sqlite.DB, error) {
	key, err := secret.LoadKey("", dir)
	if err != nil {
		return nil, err
	}
	return sqlite.Open(dir, key)
}
