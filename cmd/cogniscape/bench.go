package main

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cogniscape/cogniscape/internal/jirasim"
	"github.com/cogniscape/cogniscape/internal/sqlite"
)

// runBench measures the whole pipeline on this machine, in one run: the bare
// net/http + HMAC ceiling and Cogniscape's acknowledged events/s; projection
// throughput; replay; query latency at scale; peak memory; database size.
// Servers run as child processes so that their memory is measured alone.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	events := fs.Int("events", 1_000_000, "deliveries in the whole run")
	ackEvents := fs.Int("ack-events", 30_000, "deliveries sent to each server in the acknowledgement comparison")
	concurrency := fs.Int("concurrency", 32, "parallel deliveries")
	teams := fs.Int("teams", 30, "simulated teams")
	queries := fs.Int("queries", 2000, "requests per query type")
	dir := fs.String("dir", "", "data directory for the run (default: a new temporary directory, removed afterwards)")
	fs.StringVar(dir, "data", "", "the same as --dir (never ./data: a run fills its directory with a throwaway database)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *ackEvents > *events {
		*ackEvents = *events
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if *dir == "" {
		tmp, err := os.MkdirTemp("", "cogniscape-bench")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		*dir = tmp
	}
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, "bench: "+format+"\n", a...) }
	res := benchResult{Events: *events, AckEvents: *ackEvents, Concurrency: *concurrency, CPUs: runtime.NumCPU(), Started: time.Now().UTC()}

	sim := jirasim.New(jirasim.Config{Seed: 7, Teams: *teams, Target: *events, Flavor: jirasim.FlavorCloud})
	logf("generating %d deliveries for the acknowledgement comparison", *ackEvents)
	pool := make([]jirasim.Delivery, 0, *ackEvents)
	var bytes int64
	for len(pool) < *ackEvents {
		d, ok := sim.Next()
		if !ok {
			break
		}
		bytes += int64(len(d.Body))
		pool = append(pool, d)
	}
	res.MeanBody = int(bytes / int64(max(len(pool), 1)))

	// 1. The ceiling: a bare net/http handler that reads the body, checks the HMAC and answers 200.
	const secret = "bench-secret-0123456789abcdef0123456789"
	bare, err := startChild(ctx, self, nil, "bench-bare", "--addr", "127.0.0.1:0", "--secret", secret)
	if err != nil {
		return err
	}
	logf("bare ceiling: %d deliveries at concurrency %d", len(pool), *concurrency)
	before := sampleCPU(bare.cmd.Process.Pid)
	rep, err := jirasim.Send(ctx, jirasim.FromSlice(pool), jirasim.SendConfig{URL: bare.url, CustomerKey: "bare", Secret: secret, Concurrency: *concurrency})
	res.BareCPU = before.perEvent(sampleCPU(bare.cmd.Process.Pid), rep.Acknowledged)
	bare.stop()
	if err != nil {
		return err
	}
	res.Bare = summarize(rep)

	// 2. Cogniscape, projecting as it acknowledges.
	data := filepath.Join(*dir, "data")
	env := []string{"COGNISCAPE_DATA=" + data}
	var tenant struct {
		CustomerKey string `json:"customer_key"`
		JiraSecret  string `json:"jira_secret"`
		APIToken    string `json:"api_token"`
	}
	out, err := exec.CommandContext(ctx, self, "tenant", "create", "--name", "Bench", "--json", "--data", data).Output()
	if err != nil {
		return fmt.Errorf("tenant create: %w", err)
	}
	if err := json.Unmarshal(out, &tenant); err != nil {
		return err
	}
	srv, err := startChild(ctx, self, env, "serve", "--addr", "127.0.0.1:0", "--raw-retention", "0")
	if err != nil {
		return err
	}
	logf("cogniscape: %d deliveries at concurrency %d", len(pool), *concurrency)
	before = sampleCPU(srv.cmd.Process.Pid)
	rep, err = jirasim.Send(ctx, jirasim.FromSlice(pool), jirasim.SendConfig{URL: srv.url, CustomerKey: tenant.CustomerKey, Secret: tenant.JiraSecret, Concurrency: *concurrency})
	if err != nil {
		srv.stop()
		return err
	}
	res.CogniscapeCPU = before.perEvent(sampleCPU(srv.cmd.Process.Pid), rep.Acknowledged)
	res.Cogniscape = summarize(rep)
	res.Ratio = res.Cogniscape.PerSec / res.Bare.PerSec
	logf("ceiling %.0f/s, cogniscape %.0f/s (p99 %s), ratio %.2f", res.Bare.PerSec, res.Cogniscape.PerSec, res.Cogniscape.P99, res.Ratio)
	// Projection yields to the burst; measure how far it trailed and how
	// long it took to catch up afterwards.
	res.BurstLag = lag(ctx, srv.url)
	start := time.Now()
	waitLag(ctx, srv.url, 0, 10*time.Minute)
	res.CatchUpSeconds = time.Since(start).Seconds()
	res.RSSAck = srv.stop()
	pool = nil

	// 3. The rest of the stream, acknowledged by an ingest-only server, then
	// projected from raw bodies by a fresh server: projection throughput.
	rest := *events - *ackEvents
	if rest > 0 {
		srv, err = startChild(ctx, self, env, "serve", "--addr", "127.0.0.1:0", "--raw-retention", "0", "--projection=false")
		if err != nil {
			return err
		}
		logf("ingesting %d more deliveries", rest)
		before = sampleCPU(srv.cmd.Process.Pid)
		rep, err = jirasim.Send(ctx, sim, jirasim.SendConfig{URL: srv.url, CustomerKey: tenant.CustomerKey, Secret: tenant.JiraSecret, Concurrency: *concurrency, Total: rest})
		if err != nil {
			srv.stop()
			return err
		}
		res.BulkCPU = before.perEvent(sampleCPU(srv.cmd.Process.Pid), rep.Acknowledged)
		res.Bulk = summarize(rep)
		res.RSSIngest = srv.stop()
	}
	srv, err = startChild(ctx, self, env, "serve", "--addr", "127.0.0.1:0", "--raw-retention", "0")
	if err != nil {
		return err
	}
	start = time.Now()
	pending := lag(ctx, srv.url)
	logf("projecting %d events", pending)
	waitLag(ctx, srv.url, 0, 60*time.Minute)
	res.Projected = pending
	res.ProjectionSeconds = time.Since(start).Seconds()
	res.RSSProjection = srv.stop()
	logf("projected %d events in %.1f s", pending, res.ProjectionSeconds)

	// 4. Replay the whole graph from the normalised events.
	logf("replaying")
	start = time.Now()
	replay := exec.CommandContext(ctx, self, "replay", "--data", data)
	replay.Stderr = stderr
	if res.RSSReplay, err = runSampled(replay); err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	res.ReplaySeconds = time.Since(start).Seconds()
	logf("replayed in %.1f s", res.ReplaySeconds)

	// 5. Queries on the full graph.
	srv, err = startChild(ctx, self, env, "serve", "--addr", "127.0.0.1:0")
	if err != nil {
		return err
	}
	w := sim.World()
	var keys []string
	for _, is := range w.Issues() {
		keys = append(keys, is.Key)
	}
	var sprints []string
	for _, sp := range w.Sprints() {
		sprints = append(sprints, fmt.Sprint(sp.ID))
	}
	projects := map[string]bool{}
	for _, k := range keys {
		projects[k[:strings.Index(k, "-")]] = true
	}
	var projectKeys []string
	for p := range projects {
		projectKeys = append(projectKeys, p)
	}
	slices.Sort(projectKeys)
	words := []string{"payment", "refund", "login", "timeout", "report", "cache", "retry", "export", "invoice", "search"}
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func(list []string) string { return list[rng.IntN(len(list))] }
	logf("queries: %d of each kind", *queries)
	q := func(name string, n int, path func() string) {
		r := timeQueries(ctx, srv.url, tenant.APIToken, name, n, path)
		logf("%s: p50 %s, p99 %s, %d errors", name, r.P50, r.P99, r.Errors)
		res.Queries = append(res.Queries, r)
	}
	q("GET /api/v1/issues/{key}", *queries, func() string { return "/api/v1/issues/" + pick(keys) })
	q("GET /api/v1/issues/{key}/lifecycle", *queries, func() string { return "/api/v1/issues/" + pick(keys) + "/lifecycle" })
	q("GET /api/v1/sprints/{id}/report", *queries, func() string { return "/api/v1/sprints/" + pick(sprints) + "/report" })
	q("GET /api/v1/search?q=…", *queries, func() string { return "/api/v1/search?q=" + pick(words) })
	q("GET /api/v1/flow?since=90d", min(*queries, 200), func() string { return "/api/v1/flow?since=90d&project=" + pick(projectKeys) })
	res.RSSQuery = srv.stop()

	res.DBBytes = dirSize(data)
	res.LiveBytes = liveBytes(filepath.Join(data, sqlite.FileName))
	res.Finished = time.Now().UTC()
	res.write(stdout)
	return nil
}

type sendSummary struct {
	Acked             int
	PerSec            float64
	P50, P99, Elapsed time.Duration
	Lost              int
}

func summarize(r jirasim.Report) sendSummary {
	return sendSummary{Acked: r.Acknowledged, PerSec: r.AckPerSec, P50: r.P50, P99: r.P99, Elapsed: r.Elapsed, Lost: r.Lost}
}

type queryResult struct {
	Name     string
	N        int
	Errors   int
	P50, P99 time.Duration
}

// timeQueries runs n GETs at concurrency 4 and reports latency percentiles.
func timeQueries(ctx context.Context, base, token, name string, n int, path func() string) queryResult {
	paths := make([]string, n)
	for i := range paths {
		paths[i] = path()
	}
	lat := make([]time.Duration, n)
	var errs int
	var mu sync.Mutex
	var wg sync.WaitGroup
	next := make(chan int)
	client := &http.Client{Timeout: 60 * time.Second}
	for w := 0; w < 4; w++ {
		wg.Go(func() {
			for i := range next {
				req, _ := http.NewRequestWithContext(ctx, "GET", base+paths[i], nil)
				req.Header.Set("Authorization", "Bearer "+token)
				t0 := time.Now()
				resp, err := client.Do(req)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				lat[i] = time.Since(t0)
				if err != nil || (resp.StatusCode != 200 && resp.StatusCode != 404) {
					mu.Lock()
					errs++
					mu.Unlock()
				}
			}
		})
	}
	for i := range paths {
		next <- i
	}
	close(next)
	wg.Wait()
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	return queryResult{Name: name, N: n, Errors: errs, P50: pct(0.50), P99: pct(0.99)}
}

type benchResult struct {
	Events, AckEvents, Concurrency, CPUs, MeanBody        int
	Started, Finished                                     time.Time
	Bare, Cogniscape, Bulk                                sendSummary
	BareCPU, CogniscapeCPU, BulkCPU                       cpuPerEvent
	Ratio                                                 float64
	BurstLag                                              int64
	CatchUpSeconds                                        float64
	Projected                                             int64
	ProjectionSeconds, ReplaySeconds                      float64
	RSSAck, RSSIngest, RSSProjection, RSSReplay, RSSQuery int64
	Queries                                               []queryResult
	DBBytes, LiveBytes                                    int64
}

func (r benchResult) write(w io.Writer) {
	mb := func(b int64) string { return fmt.Sprintf("%.0f MB", float64(b)/(1<<20)) }
	fmt.Fprintf(w, "### Pipeline benchmark, %s\n\n", r.Started.Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(w, "Machine: %d CPUs (%s/%s, %s); load generator and servers share them. %d simulated Cloud deliveries, mean body %d bytes, concurrency %d.\n\n",
		r.CPUs, runtime.GOOS, runtime.GOARCH, runtime.Version(), r.Events, r.MeanBody, r.Concurrency)
	fmt.Fprintf(w, "| measure | result |\n|---|---|\n")
	fmt.Fprintf(w, "| bare net/http + HMAC ceiling (%d deliveries) | %.0f req/s, p50 %s, p99 %s |\n", r.Bare.Acked, r.Bare.PerSec, r.Bare.P50.Round(time.Microsecond), r.Bare.P99.Round(time.Microsecond))
	fmt.Fprintf(w, "| Cogniscape durable acknowledgements, projection on (%d) | %.0f events/s, p50 %s, p99 %s, lost %d |\n", r.Cogniscape.Acked, r.Cogniscape.PerSec, r.Cogniscape.P50.Round(time.Microsecond), r.Cogniscape.P99.Round(time.Microsecond), r.Cogniscape.Lost)
	fmt.Fprintf(w, "| **ratio to the ceiling** (goal ≥ 0.5) | **%.2f** |\n", r.Ratio)
	fmt.Fprintf(w, "| CPU per delivery, bare ceiling | %s |\n", r.BareCPU)
	fmt.Fprintf(w, "| CPU per delivery, Cogniscape projecting | %s |\n", r.CogniscapeCPU)
	fmt.Fprintf(w, "| events not yet projected when that burst ended; time to catch up | %d; %.1f s |\n", r.BurstLag, r.CatchUpSeconds)
	if r.Bulk.Acked > 0 {
		fmt.Fprintf(w, "| ingest-only acknowledgements for the rest (%d) | %.0f events/s, p99 %s, lost %d |\n", r.Bulk.Acked, r.Bulk.PerSec, r.Bulk.P99.Round(time.Microsecond), r.Bulk.Lost)
		fmt.Fprintf(w, "| CPU per delivery, Cogniscape ingest-only | %s |\n", r.BulkCPU)
	}
	fmt.Fprintf(w, "| projection from raw bodies (%d events; goal ≥ 20,000/s) | %.1f s, **%.0f events/s** |\n", r.Projected, r.ProjectionSeconds, float64(r.Projected)/r.ProjectionSeconds)
	fmt.Fprintf(w, "| replay of all %d events from normalised events (goal < 60 s at 1M) | **%.1f s** (%.0f events/s) |\n", r.Events, r.ReplaySeconds, float64(r.Events)/r.ReplaySeconds)
	for _, q := range r.Queries {
		fmt.Fprintf(w, "| %s (%d requests, %d errors) | p50 %s, **p99 %s** |\n", q.Name, q.N, q.Errors, q.P50.Round(10*time.Microsecond), q.P99.Round(10*time.Microsecond))
	}
	fmt.Fprintf(w, "| peak RSS of the server: acknowledging+projecting / ingest-only / projecting / querying (goal < 300 MB) | %s / %s / %s / %s |\n", mb(r.RSSAck), mb(r.RSSIngest), mb(r.RSSProjection), mb(r.RSSQuery))
	fmt.Fprintf(w, "| peak RSS of `cogniscape replay` | %s |\n", mb(r.RSSReplay))
	fmt.Fprintf(w, "| database files on disk | %s (pages freed by dropped raw bodies are reused by later writes) |\n", mb(r.DBBytes))
	fmt.Fprintf(w, "| live database pages (raw bodies dropped after projection) | %s, **%s per million events** |\n", mb(r.LiveBytes), mb(int64(float64(r.LiveBytes)*1e6/float64(r.Events))))
	fmt.Fprintf(w, "\nRun took %s.\n", r.Finished.Sub(r.Started).Round(time.Second))
}

// child is a cogniscape process started by the benchmark.
type child struct {
	cmd *exec.Cmd
	url string
}

var listeningRE = regexp.MustCompile(`(?:msg=serving url=|listening )(http://\S+)`)

func startChild(ctx context.Context, self string, env []string, args ...string) (*child, error) {
	cmd := exec.CommandContext(ctx, self, args...)
	cmd.Env = append(os.Environ(), env...)
	pipe, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			if m := listeningRE.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	select {
	case u := <-found:
		return &child{cmd: cmd, url: u}, nil
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		return nil, fmt.Errorf("%s did not start", strings.Join(args, " "))
	}
}

// stop ends the child with SIGTERM and returns its peak resident memory.
func (c *child) stop() int64 {
	peak := peakRSS(c.cmd.Process.Pid)
	c.cmd.Process.Signal(syscall.SIGTERM)
	c.cmd.Wait()
	return peak
}

// peakRSS reads a live process's resident-memory high-water mark (VmHWM).
// The rusage of a finished child would not do: os/exec starts children with
// vfork, and Linux carries the parent's peak (this command holds the whole
// delivery pool) into the child's at exec, so every child would report at
// least the parent's size.
func peakRSS(pid int) int64 {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(status), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "VmHWM:" { // "VmHWM:  72304 kB"
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// runSampled runs cmd to completion, sampling its peak resident memory
// while it runs (see peakRSS).
func runSampled(cmd *exec.Cmd) (peak int64, err error) {
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case err := <-done:
			return peak, err
		case <-t.C:
			peak = max(peak, peakRSS(cmd.Process.Pid))
		}
	}
}

func lag(ctx context.Context, base string) int64 {
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/readyz", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	var r struct {
		Lag *int64 `json:"projection_lag"`
	}
	if json.NewDecoder(resp.Body).Decode(&r) != nil || r.Lag == nil {
		return -1
	}
	return *r.Lag
}

func waitLag(ctx context.Context, base string, want int64, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if lag(ctx, base) == want {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// liveBytes is the database's size without its free pages.
func liveBytes(path string) int64 {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return 0
	}
	defer db.Close()
	var pages, free, size int64
	db.QueryRow(`PRAGMA page_count`).Scan(&pages)
	db.QueryRow(`PRAGMA freelist_count`).Scan(&free)
	db.QueryRow(`PRAGMA page_size`).Scan(&size)
	return (pages - free) * size
}

func dirSize(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return n
}

// runBenchBare is the ceiling server: it reads the body, checks the HMAC and
// answers 200, nothing else.
func runBenchBare(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench-bare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	secret := fs.String("secret", "", "HMAC key")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	key := []byte(*secret)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			w.WriteHeader(400)
			return
		}
		mac := hmac.New(sha256.New, key)
		mac.Write(body)
		want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
		if !hmac.Equal([]byte(want), []byte(r.Header.Get("X-Hub-Signature"))) {
			w.WriteHeader(401)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"accepted"}`))
	})}
	fmt.Fprintf(stderr, "listening %s\n", (&url.URL{Scheme: "http", Host: ln.Addr().String()}).String())
	go func() { <-ctx.Done(); srv.Close() }()
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}
