package main

import (
	"bytes"
	"compress/flate"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cogniscape/cogniscape"
	"github.com/cogniscape/cogniscape/internal/jirasim"
)

func BenchmarkTmpAppendSmall(b *testing.B) {
	db, customer, _ := newStore(b)
	sim := jirasim.New(jirasim.Config{Seed: 4, Teams: 5, Target: 2000})
	var bodies [][]byte
	var raw, comp int
	for d := range sim.All() {
		var buf bytes.Buffer
		w, _ := flate.NewWriter(&buf, flate.BestSpeed)
		w.Write(d.Body)
		w.Close()
		raw += len(d.Body)
		comp += buf.Len()
		bodies = append(bodies, buf.Bytes())
	}
	b.Logf("raw %d compressed %d ratio %.2f", raw, comp, float64(raw)/float64(comp))
	var seq int64
	var mu sync.Mutex
	b.SetParallelism(16)
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

func BenchmarkTmpFlate(b *testing.B) {
	sim := jirasim.New(jirasim.Config{Seed: 4, Teams: 5, Target: 2000})
	var bodies [][]byte
	for d := range sim.All() {
		bodies = append(bodies, d.Body)
	}
	w, _ := flate.NewWriter(nil, flate.BestSpeed)
	var buf bytes.Buffer
	n := 0
	for i := 0; b.Loop(); i++ {
		buf.Reset()
		w.Reset(&buf)
		w.Write(bodies[i%len(bodies)])
		w.Close()
		n += len(bodies[i%len(bodies)])
	}
	b.SetBytes(int64(n / b.N))
}
