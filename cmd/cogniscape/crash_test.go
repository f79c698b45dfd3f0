package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cogniscape/cogniscape/internal/jira"
)

// Every delivery that got a 200 survives a kill -9 of the server, exactly once.
func TestKill9LosesNothingAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	dir := t.TempDir()
	var tenant struct {
		CustomerKey string `json:"customer_key"`
		JiraSecret  string `json:"jira_secret"`
	}
	json.Unmarshal(cli(t, dir, "tenant", "create", "--name", "Crash", "--json"), &tenant)
	p := startServe(t, dir)
	template := fixture(t, "cloud/issue_updated_status_in_progress.json")

	var (
		mu      sync.Mutex
		acked   []string
		next    atomic.Int64
		wg      sync.WaitGroup
		stopped atomic.Bool
	)
	client := &http.Client{Timeout: 5 * time.Second}
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stopped.Load() {
				id := fmt.Sprintf("%d", 9000000+next.Add(1))
				// Each delivery differs in body too, as real events do.
				body := bytes.Replace(template, []byte(`"timestamp": `), []byte(`"cogniscapeTestSeq": "`+id+`", "timestamp": `), 1)
				req, _ := http.NewRequest("POST", p.url+"/api/v1/events/jira/"+tenant.CustomerKey, bytes.NewReader(body))
				req.Header.Set(jira.HeaderSignature, jira.Sign(body, []byte(tenant.JiraSecret)))
				req.Header.Set(jira.HeaderIdentifier, id)
				resp, err := client.Do(req)
				if err != nil {
					continue // the server is gone: this delivery was never acknowledged
				}
				resp.Body.Close()
				if resp.StatusCode == 200 {
					mu.Lock()
					acked = append(acked, id)
					mu.Unlock()
				}
			}
		}()
	}
	// Let deliveries flow, then kill the server mid-stream.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 300 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.exited
	stopped.Store(true)
	wg.Wait()
	if len(acked) < 50 {
		t.Fatalf("only %d deliveries acknowledged before the kill", len(acked))
	}

	// Restart: the log must hold every acknowledged delivery exactly once.
	p2 := startServe(t, dir)
	raw := openRaw(t, dir)
	for _, id := range acked {
		var n int
		if err := raw.QueryRow(`SELECT count(*) FROM events WHERE identifier = ?`, id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Fatalf("acknowledged delivery %s is in the log %d times", id, n)
		}
	}
	var total int
	raw.QueryRow(`SELECT count(*) FROM events`).Scan(&total)
	t.Logf("%d acknowledged before kill -9; %d in the log after restart (the rest were stored but not yet answered)", len(acked), total)
	// And the restarted server knows them: Jira's retry of one is a duplicate.
	body := bytes.Replace(template, []byte(`"timestamp": `), []byte(`"cogniscapeTestSeq": "`+acked[0]+`", "timestamp": `), 1)
	status, out := deliver(t, p2.url, tenant.CustomerKey, body, map[string]string{
		jira.HeaderSignature: jira.Sign(body, []byte(tenant.JiraSecret)), jira.HeaderIdentifier: acked[0], jira.HeaderRetry: "1"})
	if status != 200 || out["status"] != "duplicate" {
		t.Fatalf("retry after restart: %d %v", status, out)
	}
}
