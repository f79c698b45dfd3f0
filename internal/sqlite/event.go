package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/cogniscape/cogniscape"
)

var _ cogniscape.EventLog = (*DB)(nil)

// Append stores ev and its delivery row in the next group commit and returns
// once that commit is on disk. A delivery authenticated with a cached secret
// is stored only if that secret is still current (cogniscape.SecretCache).
func (db *DB) Append(ctx context.Context, ev *cogniscape.Event, size int) (cogniscape.Outcome, error) {
	var outcome cogniscape.Outcome
	var check *secretCheck
	if ev.SecretVersion != "" {
		check = &secretCheck{customerID: ev.CustomerID, version: ev.SecretVersion}
	}
	err := db.execChecked(ctx, check, func(ctx context.Context, tx *sql.Tx) error {
		outcome = cogniscape.OutcomeAccepted
		if ev.Ignored {
			outcome = cogniscape.OutcomeIgnored
		}
		var eventID sql.NullInt64
		res, err := db.txExec(ctx, tx, `INSERT INTO events (customer_id, received_at, source, type, site, identifier, retry, dedup_key, ts, ignored, body)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (customer_id, dedup_key) DO NOTHING`,
			ev.CustomerID, ms(ev.ReceivedAt), ev.Source, ev.Type, ev.Site, ev.Identifier, ev.Retry, ev.DedupKey,
			ms(ev.Timestamp), ev.Ignored, ev.Body)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			outcome = cogniscape.OutcomeDuplicate
			err = db.txQueryRow(ctx, tx, `SELECT id FROM events WHERE customer_id = ? AND dedup_key = ?`, ev.CustomerID, ev.DedupKey).Scan(&eventID)
			if err != nil {
				return err
			}
		} else {
			id, err := res.LastInsertId()
			if err != nil {
				return err
			}
			eventID = sql.NullInt64{Int64: id, Valid: true}
			ev.ID = id
		}
		_, err = db.txExec(ctx, tx, `INSERT INTO deliveries (customer_id, received_at, event, outcome, identifier, retry, size, reason, event_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, '', ?)`,
			ev.CustomerID, ms(ev.ReceivedAt), ev.Type, outcome, ev.Identifier, ev.Retry, size, eventID)
		return err
	})
	if err != nil {
		return "", unavailable("append event", err)
	}
	return outcome, nil
}

// Quarantine keeps an authenticated body that was not accepted, with the reason.
func (db *DB) Quarantine(ctx context.Context, customerID int64, d cogniscape.Delivery, body []byte) error {
	err := db.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := db.txExec(ctx, tx, `INSERT INTO deliveries (customer_id, received_at, event, outcome, identifier, retry, size, reason)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			customerID, ms(d.ReceivedAt), d.Event, cogniscape.OutcomeQuarantined, d.Identifier, d.Retry, d.Size, d.Reason)
		if err != nil {
			return err
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		if body == nil {
			body = []byte{}
		}
		_, err = db.txExec(ctx, tx, `INSERT INTO quarantine (delivery_id, customer_id, body) VALUES (?, ?, ?)`, id, customerID, body)
		return err
	})
	return unavailableIf("quarantine", err)
}

// Deliveries reads the customer's delivery log, newest first.
func (db *DB) Deliveries(ctx context.Context, customerID int64, f cogniscape.DeliveryFilter) ([]cogniscape.Delivery, error) {
	q := strings.Builder{}
	q.WriteString(`SELECT id, received_at, event, outcome, identifier, retry, size, reason, event_id FROM deliveries WHERE customer_id = ?`)
	args := []any{customerID}
	if f.Outcome != "" {
		q.WriteString(` AND outcome = ?`)
		args = append(args, f.Outcome)
	}
	if f.Event != "" {
		q.WriteString(` AND event = ?`)
		args = append(args, f.Event)
	}
	if f.Before > 0 {
		q.WriteString(` AND id < ?`)
		args = append(args, f.Before)
	}
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	q.WriteString(` ORDER BY id DESC LIMIT ?`)
	args = append(args, limit)
	rows, err := db.query(ctx, q.String(), args...)
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
	return out, unavailableIf("deliveries", rows.Err())
}

type scanner interface{ Scan(...any) error }

func scanDelivery(r scanner) (cogniscape.Delivery, error) {
	var d cogniscape.Delivery
	var received int64
	var eventID sql.NullInt64
	err := r.Scan(&d.ID, &received, &d.Event, &d.Outcome, &d.Identifier, &d.Retry, &d.Size, &d.Reason, &eventID)
	d.ReceivedAt = fromMS(received)
	d.EventID = eventID.Int64
	return d, err
}

// QuarantinedBody returns one quarantined delivery of the customer with its body.
func (db *DB) QuarantinedBody(ctx context.Context, customerID, deliveryID int64) (*cogniscape.Quarantined, error) {
	row := db.queryRow(ctx, `SELECT d.id, d.received_at, d.event, d.outcome, d.identifier, d.retry, d.size, d.reason, d.event_id, q.body
		FROM quarantine q JOIN deliveries d ON d.id = q.delivery_id WHERE q.customer_id = ? AND q.delivery_id = ?`, customerID, deliveryID)
	var q cogniscape.Quarantined
	var received int64
	var eventID sql.NullInt64
	err := row.Scan(&q.ID, &received, &q.Event, &q.Outcome, &q.Identifier, &q.Retry, &q.Size, &q.Reason, &eventID, &q.Body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, cogniscape.Errorf(cogniscape.ENOTFOUND, "no such quarantined delivery")
	}
	if err != nil {
		return nil, unavailable("quarantined body", err)
	}
	q.ReceivedAt = fromMS(received)
	return &q, nil
}

// LogSize returns the number of events in the log, for metrics.
func (db *DB) LogSize(ctx context.Context) (int64, error) {
	var n sql.NullInt64
	err := db.queryRow(ctx, `SELECT max(id) FROM events`).Scan(&n)
	return n.Int64, unavailableIf("log size", err)
}
