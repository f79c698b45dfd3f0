package sqlite

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// GraphDigest hashes a customer's whole graph by natural keys (site, kind,
// Jira id), leaving out store row ids and log positions, which depend on
// arrival order. Two graphs with the same digest hold the same nodes,
// relations, history and activity.
func (db *DB) GraphDigest(ctx context.Context, customerID int64) (string, error) {
	h := sha256.New()
	const natural = `n.site || '|' || n.kind || '|' || n.jira_id`
	queries := []string{
		`SELECT 'node', ` + natural + `, n.key, n.title, n.status_category, n.deleted, n.first_at, n.last_at, hex(n.data)
			FROM nodes n WHERE n.customer_id = ? ORDER BY n.site, n.kind, n.jira_id`,
		`SELECT 'edge', s.site || '|' || s.kind || '|' || s.jira_id, e.rel, d.site || '|' || d.kind || '|' || d.jira_id, e.since, '', '', '', ''
			FROM edges e JOIN nodes s ON s.id = e.src JOIN nodes d ON d.id = e.dst WHERE e.customer_id = ? ORDER BY 2, 3, 4`,
		`SELECT 'change', ` + natural + `, c.at || '|' || c.seq || '|' || c.idx, c.field, c.from_text || '|' || c.from_id, c.to_text || '|' || c.to_id, c.actor, '', ''
			FROM changes c JOIN nodes n ON n.id = c.node WHERE c.customer_id = ? ORDER BY 2, 3`,
		`SELECT 'activity', ` + natural + `, a.at || '|' || a.seq, a.event, a.actor, hex(a.data), '', '', ''
			FROM activity a JOIN nodes n ON n.id = a.entity WHERE a.customer_id = ? ORDER BY 2, 3, 4`,
	}
	for _, q := range queries {
		rows, err := db.query(ctx, q, customerID)
		if err != nil {
			return "", unavailable("digest", err)
		}
		for rows.Next() {
			var cols [9]any
			ptrs := make([]any, len(cols))
			for i := range cols {
				ptrs[i] = &cols[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return "", unavailable("digest", err)
			}
			fmt.Fprintf(h, "%v\n", cols)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return "", unavailable("digest", err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
