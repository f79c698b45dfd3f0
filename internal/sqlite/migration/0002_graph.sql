-- The temporal knowledge graph, projected from the event log.
CREATE INDEX events_by_customer ON events (customer_id, id);

-- The normalised form of every projected event; the graph can always be
-- rebuilt from these after the raw bodies are gone.
CREATE TABLE mutations (
	event_id    INTEGER PRIMARY KEY REFERENCES events(id),
	customer_id INTEGER NOT NULL,
	payload     BLOB NOT NULL
);
CREATE INDEX mutations_by_customer ON mutations (customer_id, event_id);

-- The last event of each customer that is reflected in the graph.
CREATE TABLE checkpoints (
	customer_id INTEGER PRIMARY KEY REFERENCES customers(id),
	event_id    INTEGER NOT NULL
);

CREATE TABLE nodes (
	id              INTEGER PRIMARY KEY,
	customer_id     INTEGER NOT NULL,
	site            TEXT NOT NULL,
	kind            TEXT NOT NULL,
	jira_id         TEXT NOT NULL,
	key             TEXT NOT NULL DEFAULT '',   -- PAY-101 for issues, PAY for projects
	title           TEXT NOT NULL DEFAULT '',   -- summary or name
	status_category TEXT NOT NULL DEFAULT '',
	deleted         INTEGER NOT NULL DEFAULT 0,
	first_at        INTEGER NOT NULL DEFAULT 0, -- oldest event that named it, Unix ms
	last_at         INTEGER NOT NULL DEFAULT 0, -- newest
	data            BLOB NOT NULL,              -- cogniscape.Node as JSON: attributes, relations, versions
	UNIQUE (customer_id, site, kind, jira_id)
);
CREATE INDEX nodes_by_key ON nodes (customer_id, kind, key);
CREATE INDEX nodes_by_kind ON nodes (customer_id, kind, last_at);

-- Current relations (the registers in nodes.data, indexed for queries).
CREATE TABLE edges (
	customer_id INTEGER NOT NULL,
	src         INTEGER NOT NULL REFERENCES nodes(id),
	rel         TEXT NOT NULL,
	dst         INTEGER NOT NULL REFERENCES nodes(id),
	since       INTEGER NOT NULL,               -- when the relation took its current value, Unix ms
	PRIMARY KEY (src, rel, dst)
) WITHOUT ROWID;
CREATE INDEX edges_by_dst ON edges (dst, rel);

-- Every changelog item: the previous state on updates.
CREATE TABLE changes (
	id          INTEGER PRIMARY KEY,
	customer_id INTEGER NOT NULL,
	node        INTEGER NOT NULL REFERENCES nodes(id),
	at          INTEGER NOT NULL,
	seq         INTEGER NOT NULL,
	idx         INTEGER NOT NULL,
	field       TEXT NOT NULL,
	from_text   TEXT NOT NULL,
	to_text     TEXT NOT NULL,
	from_id     TEXT NOT NULL,
	to_id       TEXT NOT NULL,
	actor       TEXT NOT NULL,                  -- Jira id of the person
	event_id    INTEGER NOT NULL,
	UNIQUE (node, at, seq, idx)
);
CREATE INDEX changes_by_customer ON changes (customer_id, at);

-- One row per projected event: what happened, to what, by whom.
CREATE TABLE activity (
	id          INTEGER PRIMARY KEY,
	customer_id INTEGER NOT NULL,
	at          INTEGER NOT NULL,
	seq         INTEGER NOT NULL,
	event       TEXT NOT NULL,
	entity      INTEGER NOT NULL REFERENCES nodes(id),
	actor       TEXT NOT NULL,
	data        BLOB NOT NULL,                  -- the mutation's changes, for rendering
	event_id    INTEGER NOT NULL,
	UNIQUE (entity, at, seq, event)
);
CREATE INDEX activity_by_customer ON activity (customer_id, at);
