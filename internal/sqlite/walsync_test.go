package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cogniscape/cogniscape"
)

// openWithCustomer opens a store in a new directory (configure as for open)
// with one customer, closed when the test ends.
func openWithCustomer(t *testing.T, configure func(*DB)) (*DB, int64) {
	t.Helper()
	db, err := open(t.TempDir(), make([]byte, 32), configure)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c, _, err := db.CreateCustomer(context.Background(), "A")
	if err != nil {
		t.Fatal(err)
	}
	return db, c.ID
}

func testEvent(customerID int64, key string) *cogniscape.Event {
	return &cogniscape.Event{CustomerID: customerID, ReceivedAt: time.Now(), Source: "jira", Type: "jira:issue_updated",
		DedupKey: key, Timestamp: time.Now(), Body: []byte(`{"webhookEvent":"jira:issue_updated"}`)}
}

// An append is answered only once the WAL holding its commit is on disk,
// although the commit itself (visible to readers) comes first.
func TestAppendWaitsForTheWALOnDisk(t *testing.T) {
	var armed atomic.Bool
	release := make(chan struct{})
	db, customerID := openWithCustomer(t, func(db *DB) {
		db.wal.flush = func(f *os.File) error {
			if armed.Load() {
				<-release
			}
			return fdatasync(f)
		}
	})
	ctx := context.Background()
	armed.Store(true)
	answered := make(chan error, 1)
	go func() {
		_, err := db.Append(ctx, testEvent(customerID, "1"), 10)
		answered <- err
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		if err := db.queryRow(ctx, `SELECT count(*) FROM events`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the append was never committed")
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case err := <-answered:
		t.Fatalf("append answered (err %v) before its WAL was synced", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if err := <-answered; err != nil {
		t.Fatal(err)
	}
}

// A failed fsync fails the writes it was to make durable and every write
// after it: the kernel may have dropped what it could not write, so no
// later fsync proves anything until the process restarts.
func TestFailedSyncFailsTheStore(t *testing.T) {
	fail := make(chan bool, 1)
	calls := 0
	db, customerID := openWithCustomer(t, func(db *DB) {
		db.wal.flush = func(f *os.File) error {
			calls++
			if len(fail) > 0 && <-fail {
				return errors.New("input/output error")
			}
			return fdatasync(f)
		}
	})
	ctx := context.Background()
	if err := db.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	fail <- true
	if _, err := db.Append(ctx, testEvent(customerID, "1"), 10); cogniscape.ErrorCode(err) != cogniscape.EUNAVAILABLE {
		t.Fatalf("append whose fsync failed: err %v, want EUNAVAILABLE", err)
	}
	before := calls
	if _, err := db.Append(ctx, testEvent(customerID, "2"), 10); cogniscape.ErrorCode(err) != cogniscape.EUNAVAILABLE {
		t.Fatalf("append after a failed fsync: err %v, want EUNAVAILABLE", err)
	}
	if calls != before {
		t.Fatal("the store synced again after a failed fsync")
	}
	if err := db.Ping(ctx); cogniscape.ErrorCode(err) != cogniscape.EUNAVAILABLE {
		t.Fatalf("ping after a failed fsync: err %v, want EUNAVAILABLE", err)
	}
}

// After a failed fsync nothing copies the WAL into the database file: not
// the checkpointer, nor SQLite's checkpoint when the last connection
// closes. Frames the disk may have lost must not reach the database file
// ahead of a WAL that recovery would find shorter. (Only the syncer's fsync
// fails here; on a real disk the checkpoint's own sync of the WAL would
// fail too, which is why the checkpointer is driven by hand.)
func TestFailedSyncStopsCheckpoints(t *testing.T) {
	var failing atomic.Bool
	db, customerID := openWithCustomer(t, func(db *DB) {
		db.checkpointEvery = time.Hour
		db.wal.flush = func(f *os.File) error {
			if failing.Load() {
				return errors.New("input/output error")
			}
			return fdatasync(f)
		}
	})
	ctx := context.Background()
	if _, err := db.Append(ctx, testEvent(customerID, "1"), 10); err != nil {
		t.Fatal(err)
	}
	failing.Store(true)
	big := testEvent(customerID, "2")
	big.Body = bytes.Repeat([]byte("x"), 64<<10) // new pages a checkpoint would copy
	if _, err := db.Append(ctx, big, len(big.Body)); cogniscape.ErrorCode(err) != cogniscape.EUNAVAILABLE {
		t.Fatalf("append whose fsync failed: err %v", err)
	}
	before, err := os.ReadFile(db.Path)
	if err != nil {
		t.Fatal(err)
	}
	if db.checkpoint() {
		t.Error("the checkpointer would go on after a failed fsync")
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	after, err := os.ReadFile(db.Path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Errorf("the database file changed after the failed fsync (%d → %d bytes)", len(before), len(after))
	}
	if _, err := os.Stat(db.Path + "-wal"); err != nil {
		t.Errorf("the WAL is gone after Close: %v", err)
	}
}

// Should the WAL file ever be replaced, the syncer syncs the new one.
func TestSyncerFollowsAReplacedWAL(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "x.db")
	if err := os.WriteFile(dbPath+"-wal", []byte("first"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := newWALSyncer(dbPath)
	if err := s.sync(); err != nil {
		t.Fatal(err)
	}
	first := s.file
	if err := os.Remove(dbPath + "-wal"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dbPath+"-wal", []byte("second"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.sync(); err != nil {
		t.Fatal(err)
	}
	held, err1 := s.file.Stat()
	current, err2 := os.Stat(dbPath + "-wal")
	if err := errors.Join(err1, err2); err != nil {
		t.Fatal(err)
	}
	if s.file == first || !os.SameFile(held, current) {
		t.Fatal("the syncer kept syncing the replaced WAL")
	}
	s.file.Close()
}

// A job runs to its end with the writer's context even when its caller
// gives up meanwhile: the caller's context would interrupt the statement
// and roll back every job sharing its transaction.
func TestCallerGivingUpDoesNotInterruptItsJob(t *testing.T) {
	db, customerID := openWithCustomer(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	err := db.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		cancel() // the caller gives up while its job runs
		_, err := db.txExec(ctx, tx, `UPDATE customers SET name = 'B' WHERE id = ?`, customerID)
		return err
	})
	if err != nil {
		t.Fatalf("job whose caller gave up: %v", err)
	}
	var name string
	if err := db.queryRow(context.Background(), `SELECT name FROM customers WHERE id = ?`, customerID).Scan(&name); err != nil || name != "B" {
		t.Fatalf("name %q, err %v; want the job's update kept", name, err)
	}
}

// Appends racing with Close all get an answer: stored before the store
// closed, or refused because it is closing; none waits forever on a job
// queued after the writer drained its queue.
func TestAppendsRacingCloseAllReturn(t *testing.T) {
	for round := range 20 {
		db, err := Open(t.TempDir(), make([]byte, 32))
		if err != nil {
			t.Fatal(err)
		}
		c, _, err := db.CreateCustomer(context.Background(), "A")
		if err != nil {
			t.Fatal(err)
		}
		const appenders = 16
		finished := make(chan error, appenders)
		for a := range appenders {
			go func() {
				// Append until the store refuses: the last ones race Close.
				for i := 0; ; i++ {
					_, err := db.Append(context.Background(), testEvent(c.ID, fmt.Sprint(round, "-", a, "-", i)), 10)
					if err != nil {
						finished <- err
						return
					}
				}
			}()
		}
		time.Sleep(20 * time.Millisecond)
		db.Close()
		for range appenders {
			select {
			case err := <-finished:
				if cogniscape.ErrorCode(err) != cogniscape.EUNAVAILABLE {
					t.Fatalf("append racing Close: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("an append racing Close never returned")
			}
		}
	}
}

// A database file that is a symbolic link has its WAL beside the file it
// points to: that is the WAL the syncer must fsync.
func TestSyncerFollowsASymlinkedDatabase(t *testing.T) {
	real, dir := t.TempDir(), t.TempDir()
	if err := os.Symlink(filepath.Join(real, "elsewhere.db"), filepath.Join(dir, FileName)); err != nil {
		t.Fatal(err)
	}
	// A stale file where the WAL would be without the link.
	if err := os.WriteFile(filepath.Join(dir, FileName+"-wal"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var synced []string
	db, err := open(dir, make([]byte, 32), func(db *DB) {
		db.wal.flush = func(f *os.File) error {
			synced = append(synced, f.Name())
			return fdatasync(f)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c, _, err := db.CreateCustomer(context.Background(), "A")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Append(context.Background(), testEvent(c.ID, "1"), 10); err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(real, "elsewhere.db-wal")
	if len(synced) == 0 || synced[len(synced)-1] != want {
		t.Errorf("synced %v, want %s", synced, want)
	}
}
