package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cogniscape/cogniscape"
	"github.com/cogniscape/cogniscape/internal/jira"
	"github.com/cogniscape/cogniscape/internal/jirasim"
	"github.com/cogniscape/cogniscape/internal/sqlite"
)

// loadSimulated appends n simulated deliveries to a fresh store, sharing commits.
func loadSimulated(tb testing.TB, n int) (*sqlite.DB, int64) {
	db, customer, _ := newStore(tb)
	sim := jirasim.New(jirasim.Config{Seed: 3, Teams: 5, Target: n})
	var wg sync.WaitGroup
	next := make(chan jirasim.Delivery)
	for w := 0; w < 32; w++ {
		wg.Go(func() {
			for d := range next {
				env, err := jira.Inspect(d.Body)
				if err != nil {
					tb.Error(err)
					continue
				}
				if _, err := db.Append(context.Background(), &cogniscape.Event{CustomerID: customer, ReceivedAt: time.Now(), Source: "jira",
					Type: env.Event, Site: env.Site, Identifier: d.Identifier, DedupKey: "id:" + d.Identifier, Timestamp: env.Timestamp,
					Body: d.Body, Ignored: env.Ignored}, len(d.Body)); err != nil {
					tb.Error(err)
				}
			}
		})
	}
	for d := range sim.All() {
		next <- d
	}
	close(next)
	wg.Wait()
	return db, customer
}

// projectBatch is the batch size BenchmarkProjection uses.
var projectBatch = 2000

// BenchmarkProjection projects simulated events from their raw bodies.
func BenchmarkProjection(b *testing.B) {
	const n = 5000
	db, customer := loadSimulated(b, n)
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		if err := db.ResetGraph(context.Background(), customer); err != nil {
			b.Fatal(err)
		}
		// Drop the stored mutations too, so that every round normalises raw bodies.
		openRaw(b, dirOf(db)).Exec(`DELETE FROM mutations`)
		b.StartTimer()
		project(b, db, projectBatch)
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkAppend measures durable appends at concurrency 32 (group commit).
func BenchmarkAppend(b *testing.B) {
	db, customer, _ := newStore(b)
	sim := jirasim.New(jirasim.Config{Seed: 4, Teams: 5, Target: 2000})
	var bodies [][]byte
	for d := range sim.All() {
		bodies = append(bodies, d.Body)
	}
	var seq int64
	var mu sync.Mutex
	b.SetParallelism(16) // × GOMAXPROCS(2) = 32 writers
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			mu.Lock()
			seq++
			i := seq
			mu.Unlock()
			body := bodies[i%int64(len(bodies))]
			if _, err := db.Append(context.Background(), &cogniscape.Event{CustomerID: customer, ReceivedAt: time.Now(), Source: "jira",
				Type: "jira:issue_updated", Site: "https://x", DedupKey: fmt.Sprint(i), Timestamp: time.Now(), Body: body}, len(body)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
}

func dirOf(db *sqlite.DB) string { return db.Path[:len(db.Path)-len("/"+sqlite.FileName)] }

// BenchmarkIngestHTTP sends signed simulated deliveries over loopback to a
// real server at concurrency 32 (client and server share the process).
func BenchmarkIngestHTTP(b *testing.B) {
	a := newApp(b)
	sim := jirasim.New(jirasim.Config{Seed: 5, Teams: 5, Target: 3000})
	var pool []jirasim.Delivery
	for d := range sim.All() {
		pool = append(pool, d)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var seq atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := seq.Add(1)
			d := pool[i%int64(len(pool))]
			body := d.Body
			req, _ := http.NewRequest("POST", a.url+"/api/v1/events/jira/"+a.key, bytes.NewReader(body))
			req.Header.Set(jira.HeaderSignature, jira.Sign(body, []byte(a.secret)))
			req.Header.Set(jira.HeaderIdentifier, fmt.Sprint(i))
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "acks/s")
}

// BenchmarkReads times the read answers on a projected simulated customer.
func BenchmarkReads(b *testing.B) {
	db, customer := loadSimulated(b, readsEvents())
	project(b, db, 256)
	r := cogniscape.Reader{Store: db}
	ctx := context.Background()
	issues, _, err := r.Issues(ctx, customer, cogniscape.IssueFilter{Limit: 500})
	if err != nil || len(issues) == 0 {
		b.Fatal(err)
	}
	now := time.Now()
	b.Run("issue", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := r.Issue(ctx, customer, issues[i%len(issues)].Key); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("lifecycle", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := r.Lifecycle(ctx, customer, issues[i%len(issues)].Key, now); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sprint-report", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := r.SprintReport(ctx, customer, fmt.Sprint(1+i%10), now); err != nil && cogniscape.ErrorCode(err) != cogniscape.ENOTFOUND {
				b.Fatal(err)
			}
		}
	})
}

// readsEvents sizes BenchmarkReads' world: 8,000 events, or
// COGNISCAPE_BENCH_EVENTS to profile reads at scale.
func readsEvents() int {
	if n, err := strconv.Atoi(os.Getenv("COGNISCAPE_BENCH_EVENTS")); err == nil && n > 0 {
		return n
	}
	return 8000
}
