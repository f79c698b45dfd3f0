package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/cogniscape/cogniscape"
	"github.com/jackc/pgx/v5"
)

var _ cogniscape.ProjectionStore = (*DB)(nil)

// PendingCustomers lists customers with events past their checkpoint that no
// other replica holds the projection lease of.
func (db *DB) PendingCustomers(ctx context.Context) ([]int64, error) {
	rows, err := db.pool.Query(ctx, `SELECT c.id FROM customers c LEFT JOIN checkpoints p ON p.customer_id = c.id
		WHERE EXISTS (SELECT 1 FROM events e WHERE e.customer_id = c.id AND e.id > coalesce(p.event_id, 0))
		AND NOT EXISTS (SELECT 1 FROM projection_leases l WHERE l.customer_id = c.id AND l.holder <> $1 AND l.expires_at > now())
		ORDER BY c.id`, db.holder)
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
	return ids, unavailable("pending customers", rows.Err())
}

// leaseSQL claims or renews the customer's projection lease for this
// instance; it returns no row while another live instance holds it.
const leaseSQL = `INSERT INTO projection_leases AS l (customer_id, holder, expires_at)
	VALUES ($1, $2, now() + $3::float8 * interval '1 millisecond')
	ON CONFLICT (customer_id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
	WHERE l.holder = excluded.holder OR l.expires_at < now()
	RETURNING holder`

// PendingEvents reads up to limit events after the customer's checkpoint. It
// first claims the customer's projection lease: while another replica holds
// it, there is nothing for this one to do and the answer is empty.
func (db *DB) PendingEvents(ctx context.Context, customerID int64, limit int) ([]cogniscape.PendingEvent, error) {
	return db.leasedEvents(ctx, customerID, -1, limit)
}

// EventsAfter reads up to limit of the customer's events after the given
// log position, as PendingEvents would once the checkpoint reaches it, so
// that the projector reads the next batch while the current one is applied.
// It renews the lease, so a long catch-up keeps it; once another replica has
// taken it over, the answer is empty.
func (db *DB) EventsAfter(ctx context.Context, customerID, after int64, limit int) ([]cogniscape.PendingEvent, error) {
	return db.leasedEvents(ctx, customerID, after, limit)
}

// leasedEvents claims or renews the lease and reads events after position
// after, or after the checkpoint if after < 0, in one round trip.
func (db *DB) leasedEvents(ctx context.Context, customerID, after int64, limit int) ([]cogniscape.PendingEvent, error) {
	b := &pgx.Batch{}
	b.Queue(leaseSQL, customerID, db.holder, float64(leaseTTL.Milliseconds()))
	b.Queue(`SELECT cp.v, e.id, e.received_at, e.source, e.type, e.site, e.identifier, e.retry, e.ts, e.ignored, e.body, m.payload
		FROM (SELECT CASE WHEN $3::bigint >= 0 THEN $3::bigint
			ELSE coalesce((SELECT event_id FROM checkpoints WHERE customer_id = $1), 0) END AS v) cp
		JOIN events e ON e.customer_id = $1 AND e.id > cp.v
		LEFT JOIN mutations m ON m.event_id = e.id
		ORDER BY e.id LIMIT $2`, customerID, limit, after)
	br := db.pool.SendBatch(ctx, b)
	defer br.Close()
	var holder string
	err := br.QueryRow().Scan(&holder)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil // another replica is at work on this customer
	}
	if err != nil {
		return nil, unavailable("claim projection", err)
	}
	rows, err := br.Query()
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
		if err := rows.Scan(&p.Checkpoint, &p.ID, &received, &p.Source, &p.Type, &p.Site, &p.Identifier, &p.Retry, &ts, &p.Ignored, &p.Body, &payload); err != nil {
			return nil, unavailable("pending events", err)
		}
		p.CustomerID, p.Mutation = customerID, payload
		p.ReceivedAt, p.Timestamp = fromMS(received), fromMS(ts)
		out = append(out, p)
		held += len(p.Body) + len(payload)
	}
	if err := rows.Err(); err != nil {
		return nil, unavailable("pending events", err)
	}
	return out, nil
}

// ProjectionLag counts events not yet projected, over all customers.
func (db *DB) ProjectionLag(ctx context.Context) (int64, error) {
	var n int64
	err := db.pool.QueryRow(ctx, `SELECT coalesce(sum((SELECT count(*) FROM events e WHERE e.customer_id = c.id AND e.id > coalesce(p.event_id, 0))), 0)::bigint
		FROM customers c LEFT JOIN checkpoints p ON p.customer_id = c.id`).Scan(&n)
	return n, unavailable("projection lag", err)
}

// ApplyBatch projects muts (nil entries are events with nothing to project)
// and moves the checkpoint from → through in one transaction. The customer's
// transaction lock makes the compare-and-set of the checkpoint atomic across
// replicas: a batch whose checkpoint moved (or that another replica is
// applying right now) fails with ECONFLICT and applies nothing.
func (db *DB) ApplyBatch(ctx context.Context, customerID int64, from, through int64, muts []*cogniscape.Mutation) error {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return unavailable("apply batch", err)
	}
	defer tx.Rollback(context.Background())
	b := &pgx.Batch{}
	b.Queue(`SELECT pg_try_advisory_xact_lock($1)`, lockKey(db.projectNS, customerID))
	// A statement of its own, so that its snapshot is taken after the lock.
	b.Queue(`SELECT coalesce((SELECT event_id FROM checkpoints WHERE customer_id = $1), 0)`, customerID)
	br := tx.SendBatch(ctx, b)
	var locked bool
	var cur int64
	err = br.QueryRow().Scan(&locked)
	if err == nil {
		err = br.QueryRow().Scan(&cur)
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return unavailable("read checkpoint", err)
	}
	if !locked {
		return cogniscape.Errorf(cogniscape.ECONFLICT, "another projector is at work on this customer")
	}
	if cur != from {
		return cogniscape.Errorf(cogniscape.ECONFLICT, "checkpoint moved: another projector is at work")
	}
	p := newProjection(ctx, db, tx, customerID)
	if err := p.prefetchMutations(muts); err != nil {
		return unavailable("load nodes", err)
	}
	for _, m := range muts {
		if m == nil {
			continue
		}
		if err := p.apply(m); err != nil {
			return applyFailure(fmt.Errorf("project event %d: %w", m.EventID, err))
		}
	}
	if err := p.flush(from, through); err != nil {
		return applyFailure(err)
	}
	if err := tx.Commit(ctx); err != nil {
		return unavailable("commit batch", err)
	}
	return nil
}

// applyFailure reports why a batch could not be applied: EINVALID when the
// database refused a value of one of its events (cogniscape.ProjectionStore
// lets the projector find and skip that event), EUNAVAILABLE otherwise.
// Never ECONFLICT, which means another projector got there first: a refused
// key must not pass for that, or the projector would wait for it forever.
func applyFailure(err error) error {
	var e *cogniscape.Error
	if errors.As(err, &e) {
		return err
	}
	if jobError(err) {
		return &cogniscape.Error{Code: cogniscape.EINVALID, Message: "the database refused a value of this batch", Err: redactErr(err)}
	}
	return &cogniscape.Error{Code: cogniscape.EUNAVAILABLE, Message: "storage unavailable", Err: fmt.Errorf("apply batch: %w", redactErr(err))}
}

// ResetGraph forgets a customer's graph and checkpoint so that projection
// rebuilds it from the log (from the stored mutations where the raw bodies
// are gone). customerID 0 resets every customer. This instance takes the
// projection leases of the customers it reset, so that the rebuild is its
// own; other replicas resume when it closes or stops renewing them.
func (db *DB) ResetGraph(ctx context.Context, customerID int64) error {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return unavailable("reset graph", err)
	}
	defer tx.Rollback(context.Background())
	ids := []int64{customerID}
	if customerID == 0 {
		rows, err := tx.Query(ctx, `SELECT id FROM customers ORDER BY id`)
		if err != nil {
			return unavailable("reset graph", err)
		}
		ids, err = pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return unavailable("reset graph", err)
		}
	}
	b := &pgx.Batch{}
	for _, id := range ids { // ascending: no deadlock with another reset
		b.Queue(`SELECT pg_advisory_xact_lock($1)`, lockKey(db.projectNS, id))
	}
	for _, table := range []string{"activity", "changes", "edges", "search", "nodes", "checkpoints"} {
		if customerID == 0 {
			b.Queue(`DELETE FROM ` + table)
		} else {
			b.Queue(`DELETE FROM `+table+` WHERE customer_id = $1`, customerID)
		}
	}
	for _, id := range ids {
		b.Queue(`INSERT INTO projection_leases (customer_id, holder, expires_at) VALUES ($1, $2, now() + $3::float8 * interval '1 millisecond')
			ON CONFLICT (customer_id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at`,
			id, db.holder, float64(leaseTTL.Milliseconds()))
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return unavailable("reset graph", err)
	}
	return unavailable("reset graph", tx.Commit(ctx))
}

// DropRawBodies removes raw bodies of projected events received before
// cutoff; their normalised mutations stay.
func (db *DB) DropRawBodies(ctx context.Context, cutoff time.Time) (int64, error) {
	tag, err := db.pool.Exec(ctx, `UPDATE events SET body = NULL WHERE body IS NOT NULL AND received_at < $1
		AND id <= coalesce((SELECT event_id FROM checkpoints WHERE checkpoints.customer_id = events.customer_id), 0)`, ms(cutoff))
	if err != nil {
		return 0, unavailable("drop raw bodies", err)
	}
	return tag.RowsAffected(), nil
}

// projection is one batch being applied inside a transaction. It follows the
// SQLite store step by step (the same loads in the same order, the same site
// resolution, the same rows), but reads the nodes a batch names in one query
// and writes in pipelines, since every statement is a round trip here.
type projection struct {
	ctx        context.Context
	db         *DB
	tx         pgx.Tx
	customerID int64
	// nodes are the nodes loaded so far, as the SQLite store's loader has them.
	nodes map[cogniscape.NodeKey]*cogniscape.Node
	// stored are prefetched from the database but not loaded yet; absent are
	// keys known to have no row.
	stored map[cogniscape.NodeKey]*cogniscape.Node
	absent map[cogniscape.NodeKey]bool
	// indexed is the search text as stored, of nodes read from the store or
	// indexed in this batch.
	indexed map[*cogniscape.Node]string
	dirty   []*cogniscape.Node
	isDirty map[*cogniscape.Node]bool
	pending []*cogniscape.Mutation
}

func newProjection(ctx context.Context, db *DB, tx pgx.Tx, customerID int64) *projection {
	return &projection{ctx: ctx, db: db, tx: tx, customerID: customerID,
		nodes: map[cogniscape.NodeKey]*cogniscape.Node{}, stored: map[cogniscape.NodeKey]*cogniscape.Node{},
		absent: map[cogniscape.NodeKey]bool{}, isDirty: map[*cogniscape.Node]bool{}, indexed: map[*cogniscape.Node]string{}}
}

func (p *projection) load(key cogniscape.NodeKey) (*cogniscape.Node, error) {
	if n, ok := p.nodes[key]; ok {
		return n, nil
	}
	n, ok := p.stored[key]
	if !ok {
		if !p.absent[key] {
			if err := p.prefetch([]cogniscape.NodeKey{key}); err != nil {
				return nil, err
			}
		}
		if n, ok = p.stored[key]; !ok {
			n = cogniscape.NewNode(key)
		}
	}
	delete(p.stored, key)
	p.nodes[key] = n
	return n, nil
}

// prefetchMutations reads every node the batch's mutations name (those with
// a site; site-less ones are resolved one by one as the SQLite store does).
func (p *projection) prefetchMutations(muts []*cogniscape.Mutation) error {
	var keys []cogniscape.NodeKey
	for _, m := range muts {
		if m == nil || m.Site == "" {
			continue
		}
		keys = append(keys, mutationKeys(m)...)
	}
	return p.prefetch(keys)
}

// mutationKeys lists the nodes a mutation names.
func mutationKeys(m *cogniscape.Mutation) []cogniscape.NodeKey {
	key := func(r cogniscape.NodeRef) cogniscape.NodeKey {
		return cogniscape.NodeKey{Site: m.Site, Kind: r.Kind, ID: r.ID}
	}
	var keys []cogniscape.NodeKey
	for _, u := range m.Nodes {
		keys = append(keys, key(u.Ref))
	}
	for _, e := range m.Edges {
		keys = append(keys, key(e.From))
		for _, t := range e.To {
			keys = append(keys, key(t))
		}
	}
	for _, c := range m.Changes {
		keys = append(keys, key(c.Node))
	}
	return keys
}

// prefetch reads the rows of keys not seen yet into stored, and marks the
// rest absent.
func (p *projection) prefetch(keys []cogniscape.NodeKey) error {
	want := map[cogniscape.NodeKey]cogniscape.NodeKey{} // stored form → key
	var sites, kinds, ids []string
	for _, k := range keys {
		if _, ok := p.nodes[k]; ok {
			continue
		}
		if _, ok := p.stored[k]; ok || p.absent[k] {
			continue
		}
		sk := cogniscape.NodeKey{Site: text(k.Site), Kind: cogniscape.Kind(text(string(k.Kind))), ID: text(k.ID)}
		if _, ok := want[sk]; ok {
			continue
		}
		want[sk] = k
		sites, kinds, ids = append(sites, sk.Site), append(kinds, string(sk.Kind)), append(ids, sk.ID)
	}
	for len(sites) > 0 {
		n := min(len(sites), 2000)
		// One index lookup per key (the LIMIT keeps the planner from turning
		// this into a join over the whole table as it grows).
		rows, err := p.tx.Query(p.ctx, `SELECT n.id, n.site, n.kind, n.jira_id, n.data
			FROM unnest($2::text[], $3::text[], $4::text[]) AS k(site, kind, jira_id)
			CROSS JOIN LATERAL (SELECT id, site, kind, jira_id, data FROM nodes
				WHERE customer_id = $1 AND site = k.site AND kind = k.kind AND jira_id = k.jira_id LIMIT 1) n`,
			p.customerID, sites[:n], kinds[:n], ids[:n])
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			var sk cogniscape.NodeKey
			var data []byte
			if err := rows.Scan(&id, &sk.Site, &sk.Kind, &sk.ID, &data); err != nil {
				rows.Close()
				return err
			}
			key := want[sk]
			node, err := cogniscape.DecodeNode(id, key, data, true)
			if err != nil {
				rows.Close()
				return err
			}
			p.stored[key] = node
			p.indexed[node] = searchDoc(cogniscape.IndexedFieldsOf(node), node.Deleted)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		sites, kinds, ids = sites[n:], kinds[n:], ids[n:]
	}
	for _, k := range want {
		if _, ok := p.stored[k]; !ok {
			p.absent[k] = true
		}
	}
	return nil
}

func (p *projection) apply(m *cogniscape.Mutation) error {
	if m.Site == "" {
		site, err := p.resolveSite(m)
		if err != nil {
			return err
		}
		m.Site, m.Payload = site, nil // the payload named no site
		if err := p.prefetch(mutationKeys(m)); err != nil {
			return err
		}
	}
	changed, err := cogniscape.Project(m, p.load)
	if err != nil {
		return err
	}
	for _, n := range changed {
		if !p.isDirty[n] {
			p.isDirty[n] = true
			p.dirty = append(p.dirty, n)
		}
	}
	// The subject needs an id before activity rows can refer to it.
	if subj, ok := cogniscape.SubjectOf(m); ok {
		if _, err := p.load(cogniscape.NodeKey{Site: m.Site, Kind: subj.Kind, ID: subj.ID}); err != nil {
			return err
		}
	}
	p.pending = append(p.pending, m)
	return nil
}

// resolveSite finds the site of a mutation that names none (Jira's issue-link
// events carry only numeric ids): the site of this customer that has the
// most of the link and issues it names (cogniscape.ChooseSite), or else the
// customer's first site. Sites compare byte by byte (COLLATE "C"), as in
// SQLite, whatever the database's collation.
func (p *projection) resolveSite(m *cogniscape.Mutation) (string, error) {
	site, err := cogniscape.ChooseSite(m, func(r cogniscape.NodeRef) ([]string, error) {
		var sites []string
		for k := range p.nodes { // read or made in this batch
			if k.Kind == r.Kind && k.ID == r.ID && !slices.Contains(sites, k.Site) {
				sites = append(sites, k.Site)
			}
		}
		rows, err := p.tx.Query(p.ctx, `SELECT site FROM nodes WHERE customer_id = $1 AND kind = $2 AND jira_id = $3`, p.customerID, string(r.Kind), text(r.ID))
		if err != nil {
			return nil, err
		}
		found, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return nil, err
		}
		for _, s := range found {
			if !slices.Contains(sites, s) {
				sites = append(sites, s)
			}
		}
		return sites, nil
	})
	if err != nil || site != "" {
		return site, err
	}
	err = p.tx.QueryRow(p.ctx, `SELECT site FROM events WHERE customer_id = $1 AND site <> '' ORDER BY site COLLATE "C" LIMIT 1`, p.customerID).Scan(&site)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return site, err
}

// flush writes the dirty nodes, their relations, the batch's changes and
// activity rows, the normalised mutations and the checkpoint.
func (p *projection) flush(from, through int64) error {
	// Every node that rows will point at, in the order the SQLite store
	// saves them: the dirty nodes, then targets of their relations, then
	// nodes named by changes and activity. Read the ones not loaded yet in
	// one go first.
	var more []cogniscape.NodeKey
	for _, n := range p.dirty {
		for _, rel := range n.DirtyRels() {
			for _, t := range n.Rels[rel] {
				more = append(more, cogniscape.NodeKey{Site: n.Key.Site, Kind: t.Kind, ID: t.ID})
			}
		}
	}
	for _, m := range p.pending {
		for _, c := range m.Changes {
			more = append(more, cogniscape.NodeKey{Site: m.Site, Kind: c.Node.Kind, ID: c.Node.ID})
		}
	}
	if err := p.prefetch(more); err != nil {
		return err
	}
	var inserts, updates []*cogniscape.Node
	queued := map[*cogniscape.Node]bool{}
	save := func(n *cogniscape.Node) {
		if queued[n] {
			return
		}
		queued[n] = true
		if n.StoreID == 0 {
			inserts = append(inserts, n)
		} else {
			updates = append(updates, n)
		}
	}
	for _, n := range p.dirty {
		save(n)
	}
	ensure := func(key cogniscape.NodeKey) error {
		n, err := p.load(key)
		if err != nil {
			return err
		}
		if n.StoreID == 0 {
			save(n)
		}
		return nil
	}
	for _, n := range p.dirty {
		for _, rel := range n.DirtyRels() {
			for _, t := range n.Rels[rel] {
				if err := ensure(cogniscape.NodeKey{Site: n.Key.Site, Kind: t.Kind, ID: t.ID}); err != nil {
					return err
				}
			}
		}
	}
	for _, m := range p.pending {
		for _, c := range m.Changes {
			if err := ensure(cogniscape.NodeKey{Site: m.Site, Kind: c.Node.Kind, ID: c.Node.ID}); err != nil {
				return err
			}
		}
		if subj, ok := cogniscape.SubjectOf(m); ok && !cogniscape.IsCommentTwin(m) {
			if err := ensure(cogniscape.NodeKey{Site: m.Site, Kind: subj.Kind, ID: subj.ID}); err != nil {
				return err
			}
		}
	}
	if err := p.saveNodes(inserts, updates); err != nil {
		return err
	}

	// The rows of the whole batch, one statement per table, inserted in the
	// order the SQLite store inserts them one by one (so that where two rows
	// collide on a unique key, the same one is kept).
	var r batchRows
	for _, n := range p.dirty {
		if err := p.edgeRows(&r, n); err != nil {
			return err
		}
	}
	for _, m := range p.pending {
		if err := p.historyRows(&r, m); err != nil {
			return err
		}
		if m.Payload == nil {
			if err := m.EncodePayload(); err != nil {
				return err
			}
		}
		r.mutEvent, r.mutPayload = append(r.mutEvent, m.EventID), append(r.mutPayload, m.Payload)
	}
	b := &pgx.Batch{}
	r.queue(b, p.customerID)
	b.Queue(`INSERT INTO checkpoints (customer_id, event_id) VALUES ($1, $2)
		ON CONFLICT (customer_id) DO UPDATE SET event_id = excluded.event_id`, p.customerID, through)
	if p.db.RawRetention == 0 {
		b.Queue(`UPDATE events SET body = NULL WHERE customer_id = $1 AND id > $2 AND id <= $3 AND body IS NOT NULL`, p.customerID, from, through)
	}
	return p.tx.SendBatch(p.ctx, b).Close()
}

// saveNodes inserts the new nodes (learning their ids) and updates the
// changed ones, in one pipeline, then keeps their search rows in step.
func (p *projection) saveNodes(inserts, updates []*cogniscape.Node) error {
	if len(inserts)+len(updates) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	fields := map[*cogniscape.Node]cogniscape.IndexedFields{}
	for _, n := range append(inserts, updates...) {
		data, err := json.Marshal(n)
		if err != nil {
			return err
		}
		f := cogniscape.IndexedFieldsOf(n)
		fields[n] = f
		if n.StoreID == 0 {
			b.Queue(`INSERT INTO nodes (customer_id, site, kind, jira_id, key, title, status_category, status, created_at, deleted, first_at, last_at, data)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
				p.customerID, text(n.Key.Site), text(string(n.Key.Kind)), text(n.Key.ID), text(f.Key), text(f.Title), text(f.StatusCategory), text(f.Status),
				f.CreatedAt, n.Deleted, n.First.At, n.Last.At, data)
		} else {
			b.Queue(`UPDATE nodes SET key = $1, title = $2, status_category = $3, status = $4, created_at = $5, deleted = $6, first_at = $7, last_at = $8, data = $9 WHERE id = $10`,
				text(f.Key), text(f.Title), text(f.StatusCategory), text(f.Status), f.CreatedAt, n.Deleted, n.First.At, n.Last.At, data, n.StoreID)
		}
	}
	br := p.tx.SendBatch(p.ctx, b)
	for _, n := range inserts {
		if err := br.QueryRow().Scan(&n.StoreID); err != nil {
			br.Close()
			return fmt.Errorf("insert node: %w", err)
		}
	}
	for range updates {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return fmt.Errorf("update node: %w", err)
		}
	}
	if err := br.Close(); err != nil {
		return err
	}

	// The search row changes only when the node's text does.
	b = &pgx.Batch{}
	for _, n := range append(inserts, updates...) {
		f := fields[n]
		doc := searchDoc(f, n.Deleted)
		old, known := p.indexed[n]
		if known && old == doc {
			continue
		}
		p.indexed[n] = doc
		if known && old != "" {
			b.Queue(`DELETE FROM search WHERE node_id = $1`, n.StoreID)
		}
		if doc == "" {
			continue
		}
		b.Queue(`INSERT INTO search (node_id, customer_id, kind, title, body, doc) VALUES ($1, $2, $3, $4, $5, `+searchDocSQL("$6", "$7")+`)`,
			n.StoreID, p.customerID, text(string(n.Key.Kind)), text(f.SearchTitle), text(f.SearchText), searchWords(f.SearchTitle), searchWords(f.SearchText))
	}
	if b.Len() == 0 {
		return nil
	}
	if err := p.tx.SendBatch(p.ctx, b).Close(); err != nil {
		return fmt.Errorf("index nodes: %w", err)
	}
	return nil
}

// searchDoc is what a node contributes to the search index ("" for nothing).
func searchDoc(f cogniscape.IndexedFields, deleted bool) string {
	if f.SearchText == "" || deleted {
		return ""
	}
	return f.SearchTitle + "\x00" + f.SearchText
}

// batchRows are the edge, history and mutation rows of a batch, as columns.
type batchRows struct {
	delSrc                []int64 // relations rewritten: (src, rel)
	delRel                []string
	edgeSrc, edgeDst      []int64
	edgeRel               []string
	edgeSince             []int64
	chNode, chAt, chSeq   []int64
	chIdx                 []int32
	chField, chFrom, chTo []string
	chFromID, chToID      []string
	chActor               []string
	chEvent               []int64
	actAt, actSeq         []int64
	actEvent, actActor    []string
	actEntity, actEventID []int64
	actData               [][]byte
	mutEvent              []int64
	mutPayload            [][]byte
}

func (r *batchRows) queue(b *pgx.Batch, customerID int64) {
	if len(r.delSrc) > 0 {
		b.Queue(`DELETE FROM edges e USING unnest($1::bigint[], $2::text[]) AS d(src, rel) WHERE e.src = d.src AND e.rel = d.rel`,
			r.delSrc, r.delRel)
	}
	if len(r.edgeSrc) > 0 {
		b.Queue(`INSERT INTO edges (customer_id, src, rel, dst, since)
			SELECT $1, s, r, d, t FROM unnest($2::bigint[], $3::text[], $4::bigint[], $5::bigint[]) AS u(s, r, d, t)`,
			customerID, r.edgeSrc, r.edgeRel, r.edgeDst, r.edgeSince)
	}
	if len(r.chNode) > 0 {
		b.Queue(`INSERT INTO changes (customer_id, node, at, seq, idx, field, from_text, to_text, from_id, to_id, actor, event_id)
			SELECT $1, node, at, seq, idx, field, ft, tt, fi, ti, actor, ev
			FROM unnest($2::bigint[], $3::bigint[], $4::bigint[], $5::integer[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::bigint[])
				WITH ORDINALITY AS u(node, at, seq, idx, field, ft, tt, fi, ti, actor, ev, ord)
			ORDER BY ord ON CONFLICT DO NOTHING`,
			customerID, r.chNode, r.chAt, r.chSeq, r.chIdx, r.chField, r.chFrom, r.chTo, r.chFromID, r.chToID, r.chActor, r.chEvent)
	}
	if len(r.actAt) > 0 {
		b.Queue(`INSERT INTO activity (customer_id, at, seq, event, entity, actor, data, event_id)
			SELECT $1, at, seq, event, entity, actor, data, ev
			FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::bigint[], $6::text[], $7::bytea[], $8::bigint[])
				WITH ORDINALITY AS u(at, seq, event, entity, actor, data, ev, ord)
			ORDER BY ord ON CONFLICT DO NOTHING`,
			customerID, r.actAt, r.actSeq, r.actEvent, r.actEntity, r.actActor, r.actData, r.actEventID)
	}
	if len(r.mutEvent) > 0 {
		b.Queue(`INSERT INTO mutations (event_id, customer_id, payload)
			SELECT ev, $1, payload FROM unnest($2::bigint[], $3::bytea[]) WITH ORDINALITY AS u(ev, payload, ord)
			ORDER BY ord ON CONFLICT DO NOTHING`, customerID, r.mutEvent, r.mutPayload)
	}
}

// edgeRows rewrites the stored edges of the node's relations that changed.
func (p *projection) edgeRows(r *batchRows, n *cogniscape.Node) error {
	for _, rel := range n.DirtyRels() {
		r.delSrc, r.delRel = append(r.delSrc, n.StoreID), append(r.delRel, text(rel))
		for _, t := range n.Rels[rel] {
			tn, err := p.load(cogniscape.NodeKey{Site: n.Key.Site, Kind: t.Kind, ID: t.ID})
			if err != nil {
				return err
			}
			if tn.StoreID == 0 {
				return fmt.Errorf("edge target %s/%s not saved", t.Kind, t.ID)
			}
			r.edgeSrc, r.edgeRel = append(r.edgeSrc, n.StoreID), append(r.edgeRel, text(rel))
			r.edgeDst, r.edgeSince = append(r.edgeDst, tn.StoreID), append(r.edgeSince, n.RelSince(rel, t).At)
		}
	}
	n.ClearDirty()
	return nil
}

// activityData is what an activity row keeps to be rendered later; its JSON
// is byte for byte the SQLite store's, so that digests agree.
type activityData struct {
	Changes []cogniscape.Change `json:"changes,omitempty"`
}

// historyRows adds a mutation's changelog items and its activity row.
func (p *projection) historyRows(r *batchRows, m *cogniscape.Mutation) error {
	for i, c := range m.Changes {
		n, err := p.load(cogniscape.NodeKey{Site: m.Site, Kind: c.Node.Kind, ID: c.Node.ID})
		if err != nil {
			return err
		}
		r.chNode, r.chAt, r.chSeq, r.chIdx = append(r.chNode, n.StoreID), append(r.chAt, m.Version.At), append(r.chSeq, m.Version.Seq), append(r.chIdx, int32(i))
		r.chField, r.chFrom, r.chTo = append(r.chField, text(c.Field)), append(r.chFrom, text(c.From)), append(r.chTo, text(c.To))
		r.chFromID, r.chToID = append(r.chFromID, text(c.FromID)), append(r.chToID, text(c.ToID))
		r.chActor, r.chEvent = append(r.chActor, text(m.Actor)), append(r.chEvent, m.EventID)
	}
	subj, ok := cogniscape.SubjectOf(m)
	if !ok || cogniscape.IsCommentTwin(m) {
		return nil
	}
	n, err := p.load(cogniscape.NodeKey{Site: m.Site, Kind: subj.Kind, ID: subj.ID})
	if err != nil {
		return err
	}
	data, _ := json.Marshal(activityData{Changes: m.Changes})
	r.actAt, r.actSeq, r.actEvent = append(r.actAt, m.Version.At), append(r.actSeq, m.Version.Seq), append(r.actEvent, text(m.Event))
	r.actEntity, r.actActor, r.actData, r.actEventID = append(r.actEntity, n.StoreID), append(r.actActor, text(m.Actor)), append(r.actData, data), append(r.actEventID, m.EventID)
	return nil
}
