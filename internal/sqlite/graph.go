package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/cogniscape/cogniscape"
)

var _ cogniscape.ProjectionStore = (*DB)(nil)

// PendingCustomers lists customers with events past their checkpoint.
func (db *DB) PendingCustomers(ctx context.Context) ([]int64, error) {
	rows, err := db.query(ctx, `SELECT c.id FROM customers c LEFT JOIN checkpoints p ON p.customer_id = c.id
		WHERE EXISTS (SELECT 1 FROM events e WHERE e.customer_id = c.id AND e.id > coalesce(p.event_id, 0)) ORDER BY c.id`)
	if err != nil {
		return nil, unavailable("pending customers", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, unavailable("pending customers", err)
		}
		ids = append(ids, id)
	}
	return ids, unavailableIf("pending customers", rows.Err())
}

// PendingEvents reads up to limit events after the customer's checkpoint.
func (db *DB) PendingEvents(ctx context.Context, customerID int64, limit int) ([]cogniscape.PendingEvent, error) {
	var cp int64
	err := db.queryRow(ctx, `SELECT event_id FROM checkpoints WHERE customer_id = ?`, customerID).Scan(&cp)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, unavailable("read checkpoint", err)
	}
	return db.EventsAfter(ctx, customerID, cp, limit)
}

// EventsAfter reads up to limit of the customer's events after the given
// log position, as PendingEvents would once the checkpoint reaches it: the
// projector reads the next batch while the current one is being applied.
func (db *DB) EventsAfter(ctx context.Context, customerID, cp int64, limit int) ([]cogniscape.PendingEvent, error) {
	rows, err := db.query(ctx, `SELECT e.id, e.received_at, e.source, e.type, e.site, e.identifier, e.retry, e.ts, e.ignored, e.body, m.payload
		FROM events e LEFT JOIN mutations m ON m.event_id = e.id
		WHERE e.customer_id = ? AND e.id > ? ORDER BY e.id LIMIT ?`, customerID, cp, limit)
	if err != nil {
		return nil, unavailable("pending events", err)
	}
	defer rows.Close()
	var out []cogniscape.PendingEvent
	held := 0
	for held < cogniscape.MaxBatchBytes && rows.Next() {
		var p cogniscape.PendingEvent
		var received, ts int64
		var payload []byte
		if err := rows.Scan(&p.ID, &received, &p.Source, &p.Type, &p.Site, &p.Identifier, &p.Retry, &ts, &p.Ignored, &p.Body, &payload); err != nil {
			return nil, unavailable("pending events", err)
		}
		p.CustomerID, p.Checkpoint, p.Mutation = customerID, cp, payload
		p.ReceivedAt, p.Timestamp = fromMS(received), fromMS(ts)
		out = append(out, p)
		held += len(p.Body) + len(payload)
	}
	return out, unavailableIf("pending events", rows.Err())
}

// ProjectionLag counts events not yet projected, over all customers.
func (db *DB) ProjectionLag(ctx context.Context) (int64, error) {
	var n int64
	err := db.queryRow(ctx, `SELECT coalesce(sum((SELECT count(*) FROM events e WHERE e.customer_id = c.id AND e.id > coalesce(p.event_id, 0))), 0)
		FROM customers c LEFT JOIN checkpoints p ON p.customer_id = c.id`).Scan(&n)
	return n, unavailableIf("projection lag", err)
}

// ApplyBatch projects muts (nil entries are events with nothing to project)
// and moves the checkpoint from → through in one transaction.
func (db *DB) ApplyBatch(ctx context.Context, customerID int64, from, through int64, muts []*cogniscape.Mutation) error {
	return db.execBackground(ctx, func(ctx context.Context, tx *sql.Tx) error {
		// The transaction holds SQLite's write lock from BEGIN (IMMEDIATE), so
		// this compare-and-set is atomic across processes too.
		var cur int64
		err := db.txQueryRow(ctx, tx, `SELECT event_id FROM checkpoints WHERE customer_id = ?`, customerID).Scan(&cur)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return unavailable("read checkpoint", err)
		}
		if cur != from {
			return cogniscape.Errorf(cogniscape.ECONFLICT, "checkpoint moved: another projector is at work")
		}
		if _, err := db.txExec(ctx, tx, `INSERT INTO checkpoints (customer_id, event_id) VALUES (?, ?)
			ON CONFLICT (customer_id) DO UPDATE SET event_id = excluded.event_id`, customerID, through); err != nil {
			return unavailable("advance checkpoint", err)
		}
		p := &projection{db: db, tx: tx, ctx: ctx, customerID: customerID, nodes: map[cogniscape.NodeKey]*cogniscape.Node{}}
		for _, m := range muts {
			if m == nil {
				continue
			}
			if err := p.apply(m); err != nil {
				return applyFailure(fmt.Errorf("project event %d: %w", m.EventID, err))
			}
		}
		if err := p.flush(); err != nil {
			return applyFailure(err)
		}
		if db.RawRetention == 0 {
			if _, err := db.txExec(ctx, tx, `UPDATE events SET body = NULL WHERE customer_id = ? AND id > ? AND id <= ? AND body IS NOT NULL`, customerID, from, through); err != nil {
				return fmt.Errorf("drop raw bodies: %w", err)
			}
		}
		return nil
	})
}

// applyFailure reports why a batch could not be applied: EUNAVAILABLE when
// the database failed (storeFailure), EINVALID when it refused something of
// the batch's events (cogniscape.ProjectionStore lets the projector find
// and skip that event).
func applyFailure(err error) error {
	var e *cogniscape.Error
	switch {
	case errors.As(err, &e):
		return err
	case storeFailure(err):
		return unavailable("apply batch", err)
	}
	return &cogniscape.Error{Code: cogniscape.EINVALID, Message: "the database refused a value of this batch", Err: err}
}

// projection is one batch being applied inside a transaction.
type projection struct {
	db         *DB
	tx         *sql.Tx
	ctx        context.Context
	customerID int64
	nodes      map[cogniscape.NodeKey]*cogniscape.Node
	indexed    map[*cogniscape.Node]string // search text as stored, for nodes loaded from the store
	dirty      []*cogniscape.Node
	isDirty    map[*cogniscape.Node]bool
	pending    []pendingRows
	siteCache  map[string]string
}

// pendingRows are the changes and activity of one mutation, written after the
// nodes they refer to have store ids.
type pendingRows struct {
	m *cogniscape.Mutation
}

func (p *projection) load(key cogniscape.NodeKey) (*cogniscape.Node, error) {
	if n, ok := p.nodes[key]; ok {
		return n, nil
	}
	var id int64
	var data []byte
	err := p.db.txQueryRow(p.ctx, p.tx, `SELECT id, data FROM nodes WHERE customer_id = ? AND site = ? AND kind = ? AND jira_id = ?`,
		p.customerID, key.Site, key.Kind, key.ID).Scan(&id, &data)
	n := cogniscape.NewNode(key)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return nil, err
	default:
		if n, err = cogniscape.DecodeNode(id, key, data, true); err != nil {
			return nil, err
		}
		if p.indexed == nil {
			p.indexed = map[*cogniscape.Node]string{}
		}
		p.indexed[n] = searchDoc(cogniscape.IndexedFieldsOf(n), n.Deleted)
	}
	p.nodes[key] = n
	return n, nil
}

func (p *projection) apply(m *cogniscape.Mutation) error {
	if m.Site == "" {
		site, err := p.resolveSite(m)
		if err != nil {
			return err
		}
		m.Site, m.Payload = site, nil // the payload named no site
	}
	changed, err := cogniscape.Project(m, p.load)
	if err != nil {
		return err
	}
	if p.isDirty == nil {
		p.isDirty = map[*cogniscape.Node]bool{}
	}
	for _, n := range changed {
		if !p.isDirty[n] {
			p.isDirty[n] = true
			p.dirty = append(p.dirty, n)
		}
	}
	// The subject and the changed issues need ids before rows can refer to them.
	if subj, ok := cogniscape.SubjectOf(m); ok {
		if _, err := p.load(cogniscape.NodeKey{Site: m.Site, Kind: subj.Kind, ID: subj.ID}); err != nil {
			return err
		}
	}
	p.pending = append(p.pending, pendingRows{m: m})
	return nil
}

// resolveSite finds the site of a mutation that names none (Jira's issue-link
// events carry only numeric ids): the site of this customer that has the
// most of the link and issues it names (cogniscape.ChooseSite), or else the
// customer's first site.
func (p *projection) resolveSite(m *cogniscape.Mutation) (string, error) {
	site, err := cogniscape.ChooseSite(m, func(r cogniscape.NodeRef) ([]string, error) {
		var sites []string
		for k := range p.nodes { // read or made in this batch
			if k.Kind == r.Kind && k.ID == r.ID && !slices.Contains(sites, k.Site) {
				sites = append(sites, k.Site)
			}
		}
		rows, err := p.tx.QueryContext(p.ctx, `SELECT site FROM nodes WHERE customer_id = ? AND kind = ? AND jira_id = ?`, p.customerID, r.Kind, r.ID)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				return nil, err
			}
			if !slices.Contains(sites, s) {
				sites = append(sites, s)
			}
		}
		return sites, rows.Err()
	})
	if err != nil || site != "" {
		return site, err
	}
	err = p.db.txQueryRow(p.ctx, p.tx, `SELECT site FROM events WHERE customer_id = ? AND site != '' ORDER BY site LIMIT 1`, p.customerID).Scan(&site)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return site, err
}

// flush writes the dirty nodes, their relations, and the batch's changes and
// activity rows.
func (p *projection) flush() error {
	// Targets of relations must exist before edges point at them; Project
	// loaded them, so every new node is in p.dirty. Insert nodes first.
	for _, n := range p.dirty {
		if err := p.saveNode(n); err != nil {
			return err
		}
	}
	for _, n := range p.dirty {
		if err := p.saveEdges(n); err != nil {
			return err
		}
	}
	for _, pr := range p.pending {
		if err := p.saveRows(pr.m); err != nil {
			return err
		}
	}
	if len(p.pending) > 0 {
		stmt, err := p.tx.PrepareContext(p.ctx, `INSERT INTO mutations (event_id, customer_id, payload) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, pr := range p.pending {
			if pr.m.Payload == nil {
				if err := pr.m.EncodePayload(); err != nil {
					return err
				}
			}
			if _, err := stmt.ExecContext(p.ctx, pr.m.EventID, p.customerID, pr.m.Payload); err != nil {
				return fmt.Errorf("store mutation: %w", err)
			}
		}
	}
	return nil
}

func (p *projection) saveNode(n *cogniscape.Node) error {
	data, err := json.Marshal(n)
	if err != nil {
		return err
	}
	f := cogniscape.IndexedFieldsOf(n)
	if n.StoreID == 0 {
		res, err := p.db.txExec(p.ctx, p.tx, `INSERT INTO nodes (customer_id, site, kind, jira_id, key, title, status_category, status, created_at, deleted, first_at, last_at, data)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, p.customerID, n.Key.Site, n.Key.Kind, n.Key.ID, f.Key, f.Title, f.StatusCategory, f.Status,
			f.CreatedAt, n.Deleted, n.First.At, n.Last.At, data)
		if err != nil {
			return fmt.Errorf("insert node: %w", err)
		}
		if n.StoreID, err = res.LastInsertId(); err != nil {
			return err
		}
	} else {
		_, err = p.db.txExec(p.ctx, p.tx, `UPDATE nodes SET key = ?, title = ?, status_category = ?, status = ?, created_at = ?, deleted = ?, first_at = ?, last_at = ?, data = ? WHERE id = ?`,
			f.Key, f.Title, f.StatusCategory, f.Status, f.CreatedAt, n.Deleted, n.First.At, n.Last.At, data, n.StoreID)
		if err != nil {
			return fmt.Errorf("update node: %w", err)
		}
	}
	return p.index(n, f)
}

// index keeps the node's row of the search index in step with its text.
// FTS5 deletes are costly, so the index is touched only when the text changed.
func (p *projection) index(n *cogniscape.Node, f cogniscape.IndexedFields) error {
	doc := searchDoc(f, n.Deleted)
	old, known := p.indexed[n] // known: loaded from the store, or indexed in this batch
	if known && old == doc {
		return nil
	}
	if p.indexed == nil {
		p.indexed = map[*cogniscape.Node]string{}
	}
	p.indexed[n] = doc
	if known && old != "" {
		if _, err := p.db.txExec(p.ctx, p.tx, `DELETE FROM search WHERE rowid = ?`, n.StoreID); err != nil {
			return fmt.Errorf("unindex node: %w", err)
		}
	}
	if doc != "" {
		if _, err := p.db.txExec(p.ctx, p.tx, `INSERT INTO search (rowid, title, body, customer_id, kind) VALUES (?, ?, ?, ?, ?)`,
			n.StoreID, f.SearchTitle, f.SearchText, p.customerID, n.Key.Kind); err != nil {
			return fmt.Errorf("index node: %w", err)
		}
	}
	return nil
}

func (p *projection) saveEdges(n *cogniscape.Node) error {
	for _, rel := range n.DirtyRels() {
		if _, err := p.db.txExec(p.ctx, p.tx, `DELETE FROM edges WHERE src = ? AND rel = ?`, n.StoreID, rel); err != nil {
			return fmt.Errorf("clear edges: %w", err)
		}
		for _, t := range n.Rels[rel] {
			tn, err := p.load(cogniscape.NodeKey{Site: n.Key.Site, Kind: t.Kind, ID: t.ID})
			if err != nil {
				return err
			}
			if tn.StoreID == 0 { // only referred to by an older state of this node
				if err := p.saveNode(tn); err != nil {
					return err
				}
			}
			if _, err := p.db.txExec(p.ctx, p.tx, `INSERT INTO edges (customer_id, src, rel, dst, since) VALUES (?, ?, ?, ?, ?)`,
				p.customerID, n.StoreID, rel, tn.StoreID, n.RelSince(rel, t).At); err != nil {
				return fmt.Errorf("insert edge: %w", err)
			}
		}
	}
	n.ClearDirty()
	return nil
}

// activityData is what an activity row keeps to be rendered later.
type activityData struct {
	Changes []cogniscape.Change `json:"changes,omitempty"`
}

func (p *projection) saveRows(m *cogniscape.Mutation) error {
	for i, c := range m.Changes {
		n, err := p.load(cogniscape.NodeKey{Site: m.Site, Kind: c.Node.Kind, ID: c.Node.ID})
		if err != nil {
			return err
		}
		if n.StoreID == 0 {
			if err := p.saveNode(n); err != nil {
				return err
			}
		}
		if _, err := p.db.txExec(p.ctx, p.tx, `INSERT INTO changes (customer_id, node, at, seq, idx, field, from_text, to_text, from_id, to_id, actor, event_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			p.customerID, n.StoreID, m.Version.At, m.Version.Seq, i, c.Field, c.From, c.To, c.FromID, c.ToID, m.Actor, m.EventID); err != nil {
			return fmt.Errorf("insert change: %w", err)
		}
	}
	subj, ok := cogniscape.SubjectOf(m)
	if !ok || cogniscape.IsCommentTwin(m) {
		return nil
	}
	n, err := p.load(cogniscape.NodeKey{Site: m.Site, Kind: subj.Kind, ID: subj.ID})
	if err != nil {
		return err
	}
	if n.StoreID == 0 {
		if err := p.saveNode(n); err != nil {
			return err
		}
	}
	data, _ := json.Marshal(activityData{Changes: m.Changes})
	_, err = p.db.txExec(p.ctx, p.tx, `INSERT INTO activity (customer_id, at, seq, event, entity, actor, data, event_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		p.customerID, m.Version.At, m.Version.Seq, m.Event, n.StoreID, m.Actor, data, m.EventID)
	if err != nil {
		return fmt.Errorf("insert activity: %w", err)
	}
	return nil
}

// ResetGraph forgets a customer's graph and checkpoint so that projection
// rebuilds it from the log (from the stored mutations where the raw bodies
// are gone). customerID 0 resets every customer.
func (db *DB) ResetGraph(ctx context.Context, customerID int64) error {
	return db.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		for _, table := range []string{"activity", "changes", "edges", "search", "nodes", "checkpoints"} {
			q := `DELETE FROM ` + table
			args := []any{}
			if customerID != 0 {
				q += ` WHERE customer_id = ?`
				args = append(args, customerID)
			}
			if _, err := db.txExec(ctx, tx, q, args...); err != nil {
				return unavailable("reset graph", err)
			}
		}
		return nil
	})
}

// DropRawBodies removes raw bodies of projected events received before
// cutoff; their normalised mutations stay.
func (db *DB) DropRawBodies(ctx context.Context, cutoff time.Time) (int64, error) {
	var n int64
	err := db.execBackground(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := db.txExec(ctx, tx, `UPDATE events SET body = NULL WHERE body IS NOT NULL AND received_at < ?
			AND id <= coalesce((SELECT event_id FROM checkpoints WHERE checkpoints.customer_id = events.customer_id), 0)`, ms(cutoff))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, unavailableIf("drop raw bodies", err)
}

// searchDoc is what a node contributes to the search index ("" for nothing).
func searchDoc(f cogniscape.IndexedFields, deleted bool) string {
	if f.SearchText == "" || deleted {
		return ""
	}
	return f.SearchTitle + "\x00" + f.SearchText
}
