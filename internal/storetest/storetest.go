// Package storetest is the conformance suite every cogniscape.Store must
// pass, so that the embedded SQLite store and the PostgreSQL store behave the
// same: customers and secrets, the event log with dedup and quarantine, the
// delivery log, projection checkpoints, the graph and its history, search,
// users, and tenant scoping.
package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/cogniscape/cogniscape"
	"github.com/cogniscape/cogniscape/internal/projector"
)

// Run runs the suite. open must return a fresh, empty store for each call;
// the suite closes it when the subtest ends.
func Run(t *testing.T, open func(t *testing.T) cogniscape.Store) {
	fresh := func(t *testing.T) cogniscape.Store {
		t.Helper()
		s := open(t)
		t.Cleanup(func() { s.Close() })
		return s
	}
	t.Run("Customers", func(t *testing.T) { testCustomers(t, fresh(t)) })
	t.Run("FirstCustomer", func(t *testing.T) { testFirstCustomer(t, fresh(t)) })
	t.Run("CachedSecretVersions", func(t *testing.T) { testCachedSecretVersions(t, fresh(t)) })
	t.Run("EventLog", func(t *testing.T) { testEventLog(t, fresh(t)) })
	t.Run("ConcurrentAppends", func(t *testing.T) { testConcurrentAppends(t, fresh(t)) })
	t.Run("Quarantine", func(t *testing.T) { testQuarantine(t, fresh(t)) })
	t.Run("Checkpoints", func(t *testing.T) { testCheckpoints(t, fresh(t)) })
	t.Run("Graph", func(t *testing.T) { testGraph(t, fresh(t)) })
	t.Run("LinkSites", func(t *testing.T) { testLinkSites(t, fresh) })
	t.Run("HugeText", func(t *testing.T) { testHugeText(t, fresh(t)) })
	t.Run("PendingBytes", func(t *testing.T) { testPendingBytes(t, fresh(t)) })
	t.Run("ActivityMemory", func(t *testing.T) { testActivityMemory(t, fresh(t)) })
	t.Run("SiteFilters", func(t *testing.T) { testSiteFilters(t, fresh(t)) })
	t.Run("OrderIndependence", func(t *testing.T) { testOrderIndependence(t, fresh(t)) })
	t.Run("ResetAndReplay", func(t *testing.T) { testResetAndReplay(t, fresh(t)) })
	t.Run("MutationPayloads", func(t *testing.T) { testMutationPayloads(t, fresh(t)) })
	t.Run("DropRawBodies", func(t *testing.T) { testDropRawBodies(t, fresh(t)) })
	t.Run("TenantScoping", func(t *testing.T) { testTenantScoping(t, fresh(t)) })
	t.Run("Users", func(t *testing.T) { testUsers(t, fresh(t)) })
}

var ctx = context.Background()

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := cogniscape.ErrorCode(err); got != code {
		t.Errorf("%s: error %v (code %q), want %q", what, err, got, code)
	}
}

// must returns v, or ends the test if err is set: must(s.Call())(t).
func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// check ends the test if err is set.
func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func customer(t *testing.T, s cogniscape.Store, name string) (*cogniscape.Customer, cogniscape.Credentials) {
	t.Helper()
	c, creds, err := s.CreateCustomer(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	return c, creds
}

func testCustomers(t *testing.T, s cogniscape.Store) {
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	_, _, err := s.CreateCustomer(ctx, "")
	wantCode(t, "customer without a name", err, cogniscape.EINVALID)
	a, credsA := customer(t, s, "Acme Pay")
	b, credsB := customer(t, s, "Beta Corp")
	if a.ID == 0 || a.Key == "" || a.Key == b.Key || len(credsA.JiraSecret) < 32 || credsA.APIToken == "" || credsA.JiraSecret == credsB.JiraSecret {
		t.Fatalf("created %+v %+v", a, b)
	}
	list := must(s.Customers(ctx))(t)
	if len(list) != 2 || list[0].ID != a.ID || list[1].ID != b.ID || list[0].Name != "Acme Pay" || list[0].Key != a.Key ||
		!list[0].CreatedAt.Equal(a.CreatedAt) {
		t.Fatalf("Customers = %+v, want A then B (%+v)", list, a)
	}
	got := must(s.CustomerByKey(ctx, a.Key))(t)
	if got.ID != a.ID || got.Name != a.Name {
		t.Errorf("CustomerByKey = %+v", got)
	}
	_, err = s.CustomerByKey(ctx, "no-such-key")
	wantCode(t, "CustomerByKey(unknown)", err, cogniscape.ENOTFOUND)

	id, sec, version, err := s.JiraSecret(ctx, a.Key)
	if err != nil || id != a.ID || string(sec) != credsA.JiraSecret || version == "" {
		t.Fatalf("JiraSecret = %d %q %q %v", id, sec, version, err)
	}
	_, _, _, err = s.JiraSecret(ctx, "no-such-key")
	wantCode(t, "JiraSecret(unknown)", err, cogniscape.ENOTFOUND)

	// Rotation: the new secret at once, the old one never again.
	rotated := must(s.RotateJiraSecret(ctx, a.Key))(t)
	if rotated == credsA.JiraSecret || len(rotated) < 32 {
		t.Fatalf("rotated secret %q", rotated)
	}
	if _, sec, _, _ := s.JiraSecret(ctx, a.Key); string(sec) != rotated {
		t.Errorf("JiraSecret after rotation = %q, want the new one", sec)
	}
	if _, sec, _, _ := s.JiraSecret(ctx, b.Key); string(sec) != credsB.JiraSecret {
		t.Errorf("rotating A changed B's secret")
	}
	// A delivery authenticated with the secret read before the rotation is
	// not stored after it, cached or not.
	_, err = s.Append(ctx, &cogniscape.Event{CustomerID: a.ID, ReceivedAt: time.Now(), Source: "jira", Type: "jira:issue_updated",
		DedupKey: "read-before-rotation", Timestamp: time.Now(), Body: []byte(`{}`), SecretVersion: version}, 2)
	wantCode(t, "append authenticated before the rotation", err, cogniscape.ECONFLICT)
	again := must(s.RotateJiraSecret(ctx, a.Key))(t)
	if _, sec, _, _ := s.JiraSecret(ctx, a.Key); string(sec) != again || again == rotated {
		t.Errorf("second rotation not honoured")
	}
	_, err = s.RotateJiraSecret(ctx, "no-such-key")
	wantCode(t, "RotateJiraSecret(unknown)", err, cogniscape.ENOTFOUND)

	// API tokens.
	if c, err := s.CustomerByAPIToken(ctx, credsA.APIToken); err != nil || c.ID != a.ID || c.Key != a.Key {
		t.Errorf("CustomerByAPIToken(A) = %+v, %v", c, err)
	}
	if c, err := s.CustomerByAPIToken(ctx, credsB.APIToken); err != nil || c.ID != b.ID {
		t.Errorf("CustomerByAPIToken(B) = %+v, %v", c, err)
	}
	_, err = s.CustomerByAPIToken(ctx, "cgs_not-a-token")
	wantCode(t, "CustomerByAPIToken(bogus)", err, cogniscape.EUNAUTHORIZED)
	_, err = s.CustomerByAPIToken(ctx, "")
	wantCode(t, "CustomerByAPIToken(empty)", err, cogniscape.EUNAUTHORIZED)
	tok := must(s.CreateAPIToken(ctx, a.ID))(t)
	if tok == credsA.APIToken {
		t.Fatal("CreateAPIToken returned the existing token")
	}
	if c, err := s.CustomerByAPIToken(ctx, tok); err != nil || c.ID != a.ID {
		t.Errorf("new token = %+v, %v", c, err)
	}
	if c, err := s.CustomerByAPIToken(ctx, credsA.APIToken); err != nil || c.ID != a.ID {
		t.Errorf("first token after a second was issued = %+v, %v", c, err)
	}

	// Rotating the tokens: every old one stops at once, B's go on.
	rotatedTok := must(s.RotateAPIToken(ctx, a.Key))(t)
	for _, old := range []string{credsA.APIToken, tok} {
		_, err = s.CustomerByAPIToken(ctx, old)
		wantCode(t, "CustomerByAPIToken(revoked)", err, cogniscape.EUNAUTHORIZED)
	}
	if c, err := s.CustomerByAPIToken(ctx, rotatedTok); err != nil || c.ID != a.ID {
		t.Errorf("rotated token = %+v, %v", c, err)
	}
	if c, err := s.CustomerByAPIToken(ctx, credsB.APIToken); err != nil || c.ID != b.ID {
		t.Errorf("B's token after A's rotation = %+v, %v", c, err)
	}
	_, err = s.RotateAPIToken(ctx, "no-such-key")
	wantCode(t, "RotateAPIToken(unknown)", err, cogniscape.ENOTFOUND)
}

// clobber overwrites a buffer the store must not have kept.
func clobber(b []byte) {
	for i := range b {
		b[i] = 'x'
	}
}

// event builds a delivery of webhookEvent with a dedup key.
func event(c int64, typ, dedup string, at time.Time, body []byte) *cogniscape.Event {
	return &cogniscape.Event{CustomerID: c, ReceivedAt: at, Source: "jira", Type: typ, Site: site, Identifier: dedup,
		DedupKey: dedup, Timestamp: at.Add(-time.Second), Body: body}
}

func testEventLog(t *testing.T, s cogniscape.Store) {
	a, _ := customer(t, s, "A")
	received := time.Date(2026, 3, 1, 12, 0, 0, 123e6, time.UTC)
	if n := must(s.LogSize(ctx))(t); n != 0 {
		t.Fatalf("LogSize of an empty store = %d", n)
	}
	ev := event(a.ID, "jira:issue_created", "id-1", received, []byte(`{"webhookEvent":"jira:issue_created"}`))
	ev.Retry = 0
	if out, err := s.Append(ctx, ev, 40); err != nil || out != cogniscape.OutcomeAccepted || ev.ID == 0 {
		t.Fatalf("Append = %q, %v, id %d", out, err, ev.ID)
	}
	clobber(ev.Body) // the caller may reuse the buffer once Append returns
	first := ev.ID
	retry := event(a.ID, "jira:issue_created", "id-1", received.Add(time.Second), []byte(`{"webhookEvent":"jira:issue_created"}`))
	retry.Retry = 1
	if out, err := s.Append(ctx, retry, 40); err != nil || out != cogniscape.OutcomeDuplicate {
		t.Fatalf("Append(retry) = %q, %v", out, err)
	}
	ign := event(a.ID, "board_created", "id-2", received.Add(2*time.Second), []byte(`{"webhookEvent":"board_created"}`))
	ign.Ignored = true
	if out, err := s.Append(ctx, ign, 33); err != nil || out != cogniscape.OutcomeIgnored || ign.ID <= first {
		t.Fatalf("Append(ignored) = %q, %v, id %d after %d", out, err, ign.ID, first)
	}
	if n := must(s.LogSize(ctx))(t); n != 2 {
		t.Errorf("LogSize = %d, want 2 (the duplicate is stored once)", n)
	}

	// The log keeps what was appended, in order, ignored events marked.
	pending := must(s.PendingEvents(ctx, a.ID, 10))(t)
	if len(pending) != 2 || pending[0].ID != first || pending[1].ID != ign.ID {
		t.Fatalf("PendingEvents = %+v", pending)
	}
	p := pending[0]
	if p.Type != "jira:issue_created" || p.Site != site || p.Identifier != "id-1" || p.Source != "jira" || p.Ignored ||
		!p.ReceivedAt.Equal(received) || !p.Timestamp.Equal(received.Add(-time.Second)) || string(p.Body) != `{"webhookEvent":"jira:issue_created"}` ||
		p.Checkpoint != 0 || p.CustomerID != a.ID || len(p.Mutation) != 0 {
		t.Errorf("stored event = %+v", p)
	}
	if !pending[1].Ignored {
		t.Errorf("ignored event not marked: %+v", pending[1])
	}

	// The delivery log: newest first, every delivery including the duplicate.
	ds := must(s.Deliveries(ctx, a.ID, cogniscape.DeliveryFilter{}))(t)
	if len(ds) != 3 {
		t.Fatalf("Deliveries = %+v", ds)
	}
	if ds[0].Outcome != cogniscape.OutcomeIgnored || ds[1].Outcome != cogniscape.OutcomeDuplicate || ds[2].Outcome != cogniscape.OutcomeAccepted {
		t.Errorf("outcomes newest first = %s %s %s", ds[0].Outcome, ds[1].Outcome, ds[2].Outcome)
	}
	if ds[1].EventID != first || ds[2].EventID != first || ds[0].EventID != ign.ID {
		t.Errorf("event ids of deliveries = %d %d %d", ds[0].EventID, ds[1].EventID, ds[2].EventID)
	}
	if d := ds[1]; d.Retry != 1 || d.Identifier != "id-1" || d.Size != 40 || d.Event != "jira:issue_created" || !d.ReceivedAt.Equal(received.Add(time.Second)) {
		t.Errorf("duplicate delivery = %+v", d)
	}
	if !(ds[0].ID > ds[1].ID && ds[1].ID > ds[2].ID) {
		t.Errorf("delivery ids not newest first: %d %d %d", ds[0].ID, ds[1].ID, ds[2].ID)
	}
	if got := must(s.Deliveries(ctx, a.ID, cogniscape.DeliveryFilter{Outcome: cogniscape.OutcomeDuplicate}))(t); len(got) != 1 || got[0].ID != ds[1].ID {
		t.Errorf("filter by outcome = %+v", got)
	}
	if got := must(s.Deliveries(ctx, a.ID, cogniscape.DeliveryFilter{Event: "jira:issue_created"}))(t); len(got) != 2 {
		t.Errorf("filter by event = %+v", got)
	}
	if got := must(s.Deliveries(ctx, a.ID, cogniscape.DeliveryFilter{Before: ds[0].ID}))(t); len(got) != 2 || got[0].ID != ds[1].ID {
		t.Errorf("filter before = %+v", got)
	}
	if got := must(s.Deliveries(ctx, a.ID, cogniscape.DeliveryFilter{Limit: 1}))(t); len(got) != 1 || got[0].ID != ds[0].ID {
		t.Errorf("limit 1 = %+v", got)
	}
}

// Concurrent deliveries, many of them retries of each other, are stored once
// each, and every one of them gets an answer.
func testConcurrentAppends(t *testing.T, s cogniscape.Store) {
	a, _ := customer(t, s, "A")
	const distinct, copies = 40, 4
	var wg sync.WaitGroup
	var mu sync.Mutex
	outcomes := map[cogniscape.Outcome]int{}
	ids := map[string]int64{}
	for i := 0; i < distinct*copies; i++ {
		wg.Go(func() {
			key := fmt.Sprintf("delivery-%d", i%distinct)
			ev := event(a.ID, "jira:issue_updated", key, time.Now(), []byte(`{}`))
			out, err := s.Append(ctx, ev, 2)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Errorf("Append: %v", err)
				return
			}
			outcomes[out]++
			if out == cogniscape.OutcomeAccepted {
				if prev, ok := ids[key]; ok {
					t.Errorf("%s accepted twice (%d, %d)", key, prev, ev.ID)
				}
				ids[key] = ev.ID
			}
		})
	}
	wg.Wait()
	if outcomes[cogniscape.OutcomeAccepted] != distinct || outcomes[cogniscape.OutcomeDuplicate] != distinct*(copies-1) {
		t.Errorf("outcomes = %v, want %d accepted", outcomes, distinct)
	}
	pending := must(s.PendingEvents(ctx, a.ID, 1000))(t)
	if len(pending) != distinct {
		t.Errorf("%d events in the log, want %d", len(pending), distinct)
	}
	for i := 1; i < len(pending); i++ {
		if pending[i].ID <= pending[i-1].ID {
			t.Fatalf("log not in order: %d after %d", pending[i].ID, pending[i-1].ID)
		}
	}
	ds := must(s.Deliveries(ctx, a.ID, cogniscape.DeliveryFilter{Limit: 1000}))(t)
	if len(ds) != distinct*copies {
		t.Errorf("%d deliveries, want %d", len(ds), distinct*copies)
	}
}

func testQuarantine(t *testing.T, s cogniscape.Store) {
	a, _ := customer(t, s, "A")
	b, _ := customer(t, s, "B")
	at := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	body := []byte("not json {")
	d := cogniscape.Delivery{ReceivedAt: at, Event: "", Identifier: "q-1", Retry: 2, Size: len(body), Reason: "body is not JSON"}
	kept := bytes.Clone(body)
	if err := s.Quarantine(ctx, a.ID, d, kept); err != nil {
		t.Fatal(err)
	}
	clobber(kept)
	ds := must(s.Deliveries(ctx, a.ID, cogniscape.DeliveryFilter{Outcome: cogniscape.OutcomeQuarantined}))(t)
	if len(ds) != 1 || ds[0].Reason != "body is not JSON" || ds[0].Identifier != "q-1" || ds[0].Retry != 2 || ds[0].Size != len(body) || ds[0].EventID != 0 {
		t.Fatalf("quarantined deliveries = %+v", ds)
	}
	q := must(s.QuarantinedBody(ctx, a.ID, ds[0].ID))(t)
	if string(q.Body) != string(body) || q.Reason != "body is not JSON" || q.Outcome != cogniscape.OutcomeQuarantined || !q.ReceivedAt.Equal(at) {
		t.Errorf("QuarantinedBody = %+v %q", q.Delivery, q.Body)
	}
	_, err := s.QuarantinedBody(ctx, b.ID, ds[0].ID)
	wantCode(t, "another customer's quarantined body", err, cogniscape.ENOTFOUND)
	_, err = s.QuarantinedBody(ctx, a.ID, ds[0].ID+1000)
	wantCode(t, "unknown quarantined body", err, cogniscape.ENOTFOUND)
	// An empty body is kept as empty.
	if err := s.Quarantine(ctx, a.ID, cogniscape.Delivery{ReceivedAt: at, Reason: "empty body"}, nil); err != nil {
		t.Fatal(err)
	}
	ds = must(s.Deliveries(ctx, a.ID, cogniscape.DeliveryFilter{}))(t)
	if q := must(s.QuarantinedBody(ctx, a.ID, ds[0].ID))(t); len(q.Body) != 0 || q.Reason != "empty body" {
		t.Errorf("empty quarantined body = %+v", q)
	}
	// A delivery that is not quarantined has no quarantined body.
	ev := event(a.ID, "jira:issue_created", "ok", at, []byte(`{}`))
	must(s.Append(ctx, ev, 2))(t)
	ds = must(s.Deliveries(ctx, a.ID, cogniscape.DeliveryFilter{Limit: 1}))(t)
	_, err = s.QuarantinedBody(ctx, a.ID, ds[0].ID)
	wantCode(t, "accepted delivery as quarantined", err, cogniscape.ENOTFOUND)
	if got := must(s.Deliveries(ctx, b.ID, cogniscape.DeliveryFilter{}))(t); len(got) != 0 {
		t.Errorf("B sees A's deliveries: %+v", got)
	}
}

// appendMutations appends muts as the customer's deliveries, each body the
// mutation's JSON (decode reads it back), and returns their events.
func appendMutations(t *testing.T, s cogniscape.Store, c int64, muts []*cogniscape.Mutation, tag string) []*cogniscape.Event {
	t.Helper()
	var out []*cogniscape.Event
	for i, m := range muts {
		body, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		ev := &cogniscape.Event{CustomerID: c, ReceivedAt: time.Now(), Source: "jira", Type: m.Event, Site: m.Site,
			DedupKey: fmt.Sprintf("%s-%d-%d", tag, m.Version.At, i), Timestamp: m.Version.Time(), Body: body}
		out1, err := s.Append(ctx, ev, len(body))
		if err != nil || out1 != cogniscape.OutcomeAccepted {
			t.Fatalf("append mutation %d: %q %v", i, out1, err)
		}
		out = append(out, ev)
	}
	return out
}

func decode(body []byte) (*cogniscape.Mutation, error) {
	var m cogniscape.Mutation
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// project runs a projector over every pending event in batches of batch.
func project(t *testing.T, s cogniscape.Store, batch int) int {
	t.Helper()
	p := projector.New(s, decode, slog.New(slog.NewTextHandler(io.Discard, nil)))
	p.BatchSize = batch
	n, err := p.CatchUp(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func digest(t *testing.T, s cogniscape.Store, c int64) string {
	t.Helper()
	return must(s.GraphDigest(ctx, c))(t)
}

func testCheckpoints(t *testing.T, s cogniscape.Store) {
	a, _ := customer(t, s, "A")
	muts := scenario()
	evs := appendMutations(t, s, a.ID, muts[:3], "cp")
	if got := must(s.PendingCustomers(ctx))(t); !slices.Equal(got, []int64{a.ID}) {
		t.Fatalf("PendingCustomers = %v", got)
	}
	if lag := must(s.ProjectionLag(ctx))(t); lag != 3 {
		t.Errorf("ProjectionLag = %d, want 3", lag)
	}
	pending := must(s.PendingEvents(ctx, a.ID, 2))(t)
	if len(pending) != 2 || pending[0].ID != evs[0].ID || pending[1].ID != evs[1].ID || pending[0].Checkpoint != 0 {
		t.Fatalf("PendingEvents = %+v", pending)
	}
	batch := func(ps []cogniscape.PendingEvent) []*cogniscape.Mutation {
		var out []*cogniscape.Mutation
		for _, p := range ps {
			m := must(decode(p.Body))(t)
			m.EventID = p.ID
			out = append(out, m)
		}
		return out
	}
	if err := s.ApplyBatch(ctx, a.ID, 0, evs[1].ID, batch(pending)); err != nil {
		t.Fatal(err)
	}
	before := digest(t, s, a.ID)
	// A stale batch (another projector moved the checkpoint) applies nothing.
	all := must(s.PendingEvents(ctx, a.ID, 10))(t)
	if len(all) != 1 || all[0].Checkpoint != evs[1].ID || all[0].ID != evs[2].ID {
		t.Fatalf("after the first batch: %+v", all)
	}
	err := s.ApplyBatch(ctx, a.ID, 0, evs[2].ID, batch(all))
	wantCode(t, "stale ApplyBatch", err, cogniscape.ECONFLICT)
	if after := digest(t, s, a.ID); after != before {
		t.Error("a stale batch changed the graph")
	}
	if got := must(s.PendingEvents(ctx, a.ID, 10))(t); len(got) != 1 || got[0].Checkpoint != evs[1].ID {
		t.Errorf("a stale batch moved the checkpoint: %+v", got)
	}
	if lag := must(s.ProjectionLag(ctx))(t); lag != 1 {
		t.Errorf("ProjectionLag = %d, want 1", lag)
	}
	// Events with nothing to project still move the checkpoint.
	if err := s.ApplyBatch(ctx, a.ID, evs[1].ID, evs[2].ID, []*cogniscape.Mutation{nil}); err != nil {
		t.Fatal(err)
	}
	if got := must(s.PendingCustomers(ctx))(t); len(got) != 0 {
		t.Errorf("PendingCustomers after catching up = %v", got)
	}
	if lag := must(s.ProjectionLag(ctx))(t); lag != 0 {
		t.Errorf("ProjectionLag = %d, want 0", lag)
	}
	if got := must(s.PendingEvents(ctx, a.ID, 10))(t); len(got) != 0 {
		t.Errorf("PendingEvents after catching up = %+v", got)
	}
	// The projected events keep their normalised form.
	check(t, s.ResetGraph(ctx, a.ID))
	replay := must(s.PendingEvents(ctx, a.ID, 10))(t)
	if len(replay) != 3 || len(replay[0].Mutation) == 0 || len(replay[1].Mutation) == 0 || len(replay[2].Mutation) != 0 {
		t.Errorf("stored mutations after reset: %d events, %d/%d/%d bytes", len(replay), len(replay[0].Mutation), len(replay[1].Mutation), len(replay[2].Mutation))
	}
}

// A mutation's payload, encoded by its producer, is what the store keeps
// for replay, byte for byte; a payload that named no site is encoded again
// once the store has resolved the site.
func testMutationPayloads(t *testing.T, s cogniscape.Store) {
	a, _ := customer(t, s, "A")
	appendMutations(t, s, a.ID, scenario(), "p")
	pending := must(s.PendingEvents(ctx, a.ID, 100))(t)
	var batch []*cogniscape.Mutation
	named := map[int64]bool{} // event → its mutation named a site
	for _, p := range pending {
		m := must(decode(p.Body))(t)
		m.EventID = p.ID
		check(t, m.EncodePayload())
		m.Payload = append(m.Payload, ' ') // the producer's bytes, told apart from the store's own encoding
		named[p.ID] = m.Site != ""
		batch = append(batch, m)
	}
	check(t, s.ApplyBatch(ctx, a.ID, 0, pending[len(pending)-1].ID, batch))
	check(t, s.ResetGraph(ctx, a.ID))
	replay := must(s.PendingEvents(ctx, a.ID, 100))(t)
	if len(replay) != len(batch) {
		t.Fatalf("%d events to replay, want %d", len(replay), len(batch))
	}
	unnamed := 0
	for i, p := range replay {
		if named[p.ID] {
			if string(p.Mutation) != string(batch[i].Payload) {
				t.Errorf("event %d: stored mutation %s, want the producer's payload %s", p.ID, p.Mutation, batch[i].Payload)
			}
			continue
		}
		unnamed++
		if m := must(decode(p.Mutation))(t); m.Site != site {
			t.Errorf("event %d: stored mutation names site %q, want the resolved %q", p.ID, m.Site, site)
		}
	}
	if unnamed == 0 {
		t.Fatal("the scenario has no mutation without a site")
	}
}

// emptyDigest is the digest of a graph with nothing in it.
var emptyDigest = func() string { h := sha256.Sum256(nil); return hex.EncodeToString(h[:]) }()

func testOrderIndependence(t *testing.T, s cogniscape.Store) {
	muts := scenario()
	a, _ := customer(t, s, "In order")
	appendMutations(t, s, a.ID, muts, "a")
	project(t, s, 100)
	want := digest(t, s, a.ID)
	if want == emptyDigest {
		t.Fatal("the scenario built no graph")
	}
	reversed := scenario()
	slices.Reverse(reversed)
	b, _ := customer(t, s, "Reversed")
	appendMutations(t, s, b.ID, reversed, "b")
	project(t, s, 2)
	if got := digest(t, s, b.ID); got != want {
		t.Errorf("reversed order, batches of 2: digest %s, in order %s", got, want)
	}
	// Shuffled, with repeats (at-least-once delivery), one event per batch.
	shuffled := scenario()
	shuffled = append(shuffled, scenario()[3], scenario()[1])
	order := []int{5, 2, 9, 0, 7, 3, 8, 1, 6, 4}
	var muts3 []*cogniscape.Mutation
	for _, i := range order {
		muts3 = append(muts3, shuffled[i])
	}
	c, _ := customer(t, s, "Shuffled")
	appendMutations(t, s, c.ID, muts3, "c")
	project(t, s, 1)
	if got := digest(t, s, c.ID); got != want {
		t.Errorf("shuffled with repeats: digest %s, in order %s", got, want)
	}
	// The digest does not depend on what else the store holds.
	if got := digest(t, s, a.ID); got != want {
		t.Errorf("digest of A changed when other customers were added")
	}
}

func testResetAndReplay(t *testing.T, s cogniscape.Store) {
	s.SetRawRetention(0) // bodies go at projection: replay must use the stored mutations
	a, _ := customer(t, s, "A")
	b, _ := customer(t, s, "B")
	muts := scenario()
	appendMutations(t, s, a.ID, muts[:4], "a")
	project(t, s, 3)
	appendMutations(t, s, a.ID, muts[4:], "a2")
	project(t, s, 2)
	appendMutations(t, s, b.ID, scenario(), "b")
	project(t, s, 50)
	want, wantB := digest(t, s, a.ID), digest(t, s, b.ID)
	if err := s.ResetGraph(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if got := digest(t, s, a.ID); got != emptyDigest {
		t.Error("ResetGraph left a graph behind")
	}
	if got := digest(t, s, b.ID); got != wantB {
		t.Error("ResetGraph(A) touched B's graph")
	}
	pending := must(s.PendingEvents(ctx, a.ID, 100))(t)
	if len(pending) != len(muts) {
		t.Fatalf("after reset %d events pending, want %d", len(pending), len(muts))
	}
	for _, p := range pending {
		if p.Body != nil || len(p.Mutation) == 0 {
			t.Fatalf("event %d: body %d bytes, mutation %d bytes; want no body, a stored mutation", p.ID, len(p.Body), len(p.Mutation))
		}
	}
	if n := project(t, s, 4); n != len(muts) {
		t.Errorf("re-projected %d events, want %d", n, len(muts))
	}
	if got := digest(t, s, a.ID); got != want {
		t.Error("the rebuilt graph differs from the incremental one")
	}
	// Reset of every customer.
	if err := s.ResetGraph(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if digest(t, s, a.ID) != emptyDigest || digest(t, s, b.ID) != emptyDigest {
		t.Error("ResetGraph(0) left graphs behind")
	}
	if lag := must(s.ProjectionLag(ctx))(t); lag != int64(2*len(muts)) {
		t.Errorf("lag after reset = %d", lag)
	}
	project(t, s, 1000)
	if digest(t, s, a.ID) != want || digest(t, s, b.ID) != wantB {
		t.Error("graphs rebuilt after ResetGraph(0) differ")
	}
}

func testDropRawBodies(t *testing.T, s cogniscape.Store) {
	a, _ := customer(t, s, "A")
	muts := scenario()
	appendMutations(t, s, a.ID, muts[:2], "x")
	project(t, s, 10)
	appendMutations(t, s, a.ID, muts[2:3], "y") // not projected yet
	if n := must(s.DropRawBodies(ctx, time.Now().Add(-time.Hour)))(t); n != 0 {
		t.Errorf("dropped %d bodies received after the cutoff", n)
	}
	if n := must(s.DropRawBodies(ctx, time.Now().Add(time.Hour)))(t); n != 2 {
		t.Errorf("dropped %d bodies, want the 2 projected ones", n)
	}
	pending := must(s.PendingEvents(ctx, a.ID, 10))(t)
	if len(pending) != 1 || pending[0].Body == nil {
		t.Fatalf("the unprojected event lost its body: %+v", pending)
	}
	want := digest(t, s, a.ID)
	check(t, s.ResetGraph(ctx, a.ID))
	project(t, s, 10)
	if n := must(s.DropRawBodies(ctx, time.Now().Add(time.Hour)))(t); n != 1 {
		t.Errorf("dropped %d bodies, want 1", n)
	}
	// Still rebuildable without bodies.
	check(t, s.ResetGraph(ctx, a.ID))
	project(t, s, 10)
	all := scenario()[:3]
	ref, _ := customer(t, s, "Reference")
	appendMutations(t, s, ref.ID, all, "r")
	project(t, s, 10)
	if got := digest(t, s, a.ID); got != digest(t, s, ref.ID) || want == emptyDigest {
		t.Errorf("graph rebuilt without raw bodies differs from a reference")
	}
}

// idsOf returns the Jira ids of nodes, sorted.
func idsOf(ns []*cogniscape.Node) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.Key.ID)
	}
	sort.Strings(out)
	return out
}

// Callers racing to create the first customer of an empty store (replicas
// starting together) create exactly one between them; later calls none.
func testFirstCustomer(t *testing.T, s cogniscape.Store) {
	ctx := context.Background()
	const callers = 8
	var wg sync.WaitGroup
	got := make([]*cogniscape.Customer, callers)
	creds := make([]cogniscape.Credentials, callers)
	errs := make([]error, callers)
	for i := range callers {
		wg.Go(func() { got[i], creds[i], errs[i] = s.CreateFirstCustomer(ctx, "Default") })
	}
	wg.Wait()
	var created []int
	for i := range callers {
		if errs[i] != nil {
			t.Fatalf("CreateFirstCustomer: %v", errs[i])
		}
		if got[i] != nil {
			created = append(created, i)
		}
	}
	if len(created) != 1 {
		t.Fatalf("%d of %d racing callers created a first customer, want exactly 1", len(created), callers)
	}
	first := got[created[0]]
	if id, sec, _, err := s.JiraSecret(ctx, first.Key); err != nil || id != first.ID || string(sec) != creds[created[0]].JiraSecret {
		t.Fatalf("first customer's secret: %d %q %v", id, sec, err)
	}
	if c, err := s.CustomerByAPIToken(ctx, creds[created[0]].APIToken); err != nil || c.ID != first.ID {
		t.Fatalf("first customer's API token: %+v %v", c, err)
	}
	if c, _, err := s.CreateFirstCustomer(ctx, "Default"); err != nil || c != nil {
		t.Fatalf("CreateFirstCustomer on a store with a customer = %+v, %v; want none", c, err)
	}
	if list := must(s.Customers(ctx))(t); len(list) != 1 {
		t.Fatalf("%d customers, want 1", len(list))
	}
	_, _, err := s.CreateFirstCustomer(ctx, "")
	wantCode(t, "CreateFirstCustomer without a name", err, cogniscape.EINVALID)
}

// A store that caches secrets (cogniscape.SecretCache) appends a delivery
// authenticated with a cached secret only while that secret is current,
// whoever rotated it; deliveries of other customers in the same group
// commit are unaffected.
func testCachedSecretVersions(t *testing.T, s cogniscape.Store) {
	cache, ok := s.(cogniscape.SecretCache)
	if !ok {
		t.Skip("this store reads the secret on every request")
	}
	ctx := context.Background()
	a, credsA, err := s.CreateCustomer(ctx, "A")
	check(t, err)
	b, _, err := s.CreateCustomer(ctx, "B")
	check(t, err)
	if _, _, _, ok := cache.CachedJiraSecret(a.Key); ok {
		t.Fatal("a secret is cached before anything read it")
	}
	for _, c := range []*cogniscape.Customer{a, b} {
		_, _, _, err := s.JiraSecret(ctx, c.Key)
		check(t, err)
	}
	id, sec, versionA, ok := cache.CachedJiraSecret(a.Key)
	if !ok || id != a.ID || string(sec) != credsA.JiraSecret || versionA == "" {
		t.Fatalf("cached secret of A: %d %q %q %v", id, sec, versionA, ok)
	}
	_, _, versionB, _ := cache.CachedJiraSecret(b.Key)
	event := func(c *cogniscape.Customer, version string, i int) *cogniscape.Event {
		return &cogniscape.Event{CustomerID: c.ID, ReceivedAt: time.Now(), Source: "jira", Type: "jira:issue_updated",
			DedupKey: fmt.Sprint("cached-", i), Timestamp: time.Now(), Body: []byte(`{}`), SecretVersion: version}
	}
	if _, err := s.Append(ctx, event(a, versionA, 0), 2); err != nil {
		t.Fatalf("append with the current cached secret: %v", err)
	}
	must(s.RotateJiraSecret(ctx, a.Key))(t)
	var wg sync.WaitGroup
	errsA, errsB := make([]error, 10), make([]error, 10)
	for i := range 10 {
		wg.Go(func() { _, errsA[i] = s.Append(ctx, event(a, versionA, i+1), 2) })
		wg.Go(func() { _, errsB[i] = s.Append(ctx, event(b, versionB, i+1), 2) })
	}
	wg.Wait()
	for i := range 10 {
		wantCode(t, "append with a rotated-away secret", errsA[i], cogniscape.ECONFLICT)
		if errsB[i] != nil {
			t.Fatalf("another customer's append failed beside a refused one: %v", errsB[i])
		}
	}
	// A retry of a stored delivery with the old secret is refused too.
	_, err = s.Append(ctx, event(a, versionA, 0), 2)
	wantCode(t, "duplicate with a rotated-away secret", err, cogniscape.ECONFLICT)
	if got := must(s.Deliveries(ctx, a.ID, cogniscape.DeliveryFilter{Limit: 100}))(t); len(got) != 1 {
		t.Fatalf("A's delivery log holds %d rows, want only the one before the rotation", len(got))
	}
	if got := must(s.Deliveries(ctx, b.ID, cogniscape.DeliveryFilter{Limit: 100}))(t); len(got) != 10 {
		t.Fatalf("B's delivery log holds %d rows, want 10", len(got))
	}
	// The fresh secret's version, and no version at all, are accepted.
	_, _, _, err = s.JiraSecret(ctx, a.Key)
	check(t, err)
	_, _, versionA2, _ := cache.CachedJiraSecret(a.Key)
	if versionA2 == versionA {
		t.Fatal("the cache kept the old version after a fresh read")
	}
	if _, err := s.Append(ctx, event(a, versionA2, 20), 2); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, event(a, "", 21), 2); err != nil {
		t.Fatal(err)
	}
}
