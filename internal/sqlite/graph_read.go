package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/cogniscape/cogniscape"
)

var _ cogniscape.GraphReader = (*DB)(nil)

const nodeColumns = `id, site, kind, jira_id, data`

func scanNode(r scanner) (*cogniscape.Node, error) {
	var id int64
	var key cogniscape.NodeKey
	var data []byte
	if err := r.Scan(&id, &key.Site, &key.Kind, &key.ID, &data); err != nil {
		return nil, err
	}
	return cogniscape.DecodeNode(id, key, data, false)
}

func (db *DB) oneNode(ctx context.Context, q string, args ...any) (*cogniscape.Node, error) {
	n, err := scanNode(db.queryRow(ctx, q, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, cogniscape.Errorf(cogniscape.ENOTFOUND, "not found")
	}
	if err != nil {
		return nil, unavailable("read node", err)
	}
	return n, nil
}

// FindNode finds a node by key (issues, projects) or Jira id. Where two
// sites share a key, the live, most recently active node wins.
func (db *DB) FindNode(ctx context.Context, customerID int64, kind cogniscape.Kind, keyOrID string) (*cogniscape.Node, error) {
	if kind == cogniscape.KindIssue || kind == cogniscape.KindProject {
		n, err := db.oneNode(ctx, `SELECT `+nodeColumns+` FROM nodes WHERE customer_id = ? AND kind = ? AND key = ? ORDER BY deleted, last_at DESC LIMIT 1`,
			customerID, kind, strings.ToUpper(keyOrID))
		if cogniscape.ErrorCode(err) != cogniscape.ENOTFOUND {
			return n, err
		}
	}
	return db.oneNode(ctx, `SELECT `+nodeColumns+` FROM nodes WHERE customer_id = ? AND kind = ? AND jira_id = ? ORDER BY deleted, last_at DESC LIMIT 1`,
		customerID, kind, keyOrID)
}

// NodeByKey finds a node by its identity.
func (db *DB) NodeByKey(ctx context.Context, customerID int64, key cogniscape.NodeKey) (*cogniscape.Node, error) {
	return db.oneNode(ctx, `SELECT `+nodeColumns+` FROM nodes WHERE customer_id = ? AND site = ? AND kind = ? AND jira_id = ?`,
		customerID, key.Site, key.Kind, key.ID)
}

// Nodes returns the customer's nodes with these ids.
func (db *DB) Nodes(ctx context.Context, customerID int64, ids []int64) ([]*cogniscape.Node, error) {
	var out []*cogniscape.Node
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 500)]
		ids = ids[len(chunk):]
		args := []any{customerID}
		for _, id := range chunk {
			args = append(args, id)
		}
		// By primary key: the unary + keeps SQLite off the (customer, …)
		// indexes, through which it would read every node of the customer.
		var err error
		if out, err = db.readNodes(ctx, out, `SELECT `+nodeColumns+` FROM nodes WHERE +customer_id = ? AND id IN (`+placeholders(len(chunk))+`)`, args...); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// readNodes appends the nodes a query of nodeColumns returns to out.
func (db *DB) readNodes(ctx context.Context, out []*cogniscape.Node, q string, args ...any) ([]*cogniscape.Node, error) {
	rows, err := db.query(ctx, q, args...)
	if err != nil {
		return nil, unavailable("read nodes", err)
	}
	defer rows.Close()
	for rows.Next() {
		n, err := scanNode(rows)
		if err != nil {
			return nil, unavailable("read nodes", err)
		}
		out = append(out, n)
	}
	return out, unavailableIf("read nodes", rows.Err())
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

func (db *DB) edges(ctx context.Context, q string, args ...any) ([]cogniscape.Edge, error) {
	rows, err := db.query(ctx, q, args...)
	if err != nil {
		return nil, unavailable("read edges", err)
	}
	defer rows.Close()
	var out []cogniscape.Edge
	for rows.Next() {
		var e cogniscape.Edge
		var since int64
		if err := rows.Scan(&e.Src, &e.Rel, &e.Dst, &since); err != nil {
			return nil, unavailable("read edges", err)
		}
		e.Since = fromMS(since)
		out = append(out, e)
	}
	return out, unavailableIf("read edges", rows.Err())
}

// EdgesFrom returns the node's current relations (of rel, or all).
func (db *DB) EdgesFrom(ctx context.Context, customerID, node int64, rel string) ([]cogniscape.Edge, error) {
	return db.edges(ctx, `SELECT src, rel, dst, since FROM edges WHERE customer_id = ? AND src = ? AND (? = '' OR rel = ?)`, customerID, node, rel, rel)
}

// EdgesTo returns the current relations into the node.
func (db *DB) EdgesTo(ctx context.Context, customerID, node int64, rel string) ([]cogniscape.Edge, error) {
	return db.edges(ctx, `SELECT src, rel, dst, since FROM edges WHERE customer_id = ? AND dst = ? AND (? = '' OR rel = ?)`, customerID, node, rel, rel)
}

func (db *DB) changes(ctx context.Context, q string, args ...any) ([]cogniscape.ChangeRecord, error) {
	rows, err := db.query(ctx, q, args...)
	if err != nil {
		return nil, unavailable("read changes", err)
	}
	defer rows.Close()
	var out []cogniscape.ChangeRecord
	for rows.Next() {
		var c cogniscape.ChangeRecord
		var at int64
		if err := rows.Scan(&c.Node, &at, &c.Seq, &c.Field, &c.From, &c.To, &c.FromID, &c.ToID, &c.Actor, &c.EventID); err != nil {
			return nil, unavailable("read changes", err)
		}
		c.At = fromMS(at)
		out = append(out, c)
	}
	return out, unavailableIf("read changes", rows.Err())
}

const changeColumns = `node, at, seq, field, from_text, to_text, from_id, to_id, actor, event_id`

// Changes returns the node's changelog, oldest first.
func (db *DB) Changes(ctx context.Context, customerID, node int64) ([]cogniscape.ChangeRecord, error) {
	return db.changes(ctx, `SELECT `+changeColumns+` FROM changes WHERE customer_id = ? AND node = ? ORDER BY at, seq, idx`, customerID, node)
}

// NodesInto returns the nodes of kind related by rel to any of dsts.
func (db *DB) NodesInto(ctx context.Context, customerID int64, dsts []int64, rel string, kind cogniscape.Kind) ([]*cogniscape.Node, error) {
	var out []*cogniscape.Node
	for len(dsts) > 0 {
		chunk := dsts[:min(len(dsts), 500)]
		dsts = dsts[len(chunk):]
		args := []any{customerID, string(kind), customerID, rel}
		for _, id := range chunk {
			args = append(args, id)
		}
		var err error
		if out, err = db.readNodes(ctx, out, `SELECT `+nodeColumns+` FROM nodes WHERE +customer_id = ? AND +kind = ? AND id IN
			(SELECT src FROM edges WHERE customer_id = ? AND rel = ? AND dst IN (`+placeholders(len(chunk))+`))`, args...); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ChangesOfNodes returns the changelog items of one field of these nodes,
// oldest first.
func (db *DB) ChangesOfNodes(ctx context.Context, customerID int64, nodes []int64, field string) ([]cogniscape.ChangeRecord, error) {
	var out []cogniscape.ChangeRecord
	for len(nodes) > 0 {
		chunk := nodes[:min(len(nodes), 500)]
		nodes = nodes[len(chunk):]
		args := []any{customerID, field}
		for _, id := range chunk {
			args = append(args, id)
		}
		// The unary + keep SQLite off the (customer, field) index, which
		// would read every such change of the customer: by node it is a
		// few rows each.
		cs, err := db.changes(ctx, `SELECT `+changeColumns+` FROM changes WHERE +customer_id = ? AND +field = ? COLLATE NOCASE
			AND node IN (`+placeholders(len(chunk))+`) ORDER BY at, seq, idx`, args...)
		if err != nil {
			return nil, err
		}
		out = append(out, cs...)
	}
	// Chunks hold whole nodes, each in order; merge them by time, stably.
	slices.SortStableFunc(out, func(a, b cogniscape.ChangeRecord) int {
		return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.Seq, b.Seq))
	})
	return out, nil
}

// ChangesOfField returns changelog items of one field, oldest first.
func (db *DB) ChangesOfField(ctx context.Context, customerID int64, field string, since time.Time) ([]cogniscape.ChangeRecord, error) {
	return db.changes(ctx, `SELECT `+changeColumns+` FROM changes WHERE customer_id = ? AND at >= ? AND field = ? COLLATE NOCASE ORDER BY at, seq, idx`,
		customerID, ms(since), field)
}

// Issues lists issues, most recently active first, paged by an opaque cursor.
func (db *DB) Issues(ctx context.Context, customerID int64, f cogniscape.IssueQuery) ([]*cogniscape.Node, string, error) {
	q := strings.Builder{}
	q.WriteString(`SELECT n.id, n.site, n.kind, n.jira_id, n.data, n.last_at FROM nodes n WHERE n.customer_id = ? AND n.kind = 'issue' AND n.key != ''`)
	args := []any{customerID}
	if f.StatusCategory != "" {
		q.WriteString(` AND n.status_category = ?`)
		args = append(args, f.StatusCategory)
	}
	for _, r := range []struct {
		rel string
		dst int64
	}{{cogniscape.RelProject, f.Project}, {cogniscape.RelAssignee, f.Assignee}, {cogniscape.RelSprint, f.Sprint}} {
		if r.dst != 0 {
			q.WriteString(` AND EXISTS (SELECT 1 FROM edges e WHERE e.src = n.id AND e.rel = ? AND e.dst = ?)`)
			args = append(args, r.rel, r.dst)
		}
	}
	if f.Query != "" {
		q.WriteString(` AND (n.key LIKE ? ESCAPE '\' OR n.title LIKE ? ESCAPE '\')`)
		like := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(f.Query) + "%"
		args = append(args, like, like)
	}
	if f.Cursor != "" {
		lastAt, id, err := cogniscape.DecodeIssueCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		q.WriteString(` AND (n.last_at < ? OR (n.last_at = ? AND n.id < ?))`)
		args = append(args, lastAt, lastAt, id)
	}
	limit := f.Limit
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	q.WriteString(` ORDER BY n.last_at DESC, n.id DESC LIMIT ?`)
	args = append(args, limit+1)
	rows, err := db.query(ctx, q.String(), args...)
	if err != nil {
		return nil, "", unavailable("list issues", err)
	}
	defer rows.Close()
	var out []*cogniscape.Node
	var lastAts []int64
	for rows.Next() {
		var id, lastAt int64
		var key cogniscape.NodeKey
		var data []byte
		if err := rows.Scan(&id, &key.Site, &key.Kind, &key.ID, &data, &lastAt); err != nil {
			return nil, "", unavailable("list issues", err)
		}
		n, err := cogniscape.DecodeNode(id, key, data, false)
		if err != nil {
			return nil, "", unavailable("list issues", err)
		}
		out = append(out, n)
		lastAts = append(lastAts, lastAt)
	}
	if err := rows.Err(); err != nil {
		return nil, "", unavailable("list issues", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = cogniscape.EncodeIssueCursor(lastAts[limit-1], out[limit-1].StoreID)
	}
	return out, next, nil
}

// Activity returns projected events at or after since, newest first.
func (db *DB) Activity(ctx context.Context, customerID int64, since time.Time, limit int) ([]cogniscape.ActivityRecord, error) {
	if limit <= 0 || limit > 5000 {
		limit = 50
	}
	rows, err := db.query(ctx, `SELECT a.at, a.event, a.actor, a.data, a.event_id, n.id, n.site, n.kind, n.jira_id, n.data
		FROM activity a JOIN nodes n ON n.id = a.entity
		WHERE a.customer_id = ? AND a.at >= ? ORDER BY a.at DESC, a.seq DESC, a.id DESC LIMIT ?`, customerID, ms(since), limit)
	if err != nil {
		return nil, unavailable("read activity", err)
	}
	defer rows.Close()
	var out []cogniscape.ActivityRecord
	// An entity active many times in the period is decoded and held once.
	entities := map[int64]*cogniscape.Node{}
	for rows.Next() {
		var rec cogniscape.ActivityRecord
		var at int64
		var data []byte
		var id int64
		var key cogniscape.NodeKey
		var ndata []byte
		if err := rows.Scan(&at, &rec.Event, &rec.Actor, &data, &rec.EventID, &id, &key.Site, &key.Kind, &key.ID, &ndata); err != nil {
			return nil, unavailable("read activity", err)
		}
		var d activityData
		json.Unmarshal(data, &d)
		cogniscape.CutChangeValues(d.Changes)
		rec.Changes = d.Changes
		rec.At = fromMS(at)
		n := entities[id]
		if n == nil {
			if n, err = cogniscape.DecodeNode(id, key, ndata, false); err != nil {
				return nil, unavailable("read activity", err)
			}
			entities[id] = n
		}
		rec.Entity = n
		out = append(out, rec)
	}
	return out, unavailableIf("read activity", rows.Err())
}

// Search ranks nodes with FTS5's bm25, scoped to the customer.
func (db *DB) Search(ctx context.Context, customerID int64, query string, kind cogniscape.Kind, limit int) ([]cogniscape.SearchHit, error) {
	match := ftsQuery(query)
	if match == "" {
		return []cogniscape.SearchHit{}, nil
	}
	if limit <= 0 || limit > 100 {
		limit = 20
	}
	rows, err := db.query(ctx, `SELECT n.id, n.site, n.kind, n.jira_id, n.data, -bm25(search, 4.0, 1.0), snippet(search, 1, '[', ']', '…', 12)
		FROM search JOIN nodes n ON n.id = search.rowid
		WHERE search MATCH ? AND search.customer_id = ? AND (? = '' OR search.kind = ?)
		ORDER BY bm25(search, 4.0, 1.0) LIMIT ?`, match, customerID, kind, kind, limit)
	if err != nil {
		return nil, unavailable("search", err)
	}
	defer rows.Close()
	out := []cogniscape.SearchHit{}
	for rows.Next() {
		var h cogniscape.SearchHit
		var id int64
		var key cogniscape.NodeKey
		var data []byte
		if err := rows.Scan(&id, &key.Site, &key.Kind, &key.ID, &data, &h.Score, &h.Snippet); err != nil {
			return nil, unavailable("search", err)
		}
		n, err := cogniscape.DecodeNode(id, key, data, false)
		if err != nil {
			return nil, unavailable("search", err)
		}
		h.Node = n
		out = append(out, h)
	}
	return out, unavailableIf("search", rows.Err())
}

// ftsQuery turns what a person types into a safe FTS5 query: every word a
// quoted term (so that no input is FTS syntax), ANDed, a trailing * kept as a
// prefix match.
func ftsQuery(q string) string {
	var terms []string
	for _, w := range strings.FieldsFunc(q, func(r rune) bool {
		return !(r == '*' || r == '-' || r == '_' || r == '.' || unicodeLetterOrDigit(r))
	}) {
		prefix := strings.HasSuffix(w, "*")
		w = strings.Trim(w, "*")
		if w == "" {
			continue
		}
		t := `"` + strings.ReplaceAll(w, `"`, `""`) + `"`
		if prefix {
			t += "*"
		}
		terms = append(terms, t)
		if len(terms) == 16 {
			break
		}
	}
	return strings.Join(terms, " ")
}

// ProjectIssues returns the indexed facts of a project's issues.
func (db *DB) ProjectIssues(ctx context.Context, customerID, project int64) ([]cogniscape.IssueFact, error) {
	rows, err := db.query(ctx, `SELECT n.id, n.key, n.created_at, n.status, n.status_category, n.deleted
		FROM edges e JOIN nodes n ON n.id = e.src WHERE e.customer_id = ? AND e.dst = ? AND e.rel = 'project' AND n.kind = 'issue'`, customerID, project)
	if err != nil {
		return nil, unavailable("project issues", err)
	}
	defer rows.Close()
	var out []cogniscape.IssueFact
	for rows.Next() {
		var f cogniscape.IssueFact
		var created int64
		if err := rows.Scan(&f.StoreID, &f.Key, &created, &f.Status, &f.StatusCategory, &f.Deleted); err != nil {
			return nil, unavailable("project issues", err)
		}
		if created > 0 {
			f.CreatedAt = fromMS(created)
		}
		out = append(out, f)
	}
	return out, unavailableIf("project issues", rows.Err())
}

// ProjectChanges returns one field's changelog over a project's issues.
func (db *DB) ProjectChanges(ctx context.Context, customerID, project int64, field string) ([]cogniscape.ChangeRecord, error) {
	return db.changes(ctx, `SELECT c.node, c.at, c.seq, c.field, c.from_text, c.to_text, c.from_id, c.to_id, c.actor, c.event_id
		FROM edges e JOIN changes c ON c.node = e.src AND c.field = ? COLLATE NOCASE
		WHERE e.customer_id = ? AND e.dst = ? AND e.rel = 'project' ORDER BY c.at, c.seq, c.idx`, field, customerID, project)
}

// ChangesByActor returns what a person of a site changed there since.
func (db *DB) ChangesByActor(ctx context.Context, customerID int64, site, actor string, since time.Time) ([]cogniscape.ChangeRecord, error) {
	return db.changes(ctx, `SELECT c.node, c.at, c.seq, c.field, c.from_text, c.to_text, c.from_id, c.to_id, c.actor, c.event_id
		FROM changes c JOIN nodes n ON n.id = c.node
		WHERE c.customer_id = ? AND c.actor = ? AND c.at >= ? AND n.site = ? ORDER BY c.at, c.seq, c.idx LIMIT 5000`,
		customerID, actor, ms(since), site)
}

// Sources returns the events behind these nodes: their activity and changes.
func (db *DB) Sources(ctx context.Context, customerID int64, nodes []int64, limit int) ([]cogniscape.Source, error) {
	if len(nodes) == 0 {
		return []cogniscape.Source{}, nil
	}
	if len(nodes) > 500 {
		nodes = nodes[:500]
	}
	args := []any{customerID}
	for _, id := range nodes {
		args = append(args, id)
	}
	args = append(args, customerID)
	for _, id := range nodes {
		args = append(args, id)
	}
	args = append(args, limit)
	in := placeholders(len(nodes))
	// Changelog items come only from issue events; activity rows name theirs.
	// The unary + keeps SQLite off the (customer, time) indexes, which would
	// scan the customer's whole history instead of the few nodes asked for.
	rows, err := db.query(ctx, `SELECT event_id, min(at), coalesce(max(event), 'jira:issue_updated') FROM (
			SELECT a.event_id, a.at, a.event FROM activity a WHERE +a.customer_id = ? AND a.entity IN (`+in+`)
			UNION ALL
			SELECT c.event_id, c.at, NULL FROM changes c WHERE +c.customer_id = ? AND c.node IN (`+in+`)
		) GROUP BY event_id ORDER BY 2, 1 LIMIT ?`, args...)
	if err != nil {
		return nil, unavailable("sources", err)
	}
	defer rows.Close()
	out := []cogniscape.Source{}
	for rows.Next() {
		var s cogniscape.Source
		var at int64
		if err := rows.Scan(&s.EventID, &at, &s.Event); err != nil {
			return nil, unavailable("sources", err)
		}
		s.At = fromMS(at).Format(time.RFC3339)
		out = append(out, s)
	}
	return out, unavailableIf("sources", rows.Err())
}

func unicodeLetterOrDigit(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// SprintChanges returns the Sprint changelog items naming one sprint. The
// values are comma-separated id lists ("37, 38"); they are matched as whole
// items after the spaces are taken out.
func (db *DB) SprintChanges(ctx context.Context, customerID int64, sprintID string, since time.Time) ([]cogniscape.ChangeRecord, error) {
	pattern := "%," + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(sprintID) + ",%"
	return db.changes(ctx, `SELECT `+changeColumns+` FROM changes WHERE customer_id = ? AND at >= ? AND field = 'Sprint' COLLATE NOCASE
		AND (',' || replace(from_id, ' ', '') || ',' LIKE ? ESCAPE '\' OR ',' || replace(to_id, ' ', '') || ',' LIKE ? ESCAPE '\')
		ORDER BY at, seq, idx`, customerID, ms(since), pattern, pattern)
}
