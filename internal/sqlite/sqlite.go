// Package sqlite implements Cogniscape's storage on an embedded SQLite file
// (modernc.org/sqlite, pure Go). Writes of the whole process go through one
// writer goroutine that groups concurrent appends into shared transactions
// (group commit), so that every acknowledged event is fsynced without paying
// one fsync per request.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cogniscape/cogniscape"
	"github.com/cogniscape/cogniscape/internal/secret"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migration/*.sql
var migrations embed.FS

// FileName is the database file inside the data directory.
const FileName = "cogniscape.db"

// maxBatch bounds how many queued writes share one transaction.
const maxBatch = 512

// busyTimeout is how long a statement waits for a lock another process
// holds (the tenant CLI writing the same file) before it fails; tests
// shorten it.
var busyTimeout = 10 * time.Second

// The WAL starts over once it holds walRestartFrames pages (64 MiB) and the
// background checkpointer has left at most walRestartBacklog (8 MiB) for the
// writer to copy; after a longer stall it is truncated back to walSizeLimit
// when it starts over.
const (
	walRestartFrames  = 16384
	walRestartBacklog = 2048
	walSizeLimit      = 128 << 20
)

// DB is the SQLite store. It implements cogniscape.CustomerService and
// cogniscape.EventLog.
type DB struct {
	Path string
	// Now is the clock; tests may replace it before use.
	Now func() time.Time
	// RawRetention is how long raw bodies are kept after projection; 0 drops
	// them in the projecting transaction.
	RawRetention time.Duration

	write *sql.DB // used by the writer goroutine only
	read  *sql.DB // a pool of query-only connections

	writeStmts, readStmts *stmtCache
	ckpt                  *sql.DB // checkpoints the WAL into the database file
	box                   *secret.Box

	wal         *walSyncer    // makes commits durable before their jobs are answered
	jobs        chan writeJob // acknowledgement-bound writes, grouped into shared commits
	background  chan writeJob // projection and maintenance, one per transaction
	stop        chan struct{}
	stopped     chan struct{} // closed when the writer has drained and stopped
	ckptStopped chan struct{} // closed when the checkpointer has stopped
	closeMu     sync.Once

	secrets secret.Cache // decrypted webhook secrets, checked where events are stored

	walFrames, walBacklog atomic.Int64 // as the checkpointer last saw them
	attempts              atomic.Int64 // transactions the writer began or tried to
	walRestartFrames      int64        // walRestartFrames; tests lower it
	checkpointEvery       time.Duration
}

// Open opens (creating it if needed) the database in dir, applies the
// migrations and starts the writer. masterKey encrypts customer secrets.
func Open(dir string, masterKey []byte) (*DB, error) {
	return open(dir, masterKey, nil)
}

// open is Open with a hook that may adjust the store before its goroutines
// start (tests).
func open(dir string, masterKey []byte, configure func(*DB)) (*DB, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	box, err := secret.NewBox(masterKey)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, FileName)
	// Create the file ourselves so that it, and the WAL SQLite derives from
	// its mode, are readable by the owner only.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create database: %w", err)
	}
	f.Close()
	// SQLite keeps its WAL beside the file a symbolic link points to; the
	// syncer must fsync that WAL, not a file of the same name here.
	if path, err = filepath.EvalSymlinks(path); err != nil {
		return nil, fmt.Errorf("resolve database path: %w", err)
	}
	// _txlock=immediate takes the write lock at BEGIN, avoiding lock-upgrade
	// deadlocks with other processes (the tenant CLI) writing the same file.
	dsn := "file:" + path + fmt.Sprintf("?_pragma=busy_timeout(%d)", busyTimeout.Milliseconds()) + "&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_txlock=immediate"
	// The writer's commits do not wait for the disk (synchronous=NORMAL): the
	// syncer fsyncs the WAL after each commit, beside the writer, and only
	// then answers the commit's jobs (walSyncer), so an acknowledged event
	// survives a power cut as with synchronous=FULL. The writer never
	// checkpoints either: a checkpoint inside a commit would stall every
	// acknowledgement waiting on it. A background goroutine does it instead,
	// on its own connection, concurrently with the writer.
	write, err := sql.Open("sqlite", dsn+"&_pragma=synchronous(NORMAL)&_pragma=wal_autocheckpoint(0)"+fmt.Sprintf("&_pragma=journal_size_limit(%d)", walSizeLimit))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	// Only the writer goroutine begins transactions on this pool. The second
	// connection lets the statement cache prepare a statement while the
	// writer holds the first (database/sql then re-prepares it on the
	// writer's connection once, and keeps it).
	write.SetMaxOpenConns(2)
	write.SetConnMaxIdleTime(0)
	write.SetConnMaxLifetime(0)
	read, err := sql.Open("sqlite", dsn+"&_pragma=query_only(1)")
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	read.SetMaxOpenConns(8)
	read.SetMaxIdleConns(8)
	db := &DB{
		Path: path, Now: time.Now, RawRetention: 7 * 24 * time.Hour, write: write, read: read, box: box,
		jobs: make(chan writeJob, 4096), background: make(chan writeJob), stop: make(chan struct{}), stopped: make(chan struct{}), ckptStopped: make(chan struct{}),
		walRestartFrames: walRestartFrames, checkpointEvery: 500 * time.Millisecond, wal: newWALSyncer(path),
	}
	db.writeStmts, db.readStmts = newStmtCache(write), newStmtCache(read)
	if err := errors.Join(db.migrate(context.Background()), db.syncNow()); err != nil {
		write.Close()
		read.Close()
		return nil, err
	}
	if db.ckpt, err = sql.Open("sqlite", dsn+"&_pragma=synchronous(FULL)"); err != nil {
		write.Close()
		read.Close()
		return nil, err
	}
	db.ckpt.SetMaxOpenConns(1)
	if configure != nil {
		configure(db)
	}
	go db.wal.run()
	go db.runWriter()
	go db.runCheckpointer()
	return db, nil
}

var _ cogniscape.Store = (*DB)(nil)

// SetRawRetention sets how long raw bodies are kept after projection.
func (db *DB) SetRawRetention(d time.Duration) { db.RawRetention = d }

// Close stops the writer after the queued writes and closes the database.
func (db *DB) Close() error {
	db.closeMu.Do(func() {
		close(db.stop)
		<-db.stopped
		<-db.ckptStopped
		db.wal.close()
		db.writeStmts.close()
		db.readStmts.close()
	})
	if err := db.wal.err(); err != nil {
		// SQLite checkpoints when its last connection closes: after a failed
		// fsync that would copy WAL frames that may never have reached the
		// disk into the database file. Leave the connections to the process's
		// exit; the next start recovers from what the disk holds.
		return nil
	}
	return errors.Join(db.read.Close(), db.write.Close(), db.ckpt.Close())
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.wal.err(); err != nil {
		return unavailable("ping", err)
	}
	var one int
	if err := db.queryRow(ctx, `SELECT 1 FROM customers LIMIT 1`).Scan(&one); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return unavailable("ping", err)
	}
	return nil
}

func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	names, err := fs.Glob(migrations, "migration/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	if err := db.checkNotNewer(ctx, names); err != nil {
		return err
	}
	for _, name := range names {
		if err := db.applyMigration(ctx, name); err != nil {
			return fmt.Errorf("migrate %s: %w", name, err)
		}
	}
	return nil
}

// checkNotNewer refuses a database a newer release has migrated: this one
// would read and write tables whose meaning it does not know.
func (db *DB) checkNotNewer(ctx context.Context, known []string) error {
	rows, err := db.write.QueryContext(ctx, `SELECT name FROM schema_migrations ORDER BY name`)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if !slices.Contains(known, name) {
			return fmt.Errorf("the database was migrated by a newer release of cogniscape (it has %s): run that release or a later one", strings.TrimPrefix(name, "migration/"))
		}
	}
	return rows.Err()
}

// MigrationNames lists the embedded migrations in the order they apply.
func MigrationNames() []string {
	names, _ := fs.Glob(migrations, "migration/*.sql")
	sort.Strings(names)
	for i := range names {
		names[i] = strings.TrimPrefix(names[i], "migration/")
	}
	return names
}

func (db *DB) applyMigration(ctx context.Context, name string) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE name = ?`, name).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	script, err := migrations.ReadFile(name)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, string(script)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)`, name, time.Now().UnixMilli()); err != nil {
		return err
	}
	return tx.Commit()
}

// writeJob is one unit of work for the writer: fn runs in a shared
// transaction; done receives its error, or the commit's. fn gets the
// writer's context, never its caller's: a queued job runs to the end even
// if its caller gives up (a statement interrupted by one caller's context
// would roll back every job sharing the transaction), and a statement run
// without a cancellable context costs the driver no watcher goroutine.
type writeJob struct {
	fn   func(ctx context.Context, tx *sql.Tx) error
	done chan error
	// secret, when set, is the customer secret version the job's delivery
	// was authenticated with: fn runs only if it is still current.
	secret *secretCheck
}

type secretCheck struct {
	customerID int64
	version    string
}

// secretVersions are customers' current secret versions, read once per
// group commit. They are read under the write lock, in the transaction that
// stores the deliveries: a rotation committed by any process before it
// refuses what the old secret authenticated.
type secretVersions map[int64]string

func (v secretVersions) current(ctx context.Context, db *DB, tx *sql.Tx, check *secretCheck) (bool, error) {
	version, seen := v[check.customerID]
	if !seen {
		var sealed []byte
		err := db.txQueryRow(ctx, tx, `SELECT secret_enc FROM customers WHERE id = ?`, check.customerID).Scan(&sealed)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return false, err
		}
		version = string(sealed)
		v[check.customerID] = version
	}
	return version == check.version, nil
}

// errStaleSecret refuses a delivery authenticated with a cached secret that
// was rotated away before the delivery could be stored.
var errStaleSecret = cogniscape.Errorf(cogniscape.ECONFLICT, "customer secret changed")

// exec queues fn for the writer and waits until its transaction is durable.
func (db *DB) exec(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	return db.execChecked(ctx, nil, fn)
}

// execChecked is exec for a job that runs only while check's secret
// version is current; otherwise it fails with errStaleSecret.
func (db *DB) execChecked(ctx context.Context, check *secretCheck, fn func(ctx context.Context, tx *sql.Tx) error) error {
	job := writeJob{fn: fn, done: make(chan error, 1), secret: check}
	select {
	case db.jobs <- job:
	case <-db.stop:
		return cogniscape.Errorf(cogniscape.EUNAVAILABLE, "store is closing")
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once queued, the job runs even if ctx ends, so wait for it: the caller
	// must not report failure for something that may have been stored.
	return db.await(job)
}

// await waits for a queued job's answer. A job that slipped into the queue
// after the writer drained it on Close never runs: once the syncer has
// answered everything the writer handed it, no answer is coming.
func (db *DB) await(job writeJob) error {
	select {
	case err := <-job.done:
		return err
	case <-db.wal.done:
		select {
		case err := <-job.done:
			return err
		default:
			return cogniscape.Errorf(cogniscape.EUNAVAILABLE, "store is closing")
		}
	}
}

func (db *DB) runWriter() {
	defer close(db.stopped)
	var nextBackground time.Time
	runBackground := func(j writeJob) {
		start := time.Now()
		db.commit([]writeJob{j}, false)
		db.restartWAL() // projection catching up keeps the writer busy too
		// While webhooks keep the writer busy, background work gets at most
		// a quarter of its time.
		nextBackground = time.Now().Add(3 * time.Since(start))
	}
	for {
		var first writeJob
		select {
		case first = <-db.jobs:
		default:
			// Nothing acknowledgement-bound is waiting: background work may go.
			select {
			case first = <-db.jobs:
			case j := <-db.background:
				runBackground(j)
				continue
			case <-db.stop:
				db.drainOnStop()
				return
			}
		}
		batch := []writeJob{first}
	drain:
		for len(batch) < maxBatch {
			select {
			case j := <-db.jobs:
				batch = append(batch, j)
			default:
				break drain
			}
		}
		db.commit(batch, true)
		db.restartWAL()
		// Under sustained webhook load the foreground queue never empties;
		// let background work through now and then so projection keeps
		// moving.
		if time.Now().After(nextBackground) {
			select {
			case j := <-db.background:
				runBackground(j)
			default:
			}
		}
	}
}

// restartWAL lets the WAL start over from its beginning once it has grown
// past walRestartFrames. SQLite restarts the WAL only when a write
// transaction begins with every frame already copied into the database,
// which the background checkpointer never quite achieves while webhooks
// keep the writer busy: the WAL then grows without bound, and every commit
// extends the file. When the background checkpointer has nearly caught up,
// the writer copies the short remainder itself, between two commits.
func (db *DB) restartWAL() {
	if db.walFrames.Load() < db.walRestartFrames || db.walBacklog.Load() > walRestartBacklog || db.wal.err() != nil {
		return
	}
	db.walFrames.Store(0) // until the checkpointer measures again
	db.checkpointOn(db.write)
}

// runCheckpointer copies the WAL into the database file every half second,
// passively: it never waits for, nor blocks, the writer.
//
// A checkpoint copies WAL frames into the database file, which is safe only
// while the WAL is known to be on disk: after a failed fsync (here, in the
// syncer or in the writer's restartWAL) the store stops checkpointing for
// good. Otherwise, after a crash, recovery would replay the shorter WAL the
// disk kept over database pages newer than it.
func (db *DB) runCheckpointer() {
	defer close(db.ckptStopped)
	t := time.NewTicker(db.checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-db.stop:
			return
		case <-t.C:
			if !db.checkpoint() {
				return
			}
		}
	}
}

// checkpoint runs one passive checkpoint and reports whether the store may
// go on checkpointing. Its connection syncs the WAL before copying frames,
// as far as they existed then, so it never copies frames that are not on
// disk: should that sync fail, the store fails.
func (db *DB) checkpoint() bool {
	if db.wal.err() != nil {
		return false
	}
	frames, backfilled, ok := db.checkpointOn(db.ckpt)
	if ok {
		db.walFrames.Store(frames)
		db.walBacklog.Store(frames - backfilled)
	}
	return db.wal.err() == nil
}

// checkpointOn runs a passive checkpoint on conn and returns the WAL's
// frames and how many are in the database file. An I/O error fails the
// store, as a failed fsync does; anything else (a busy reader) is left for
// the next checkpoint.
func (db *DB) checkpointOn(conn *sql.DB) (frames, backfilled int64, ok bool) {
	var busy int64
	err := conn.QueryRow(`PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &backfilled)
	if isIOError(err) {
		db.wal.fail(fmt.Errorf("checkpoint: %w", err))
	}
	return frames, backfilled, err == nil
}

// drainOnStop finishes what was queued before Close.
func (db *DB) drainOnStop() {
	for {
		select {
		case j := <-db.jobs:
			db.commit([]writeJob{j}, false)
		case j := <-db.background:
			db.commit([]writeJob{j}, false)
		default:
			return
		}
	}
}

// execBackground is exec for work nobody is waiting to acknowledge
// (projection, maintenance): it yields to webhook appends.
func (db *DB) execBackground(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	job := writeJob{fn: fn, done: make(chan error, 1)}
	select {
	case db.background <- job:
	case <-db.stop:
		return cogniscape.Errorf(cogniscape.EUNAVAILABLE, "store is closing")
	case <-ctx.Done():
		return ctx.Err()
	}
	return db.await(job)
}

// commit runs the batch in one transaction, so that its jobs share one
// fsync, and hands it to the syncer, which answers the jobs once the commit
// is on disk. With absorb, jobs that arrive while the syncer is still busy
// with the previous commit join the transaction: they would only wait
// otherwise. Should one job fail, the transaction is rolled back and every
// job runs again in a transaction of its own: a bad job fails alone, and no
// job pays for per-job savepoints in the common case. Should the store fail
// instead (no transaction, no commit), every job hears so at once: alone,
// each would only fail again after the same wait.
func (db *DB) commit(batch []writeJob, absorb bool) {
	jobs, errs, ok, jobFailed := db.tryTogether(batch, absorb)
	if ok {
		db.wal.queue <- syncedBatch{jobs, errs}
		return
	}
	if len(jobs) == 1 || !jobFailed {
		for i, j := range jobs {
			j.done <- orUnavailable(errs[i])
		}
		return
	}
	for i, j := range jobs {
		one, errs, ok, jobFailed := db.tryTogether([]writeJob{j}, false)
		if ok {
			db.wal.queue <- syncedBatch{one, errs}
			continue
		}
		j.done <- orUnavailable(errs[0])
		if !jobFailed {
			for _, rest := range jobs[i+1:] {
				rest.done <- orUnavailable(errs[0])
			}
			return
		}
	}
}

func orUnavailable(err error) error {
	if err == nil {
		return cogniscape.Errorf(cogniscape.EUNAVAILABLE, "storage unavailable")
	}
	return err
}

// tryTogether runs jobs in one transaction and commits it, once the syncer
// is idle, if every job succeeded; with absorb it runs the jobs that arrive
// meanwhile too, up to maxBatch. It returns every job it ran and, when ok,
// keeps the syncer's token for them. It reports ok=false, having rolled
// back, if any job or the commit failed; errs then holds what is known of
// each job's failure, and jobFailed whether a job's own work failed rather
// than the store.
func (db *DB) tryTogether(jobs []writeJob, absorb bool) (_ []writeJob, errs []error, ok, jobFailed bool) {
	db.attempts.Add(1)
	errs = make([]error, len(jobs))
	fail := func(err error) ([]writeJob, []error, bool, bool) {
		for i := range errs {
			errs[i] = err
		}
		return jobs, errs, false, false
	}
	if err := db.wal.err(); err != nil {
		return fail(unavailable("write", err))
	}
	ctx := context.Background()
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fail(unavailable("begin", err))
	}
	secrets := secretVersions{}
	// run runs jobs[i]; false means it failed and tx is rolled back.
	run := func(i int) bool {
		if j := jobs[i]; j.secret != nil {
			current, err := secrets.current(ctx, db, tx, j.secret)
			if err != nil {
				tx.Rollback()
				fail(unavailable("check secret", err))
				return false
			}
			if !current {
				errs[i] = errStaleSecret
				return true
			}
		}
		if errs[i] = jobs[i].fn(ctx, tx); errs[i] != nil {
			tx.Rollback()
			if storeFailure(errs[i]) {
				fail(errs[i])
			} else {
				jobFailed = true
			}
			return false
		}
		return true
	}
	for i := range jobs {
		if !run(i) {
			return jobs, errs, false, jobFailed
		}
	}
	for waiting := true; waiting; {
		var more chan writeJob // nil: wait for the syncer only
		if absorb && len(jobs) < maxBatch {
			more = db.jobs
		}
		select {
		case <-db.wal.idle:
			waiting = false
		case j := <-more:
			jobs, errs = append(jobs, j), append(errs, nil)
			if !run(len(jobs) - 1) {
				return jobs, errs, false, jobFailed
			}
		}
	}
	if err := tx.Commit(); err != nil {
		db.wal.idle <- struct{}{}
		tx.Rollback()
		return fail(unavailable("commit", err))
	}
	return jobs, errs, true, false
}

// unavailable wraps a driver failure as EUNAVAILABLE, keeping the cause for
// logs. Domain errors pass through unchanged.
func unavailable(op string, err error) error {
	var e *cogniscape.Error
	if errors.As(err, &e) {
		return err
	}
	return &cogniscape.Error{Code: cogniscape.EUNAVAILABLE, Message: "storage unavailable", Err: fmt.Errorf("%s: %w", op, err)}
}

// storeFailure reports whether err says the database failed (a lock held
// elsewhere, I/O, a full disk) rather than that a job's own work did.
func storeFailure(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL, sqlite3.SQLITE_NOMEM,
		sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_CANTOPEN:
		return true
	}
	return false
}

// isIOError reports whether err is SQLite's report of a failed read, write
// or fsync.
func isIOError(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_IOERR
}

// isUniqueViolation reports whether err is a UNIQUE or PRIMARY KEY conflict.
func isUniqueViolation(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		code := se.Code()
		return code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }
