package main

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cogniscape/cogniscape"
	"github.com/cogniscape/cogniscape/internal/jira"
	"github.com/cogniscape/cogniscape/internal/postgres"
	"github.com/cogniscape/cogniscape/internal/projector"
	"github.com/cogniscape/cogniscape/internal/sqlite"
	"github.com/jackc/pgx/v5"
)

// postgresDatabase creates a database of its own for the test on the server
// of COGNISCAPE_TEST_POSTGRES and drops it afterwards; it skips the test
// without one, or in -short mode.
func postgresDatabase(t testing.TB) string {
	t.Helper()
	base := os.Getenv("COGNISCAPE_TEST_POSTGRES")
	if base == "" {
		t.Skip("replica tests need PostgreSQL: set COGNISCAPE_TEST_POSTGRES=postgres://user@host:5432/db?sslmode=disable")
	}
	if testing.Short() {
		t.Skip("replica tests skipped in -short mode")
	}
	rnd := make([]byte, 4)
	crand.Read(rnd)
	name := fmt.Sprintf("cogniscape_replicas_%d_%s", os.Getpid(), hex.EncodeToString(rnd))
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Logf("drop %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			t.Logf("drop %s: %v", name, err)
		}
	})
	if strings.HasPrefix(base, "postgres://") || strings.HasPrefix(base, "postgresql://") {
		i := strings.Index(base, "?")
		rest := ""
		if i >= 0 {
			base, rest = base[:i], base[i:]
		}
		return base[:strings.LastIndex(base, "/")+1] + name + rest
	}
	return base + " dbname=" + name
}

// replicaDelivery is one webhook to send, and what became of it.
type replicaDelivery struct {
	name       string // fixture it came from
	body       []byte
	identifier string
}

// Three `cogniscape serve` processes on one PostgreSQL database behave as one
// service: deliveries spread over them, with retries and duplicates, in any
// order, one replica killed with SIGKILL mid-run and restarted later, and a
// replay in the middle of it all; every acknowledged delivery is in the log
// exactly once, and the graph is the one a single SQLite store builds from
// the same deliveries. Then a secret rotated from the CLI is refused by every
// replica on the very next request.
func TestPostgresReplicas(t *testing.T) {
	dsn := postgresDatabase(t)
	key := make([]byte, 32)
	crand.Read(key)
	t.Setenv("COGNISCAPE_MASTER_KEY", hex.EncodeToString(key))
	cliDir := t.TempDir()
	if out := string(cli(t, cliDir, "migrate", "--database", dsn)); !strings.Contains(out, "up to date") {
		t.Fatalf("migrate: %s", out)
	}
	var tenant struct {
		CustomerKey string `json:"customer_key"`
		JiraSecret  string `json:"jira_secret"`
		APIToken    string `json:"api_token"`
	}
	mustJSON(t, cli(t, cliDir, "tenant", "create", "--name", "Replicas", "--json", "--database", dsn), &tenant)

	var mu sync.Mutex
	dirs := []string{t.TempDir(), t.TempDir(), t.TempDir()}
	replicas := make([]*process, 3)
	for i := range replicas {
		replicas[i] = startServe(t, dirs[i], "--database", dsn)
	}
	urlOf := func(i int) string {
		mu.Lock()
		defer mu.Unlock()
		return replicas[i].url
	}

	// The Cloud fixtures, and variants of each with identifiers of their own
	// (distinct deliveries of the same change, as a second webhook would send).
	files, _ := filepath.Glob(filepath.Join("testdata", "jira", "cloud", "*.json"))
	var all []replicaDelivery
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(f)
		all = append(all, replicaDelivery{name: name, body: body, identifier: "fx-" + name})
		for v := 1; v <= 8; v++ {
			id := fmt.Sprintf("fx-%s-v%d", name, v)
			variant := bytes.Replace(body, []byte(`"timestamp": `), []byte(`"cogniscapeTestSeq": "`+id+`", "timestamp": `), 1)
			all = append(all, replicaDelivery{name: name, body: variant, identifier: id})
		}
	}
	// Issue links carry no site; give the log one event with a site first,
	// as any real site's history has, and shuffle the rest.
	rng := rand.New(rand.NewPCG(7, 11))
	rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	for i, d := range all {
		if d.identifier == "fx-issue_created.json" {
			all[0], all[i] = all[i], all[0]
		}
	}

	client := &http.Client{Timeout: 10 * time.Second}
	post := func(url string, d replicaDelivery, retry int, secret string) (int, string, error) {
		req, _ := http.NewRequest("POST", url+"/api/v1/events/jira/"+tenant.CustomerKey, bytes.NewReader(d.body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(jira.HeaderSignature, jira.Sign(d.body, []byte(secret)))
		req.Header.Set(jira.HeaderIdentifier, d.identifier)
		if retry > 0 {
			req.Header.Set(jira.HeaderRetry, strconv.Itoa(retry))
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		var out map[string]string
		raw, _ := io.ReadAll(resp.Body)
		json.Unmarshal(raw, &out)
		return resp.StatusCode, out["status"], nil
	}
	var (
		acked      sync.Map // identifier → true
		outcomes   sync.Map // status → *atomic.Int64
		done       atomic.Int64
		failedOnce atomic.Int64
	)
	count := func(status string) {
		v, _ := outcomes.LoadOrStore(status, new(atomic.Int64))
		v.(*atomic.Int64).Add(1)
	}
	// send delivers d as Jira does: to the load balancer's pick, retried on
	// anything but a 200 (a dead replica, a 503) against another replica.
	send := func(d replicaDelivery, first int) {
		for attempt := 0; attempt < 60; attempt++ {
			status, outcome, err := post(urlOf((first+attempt)%3), d, attempt, tenant.JiraSecret)
			if err == nil && status == 200 {
				acked.Store(d.identifier, true)
				count(outcome)
				return
			}
			failedOnce.Add(1)
			time.Sleep(time.Duration(20+10*attempt) * time.Millisecond)
		}
		t.Errorf("delivery %s never acknowledged", d.identifier)
	}
	send(all[0], 0)
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range 12 {
		wg.Go(func() {
			for i := range jobs {
				d := all[i]
				send(d, rng2(i))
				// At-least-once: some deliveries come again, to any replica.
				if i%5 == 0 {
					send(d, rng2(i+1))
				}
				done.Add(1)
			}
		})
	}
	var replayOut []byte
	var replayErr error
	var replayWG sync.WaitGroup
	for i := 1; i < len(all); i++ {
		jobs <- i
		switch i {
		case len(all) / 3:
			// SIGKILL replica 2 in the middle of the stream.
			mu.Lock()
			victim := replicas[1]
			mu.Unlock()
			if err := victim.cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			<-victim.exited
		case len(all) / 2:
			// A replay while the replicas ingest and project.
			replayWG.Go(func() {
				cmd := exec.Command(binary, "replay", "--database", dsn, "--data", cliDir)
				replayOut, replayErr = cmd.CombinedOutput()
			})
		case 2 * len(all) / 3:
			p := startServe(t, dirs[1], "--database", dsn)
			mu.Lock()
			replicas[1] = p
			mu.Unlock()
		}
	}
	close(jobs)
	wg.Wait()
	replayWG.Wait()
	if replayErr != nil || !strings.Contains(string(replayOut), "replayed") {
		t.Errorf("replay printed %q", replayOut)
	}
	var summary []string
	outcomes.Range(func(k, v any) bool {
		summary = append(summary, fmt.Sprintf("%s %d", k, v.(*atomic.Int64).Load()))
		return true
	})
	t.Logf("%d deliveries (%s), %d attempts refused or failed and retried; replay: %s",
		len(all), strings.Join(summary, ", "), failedOnce.Load(), strings.TrimSpace(string(replayOut)))

	// Projection settles on every replica.
	waitFor(t, func() bool {
		for i := range 3 {
			var ready struct {
				Lag *int64 `json:"projection_lag"`
			}
			if getJSON(t, urlOf(i), "", "/readyz", &ready) != 200 || ready.Lag == nil || *ready.Lag != 0 {
				return false
			}
		}
		return true
	})

	// Every acknowledged delivery is in the log exactly once.
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT identifier, count(*) FROM events GROUP BY identifier`)
	if err != nil {
		t.Fatal(err)
	}
	inLog := map[string]int64{}
	for rows.Next() {
		var id string
		var n int64
		rows.Scan(&id, &n)
		inLog[id] = n
	}
	rows.Close()
	for _, d := range all {
		if _, ok := acked.Load(d.identifier); !ok {
			t.Errorf("%s was never acknowledged", d.identifier)
		}
		if inLog[d.identifier] != 1 {
			t.Errorf("acknowledged delivery %s is in the log %d times", d.identifier, inLog[d.identifier])
		}
	}
	if len(inLog) != len(all) {
		t.Errorf("%d distinct events in the log, %d deliveries", len(inLog), len(all))
	}

	// The graph is the one a single SQLite store builds from the same deliveries.
	pg, err := postgres.Open(ctx, dsn, key)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	cust, err := pg.CustomerByKey(ctx, tenant.CustomerKey)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pg.GraphDigest(ctx, cust.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := sqliteDigest(t, all); got != want {
		t.Errorf("graph of the replicas %s, of one SQLite store %s", got, want)
	}

	// Rotation: the old secret is refused by the other replicas on the very
	// next request, the new one accepted by all; a new customer is accepted
	// at once everywhere.
	probe := func(i int, secret, id string) int {
		d := replicaDelivery{body: fixture(t, "cloud/issue_updated_fields.json"), identifier: id}
		status, _, err := post(urlOf(i), d, 0, secret)
		if err != nil {
			t.Fatal(err)
		}
		return status
	}
	for i := range 3 {
		if s := probe(i, tenant.JiraSecret, fmt.Sprintf("before-rotation-%d", i)); s != 200 {
			t.Fatalf("replica %d refused the current secret: %d", i+1, s)
		}
	}
	var rotated struct {
		JiraSecret string `json:"jira_secret"`
	}
	mustJSON(t, cli(t, cliDir, "tenant", "rotate-secret", "--customer-key", tenant.CustomerKey, "--json", "--database", dsn), &rotated)
	for _, i := range []int{1, 2} {
		if s := probe(i, tenant.JiraSecret, fmt.Sprintf("old-secret-%d", i)); s != 401 {
			t.Errorf("replica %d answered %d to the old secret after rotation, want 401", i+1, s)
		}
	}
	for i := range 3 {
		if s := probe(i, rotated.JiraSecret, fmt.Sprintf("new-secret-%d", i)); s != 200 {
			t.Errorf("replica %d answered %d to the new secret, want 200", i+1, s)
		}
	}
	var other struct {
		CustomerKey string `json:"customer_key"`
		JiraSecret  string `json:"jira_secret"`
	}
	mustJSON(t, cli(t, cliDir, "tenant", "create", "--name", "Newcomer", "--json", "--database", dsn), &other)
	body := fixture(t, "cloud/issue_created.json")
	if s, _ := deliver(t, urlOf(2), other.CustomerKey, body, signed(body, other.JiraSecret, "newcomer-1")); s != 200 {
		t.Errorf("replica 3 answered %d to a customer created a moment ago", s)
	}

	// A replica with another master key refuses to start.
	wrong := make([]byte, 32)
	crand.Read(wrong)
	cmd := exec.Command(binary, "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--database", dsn)
	cmd.Env = append(os.Environ(), "COGNISCAPE_MASTER_KEY="+hex.EncodeToString(wrong))
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "master key") {
		t.Errorf("serve with another master key: %v\n%s", err, out)
	}
}

// rng2 picks the replica a delivery goes to first.
func rng2(i int) int { return (i*7 + i/3) % 3 }

// sqliteDigest builds the graph of the deliveries in a single SQLite store.
func sqliteDigest(t *testing.T, all []replicaDelivery) string {
	t.Helper()
	db, err := sqlite.Open(t.TempDir(), make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	c, _, err := db.CreateCustomer(ctx, "Reference")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range all {
		env, err := jira.Inspect(d.body)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Append(ctx, &cogniscape.Event{CustomerID: c.ID, ReceivedAt: time.Now(), Source: "jira", Type: env.Event,
			Site: env.Site, Identifier: d.identifier, DedupKey: d.identifier, Timestamp: env.Timestamp, Body: d.body, Ignored: env.Ignored}, len(d.body)); err != nil {
			t.Fatal(err)
		}
	}
	p := projector.New(db, jira.Normalize, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if _, err := p.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	d, err := db.GraphDigest(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
