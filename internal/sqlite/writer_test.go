package sqlite

import (
	"context"
	"database/sql"
	"sync"
	"testing"
	"time"

	"github.com/cogniscape/cogniscape"
)

// When the store itself fails (here: another process holds the write lock
// past the busy timeout), a group's jobs hear so at once. Retried one by one
// they would each wait the whole timeout again: minutes for a large group
// under the default timeout.
func TestStoreFailureAnswersTheGroupAtOnce(t *testing.T) {
	defer func(d time.Duration) { busyTimeout = d }(busyTimeout)
	busyTimeout = 50 * time.Millisecond
	db, customerID := openWithCustomer(t, nil)
	ctx := context.Background()

	other, err := sql.Open("sqlite", "file:"+db.Path+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	lock, err := other.BeginTx(ctx, nil) // holds the write lock
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback()

	before := db.attempts.Load()
	errs := make([]error, 6)
	var wg sync.WaitGroup
	wg.Go(func() { _, errs[0] = db.Append(ctx, testEvent(customerID, "0"), 10) })
	time.Sleep(10 * time.Millisecond) // the writer now waits on the lock for the first
	for i := 1; i < len(errs); i++ {
		wg.Go(func() { _, errs[i] = db.Append(ctx, testEvent(customerID, string(rune('0'+i))), 10) })
	}
	wg.Wait()
	for i, err := range errs {
		if cogniscape.ErrorCode(err) != cogniscape.EUNAVAILABLE {
			t.Errorf("append %d: %v, want EUNAVAILABLE", i, err)
		}
	}
	if n := db.attempts.Load() - before; n > 4 {
		t.Errorf("the writer tried %d transactions for 6 appends in at most a few groups", n)
	}
	lock.Rollback()
	if _, err := db.Append(ctx, testEvent(customerID, "after"), 10); err != nil {
		t.Errorf("append once the lock is free: %v", err)
	}
}
