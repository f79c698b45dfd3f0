package postgres

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cogniscape/cogniscape"
	"github.com/cogniscape/cogniscape/internal/jira"
	"github.com/cogniscape/cogniscape/internal/projector"
	"github.com/cogniscape/cogniscape/internal/sqlite"
)

// BenchmarkProjection measures projection throughput: b.N Jira Cloud events
// (the fixtures, each round of them on a site of its own so that the graph
// grows as a real one does) are appended first, then one projector applies
// them in batches of 256, as `cogniscape serve` does. The same run on SQLite
// is the comparison. Run with a fixed count, e.g.
//
//	COGNISCAPE_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/test?sslmode=disable \
//	  go test ./internal/postgres/ -run '^$' -bench Projection -benchtime 20000x
func BenchmarkProjection(b *testing.B) {
	b.Run("postgres", func(b *testing.B) {
		db := openTest(b, freshDSN(b))
		benchProjection(b, db)
	})
	b.Run("sqlite", func(b *testing.B) {
		db, err := sqlite.Open(b.TempDir(), testKey)
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		benchProjection(b, db)
	})
}

func benchProjection(b *testing.B, s cogniscape.Store) {
	bodies := fixtures(b, "cloud/*.json")
	c, _, err := s.CreateCustomer(bg, "Bench")
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	jobs := make(chan int)
	for range 16 {
		wg.Go(func() {
			for i := range jobs {
				body := bodies[i%len(bodies)]
				site := fmt.Sprintf("acme-pay-%d.atlassian.net", i/len(bodies))
				body = bytes.ReplaceAll(body, []byte("acme-pay.atlassian.net"), []byte(site))
				env, err := jira.Inspect(body)
				if err != nil {
					b.Error(err)
					return
				}
				if _, err := s.Append(bg, &cogniscape.Event{CustomerID: c.ID, ReceivedAt: time.Now(), Source: "jira", Type: env.Event, Site: env.Site,
					DedupKey: fmt.Sprint(i), Timestamp: env.Timestamp, Body: body, Ignored: env.Ignored}, len(body)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	for i := range b.N {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	p := projector.New(s, jira.Normalize, slog.New(slog.NewTextHandler(io.Discard, nil)))
	b.ResetTimer()
	start := time.Now()
	n, err := p.CatchUp(bg)
	elapsed := time.Since(start)
	b.StopTimer()
	if err != nil || n != b.N {
		b.Fatalf("projected %d of %d events: %v", n, b.N, err)
	}
	b.ReportMetric(float64(n)/elapsed.Seconds(), "events/s")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkAppend measures the store alone: durable appends per second of
// 3–10 KB Jira bodies from 32 concurrent callers, no HTTP, against SQLite's.
//
//	COGNISCAPE_TEST_POSTGRES=… go test ./internal/postgres/ -run '^$' -bench Append -benchtime 20000x
func BenchmarkAppend(b *testing.B) {
	b.Run("postgres", func(b *testing.B) { benchAppend(b, openTest(b, freshDSN(b))) })
	b.Run("sqlite", func(b *testing.B) {
		db, err := sqlite.Open(b.TempDir(), testKey)
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		benchAppend(b, db)
	})
}

func benchAppend(b *testing.B, s cogniscape.Store) {
	var bodies [][]byte
	for _, body := range fixtures(b, "cloud/*.json") {
		if len(body) >= 3000 {
			bodies = append(bodies, body)
		}
	}
	c, _, err := s.CreateCustomer(bg, "Bench")
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	var next atomic.Int64
	b.ResetTimer()
	start := time.Now()
	for range 32 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				body := bodies[i%len(bodies)]
				if _, _, _, err := s.JiraSecret(bg, c.Key); err != nil {
					b.Error(err)
					return
				}
				if _, err := s.Append(bg, &cogniscape.Event{CustomerID: c.ID, ReceivedAt: time.Now(), Source: "jira", Type: "jira:issue_updated",
					Site: "https://acme-pay.atlassian.net", DedupKey: fmt.Sprint(i), Timestamp: time.Now(), Body: body}, len(body)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	b.ReportMetric(0, "ns/op")
}
