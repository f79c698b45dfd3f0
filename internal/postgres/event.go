package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cogniscape/cogniscape"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

var _ cogniscape.EventLog = (*DB)(nil)

// appendJob is one Append waiting for the writer.
type appendJob struct {
	ev      *cogniscape.Event
	size    int
	outcome cogniscape.Outcome
	eventID int64
	stale   bool // refused: authenticated with a secret rotated away
	done    chan error
}

// errStaleSecret refuses a delivery authenticated with a cached secret that
// was rotated away before the delivery could be stored.
var errStaleSecret = cogniscape.Errorf(cogniscape.ECONFLICT, "customer secret changed")

// Append stores ev and its delivery row in the next shared transaction and
// returns once that transaction has committed. A delivery authenticated with
// a cached secret is stored only if that secret is still current
// (cogniscape.SecretCache).
func (db *DB) Append(ctx context.Context, ev *cogniscape.Event, size int) (cogniscape.Outcome, error) {
	job := &appendJob{ev: ev, size: size, done: make(chan error, 1)}
	select {
	case db.jobs <- job:
	case <-db.stop:
		return "", cogniscape.Errorf(cogniscape.EUNAVAILABLE, "store is closing")
	case <-ctx.Done():
		return "", unavailable("append event", ctx.Err())
	}
	// Once queued, the job runs even if ctx ends, so wait for it: the caller
	// must not report failure for something that may have been stored. Only
	// a job that slipped in after the writer stopped is never run.
	var err error
	select {
	case err = <-job.done:
	case <-db.stopped:
		select {
		case err = <-job.done:
		default:
			return "", cogniscape.Errorf(cogniscape.EUNAVAILABLE, "store is closing")
		}
	}
	if err != nil {
		return "", unavailable("append event", err)
	}
	if job.outcome != cogniscape.OutcomeDuplicate {
		ev.ID = job.eventID
	}
	return job.outcome, nil
}

// runWriter groups concurrent appends into shared transactions: one commit
// (one WAL flush) for many acknowledged events. Appends of one customer are
// serialised across replicas by a transaction lock, which a batch takes once.
func (db *DB) runWriter() {
	defer close(db.stopped)
	for {
		var first *appendJob
		select {
		case first = <-db.jobs:
		case <-db.stop:
			// Finish what was queued before Close.
			for {
				select {
				case j := <-db.jobs:
					db.commitAppends([]*appendJob{j})
				default:
					return
				}
			}
		}
		batch := []*appendJob{first}
	drain:
		for len(batch) < maxBatch {
			select {
			case j := <-db.jobs:
				batch = append(batch, j)
			default:
				break drain
			}
		}
		db.commitAppends(batch)
	}
}

// appendSQL inserts one event unless the customer's log has its dedup key,
// and records the delivery with the outcome. The NOT EXISTS test keeps
// duplicates from using up log positions; ON CONFLICT is the guarantee.
// A delivery authenticated with a cached secret ($14, its sealed value) is
// stored only if that is still the customer's secret; otherwise the
// statement stores nothing and answers 'stale'.
const appendSQL = `WITH ok AS (
	SELECT $14::bytea IS NULL OR EXISTS (SELECT 1 FROM customers WHERE id = $1 AND secret_enc = $14::bytea) AS current
), ins AS (
	INSERT INTO events (customer_id, received_at, source, type, site, identifier, retry, dedup_key, ts, ignored, body)
	SELECT $1::bigint, $2::bigint, $3::text, $4::text, $5::text, $6::text, $7::integer, $8::text, $9::bigint, $10::boolean, $11::bytea
	WHERE (SELECT current FROM ok) AND NOT EXISTS (SELECT 1 FROM events WHERE customer_id = $1 AND dedup_key = $8)
	ON CONFLICT (customer_id, dedup_key) DO NOTHING
	RETURNING id
), ev AS (
	SELECT id, $12::text AS outcome FROM ins
	UNION ALL
	SELECT id, 'duplicate' FROM events WHERE customer_id = $1 AND dedup_key = $8 AND NOT EXISTS (SELECT 1 FROM ins)
		AND (SELECT current FROM ok)
), del AS (
	INSERT INTO deliveries (customer_id, received_at, event, outcome, identifier, retry, size, reason, event_id)
	SELECT $1, $2, $4, ev.outcome, $6, $7, $13::integer, '', ev.id FROM ev
	RETURNING outcome, event_id
)
SELECT outcome, event_id FROM del
UNION ALL
SELECT 'stale', NULL FROM ok WHERE NOT current`

// commitAppends runs a batch in one transaction: PostgreSQL runs a pipeline
// ending in one Sync as one implicit transaction, so the whole batch costs
// one round trip and one commit. If the batch fails on what may be one
// job's data, each job is retried alone so that one bad job cannot fail the
// others; if the database fails (a lost connection, a shutdown, a timeout),
// every job hears so at once instead of waiting for it again alone.
func (db *DB) commitAppends(batch []*appendJob) {
	err := db.tryAppends(batch)
	if err == nil {
		for _, j := range batch {
			if j.stale {
				j.done <- errStaleSecret
			} else {
				j.done <- nil
			}
		}
		return
	}
	if len(batch) > 1 && jobError(err) {
		for _, j := range batch {
			db.commitAppends([]*appendJob{j})
		}
		return
	}
	for _, j := range batch {
		j.done <- err
	}
}

// jobError reports whether err, failing a batch of appends, may be one
// job's fault: bad data or a limit its values broke.
func jobError(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || len(pe.Code) < 2 {
		return false
	}
	switch pe.Code[:2] {
	case "22", "23", "42", "54": // data exception, integrity constraint, syntax or access rule, program limit
		return true
	}
	return false
}

func (db *DB) tryAppends(batch []*appendJob) error {
	// Not the callers' contexts: the batch is theirs together. Long enough
	// for a busy database, short enough that Jira's retry comes first.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var customers []int64
	for _, j := range batch {
		customers = append(customers, j.ev.CustomerID)
	}
	slices.Sort(customers)
	customers = slices.Compact(customers)

	b := &pgx.Batch{}
	// In ascending order, so that two replicas' batches cannot deadlock.
	for _, c := range customers {
		b.Queue(`SELECT pg_advisory_xact_lock($1)`, lockKey(db.appendNS, c))
	}
	for _, j := range batch {
		ev := j.ev
		outcome := cogniscape.OutcomeAccepted
		if ev.Ignored {
			outcome = cogniscape.OutcomeIgnored
		}
		var version []byte // NULL: authenticated on a secret read for this request
		if ev.SecretVersion != "" {
			version = []byte(ev.SecretVersion)
		}
		b.Queue(appendSQL, ev.CustomerID, ms(ev.ReceivedAt), text(ev.Source), text(ev.Type), text(ev.Site), text(ev.Identifier),
			ev.Retry, text(ev.DedupKey), ms(ev.Timestamp), ev.Ignored, ev.Body, string(outcome), j.size, version)
	}
	// Delivered when (and only if) the transaction commits.
	b.Queue(`SELECT pg_notify($1, '')`, db.channel)

	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	br := conn.SendBatch(ctx, b)
	for range customers {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return err
		}
	}
	for _, j := range batch {
		var outcome string
		var eventID *int64
		if err := br.QueryRow().Scan(&outcome, &eventID); err != nil {
			br.Close()
			if errors.Is(err, pgx.ErrNoRows) {
				// Another transaction holds the key but is not visible yet;
				// the customer lock rules that out, so treat it as a failure.
				return fmt.Errorf("append: duplicate key not visible")
			}
			return err
		}
		j.outcome, j.stale = cogniscape.Outcome(outcome), outcome == "stale"
		if eventID != nil {
			j.eventID = *eventID
		}
	}
	if _, err := br.Exec(); err != nil {
		br.Close()
		return err
	}
	// Close reads up to the Sync: only then has the transaction committed.
	return br.Close()
}

// Quarantine keeps an authenticated body that was not accepted, with the reason.
func (db *DB) Quarantine(ctx context.Context, customerID int64, d cogniscape.Delivery, body []byte) error {
	if body == nil {
		body = []byte{}
	}
	_, err := db.pool.Exec(ctx, `WITH d AS (
			INSERT INTO deliveries (customer_id, received_at, event, outcome, identifier, retry, size, reason)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id
		)
		INSERT INTO quarantine (delivery_id, customer_id, body) SELECT id, $1, $9 FROM d`,
		customerID, ms(d.ReceivedAt), text(d.Event), string(cogniscape.OutcomeQuarantined), text(d.Identifier), d.Retry, d.Size, text(d.Reason), body)
	return unavailable("quarantine", err)
}

// Deliveries reads the customer's delivery log, newest first.
func (db *DB) Deliveries(ctx context.Context, customerID int64, f cogniscape.DeliveryFilter) ([]cogniscape.Delivery, error) {
	q := strings.Builder{}
	q.WriteString(`SELECT id, received_at, event, outcome, identifier, retry, size, reason, event_id FROM deliveries WHERE customer_id = $1`)
	args := []any{customerID}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.Outcome != "" {
		q.WriteString(` AND outcome = ` + arg(text(string(f.Outcome))))
	}
	if f.Event != "" {
		q.WriteString(` AND event = ` + arg(text(f.Event)))
	}
	if f.Before > 0 {
		q.WriteString(` AND id < ` + arg(f.Before))
	}
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	q.WriteString(` ORDER BY id DESC LIMIT ` + arg(limit))
	rows, err := db.pool.Query(ctx, q.String(), args...)
	if err != nil {
		return nil, unavailable("deliveries", err)
	}
	defer rows.Close()
	out := []cogniscape.Delivery{}
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, unavailable("deliveries", err)
		}
		out = append(out, d)
	}
	return out, unavailable("deliveries", rows.Err())
}

func scanDelivery(r pgx.Row, extra ...any) (cogniscape.Delivery, error) {
	var d cogniscape.Delivery
	var received int64
	var eventID *int64
	var outcome string
	err := r.Scan(append([]any{&d.ID, &received, &d.Event, &outcome, &d.Identifier, &d.Retry, &d.Size, &d.Reason, &eventID}, extra...)...)
	d.ReceivedAt = fromMS(received)
	d.Outcome = cogniscape.Outcome(outcome)
	if eventID != nil {
		d.EventID = *eventID
	}
	return d, err
}

// QuarantinedBody returns one quarantined delivery of the customer with its body.
func (db *DB) QuarantinedBody(ctx context.Context, customerID, deliveryID int64) (*cogniscape.Quarantined, error) {
	row := db.pool.QueryRow(ctx, `SELECT d.id, d.received_at, d.event, d.outcome, d.identifier, d.retry, d.size, d.reason, d.event_id, q.body
		FROM quarantine q JOIN deliveries d ON d.id = q.delivery_id WHERE q.customer_id = $1 AND q.delivery_id = $2`, customerID, deliveryID)
	var q cogniscape.Quarantined
	d, err := scanDelivery(row, &q.Body)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, cogniscape.Errorf(cogniscape.ENOTFOUND, "no such quarantined delivery")
	}
	if err != nil {
		return nil, unavailable("quarantined body", err)
	}
	q.Delivery = d
	return &q, nil
}

// LogSize returns the highest log position, which is the number of events
// in the log: duplicates do not use up positions.
func (db *DB) LogSize(ctx context.Context) (int64, error) {
	var n *int64
	err := db.pool.QueryRow(ctx, `SELECT max(id) FROM events`).Scan(&n)
	if err != nil {
		return 0, unavailable("log size", err)
	}
	if n == nil {
		return 0, nil
	}
	return *n, nil
}
