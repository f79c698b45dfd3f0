package sqlite

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cogniscape/cogniscape"
)

// Under a continuous stream of appends the WAL starts over instead of
// growing with everything ever written: the writer finishes the background
// checkpointer's work between two commits once the WAL is past its limit.
func TestWALStaysBoundedUnderSustainedAppends(t *testing.T) {
	const restartFrames = 500 // 2 MB of 4 KB pages
	db, customerID := openWithCustomer(t, func(db *DB) {
		db.walRestartFrames = restartFrames
		db.checkpointEvery = 10 * time.Millisecond
	})
	ctx := context.Background()
	body := bytes.Repeat([]byte(`{"webhookEvent":"jira:issue_updated"} `), 180) // 7 KB
	const events = 6000                                                         // about 60 MB through the WAL
	var next atomic.Int64
	var peak atomic.Int64
	stopWatch := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for {
			if info, err := os.Stat(db.Path + "-wal"); err == nil && info.Size() > peak.Load() {
				peak.Store(info.Size())
			}
			select {
			case <-stopWatch:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for i := next.Add(1); i <= events; i = next.Add(1) {
				ev := &cogniscape.Event{CustomerID: customerID, ReceivedAt: time.Now(), Source: "jira", Type: "jira:issue_updated",
					DedupKey: fmt.Sprint(i), Timestamp: time.Now(), Body: body}
				if _, err := db.Append(ctx, ev, len(body)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(stopWatch)
	<-watched
	// Without restarts the WAL would hold every page written: over 60 MB.
	if limit := int64(8 * restartFrames * 4096); peak.Load() > limit {
		t.Fatalf("WAL grew to %d MB under sustained appends; want it to start over near %d MB", peak.Load()>>20, restartFrames*4096>>20)
	}
}

// A database a newer release migrated is refused, not written to by a
// release that does not know what its tables mean.
func TestRefusesADatabaseFromANewerRelease(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.write.Exec(`INSERT INTO schema_migrations (name, applied_at) VALUES ('migration/9999_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Open(dir, make([]byte, 32)); err == nil || !strings.Contains(err.Error(), "newer release") {
		t.Fatalf("open after a newer release's migration: %v", err)
	}
}
