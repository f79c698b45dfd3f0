package sqlite

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cogniscape/cogniscape"
)

// A secret cached by the server and rotated by another process (the tenant
// CLI, here a second handle on the same file) authenticates nothing more:
// the append it authenticated is refused in the storing transaction, and
// deliveries of other customers in the same group commit are unaffected.
func TestCachedSecretRotatedElsewhere(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	key := make([]byte, 32)
	server, err := Open(dir, key)
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	cli, err := Open(dir, key)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()

	a, credsA, err := server.CreateCustomer(ctx, "A")
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := server.CreateCustomer(ctx, "B")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, ok := server.CachedJiraSecret(a.Key); ok {
		t.Fatal("a secret is cached before anything read it")
	}
	if _, _, err := server.JiraSecret(ctx, a.Key); err != nil {
		t.Fatal(err)
	}
	if _, _, err := server.JiraSecret(ctx, b.Key); err != nil {
		t.Fatal(err)
	}
	idA, secretA, versionA, ok := server.CachedJiraSecret(a.Key)
	if !ok || idA != a.ID || string(secretA) != credsA.JiraSecret || versionA == "" {
		t.Fatalf("cached secret of A: %d %q %q %v", idA, secretA, versionA, ok)
	}
	_, _, versionB, _ := server.CachedJiraSecret(b.Key)

	event := func(customer int64, version string, i int) *cogniscape.Event {
		return &cogniscape.Event{CustomerID: customer, ReceivedAt: time.Now(), Source: "jira", Type: "jira:issue_updated",
			DedupKey: fmt.Sprint(customer, "-", i), Timestamp: time.Now(), Body: []byte(`{}`), SecretVersion: version}
	}
	if _, err := server.Append(ctx, event(a.ID, versionA, 0), 2); err != nil {
		t.Fatalf("append with the current cached secret: %v", err)
	}

	if _, err := cli.RotateJiraSecret(ctx, a.Key); err != nil {
		t.Fatal(err)
	}
	if _, _, v, _ := server.CachedJiraSecret(a.Key); v != versionA {
		t.Fatal("test premise: the server's cache cannot know of the other process's rotation")
	}
	// Concurrent appends share commits: A's stale ones fail, B's succeed.
	var wg sync.WaitGroup
	errsA, errsB := make([]error, 20), make([]error, 20)
	for i := range 20 {
		wg.Go(func() { _, errsA[i] = server.Append(ctx, event(a.ID, versionA, i+1), 2) })
		wg.Go(func() { _, errsB[i] = server.Append(ctx, event(b.ID, versionB, i+1), 2) })
	}
	wg.Wait()
	for i := range 20 {
		wantCode(t, "append with the rotated secret", errsA[i], cogniscape.ECONFLICT)
		if errsB[i] != nil {
			t.Fatalf("another customer's append failed beside a stale one: %v", errsB[i])
		}
	}
	var storedA, deliveriesA, storedB int
	server.read.QueryRow(`SELECT count(*) FROM events WHERE customer_id = ?`, a.ID).Scan(&storedA)
	server.read.QueryRow(`SELECT count(*) FROM deliveries WHERE customer_id = ?`, a.ID).Scan(&deliveriesA)
	server.read.QueryRow(`SELECT count(*) FROM events WHERE customer_id = ?`, b.ID).Scan(&storedB)
	if storedA != 1 || deliveriesA != 1 || storedB != 20 {
		t.Fatalf("stored A %d (deliveries %d), B %d; want 1 (1), 20", storedA, deliveriesA, storedB)
	}
	// A fresh read (what the server does after the refusal) has the new secret.
	if _, s, _ := server.JiraSecret(ctx, a.Key); string(s) == credsA.JiraSecret {
		t.Fatal("fresh read returned the rotated-away secret")
	}
	if _, _, v, _ := server.CachedJiraSecret(a.Key); v == versionA {
		t.Fatal("the cache still holds the old version after a fresh read")
	}
	// Appends without a version (authenticated on a fresh read) are not checked.
	if _, err := server.Append(ctx, event(a.ID, "", 99), 2); err != nil {
		t.Fatal(err)
	}
	// A rotation in this process forgets the cached secret at once.
	if _, err := server.RotateJiraSecret(ctx, b.Key); err != nil {
		t.Fatal(err)
	}
	if _, _, _, ok := server.CachedJiraSecret(b.Key); ok {
		t.Fatal("rotated secret still cached")
	}
}
