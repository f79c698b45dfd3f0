-- Columns the flow metrics read without decoding every node, and full-text
-- search over titles, sanitised descriptions and comments.
ALTER TABLE nodes ADD COLUMN created_at BIGINT NOT NULL DEFAULT 0; -- the entity's own creation time, Unix ms
ALTER TABLE nodes ADD COLUMN status TEXT NOT NULL DEFAULT '';      -- issues: current status id

CREATE INDEX changes_by_node_field ON changes (node, field);
CREATE INDEX changes_by_actor ON changes (customer_id, actor, at);

-- One row per searchable node, kept in step with nodes by the projection.
-- doc holds the title (weight A) and the body (weight D) as words split on
-- anything but letters and digits, in lower case without diacritics, as
-- SQLite's unicode61 tokenizer sees them.
CREATE TABLE search (
	node_id     BIGINT PRIMARY KEY REFERENCES nodes(id),
	customer_id BIGINT NOT NULL,
	kind        TEXT NOT NULL,
	title       TEXT NOT NULL,
	body        TEXT NOT NULL,
	doc         TSVECTOR NOT NULL
);
CREATE INDEX search_doc ON search USING gin (doc);
CREATE INDEX search_by_customer ON search (customer_id, kind);
