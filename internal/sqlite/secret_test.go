package sqlite

import (
	"context"
	"testing"
	"time"

	"github.com/cogniscape/cogniscape"
)

// A secret cached by the server and rotated by another process (the tenant
// CLI, here a second handle on the same file) authenticates nothing more:
// the server's cache cannot know, but the append it authenticated is refused
// in the storing transaction. (The conformance suite covers the rest.)
func TestCachedSecretRotatedByAnotherProcess(t *testing.T) {
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

	c, _, err := server.CreateCustomer(ctx, "A")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := server.JiraSecret(ctx, c.Key); err != nil {
		t.Fatal(err)
	}
	_, _, version, _ := server.CachedJiraSecret(c.Key)
	if _, err := cli.RotateJiraSecret(ctx, c.Key); err != nil {
		t.Fatal(err)
	}
	if _, _, v, _ := server.CachedJiraSecret(c.Key); v != version {
		t.Fatal("test premise: the server's cache cannot know of the other process's rotation")
	}
	ev := &cogniscape.Event{CustomerID: c.ID, ReceivedAt: time.Now(), Source: "jira", Type: "jira:issue_updated",
		DedupKey: "d1", Timestamp: time.Now(), Body: []byte(`{}`), SecretVersion: version}
	_, err = server.Append(ctx, ev, 2)
	wantCode(t, "append with the secret the other process rotated away", err, cogniscape.ECONFLICT)
	var stored int
	server.read.QueryRow(`SELECT count(*) FROM events`).Scan(&stored)
	if stored != 0 {
		t.Fatalf("%d events stored", stored)
	}
}
