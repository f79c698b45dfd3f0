package jirasim

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeIngest answers like Cogniscape's webhook endpoint: authenticate, parse,
// dedupe on (site, identifier), 200 {"status":…}.
type fakeIngest struct {
	secret string

	mu          sync.Mutex
	seen        map[string]bool   // site#identifier stored
	bodies      map[string][]byte // identifier → body
	failed      map[string]bool   // identifiers answered 503 once
	requests    int
	withRetry   int
	injected503 int
	badAuth     int
	badJSON     int
	sameIDDiff  int
	wrongAuth   int // Cloud with a token or DC with a signature
}

func newFakeIngest(secret string) *fakeIngest {
	return &fakeIngest{secret: secret, seen: map[string]bool{}, bodies: map[string][]byte{}, failed: map[string]bool{}}
}

func (f *fakeIngest) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	if !strings.HasPrefix(r.URL.Path, "/api/v1/events/jira/") || r.Method != http.MethodPost {
		http.Error(w, "no", http.StatusNotFound)
		return
	}
	f.requests++
	if r.Header.Get(HeaderRetry) != "" {
		f.withRetry++
	}
	dc := r.Header.Get("User-Agent") != userAgentCloud
	ok := false
	if sig := r.Header.Get(HeaderSignature); sig != "" {
		m := hmac.New(sha256.New, []byte(f.secret))
		m.Write(body)
		ok = hmac.Equal([]byte(sig), []byte("sha256="+hex.EncodeToString(m.Sum(nil))))
		if dc {
			f.wrongAuth++
		}
	}
	if tok := r.Header.Get(HeaderToken); tok != "" {
		ok = tok == f.secret
		if !dc {
			f.wrongAuth++
		}
	}
	if !ok {
		f.badAuth++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if !json.Valid(body) {
		f.badJSON++
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	id := r.Header.Get(HeaderIdentifier)
	if prev, ok := f.bodies[id]; ok && !bytes.Equal(prev, body) {
		f.sameIDDiff++
	}
	f.bodies[id] = body
	// Every 7th identifier fails once with 503, as a store hiccup would.
	if n, _ := strconv.ParseUint(id, 10, 64); n%7 == 0 && !f.failed[id] {
		f.failed[id] = true
		f.injected503++
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	var env struct {
		Event string `json:"webhookEvent"`
	}
	json.Unmarshal(body, &env)
	key := stringField(body, `"self":"`) + "#" + id
	status := "accepted"
	switch {
	case f.seen[key]:
		status = "duplicate"
	case env.Event == "board_created":
		status = "ignored"
	}
	f.seen[key] = true
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]string{"status": status})
}

func TestSend(t *testing.T) {
	fake := newFakeIngest("s3cret")
	srv := httptest.NewServer(fake)
	defer srv.Close()
	const n = 600
	var progress bytes.Buffer
	rep, err := Send(context.Background(), New(Config{Seed: 4, Flavor: FlavorMix, Target: n}), SendConfig{
		URL: srv.URL, CustomerKey: "acme", Secret: "s3cret", Concurrency: 4,
		Duplicates: 0.1, Shuffle: 20, Bad: 0.05, Seed: 9, RetryBase: time.Millisecond,
		Progress: &progress, Total: n,
	})
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	rep.WriteText(&text)
	t.Log("\n" + text.String())
	switch {
	case rep.Originals != n || rep.Lost != 0 || !rep.OK():
		t.Errorf("originals %d, lost %d", rep.Originals, rep.Lost)
	case rep.Duplicates == 0 || rep.Bad == 0:
		t.Errorf("no faults: %d duplicates, %d bad", rep.Duplicates, rep.Bad)
	case rep.BadRejected != rep.Bad || rep.BadAccepted != 0:
		t.Errorf("bad %d: rejected %d, accepted %d", rep.Bad, rep.BadRejected, rep.BadAccepted)
	case rep.Outcomes["accepted"]+rep.Outcomes["ignored"] != n || rep.Outcomes["duplicate"] != rep.Duplicates:
		t.Errorf("outcomes %v", rep.Outcomes)
	case rep.Outcomes["400"]+rep.Outcomes["401"] != rep.Bad || rep.Outcomes["400"] == 0 || rep.Outcomes["401"] == 0:
		t.Errorf("outcomes %v for %d bad", rep.Outcomes, rep.Bad)
	case rep.Acknowledged != n+rep.Duplicates:
		t.Errorf("acknowledged %d", rep.Acknowledged)
	case rep.Retries != fake.injected503 || fake.injected503 == 0:
		t.Errorf("retries %d for %d injected 503", rep.Retries, fake.injected503)
	case rep.Attempts != fake.requests || rep.Attempts != rep.Deliveries+rep.Retries:
		t.Errorf("attempts %d, server saw %d requests", rep.Attempts, fake.requests)
	case fake.withRetry != rep.Duplicates+rep.Retries:
		t.Errorf("%d requests with %s, want duplicates %d + retries %d", fake.withRetry, HeaderRetry, rep.Duplicates, rep.Retries)
	case fake.sameIDDiff != 0 || fake.wrongAuth != 0:
		t.Errorf("%d identifiers with different bodies, %d wrong auth methods", fake.sameIDDiff, fake.wrongAuth)
	case rep.P50 <= 0 || rep.P99 < rep.P50 || rep.AckPerSec <= 0:
		t.Errorf("latency p50 %s p99 %s, %.0f ack/s", rep.P50, rep.P99, rep.AckPerSec)
	}
	if !strings.Contains(progress.String(), "100%") {
		t.Errorf("progress: %q", progress.String())
	}
}

func TestSendRetriesThenGivesUp(t *testing.T) {
	var calls int
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			mu.Lock()
			calls++
			mu.Unlock()
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	rep, err := Send(context.Background(), Limit(New(Config{Seed: 1}), 3), SendConfig{
		URL: srv.URL, CustomerKey: "k", Secret: "x", MaxRetries: 2, RetryBase: time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 9 || rep.Lost != 3 || rep.Outcomes["503"] != 3 || rep.OK() || rep.ErrorCount != 3 {
		t.Errorf("calls %d, report %+v", calls, rep)
	}
	// A connection error is retried too, and reported.
	srv.Close()
	rep, _ = Send(context.Background(), Limit(New(Config{Seed: 1}), 1), SendConfig{
		URL: srv.URL, CustomerKey: "k", MaxRetries: 1, RetryBase: time.Millisecond,
	})
	if rep.Outcomes["error"] != 1 || rep.Attempts != 2 || rep.Lost != 1 {
		t.Errorf("report %+v", rep)
	}
}

func TestSendRate(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"status":"accepted"}`))
	}))
	defer srv.Close()
	start := time.Now()
	rep, err := Send(context.Background(), Limit(New(Config{Seed: 1}), 21), SendConfig{
		URL: srv.URL, CustomerKey: "k", Secret: "x", Rate: 100,
	})
	if err != nil || rep.Acknowledged != 21 {
		t.Fatalf("%v %+v", err, rep)
	}
	if el := time.Since(start); el < 190*time.Millisecond {
		t.Errorf("21 deliveries at 100/s took %s", el)
	}
}

func TestShuffledKeepsMultiset(t *testing.T) {
	var in []Delivery
	for i := range 1000 {
		in = append(in, Delivery{Identifier: strconv.Itoa(i)})
	}
	const window = 50
	var out []Delivery
	src := Shuffled(FromSlice(in), window, 1)
	for d, ok := src.Next(); ok; d, ok = src.Next() {
		out = append(out, d)
	}
	if len(out) != len(in) {
		t.Fatalf("%d out of %d", len(out), len(in))
	}
	moved, seen := 0, map[string]bool{}
	for pos, d := range out {
		if seen[d.Identifier] {
			t.Fatalf("%s twice", d.Identifier)
		}
		seen[d.Identifier] = true
		orig, _ := strconv.Atoi(d.Identifier)
		if orig != pos {
			moved++
		}
		if dist := pos - orig; dist >= window || -dist >= window {
			t.Errorf("delivery %d moved to %d, beyond the window", orig, pos)
		}
	}
	if moved < len(in)/2 {
		t.Errorf("only %d moved", moved)
	}
	same := Shuffled(FromSlice(in), 1, 1)
	for i := range in {
		if d, _ := same.Next(); d.Identifier != in[i].Identifier {
			t.Fatal("window 1 reordered")
		}
	}
}

func TestSign(t *testing.T) {
	// The test vector of Atlassian's documentation.
	if got := Sign("It's a Secret to Everybody", []byte("Hello World!")); got != "sha256=a4771c39fbe90f317c7824e83ddef3caae9cb3d976c214ace1f2937e133263c9" {
		t.Error(got)
	}
}

func TestFileRoundTrip(t *testing.T) {
	_, ds := generate(t, Config{Seed: 2, Flavor: FlavorMix, Target: 400})
	var buf bytes.Buffer
	n, err := WriteFile(&buf, FromSlice(ds))
	if err != nil || n != len(ds) {
		t.Fatal(n, err)
	}
	lines := bytes.Split(bytes.TrimSuffix(buf.Bytes(), []byte("\n")), []byte("\n"))
	if len(lines) != len(ds) {
		t.Fatalf("%d lines for %d deliveries", len(lines), len(ds))
	}
	var rec map[string]json.RawMessage
	if err := json.Unmarshal(lines[0], &rec); err != nil || len(rec) != 2 || rec["headers"] == nil || rec["body"] == nil {
		t.Fatalf("line %s: %v", lines[0], err)
	}
	r := NewReader(&buf)
	var got []Delivery
	for d, ok := r.Next(); ok; d, ok = r.Next() {
		got = append(got, d)
	}
	if r.Err() != nil || len(got) != len(ds) {
		t.Fatalf("read %d: %v", len(got), r.Err())
	}
	for i := range ds {
		a, b := ds[i], got[i]
		// Issue-link bodies name no site: the reader cannot tell it.
		siteKnown := bytes.Contains(a.Body, []byte(`"self":`))
		if a.Identifier != b.Identifier || a.Event != b.Event || a.Flavor != b.Flavor || siteKnown && a.Site != b.Site ||
			!bytes.Equal(a.Body, b.Body) || !equalHeaders(a.Headers, b.Headers) {
			t.Fatalf("delivery %d:\n%+v\n%+v", i, a, b)
		}
	}
	// Other layouts of the same format are read too; garbage is an error.
	r = NewReader(strings.NewReader("\n{ \"body\": {\"webhookEvent\":\"x\"}, \"headers\": {\"X-Atlassian-Webhook-Identifier\":\"5\"} }\nnot json\n"))
	d, ok := r.Next()
	if !ok || d.Identifier != "5" || d.Event != "x" || string(d.Body) != `{"webhookEvent":"x"}` {
		t.Fatalf("%+v %v", d, r.Err())
	}
	if _, ok := r.Next(); ok || r.Err() == nil || !strings.Contains(r.Err().Error(), "line 3") {
		t.Fatalf("garbage: %v", r.Err())
	}
}

func equalHeaders(a, b map[string]string) bool {
	ka, kb := slices.Sorted(mapKeys(a)), slices.Sorted(mapKeys(b))
	if !slices.Equal(ka, kb) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func mapKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
