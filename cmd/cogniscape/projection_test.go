package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cogniscape/cogniscape"
	"github.com/cogniscape/cogniscape/internal/jira"
	"github.com/cogniscape/cogniscape/internal/projector"
	"github.com/cogniscape/cogniscape/internal/secret"
	"github.com/cogniscape/cogniscape/internal/sqlite"
)

// store is a fresh SQLite store in a temporary directory with one customer.
func newStore(t testing.TB) (*sqlite.DB, int64, string) {
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
	t.Cleanup(func() { db.Close() })
	c, _, err := db.CreateCustomer(context.Background(), "Acme Pay")
	if err != nil {
		t.Fatal(err)
	}
	return db, c.ID, dir
}

// appendBodies appends bodies to the customer's log as distinct deliveries,
// one after the other, so that the log keeps their order.
func appendBodies(t testing.TB, db *sqlite.DB, customerID int64, bodies [][]byte) {
	t.Helper()
	for i, b := range bodies {
		env, err := jira.Inspect(b)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Append(context.Background(), &cogniscape.Event{CustomerID: customerID, ReceivedAt: time.Now(), Source: "jira",
			Type: env.Event, Site: env.Site, DedupKey: fmt.Sprintf("test-%d", i), Timestamp: env.Timestamp, Body: b, Ignored: env.Ignored}, len(b)); err != nil {
			t.Fatal(err)
		}
	}
}

func project(t testing.TB, db *sqlite.DB, batch int) {
	t.Helper()
	p := projector.New(db, jira.Normalize, slog.New(slog.NewTextHandler(io.Discard, nil)))
	p.BatchSize, p.CatchUpBatchSize = batch, batch
	if _, err := p.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func digest(t testing.TB, db *sqlite.DB, customerID int64) string {
	t.Helper()
	d, err := db.GraphDigest(context.Background(), customerID)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func fixtureBodies(t testing.TB, pattern string) [][]byte {
	files, err := filepath.Glob(filepath.Join("testdata", "jira", pattern))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures %s: %v", pattern, err)
	}
	var out [][]byte
	for _, f := range files {
		rel, _ := filepath.Rel(filepath.Join("testdata", "jira"), f)
		out = append(out, fixture(t, rel))
	}
	return out
}

// The graph is the same whatever order the events arrive in, however they
// are cut into batches, and however often an event repeats.
func TestProjectionIsOrderAndDuplicateIndependent(t *testing.T) {
	for _, scenario := range []struct {
		name   string
		bodies [][]byte
	}{
		{"cloud", fixtureBodies(t, "cloud/*.json")},
		{"datacenter", fixtureBodies(t, "datacenter/*.json")},
		{"mixed with ignored", append(fixtureBodies(t, "cloud/issue*.json"), fixtureBodies(t, "ignored/*.json")...)},
	} {
		t.Run(scenario.name, func(t *testing.T) {
			ref, refCustomer, _ := newStore(t)
			appendBodies(t, ref, refCustomer, scenario.bodies)
			project(t, ref, 1000)
			want := digest(t, ref, refCustomer)

			rng := rand.New(rand.NewPCG(1, uint64(len(scenario.bodies))))
			trials := 12
			if testing.Short() {
				trials = 3
			}
			for trial := 0; trial < trials; trial++ {
				bodies := append([][]byte(nil), scenario.bodies...)
				rng.Shuffle(len(bodies), func(i, j int) { bodies[i], bodies[j] = bodies[j], bodies[i] })
				// Repeat a few events, as at-least-once delivery does.
				for d := 0; d < 1+trial%4; d++ {
					bodies = append(bodies, bodies[rng.IntN(len(bodies))])
				}
				rng.Shuffle(len(bodies), func(i, j int) { bodies[i], bodies[j] = bodies[j], bodies[i] })
				db, customer, _ := newStore(t)
				appendBodies(t, db, customer, bodies)
				project(t, db, 1+rng.IntN(7))
				if got := digest(t, db, customer); got != want {
					t.Fatalf("trial %d: graph differs from the in-order graph", trial)
				}
			}
		})
	}
}

// replay rebuilds exactly the graph that incremental projection built, also
// after the raw bodies are gone.
func TestReplayEqualsIncremental(t *testing.T) {
	db, customer, _ := newStore(t)
	db.RawRetention = 0 // drop bodies at projection: replay must use the normalised events
	bodies := fixtureBodies(t, "cloud/*.json")
	appendBodies(t, db, customer, bodies[:20])
	project(t, db, 7)
	appendBodies(t, db, customer, bodies[20:])
	project(t, db, 5)
	want := digest(t, db, customer)
	var withBody int
	openRaw(t, filepath.Dir(db.Path)).QueryRow(`SELECT count(*) FROM events WHERE body IS NOT NULL`).Scan(&withBody)
	if withBody != 0 {
		t.Fatalf("%d raw bodies kept with retention 0", withBody)
	}
	if err := db.ResetGraph(context.Background(), customer); err != nil {
		t.Fatal(err)
	}
	if d := digest(t, db, customer); d == want {
		t.Fatal("reset left the graph in place")
	}
	project(t, db, 1000)
	if got := digest(t, db, customer); got != want {
		t.Fatal("replayed graph differs from the incremental one")
	}
}

// The replay command rebuilds a stopped server's graph from its data directory.
func TestReplayCommand(t *testing.T) {
	dir := t.TempDir()
	p := startServe(t, dir, "--raw-retention", "0")
	var tenant struct {
		CustomerKey string `json:"customer_key"`
		JiraSecret  string `json:"jira_secret"`
	}
	mustJSON(t, cli(t, dir, "tenant", "create", "--name", "Replay", "--json"), &tenant)
	a := &app{url: p.url, key: tenant.CustomerKey, secret: tenant.JiraSecret}
	deliverAll(t, a, cloudStory(t))
	waitFor(t, func() bool {
		var ready map[string]any
		getJSON(t, p.url, "", "/readyz", &ready)
		lag, _ := ready["projection_lag"].(float64)
		return ready["status"] == "ok" && lag == 0
	})
	p.cmd.Process.Signal(interruptSignal)
	<-p.exited
	db, err := openForTest(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := digest(t, db, 2)
	db.Close()
	out := string(cli(t, dir, "replay", "--customer-key", tenant.CustomerKey))
	if !regexpMatch(`replayed 36 events`, out) {
		t.Fatalf("replay said %q", out)
	}
	db, err = openForTest(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got := digest(t, db, 2); got != want {
		t.Fatal("graph after `cogniscape replay` differs")
	}
}

// A projector restarted mid-log resumes from its checkpoint; a projector
// with a stale checkpoint applies nothing.
func TestProjectionResumesAndNeverAppliesTwice(t *testing.T) {
	db, customer, _ := newStore(t)
	bodies := fixtureBodies(t, "cloud/*.json")
	appendBodies(t, db, customer, bodies)
	ref, refCustomer, _ := newStore(t)
	appendBodies(t, ref, refCustomer, bodies)
	project(t, ref, 1000)

	pending, err := db.PendingEvents(context.Background(), customer, 10)
	if err != nil {
		t.Fatal(err)
	}
	p := projector.New(db, jira.Normalize, slog.New(slog.NewTextHandler(io.Discard, nil)))
	var muts []*cogniscape.Mutation
	for _, ev := range pending {
		m, _ := jira.Normalize(ev.Body)
		if m != nil {
			m.EventID = ev.ID
		}
		muts = append(muts, m)
	}
	last := pending[len(pending)-1].ID
	if err := db.ApplyBatch(context.Background(), customer, 0, last, muts); err != nil {
		t.Fatal(err)
	}
	// A second projector that read the same events before the first committed.
	if err := db.ApplyBatch(context.Background(), customer, 0, last, muts); cogniscape.ErrorCode(err) != cogniscape.ECONFLICT {
		t.Fatalf("stale batch: %v, want ECONFLICT", err)
	}
	lag, _ := db.ProjectionLag(context.Background())
	if lag != int64(len(bodies)-10) {
		t.Fatalf("lag = %d, want %d", lag, len(bodies)-10)
	}
	if _, err := p.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	if digest(t, db, customer) != digest(t, ref, refCustomer) {
		t.Fatal("resumed projection differs from one uninterrupted run")
	}
}

// refusingStore is the real store with one fault injected: the database
// refuses any batch holding a given event (as PostgreSQL refuses a value it
// cannot index), or is down for one customer.
type refusingStore struct {
	*sqlite.DB
	poison int64 // event id
	down   int64 // customer id
}

func (s *refusingStore) ApplyBatch(ctx context.Context, customerID, from, through int64, muts []*cogniscape.Mutation) error {
	if customerID == s.down {
		return cogniscape.Errorf(cogniscape.EUNAVAILABLE, "storage unavailable")
	}
	for _, m := range muts {
		if m != nil && m.EventID == s.poison {
			return cogniscape.Errorf(cogniscape.EINVALID, "the database refused a value of this batch")
		}
	}
	return s.DB.ApplyBatch(ctx, customerID, from, through, muts)
}

// One event the store refuses is left out, logged, and nothing else is held
// up: not the events after it, not other customers. A customer whose store
// is down does not hold up the others either.
func TestRefusedEventIsSkippedAndNothingElseWaits(t *testing.T) {
	db, a, _ := newStore(t)
	ctx := context.Background()
	other, _, err := db.CreateCustomer(ctx, "Other")
	if err != nil {
		t.Fatal(err)
	}
	bodies := fixtureBodies(t, "cloud/issue_*.json")
	appendBodies(t, db, a, bodies)
	var poison int64
	if err := openRaw(t, filepath.Dir(db.Path)).QueryRow(`SELECT id FROM events WHERE customer_id = ? AND ignored = 0 ORDER BY id LIMIT 1 OFFSET 2`, a).Scan(&poison); err != nil {
		t.Fatal(err)
	}
	for i, b := range fixtureBodies(t, "cloud/sprint_*.json") {
		env, _ := jira.Inspect(b)
		if _, err := db.Append(ctx, &cogniscape.Event{CustomerID: other.ID, ReceivedAt: time.Now(), Source: "jira", Type: env.Event, Site: env.Site,
			DedupKey: fmt.Sprintf("other-%d", i), Timestamp: env.Timestamp, Body: b}, len(b)); err != nil {
			t.Fatal(err)
		}
	}

	var log lockedLog
	p := projector.New(&refusingStore{DB: db, poison: poison}, jira.Normalize, slog.New(slog.NewTextHandler(&log, nil)))
	if _, err := p.CatchUp(ctx); err != nil {
		t.Fatalf("catch-up with one refused event: %v", err)
	}
	if lag, _ := db.ProjectionLag(ctx); lag != 0 || p.Skipped() != 1 {
		t.Errorf("lag %d, skipped %d: want 0 and 1", lag, p.Skipped())
	}
	if !strings.Contains(log.String(), fmt.Sprintf("event_id=%d", poison)) {
		t.Errorf("the refused event is not named in the log:\n%s", log.String())
	}

	// A customer whose store is down: the others are projected all the same.
	third, _, err := db.CreateCustomer(ctx, "Third")
	if err != nil {
		t.Fatal(err)
	}
	appendBodies(t, db, third.ID, bodies[:2])
	for i, b := range bodies[:2] {
		env, _ := jira.Inspect(b)
		if _, err := db.Append(ctx, &cogniscape.Event{CustomerID: other.ID, ReceivedAt: time.Now(), Source: "jira", Type: env.Event, Site: env.Site,
			DedupKey: fmt.Sprintf("other-later-%d", i), Timestamp: env.Timestamp, Body: b}, len(b)); err != nil {
			t.Fatal(err)
		}
	}
	p = projector.New(&refusingStore{DB: db, down: third.ID}, jira.Normalize, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if _, err := p.CatchUp(ctx); cogniscape.ErrorCode(err) != cogniscape.EUNAVAILABLE {
		t.Errorf("catch-up with one customer's store down: %v", err)
	}
	if lag, _ := db.ProjectionLag(ctx); lag != 2 {
		t.Errorf("lag %d, want only the 2 events of the customer whose store is down", lag)
	}
}

// lockedLog is a log destination a test can read while the projector writes.
type lockedLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// recordingStore is the real store noting whose batch each ApplyBatch is.
type recordingStore struct {
	*sqlite.DB
	mu    sync.Mutex
	order []int64
}

func (s *recordingStore) ApplyBatch(ctx context.Context, customerID, from, through int64, muts []*cogniscape.Mutation) error {
	s.mu.Lock()
	s.order = append(s.order, customerID)
	s.mu.Unlock()
	return s.DB.ApplyBatch(ctx, customerID, from, through, muts)
}

// One customer's backlog (a replay, a bulk import) does not keep the others
// waiting until it is done: each customer's turn is bounded.
func TestCustomersTakeTurns(t *testing.T) {
	db, big, _ := newStore(t)
	ctx := context.Background()
	small, _, err := db.CreateCustomer(ctx, "Small")
	if err != nil {
		t.Fatal(err)
	}
	bodies := fixtureBodies(t, "cloud/*.json") // some thirty events: six batches of five
	appendBodies(t, db, big, bodies)
	appendBodies(t, db, small.ID, bodies[:1])
	rec := &recordingStore{DB: db}
	p := projector.New(rec, jira.Normalize, slog.New(slog.NewTextHandler(io.Discard, nil)))
	p.BatchSize, p.CatchUpBatchSize, p.Turn = 5, 5, time.Nanosecond
	if _, err := p.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	first := slices.Index(rec.order, small.ID)
	if first < 0 || first > 1 || len(rec.order) < 5 {
		t.Errorf("the small customer's batch came %d of %d", first+1, len(rec.order))
	}
	if lag, _ := db.ProjectionLag(ctx); lag != 0 {
		t.Errorf("lag %d", lag)
	}
}

// replay honours --raw-retention as serve does: with 0, the raw bodies of
// the events it replays are dropped, as serve would have dropped them.
func TestReplayHonoursRawRetention(t *testing.T) {
	dir := t.TempDir()
	p := startServe(t, dir)
	var tenant struct {
		CustomerKey string `json:"customer_key"`
		JiraSecret  string `json:"jira_secret"`
	}
	mustJSON(t, cli(t, dir, "tenant", "create", "--name", "Replay", "--json"), &tenant)
	deliverAll(t, &app{url: p.url, key: tenant.CustomerKey, secret: tenant.JiraSecret}, cloudStory(t))
	waitFor(t, func() bool { return lag(context.Background(), p.url) == 0 })
	p.cmd.Process.Signal(interruptSignal)
	<-p.exited
	bodies := func() int {
		var n int
		openRaw(t, dir).QueryRow(`SELECT count(*) FROM events WHERE body IS NOT NULL`).Scan(&n)
		return n
	}
	if n := bodies(); n == 0 {
		t.Fatal("no raw bodies kept under the default retention")
	}
	cli(t, dir, "replay", "--raw-retention", "0")
	if n := bodies(); n != 0 {
		t.Errorf("%d raw bodies left after replay --raw-retention 0", n)
	}
}
