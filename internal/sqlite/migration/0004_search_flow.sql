-- Columns the flow metrics read without decoding every node, and full-text
-- search over titles, sanitised descriptions and comments.
ALTER TABLE nodes ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0; -- the entity's own creation time, Unix ms
ALTER TABLE nodes ADD COLUMN status TEXT NOT NULL DEFAULT '';       -- issues: current status id

CREATE INDEX changes_by_node_field ON changes (node, field);
CREATE INDEX changes_by_actor ON changes (customer_id, actor, at);

-- rowid = nodes.id. Rows are kept in step with nodes by the projection.
CREATE VIRTUAL TABLE search USING fts5 (
	title,
	body,
	customer_id UNINDEXED,
	kind UNINDEXED,
	tokenize = 'unicode61 remove_diacritics 2'
);
