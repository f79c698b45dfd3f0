package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/cogniscape/cogniscape"
	"golang.org/x/text/unicode/norm"
)

// searchWords turns text into what the search index holds: words of letters
// and digits, lower case, without diacritics, separated by single spaces.
// It is what SQLite's unicode61 tokenizer (remove_diacritics 2) sees, and it
// leaves PostgreSQL's parser nothing to split differently (it would read
// "PAY-101" as "pay" and "-101").
func searchWords(s string) string {
	var b strings.Builder
	space := true
	for _, r := range norm.NFD.String(text(s)) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
			space = false
		case !space:
			b.WriteByte(' ')
			space = true
		}
	}
	return strings.TrimSpace(b.String())
}

// searchDocSQL builds the indexed document from a title ($a) and a body ($b)
// already passed through searchWords.
func searchDocSQL(a, b string) string {
	return `setweight(to_tsvector('simple', ` + a + `), 'A') || setweight(to_tsvector('simple', ` + b + `), 'D')`
}

// Search ranks nodes matching every word of query, titles weighing four times
// as much as bodies (as the SQLite store's bm25 weights do), scoped to the
// customer. Words are split as the SQLite store splits them; a trailing *
// matches a prefix. No input is query syntax: each word becomes a phrase of
// plain lexemes.
func (db *DB) Search(ctx context.Context, customerID int64, query string, kind cogniscape.Kind, limit int) ([]cogniscape.SearchHit, error) {
	if limit <= 0 || limit > 100 {
		limit = 20
	}
	var parts []string
	args := []any{customerID, text(string(kind)), limit}
	for _, w := range strings.FieldsFunc(query, func(r rune) bool {
		return !(r == '*' || r == '-' || r == '_' || r == '.' || unicode.IsLetter(r) || unicode.IsDigit(r))
	}) {
		prefix := strings.HasSuffix(w, "*")
		words := searchWords(strings.Trim(w, "*"))
		if words == "" {
			continue
		}
		args = append(args, words)
		q := fmt.Sprintf(`phraseto_tsquery('simple', $%d)`, len(args))
		if prefix {
			q = `regexp_replace(` + q + `::text, '''$', ''':*')::tsquery`
		}
		parts = append(parts, q)
		if len(parts) == 16 {
			break
		}
	}
	if len(parts) == 0 {
		return []cogniscape.SearchHit{}, nil
	}
	rows, err := db.pool.Query(ctx, `WITH q AS (SELECT `+strings.Join(parts, " && ")+` AS q)
		SELECT n.id, n.site, n.kind, n.jira_id, n.data, ts_rank('{0.25, 0.4, 0.6, 1.0}', s.doc, q.q) AS score,
			ts_headline('simple', s.body, q.q, 'StartSel=[, StopSel=], MaxWords=12, MinWords=4, ShortWord=0, MaxFragments=1, FragmentDelimiter=…')
		FROM q, search s JOIN nodes n ON n.id = s.node_id
		WHERE s.doc @@ q.q AND s.customer_id = $1 AND ($2 = '' OR s.kind = $2)
		ORDER BY score DESC, n.id LIMIT $3`, args...)
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
		var score float32
		if err := rows.Scan(&id, &key.Site, &key.Kind, &key.ID, &data, &score, &h.Snippet); err != nil {
			return nil, unavailable("search", err)
		}
		n, err := cogniscape.DecodeNode(id, key, data, false)
		if err != nil {
			return nil, unavailable("search", err)
		}
		h.Node, h.Score = n, float64(score)
		out = append(out, h)
	}
	return out, unavailable("search", rows.Err())
}

// ProjectIssues returns the indexed facts of a project's issues.
func (db *DB) ProjectIssues(ctx context.Context, customerID, project int64) ([]cogniscape.IssueFact, error) {
	rows, err := db.pool.Query(ctx, `SELECT n.id, n.key, n.created_at, n.status, n.status_category, n.deleted
		FROM edges e JOIN nodes n ON n.id = e.src WHERE e.customer_id = $1 AND e.dst = $2 AND e.rel = 'project' AND n.kind = 'issue'
		ORDER BY n.id`, customerID, project)
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
	return out, unavailable("project issues", rows.Err())
}

// asciiFold lowers the ASCII letters of a column in SQL, as SQLite's NOCASE
// collation does (and nothing else, unlike lower() under some locales).
func asciiFold(expr string) string {
	return `translate(` + expr + `, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')`
}

// ProjectChanges returns one field's changelog over a project's issues.
func (db *DB) ProjectChanges(ctx context.Context, customerID, project int64, field string) ([]cogniscape.ChangeRecord, error) {
	return db.changes(ctx, `SELECT c.node, c.at, c.seq, c.field, c.from_text, c.to_text, c.from_id, c.to_id, c.actor, c.event_id
		FROM edges e JOIN changes c ON c.node = e.src AND `+asciiFold("c.field")+` = `+asciiFold("$3")+`
		WHERE e.customer_id = $1 AND e.dst = $2 AND e.rel = 'project' ORDER BY c.at, c.seq, c.idx, c.id`, customerID, project, text(field))
}

// ChangesByActor returns what a person of a site changed there since.
func (db *DB) ChangesByActor(ctx context.Context, customerID int64, site, actor string, since time.Time) ([]cogniscape.ChangeRecord, error) {
	return db.changes(ctx, `SELECT c.node, c.at, c.seq, c.field, c.from_text, c.to_text, c.from_id, c.to_id, c.actor, c.event_id
		FROM changes c JOIN nodes n ON n.id = c.node
		WHERE c.customer_id = $1 AND c.actor = $2 AND c.at >= $3 AND n.site = $4 ORDER BY c.at, c.seq, c.idx, c.id LIMIT 5000`,
		customerID, text(actor), ms(since), text(site))
}

// Sources returns the events behind these nodes: their activity and changes.
func (db *DB) Sources(ctx context.Context, customerID int64, nodes []int64, limit int) ([]cogniscape.Source, error) {
	if len(nodes) == 0 {
		return []cogniscape.Source{}, nil
	}
	if len(nodes) > 500 {
		nodes = nodes[:500]
	}
	// Changelog items come only from issue events; activity rows name theirs.
	rows, err := db.pool.Query(ctx, `SELECT event_id, min(at), coalesce(max(event), 'jira:issue_updated') FROM (
			SELECT a.event_id, a.at, a.event FROM activity a WHERE a.customer_id = $1 AND a.entity = ANY($2)
			UNION ALL
			SELECT c.event_id, c.at, NULL FROM changes c WHERE c.customer_id = $1 AND c.node = ANY($2)
		) s GROUP BY event_id ORDER BY 2, 1 LIMIT $3`, customerID, nodes, limit)
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
	return out, unavailable("sources", rows.Err())
}
