package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cogniscape/cogniscape"
	"github.com/jackc/pgx/v5"
)

var _ cogniscape.GraphReader = (*DB)(nil)

const nodeColumns = `id, site, kind, jira_id, data`

func scanNode(r pgx.Row) (*cogniscape.Node, error) {
	var id int64
	var key cogniscape.NodeKey
	var data []byte
	if err := r.Scan(&id, &key.Site, &key.Kind, &key.ID, &data); err != nil {
		return nil, err
	}
	return cogniscape.DecodeNode(id, key, data, false)
}

func (db *DB) oneNode(ctx context.Context, q string, args ...any) (*cogniscape.Node, error) {
	n, err := scanNode(db.pool.QueryRow(ctx, q, args...))
	if errors.Is(err, pgx.ErrNoRows) {
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
		n, err := db.oneNode(ctx, `SELECT `+nodeColumns+` FROM nodes WHERE customer_id = $1 AND kind = $2 AND key = $3 ORDER BY deleted, last_at DESC, id LIMIT 1`,
			customerID, text(string(kind)), text(strings.ToUpper(keyOrID)))
		if cogniscape.ErrorCode(err) != cogniscape.ENOTFOUND {
			return n, err
		}
	}
	return db.oneNode(ctx, `SELECT `+nodeColumns+` FROM nodes WHERE customer_id = $1 AND kind = $2 AND jira_id = $3 ORDER BY deleted, last_at DESC, id LIMIT 1`,
		customerID, text(string(kind)), text(keyOrID))
}

// NodeByKey finds a node by its identity.
func (db *DB) NodeByKey(ctx context.Context, customerID int64, key cogniscape.NodeKey) (*cogniscape.Node, error) {
	return db.oneNode(ctx, `SELECT `+nodeColumns+` FROM nodes WHERE customer_id = $1 AND site = $2 AND kind = $3 AND jira_id = $4`,
		customerID, text(key.Site), text(string(key.Kind)), text(key.ID))
}

// Nodes returns the customer's nodes with these ids.
func (db *DB) Nodes(ctx context.Context, customerID int64, ids []int64) ([]*cogniscape.Node, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	return db.readNodes(ctx, `SELECT `+nodeColumns+` FROM nodes WHERE customer_id = $1 AND id = ANY($2)`, customerID, ids)
}

// readNodes returns the nodes a query of nodeColumns selects.
func (db *DB) readNodes(ctx context.Context, q string, args ...any) ([]*cogniscape.Node, error) {
	rows, err := db.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, unavailable("read nodes", err)
	}
	defer rows.Close()
	var out []*cogniscape.Node
	for rows.Next() {
		n, err := scanNode(rows)
		if err != nil {
			return nil, unavailable("read nodes", err)
		}
		out = append(out, n)
	}
	return out, unavailable("read nodes", rows.Err())
}

func (db *DB) edges(ctx context.Context, q string, args ...any) ([]cogniscape.Edge, error) {
	rows, err := db.pool.Query(ctx, q, args...)
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
	return out, unavailable("read edges", rows.Err())
}

// EdgesFrom returns the node's current relations (of rel, or all).
func (db *DB) EdgesFrom(ctx context.Context, customerID, node int64, rel string) ([]cogniscape.Edge, error) {
	return db.edges(ctx, `SELECT src, rel, dst, since FROM edges WHERE customer_id = $1 AND src = $2 AND ($3 = '' OR rel = $3)
		ORDER BY src, rel COLLATE "C", dst`, customerID, node, text(rel))
}

// EdgesTo returns the current relations into the node.
func (db *DB) EdgesTo(ctx context.Context, customerID, node int64, rel string) ([]cogniscape.Edge, error) {
	return db.edges(ctx, `SELECT src, rel, dst, since FROM edges WHERE customer_id = $1 AND dst = $2 AND ($3 = '' OR rel = $3)
		ORDER BY dst, rel COLLATE "C", src`, customerID, node, text(rel))
}

func (db *DB) changes(ctx context.Context, q string, args ...any) ([]cogniscape.ChangeRecord, error) {
	rows, err := db.pool.Query(ctx, q, args...)
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
	return out, unavailable("read changes", rows.Err())
}

const changeColumns = `node, at, seq, field, from_text, to_text, from_id, to_id, actor, event_id`

// Changes returns the node's changelog, oldest first.
func (db *DB) Changes(ctx context.Context, customerID, node int64) ([]cogniscape.ChangeRecord, error) {
	return db.changes(ctx, `SELECT `+changeColumns+` FROM changes WHERE customer_id = $1 AND node = $2 ORDER BY at, seq, idx, id`, customerID, node)
}

// NodesInto returns the nodes of kind related by rel to any of dsts.
func (db *DB) NodesInto(ctx context.Context, customerID int64, dsts []int64, rel string, kind cogniscape.Kind) ([]*cogniscape.Node, error) {
	if len(dsts) == 0 {
		return nil, nil
	}
	return db.readNodes(ctx, `SELECT `+nodeColumns+` FROM nodes WHERE customer_id = $1 AND kind = $2 AND id IN
		(SELECT src FROM edges WHERE customer_id = $1 AND rel = $3 AND dst = ANY($4))`, customerID, string(kind), text(rel), dsts)
}

// ChangesOfNodes returns the changelog items of one field (ASCII letters
// compared without case) of these nodes, oldest first.
func (db *DB) ChangesOfNodes(ctx context.Context, customerID int64, nodes []int64, field string) ([]cogniscape.ChangeRecord, error) {
	if len(nodes) == 0 {
		return nil, nil
	}
	return db.changes(ctx, `SELECT `+changeColumns+` FROM changes WHERE customer_id = $1 AND node = ANY($2)
		AND translate(field, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') = translate($3, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')
		ORDER BY at, seq, idx, id`, customerID, nodes, text(field))
}

// ChangesOfField returns changelog items of one field (ASCII letters
// compared without case, as SQLite's NOCASE does), oldest first.
func (db *DB) ChangesOfField(ctx context.Context, customerID int64, field string, since time.Time) ([]cogniscape.ChangeRecord, error) {
	return db.changes(ctx, `SELECT `+changeColumns+` FROM changes WHERE customer_id = $1 AND at >= $2
		AND translate(field, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') = translate($3, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')
		ORDER BY at, seq, idx, id`, customerID, ms(since), text(field))
}

// Issues lists issues, most recently active first, paged by an opaque cursor.
func (db *DB) Issues(ctx context.Context, customerID int64, f cogniscape.IssueQuery) ([]*cogniscape.Node, string, error) {
	q := strings.Builder{}
	args := []any{customerID}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	q.WriteString(`SELECT n.id, n.site, n.kind, n.jira_id, n.data, n.last_at FROM nodes n WHERE n.customer_id = $1 AND n.kind = 'issue' AND n.key <> ''`)
	if f.StatusCategory != "" {
		q.WriteString(` AND n.status_category = ` + arg(text(f.StatusCategory)))
	}
	for _, r := range []struct {
		rel string
		dst int64
	}{{cogniscape.RelProject, f.Project}, {cogniscape.RelAssignee, f.Assignee}, {cogniscape.RelSprint, f.Sprint}} {
		if r.dst != 0 {
			q.WriteString(` AND EXISTS (SELECT 1 FROM edges e WHERE e.src = n.id AND e.rel = ` + arg(r.rel) + ` AND e.dst = ` + arg(r.dst) + `)`)
		}
	}
	if f.Query != "" {
		// SQLite's LIKE ignores the case of ASCII letters; so does this.
		like := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(asciiLower(text(f.Query))) + "%"
		a := arg(like)
		q.WriteString(` AND (translate(n.key, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') LIKE ` + a + ` ESCAPE '\'` +
			` OR translate(n.title, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') LIKE ` + a + ` ESCAPE '\')`)
	}
	if f.Cursor != "" {
		lastAt, id, err := cogniscape.DecodeIssueCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		a, b := arg(lastAt), arg(id)
		q.WriteString(` AND (n.last_at < ` + a + ` OR (n.last_at = ` + a + ` AND n.id < ` + b + `))`)
	}
	limit := f.Limit
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	q.WriteString(` ORDER BY n.last_at DESC, n.id DESC LIMIT ` + arg(limit+1))
	rows, err := db.pool.Query(ctx, q.String(), args...)
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

func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, s)
}

// Activity returns projected events at or after since, newest first.
func (db *DB) Activity(ctx context.Context, customerID int64, since time.Time, limit int) ([]cogniscape.ActivityRecord, error) {
	if limit <= 0 || limit > 5000 {
		limit = 50
	}
	rows, err := db.pool.Query(ctx, `SELECT a.at, a.event, a.actor, a.data, a.event_id, n.id, n.site, n.kind, n.jira_id, n.data
		FROM activity a JOIN nodes n ON n.id = a.entity
		WHERE a.customer_id = $1 AND a.at >= $2 ORDER BY a.at DESC, a.seq DESC, a.id DESC LIMIT $3`, customerID, ms(since), limit)
	if err != nil {
		return nil, unavailable("read activity", err)
	}
	defer rows.Close()
	var out []cogniscape.ActivityRecord
	// An entity active many times in the period is decoded and held once.
	entities := map[int64]*cogniscape.Node{}
	for rows.Next() {
		var rec cogniscape.ActivityRecord
		var at, id int64
		var data, ndata []byte
		var key cogniscape.NodeKey
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
	return out, unavailable("read activity", rows.Err())
}
