package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cogniscape/cogniscape/internal/jira"
)

// BenchmarkAckReplicas measures acknowledged (durably stored) webhook
// deliveries per second over loopback at concurrency 32, beside the bare
// ceiling of the machine: one server on SQLite, then one and two replicas on
// one PostgreSQL database (requests
// alternate between them as a load balancer would). Servers run as child
// processes, projecting as deployed and ingest-only (--projection=false);
// the load driver, the servers and PostgreSQL share the machine's cores. Run
// with a fixed count, e.g.
//
//	COGNISCAPE_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/test?sslmode=disable \
//	  go test ./cmd/cogniscape/ -run '^$' -bench AckReplicas -benchtime 20000x
func BenchmarkAckReplicas(b *testing.B) {
	// The ceiling on this machine: a bare net/http handler that reads the
	// body, checks the HMAC and answers 200.
	b.Run("bare-http-hmac", func(b *testing.B) {
		benchAck(b, func() (string, []string) {
			secret := "bench-secret-0123456789abcdef0123456789"
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				if !jira.Authenticate(r.Header, body, []byte(secret)) {
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
				w.Write([]byte(`{"status":"accepted"}`))
			}))
			b.Cleanup(srv.Close)
			return "bench " + secret, []string{srv.URL}
		})
	})
	for _, mode := range []struct {
		name string
		args []string
	}{{"projecting", nil}, {"ingest-only", []string{"--projection=false"}}} {
		b.Run("sqlite/"+mode.name, func(b *testing.B) {
			dir := b.TempDir()
			benchAck(b, func() (string, []string) {
				var tenant struct {
					CustomerKey string `json:"customer_key"`
					JiraSecret  string `json:"jira_secret"`
				}
				mustJSON(b, cli(b, dir, "tenant", "create", "--name", "Bench", "--json"), &tenant)
				return tenant.CustomerKey + " " + tenant.JiraSecret, []string{startServe(b, dir, mode.args...).url}
			})
		})
		for _, n := range []int{1, 2} {
			b.Run(fmt.Sprintf("postgres-%d/%s", n, mode.name), func(b *testing.B) {
				dsn := postgresDatabase(b)
				key := make([]byte, 32)
				rand.Read(key)
				b.Setenv("COGNISCAPE_MASTER_KEY", hex.EncodeToString(key))
				benchAck(b, func() (string, []string) {
					dir := b.TempDir()
					var tenant struct {
						CustomerKey string `json:"customer_key"`
						JiraSecret  string `json:"jira_secret"`
					}
					mustJSON(b, cli(b, dir, "tenant", "create", "--name", "Bench", "--json", "--database", dsn), &tenant)
					var urls []string
					for range n {
						urls = append(urls, startServe(b, b.TempDir(), append([]string{"--database", dsn}, mode.args...)...).url)
					}
					return tenant.CustomerKey + " " + tenant.JiraSecret, urls
				})
			})
		}
	}
}

// benchAck sends b.N signed Cloud fixture bodies (each with an identifier of
// its own) to the servers setup starts, 32 at a time, and reports events/s
// and acknowledgement latency percentiles.
func benchAck(b *testing.B, setup func() (creds string, urls []string)) {
	creds, urls := setup()
	var customerKey, secret string
	fmt.Sscan(creds, &customerKey, &secret)
	files, _ := filepath.Glob(filepath.Join("testdata", "jira", "cloud", "*.json"))
	var bodies [][]byte
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		if len(body) >= 3000 { // the 3–10 KB bodies of the ingest benchmark
			bodies = append(bodies, body)
		}
	}
	sigs := make([]string, len(bodies))
	for i, body := range bodies {
		sigs[i] = jira.Sign(body, []byte(secret))
	}
	run := fmt.Sprintf("%d", time.Now().UnixNano())
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 30 * time.Second}
	latencies := make([]time.Duration, b.N)
	var next atomic.Int64
	var failed atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range 32 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				k := i % len(bodies)
				req, _ := http.NewRequest("POST", urls[i%len(urls)]+"/api/v1/events/jira/"+customerKey, bytes.NewReader(bodies[k]))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set(jira.HeaderSignature, sigs[k])
				req.Header.Set(jira.HeaderIdentifier, run+"-"+fmt.Sprint(i))
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					failed.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				latencies[i] = time.Since(t0)
				if resp.StatusCode != 200 {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if failed.Load() > 0 {
		b.Fatalf("%d of %d deliveries not acknowledged", failed.Load(), b.N)
	}
	slices.Sort(latencies)
	pct := func(p float64) float64 {
		return float64(latencies[int(p*float64(len(latencies)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	b.ReportMetric(pct(0.5), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(0, "ns/op")
}
