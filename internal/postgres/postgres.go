// Package postgres implements Cogniscape's storage on PostgreSQL
// (github.com/jackc/pgx/v5), so that several identical replicas can share one
// event log and one graph.
//
// Coordination between replicas lives in the database:
//   - duplicates are caught by the UNIQUE (customer_id, dedup_key) constraint;
//   - appends of one customer take a transaction lock, so that log positions
//     increase in commit order and a projector reading past its checkpoint
//     never skips an event committed later with a smaller id;
//   - each customer is projected by one replica at a time: a lease says who,
//     and a transaction lock plus the checkpoint's compare-and-set make every
//     event applied exactly once whatever the leases say;
//   - appends NOTIFY, and Wake LISTENs, so that idle replicas need not poll hard;
//   - secrets and tokens are read from the database on every request, so a
//     rotation on one replica is honoured by all others at once.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/cogniscape/cogniscape"
	"github.com/cogniscape/cogniscape/internal/secret"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migration/*.sql
var migrations embed.FS

// maxBatch bounds how many queued appends share one transaction.
const maxBatch = 512

// leaseTTL is how long a replica may hold a customer's projection without
// renewing it; a replica that dies is replaced within this time.
const leaseTTL = 5 * time.Second

// defaultMaxConns is the pool size unless the DSN sets pool_max_conns.
const defaultMaxConns = 12

// DB is the PostgreSQL store.
type DB struct {
	// Now is the clock; tests may replace it before use.
	Now func() time.Time
	// RawRetention is how long raw bodies are kept after projection; 0 drops
	// them in the projecting transaction.
	RawRetention time.Duration

	pool    *pgxpool.Pool
	connCfg *pgx.ConnConfig
	box     *secret.Box
	schema  string
	channel string // NOTIFY channel of this schema
	holder  string // this instance's name in projection_leases

	// Advisory lock keys of this schema (advisory locks are database-wide).
	appendNS, projectNS uint32

	jobs    chan *appendJob
	stop    chan struct{}
	stopped chan struct{}
	closeMu sync.Once

	secrets secret.Cache // decrypted webhook secrets, checked where events are stored
}

var _ cogniscape.Store = (*DB)(nil)

// Open connects to the database named by dsn (postgres://… or key=value),
// applies the migrations and starts the append writer. masterKey encrypts
// customer secrets; every replica must use the same one.
func Open(ctx context.Context, dsn string, masterKey []byte) (*DB, error) {
	box, err := secret.NewBox(masterKey)
	if err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("database: %w", redactErr(err))
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		cfg.MaxConns = defaultMaxConns
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = "cogniscape"
	}
	if _, err := migrate(ctx, cfg.ConnConfig); err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, unavailable("connect", err)
	}
	db := &DB{
		Now: time.Now, RawRetention: 7 * 24 * time.Hour,
		pool: pool, connCfg: cfg.ConnConfig, box: box,
		jobs: make(chan *appendJob, 4096), stop: make(chan struct{}), stopped: make(chan struct{}),
	}
	if err := pool.QueryRow(ctx, `SELECT coalesce(current_schema(), '')`).Scan(&db.schema); err != nil {
		pool.Close()
		return nil, unavailable("connect", err)
	}
	db.appendNS = lockNamespace("append", db.schema)
	db.projectNS = lockNamespace("project", db.schema)
	db.channel = "cogniscape_events"
	if db.schema != "public" && db.schema != "" {
		db.channel += "_" + fmt.Sprintf("%08x", lockNamespace("channel", db.schema))
	}
	host, _ := os.Hostname()
	db.holder = fmt.Sprintf("%s/%d/%s", host, os.Getpid(), secret.Random(6))
	go db.runWriter()
	return db, nil
}

// Migrate applies the embedded migrations that the database does not have yet
// and returns their names. Replicas starting at once are serialised by an
// advisory lock, so each migration runs exactly once.
func Migrate(ctx context.Context, dsn string) ([]string, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("database: %w", redactErr(err))
	}
	return migrate(ctx, cfg)
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

func migrate(ctx context.Context, cfg *pgx.ConnConfig) ([]string, error) {
	// A connection of its own: the session lock dies with it whatever happens.
	conn, err := pgx.ConnectConfig(ctx, cfg.Copy())
	if err != nil {
		return nil, unavailable("connect", err)
	}
	defer conn.Close(context.Background())
	var schema string
	if err := conn.QueryRow(ctx, `SELECT coalesce(current_schema(), '')`).Scan(&schema); err != nil {
		return nil, unavailable("migrate", err)
	}
	if schema == "" {
		return nil, errors.New("migrate: no schema of the search_path exists in the database")
	}
	// Replicas may run as a role that can read and write the tables but not
	// create any: when nothing is pending, create, lock and change nothing.
	if upToDate, err := migrated(ctx, conn); err != nil {
		return nil, unavailable("migrate", err)
	} else if upToDate {
		return nil, nil
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, lockKey(lockNamespace("migrate", schema), 0)); err != nil {
		return nil, unavailable("migrate: lock", err)
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	var applied []string
	for _, name := range MigrationNames() {
		done, err := applyMigration(ctx, conn, name)
		if err != nil {
			return applied, fmt.Errorf("migrate %s: %w", name, err)
		}
		if done {
			applied = append(applied, name)
		}
	}
	return applied, nil
}

// migrated reports whether every migration of this binary is applied, and
// refuses a database a newer release has migrated: this one would read and
// write tables whose meaning it does not know.
func migrated(ctx context.Context, conn *pgx.Conn) (bool, error) {
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists); err != nil || !exists {
		return false, err
	}
	var pending int
	var unknown string
	err := conn.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM unnest($1::text[]) AS m(name) WHERE m.name NOT IN (SELECT name FROM schema_migrations)),
			coalesce((SELECT min(name) FROM schema_migrations WHERE name <> ALL($1::text[])), '')`,
		MigrationNames()).Scan(&pending, &unknown)
	if err == nil && unknown != "" {
		return false, &cogniscape.Error{Code: cogniscape.EINVALID, Message: "the database was migrated by a newer release of cogniscape (it has " + unknown + "): run that release or a later one"}
	}
	return pending == 0, err
}

func applyMigration(ctx context.Context, conn *pgx.Conn, name string) (bool, error) {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback(context.Background())
	var n int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM schema_migrations WHERE name = $1`, name).Scan(&n); err != nil {
		return false, err
	}
	if n > 0 {
		return false, nil
	}
	script, err := migrations.ReadFile("migration/" + name)
	if err != nil {
		return false, err
	}
	// No arguments: the simple protocol, which runs a multi-statement script.
	if _, err := tx.Exec(ctx, string(script)); err != nil {
		return false, err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES ($1, $2)`, name, time.Now().UnixMilli()); err != nil {
		return false, err
	}
	return true, tx.Commit(ctx)
}

// SetRawRetention sets how long raw bodies are kept after projection.
func (db *DB) SetRawRetention(d time.Duration) { db.RawRetention = d }

// Close finishes the queued appends, gives up this instance's projection
// leases and closes the pool.
func (db *DB) Close() error {
	db.closeMu.Do(func() {
		close(db.stop)
		<-db.stopped
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		db.pool.Exec(ctx, `DELETE FROM projection_leases WHERE holder = $1`, db.holder)
		cancel()
		db.pool.Close()
	})
	return nil
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.pool.QueryRow(ctx, `SELECT 1`).Scan(&one); err != nil {
		return unavailable("ping", err)
	}
	return nil
}

// Wake returns a channel that receives a value whenever any replica appends
// events (PostgreSQL LISTEN/NOTIFY), and once after each (re)connection in
// case notifications were missed. It is closed when ctx ends. The listening
// connection reconnects by itself after failures.
func (db *DB) Wake(ctx context.Context) <-chan struct{} {
	out := make(chan struct{}, 1)
	wake := func() {
		select {
		case out <- struct{}{}:
		default:
		}
	}
	go func() {
		defer close(out)
		backoff := 100 * time.Millisecond
		for ctx.Err() == nil {
			err := db.listen(ctx, wake)
			if ctx.Err() != nil {
				return
			}
			_ = err // the projector's poll covers the gap; try again shortly
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 5*time.Second)
		}
	}()
	return out
}

func (db *DB) listen(ctx context.Context, wake func()) error {
	conn, err := pgx.ConnectConfig(ctx, db.connCfg.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `LISTEN `+pgx.Identifier{db.channel}.Sanitize()); err != nil {
		return err
	}
	wake() // whatever was appended while we were not listening
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		wake()
	}
}

// lockNamespace derives the high half of advisory lock keys for one purpose
// in one schema, so that deployments sharing a database do not contend.
func lockNamespace(purpose, schema string) uint32 {
	h := fnv.New32a()
	h.Write([]byte("cogniscape/" + purpose + "/" + schema))
	return h.Sum32()
}

// lockKey is the 64-bit advisory lock key of id in namespace ns.
func lockKey(ns uint32, id int64) int64 { return int64(uint64(ns)<<32 | uint64(uint32(id))) }

// unavailable translates a driver failure into the domain's errors, keeping
// the cause for logs. Domain errors pass through unchanged.
func unavailable(op string, err error) error {
	if err == nil {
		return nil
	}
	var e *cogniscape.Error
	if errors.As(err, &e) {
		return err
	}
	cause := fmt.Errorf("%s: %w", op, redactErr(err))
	if errors.Is(err, pgx.ErrNoRows) {
		return &cogniscape.Error{Code: cogniscape.ENOTFOUND, Message: "not found", Err: cause}
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505": // unique_violation
			return &cogniscape.Error{Code: cogniscape.ECONFLICT, Message: "already exists", Err: cause}
		case "23503": // foreign_key_violation
			return &cogniscape.Error{Code: cogniscape.ENOTFOUND, Message: "not found", Err: cause}
		case "55P03": // lock_not_available
			return &cogniscape.Error{Code: cogniscape.ECONFLICT, Message: "busy", Err: cause}
		}
	}
	return &cogniscape.Error{Code: cogniscape.EUNAVAILABLE, Message: "storage unavailable", Err: cause}
}

// redactErr keeps passwords of connection strings out of error messages.
func redactErr(err error) error {
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return errors.New(redact(err.Error()))
	}
	if strings.Contains(err.Error(), "password") {
		return errors.New(redact(err.Error()))
	}
	return err
}

// redact removes a password from anything that looks like a connection URL.
func redact(s string) string {
	for _, scheme := range []string{"postgres://", "postgresql://"} {
		i := strings.Index(s, scheme)
		if i < 0 {
			continue
		}
		end := strings.IndexAny(s[i:], " \t\n\"'")
		if end < 0 {
			end = len(s) - i
		}
		if u, err := url.Parse(s[i : i+end]); err == nil && u.User != nil {
			if _, has := u.User.Password(); has {
				u.User = url.UserPassword(u.User.Username(), "xxxxx")
				s = s[:i] + u.String() + s[i+end:]
			}
		}
	}
	if i := strings.Index(s, "password="); i >= 0 {
		end := strings.IndexAny(s[i:], " \t\n&")
		if end < 0 {
			end = len(s) - i
		}
		s = s[:i] + "password=xxxxx" + s[i+end:]
	}
	return s
}

// Redact returns dsn with its password masked, for logs.
func Redact(dsn string) string { return redact(dsn) }

// text makes s storable in a PostgreSQL TEXT column, which holds neither NUL
// characters nor invalid UTF-8 (SQLite holds both). Anything else passes
// through unchanged.
func text(s string) string {
	if utf8.ValidString(s) && !strings.ContainsRune(s, 0) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }
