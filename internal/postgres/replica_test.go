package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cogniscape/cogniscape"
	"github.com/cogniscape/cogniscape/internal/jira"
	"github.com/cogniscape/cogniscape/internal/projector"
	"github.com/cogniscape/cogniscape/internal/secret"
	"github.com/cogniscape/cogniscape/internal/sqlite"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

var bg = context.Background()

// fixtures reads the Jira webhook bodies the command's tests use.
func fixtures(t testing.TB, patterns ...string) [][]byte {
	t.Helper()
	var out [][]byte
	for _, p := range patterns {
		files, err := filepath.Glob(filepath.Join("..", "..", "cmd", "cogniscape", "testdata", "jira", p))
		if err != nil || len(files) == 0 {
			t.Fatalf("no fixtures %s: %v", p, err)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, b)
		}
	}
	return out
}

// appendBodies appends Jira bodies as the customer's deliveries.
func appendBodies(t testing.TB, s cogniscape.EventLog, customerID int64, bodies [][]byte, tag string) {
	t.Helper()
	for i, b := range bodies {
		env, err := jira.Inspect(b)
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Append(bg, &cogniscape.Event{CustomerID: customerID, ReceivedAt: time.Now(), Source: "jira", Type: env.Event, Site: env.Site,
			DedupKey: fmt.Sprintf("%s-%d", tag, i), Timestamp: env.Timestamp, Body: b, Ignored: env.Ignored}, len(b))
		if err != nil {
			t.Fatal(err)
		}
	}
}

func catchUp(t testing.TB, s cogniscape.ProjectionStore, batch int) int {
	t.Helper()
	p := projector.New(s, jira.Normalize, slog.New(slog.NewTextHandler(io.Discard, nil)))
	p.BatchSize = batch
	n, err := p.CatchUp(bg)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// The same events give the same graph, by digest, in PostgreSQL and SQLite:
// the digest is a way to compare the stores, not just two graphs of one.
func TestDigestMatchesSQLite(t *testing.T) {
	dsn := freshDSN(t)
	for _, sc := range []struct {
		name     string
		patterns []string
	}{
		{"cloud", []string{"cloud/*.json"}},
		{"datacenter", []string{"datacenter/*.json"}},
		{"mixed with ignored", []string{"cloud/issue*.json", "ignored/*.json", "datacenter/*.json"}},
	} {
		t.Run(sc.name, func(t *testing.T) {
			bodies := fixtures(t, sc.patterns...)
			lite, err := sqlite.Open(t.TempDir(), testKey)
			if err != nil {
				t.Fatal(err)
			}
			defer lite.Close()
			lc, _, _ := lite.CreateCustomer(bg, "Acme")
			appendBodies(t, lite, lc.ID, bodies, "x")
			catchUp(t, lite, 1000)
			want, _ := lite.GraphDigest(bg, lc.ID)

			pg := openTest(t, dsn)
			pc, _, err := pg.CreateCustomer(bg, "Acme "+sc.name)
			if err != nil {
				t.Fatal(err)
			}
			appendBodies(t, pg, pc.ID, bodies, "x")
			catchUp(t, pg, 7)
			got, err := pg.GraphDigest(bg, pc.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("PostgreSQL digest %s, SQLite %s", got, want)
			}
		})
	}
}

// Two instances on one database behave as one store: rotation, new
// customers and duplicates are seen across them at once.
func TestInstancesShareState(t *testing.T) {
	dsn := freshDSN(t)
	a, b := openTest(t, dsn), openTest(t, dsn)
	c, creds, err := a.CreateCustomer(bg, "Acme")
	if err != nil {
		t.Fatal(err)
	}
	// A new customer is known to the other instance on the next request.
	if _, sec, _, err := b.JiraSecret(bg, c.Key); err != nil || string(sec) != creds.JiraSecret {
		t.Fatalf("B JiraSecret = %q %v", sec, err)
	}
	// Rotation on A: B answers the new secret on its very next call.
	rotated, err := a.RotateJiraSecret(bg, c.Key)
	if err != nil {
		t.Fatal(err)
	}
	if _, sec, _, _ := b.JiraSecret(bg, c.Key); string(sec) != rotated {
		t.Errorf("B still answers the old secret after A rotated it")
	}
	tok, _ := a.CreateAPIToken(bg, c.ID)
	if got, err := b.CustomerByAPIToken(bg, tok); err != nil || got.ID != c.ID {
		t.Errorf("B does not know A's new token: %v", err)
	}

	// The same deliveries arriving at both instances at once are stored once.
	const keys = 30
	var wg sync.WaitGroup
	var accepted atomic.Int64
	for _, s := range []*DB{a, b, a, b} {
		for i := range keys {
			wg.Go(func() {
				out, err := s.Append(bg, &cogniscape.Event{CustomerID: c.ID, ReceivedAt: time.Now(), Source: "jira", Type: "jira:issue_updated",
					DedupKey: fmt.Sprintf("k%d", i), Body: []byte(`{}`)}, 2)
				if err != nil {
					t.Error(err)
				}
				if out == cogniscape.OutcomeAccepted {
					accepted.Add(1)
				}
			})
		}
	}
	wg.Wait()
	if accepted.Load() != keys {
		t.Errorf("%d accepted across instances, want %d", accepted.Load(), keys)
	}
	if n, _ := b.LogSize(bg); n != keys {
		t.Errorf("LogSize = %d, want %d", n, keys)
	}
}

// Appends on one instance wake the others.
func TestWake(t *testing.T) {
	dsn := freshDSN(t)
	a, b := openTest(t, dsn), openTest(t, dsn)
	c, _, _ := a.CreateCustomer(bg, "Acme")
	ctx, cancel := context.WithCancel(bg)
	defer cancel()
	wake := b.Wake(ctx)
	select {
	case <-wake: // the wake-up on connecting
	case <-time.After(10 * time.Second):
		t.Fatal("no wake-up on connecting")
	}
	select {
	case <-wake:
		t.Fatal("woken without an append")
	case <-time.After(200 * time.Millisecond):
	}
	start := time.Now()
	if _, err := a.Append(bg, &cogniscape.Event{CustomerID: c.ID, ReceivedAt: time.Now(), Source: "jira", Type: "jira:issue_created",
		DedupKey: "w1", Body: []byte(`{}`)}, 2); err != nil {
		t.Fatal(err)
	}
	select {
	case <-wake:
		t.Logf("woken %v after the append committed", time.Since(start))
	case <-time.After(5 * time.Second):
		t.Fatal("another instance's append did not wake this one")
	}
	cancel()
	for range wake { // closed when ctx ends
	}
}

// A stale batch is refused whichever instance applies it; of many
// concurrent attempts at the same batch exactly one succeeds.
func TestApplyBatchExactlyOnceAcrossInstances(t *testing.T) {
	dsn := freshDSN(t)
	stores := []*DB{openTest(t, dsn), openTest(t, dsn), openTest(t, dsn)}
	c, _, _ := stores[0].CreateCustomer(bg, "Acme")
	bodies := fixtures(t, "cloud/*.json")
	appendBodies(t, stores[0], c.ID, bodies, "e")
	events, err := stores[0].PendingEvents(bg, c.ID, 5)
	if err != nil || len(events) != 5 {
		t.Fatalf("PendingEvents = %d, %v", len(events), err)
	}
	var muts []*cogniscape.Mutation
	for _, ev := range events {
		m, err := jira.Normalize(ev.Body)
		if err != nil {
			t.Fatal(err)
		}
		if m != nil {
			m.EventID = ev.ID
		}
		muts = append(muts, m)
	}
	var ok, conflict atomic.Int64
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Go(func() {
			err := stores[i%3].ApplyBatch(bg, c.ID, 0, events[4].ID, muts)
			switch cogniscape.ErrorCode(err) {
			case "":
				ok.Add(1)
			case cogniscape.ECONFLICT:
				conflict.Add(1)
			default:
				t.Errorf("ApplyBatch: %v", err)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 || conflict.Load() != 11 {
		t.Errorf("%d applied, %d conflicts; want exactly one applied", ok.Load(), conflict.Load())
	}
}

// Projectors of several instances together build exactly the graph one
// builds alone, while a lease keeps each customer with one of them.
func TestProjectorsShareWork(t *testing.T) {
	dsn := freshDSN(t)
	stores := []*DB{openTest(t, dsn), openTest(t, dsn), openTest(t, dsn)}
	bodies := fixtures(t, "cloud/*.json", "datacenter/*.json")
	var customers []int64
	for i := range 4 {
		c, _, err := stores[0].CreateCustomer(bg, fmt.Sprintf("C%d", i))
		if err != nil {
			t.Fatal(err)
		}
		customers = append(customers, c.ID)
	}
	ref, _, _ := stores[0].CreateCustomer(bg, "Reference")
	appendBodies(t, stores[0], ref.ID, bodies, "r")
	catchUp(t, stores[0], 1000)
	want, _ := stores[0].GraphDigest(bg, ref.ID)

	// Events keep arriving while three projectors run.
	ctx, cancel := context.WithCancel(bg)
	var wg sync.WaitGroup
	for i, s := range stores {
		p := projector.New(s, jira.Normalize, slog.New(slog.NewTextHandler(io.Discard, nil)))
		p.BatchSize = 3 + i
		p.Poll = 20 * time.Millisecond
		wg.Go(func() { p.Run(ctx) })
	}
	for i, c := range customers {
		appendBodies(t, stores[i%3], c, bodies, "c")
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		lag, err := stores[1].ProjectionLag(bg)
		if err != nil {
			t.Fatal(err)
		}
		if lag == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("projection lag %d after 30 s", lag)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	for _, c := range customers {
		if got, _ := stores[2].GraphDigest(bg, c); got != want {
			t.Errorf("customer %d: graph built by three projectors differs from one built alone", c)
		}
	}
}

// While one instance holds a customer's projection lease the others leave
// the customer alone; when it closes, another takes over at once.
func TestProjectionLease(t *testing.T) {
	dsn := freshDSN(t)
	a, b := openTest(t, dsn), openTest(t, dsn)
	c, _, _ := a.CreateCustomer(bg, "Acme")
	appendBodies(t, a, c.ID, fixtures(t, "cloud/issue_created.json"), "l")
	if evs, err := a.PendingEvents(bg, c.ID, 10); err != nil || len(evs) != 1 {
		t.Fatalf("A PendingEvents = %d, %v", len(evs), err)
	}
	if evs, err := b.PendingEvents(bg, c.ID, 10); err != nil || len(evs) != 0 {
		t.Errorf("B PendingEvents while A holds the lease = %d, %v", len(evs), err)
	}
	if ids, _ := b.PendingCustomers(bg); slices.Contains(ids, c.ID) {
		t.Errorf("B lists a customer A is projecting")
	}
	if ids, _ := a.PendingCustomers(bg); !slices.Contains(ids, c.ID) {
		t.Errorf("A does not list its own customer")
	}
	a.Close()
	if evs, err := b.PendingEvents(bg, c.ID, 10); err != nil || len(evs) != 1 {
		t.Errorf("B PendingEvents after A closed = %d, %v", len(evs), err)
	}
	// A replay (ResetGraph) takes the customer over.
	r := openTest(t, dsn)
	if err := r.ResetGraph(bg, c.ID); err != nil {
		t.Fatal(err)
	}
	if evs, _ := b.PendingEvents(bg, c.ID, 10); len(evs) != 0 {
		t.Errorf("B still projects a customer being replayed")
	}
	if n := catchUp(t, r, 10); n != 1 {
		t.Errorf("replay projected %d events", n)
	}
}

// Replicas starting at once apply each migration exactly once.
func TestConcurrentMigrations(t *testing.T) {
	dsn := freshDSN(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	applied := map[string]int{}
	for range 4 {
		wg.Go(func() {
			names, err := Migrate(bg, dsn)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			for _, n := range names {
				applied[n]++
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	for _, n := range MigrationNames() {
		if applied[n] != 1 {
			t.Errorf("%s applied %d times", n, applied[n])
		}
	}
	if names, err := Migrate(bg, dsn); err != nil || len(names) != 0 {
		t.Errorf("Migrate on an up-to-date database = %v, %v", names, err)
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:secret@h:5432/db?sslmode=disable": "postgres://u:xxxxx@h:5432/db?sslmode=disable",
		"host=h user=u password=secret dbname=d":        "host=h user=u password=xxxxx dbname=d",
		"postgres://u@h/db":                             "postgres://u@h/db",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// A rotation waits for a batch of appends that checked the old secret and
// has not committed yet (such a batch holds the customer's append lock), so
// that nothing authenticated with the old secret is stored after the
// rotation has returned.
func TestRotationWaitsForAppendsUnderWay(t *testing.T) {
	db := openTest(t, freshDSN(t))
	c, _, err := db.CreateCustomer(bg, "Acme")
	if err != nil {
		t.Fatal(err)
	}
	batch, err := db.pool.Begin(bg)
	if err != nil {
		t.Fatal(err)
	}
	defer batch.Rollback(bg)
	if _, err := batch.Exec(bg, `SELECT pg_advisory_xact_lock($1)`, lockKey(db.appendNS, c.ID)); err != nil {
		t.Fatal(err)
	}
	rotated := make(chan error, 1)
	go func() {
		_, err := db.RotateJiraSecret(bg, c.Key)
		rotated <- err
	}()
	select {
	case err := <-rotated:
		t.Fatalf("the rotation returned while a batch of appends was under way: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	if err := batch.Commit(bg); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-rotated:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the rotation did not go on once the batch committed")
	}
}

func TestJobError(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&pgconn.PgError{Code: "22021"}, true},  // invalid byte sequence: that job's data
		{&pgconn.PgError{Code: "23505"}, true},  // unique violation
		{&pgconn.PgError{Code: "54000"}, true},  // program limit exceeded
		{&pgconn.PgError{Code: "57P01"}, false}, // the server is shutting down
		{&pgconn.PgError{Code: "08006"}, false}, // connection failure
		{&pgconn.PgError{Code: "53100"}, false}, // disk full
		{&pgconn.PgError{Code: "40P01"}, false}, // deadlock
		{fmt.Errorf("append: %w", &pgconn.PgError{Code: "23505"}), true},
		{context.DeadlineExceeded, false},
		{errors.New("conn closed"), false},
	} {
		if got := jobError(tc.err); got != tc.want {
			t.Errorf("jobError(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// A batch the database refuses for one of its values fails with EINVALID,
// so that the projector finds and skips the event; never with ECONFLICT,
// which would pass for another projector at work and be waited on forever.
// Here two people whose ids differ only where the database cannot keep
// them apart (NUL becomes U+FFFD in text) collide on the node key.
func TestRefusedBatchIsInvalidNotConflict(t *testing.T) {
	db := openTest(t, freshDSN(t))
	c, _, err := db.CreateCustomer(bg, "Acme")
	if err != nil {
		t.Fatal(err)
	}
	ev := &cogniscape.Event{CustomerID: c.ID, ReceivedAt: time.Now(), Source: "jira", Type: "jira:issue_created",
		Site: "https://acme.atlassian.net", DedupKey: "1", Timestamp: time.Now(), Body: []byte(`{}`)}
	if _, err := db.Append(bg, ev, 2); err != nil {
		t.Fatal(err)
	}
	m := &cogniscape.Mutation{Source: "jira", Site: ev.Site, Event: ev.Type, EventID: ev.ID, Version: cogniscape.Version{At: 1},
		Nodes: []cogniscape.NodeUpdate{{Ref: cogniscape.NodeRef{Kind: cogniscape.KindPerson, ID: "bob\x00"}},
			{Ref: cogniscape.NodeRef{Kind: cogniscape.KindPerson, ID: "bob\ufffd"}}}}
	err = db.ApplyBatch(bg, c.ID, 0, ev.ID, []*cogniscape.Mutation{m})
	if code := cogniscape.ErrorCode(err); code != cogniscape.EINVALID {
		t.Fatalf("refused batch: %v (code %s), want EINVALID", err, code)
	}
}

// Replicas may run as a role that reads and writes the tables but may not
// create any (docs/postgres.md): once the schema is migrated, such a role
// opens the store.
func TestReplicaRoleWithoutCreate(t *testing.T) {
	dsn := freshDSN(t)
	if _, err := Migrate(bg, dsn); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		t.Skip("needs a URL DSN")
	}
	schema := u.Query().Get("search_path")
	role := "cogniscape_rw_" + strings.ToLower(strings.NewReplacer("-", "_").Replace(secret.Random(6)))
	admin, err := pgx.Connect(bg, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(bg)
	for _, q := range []string{
		`CREATE ROLE ` + role + ` LOGIN`,
		`GRANT USAGE ON SCHEMA ` + schema + ` TO ` + role,
		`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ` + schema + ` TO ` + role,
		`GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA ` + schema + ` TO ` + role,
	} {
		if _, err := admin.Exec(bg, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Cleanup(func() {
		admin, err := pgx.Connect(bg, dsn)
		if err != nil {
			return
		}
		defer admin.Close(bg)
		admin.Exec(bg, `DROP OWNED BY `+role)
		admin.Exec(bg, `DROP ROLE `+role)
	})
	u.User = url.User(role)
	db, err := Open(bg, u.String(), testKey)
	if err != nil {
		t.Fatalf("open as a role that cannot create tables: %v", err)
	}
	defer db.Close()
	if _, _, err := db.CreateCustomer(bg, "Acme"); err != nil {
		t.Errorf("create a customer as that role: %v", err)
	}
}

// A database a newer release migrated is refused, not written to by a
// release that does not know what its tables mean.
func TestRefusesADatabaseFromANewerRelease(t *testing.T) {
	dsn := freshDSN(t)
	if _, err := Migrate(bg, dsn); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(bg, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(bg)
	if _, err := conn.Exec(bg, `INSERT INTO schema_migrations (name, applied_at) VALUES ('9999_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(bg, dsn, testKey); err == nil || !strings.Contains(err.Error(), "newer release") {
		t.Fatalf("open after a newer release's migration: %v", err)
	}
}
