-- The temporal knowledge graph, projected from the event log.
CREATE INDEX events_by_customer ON events (customer_id, id);

-- The normalised form of every projected event; the graph can always be
-- rebuilt from these after the raw bodies are gone.
CREATE TABLE mutations (
	event_id    BIGINT PRIMARY KEY REFERENCES events(id),
	customer_id BIGINT NOT NULL,
	payload     BYTEA NOT NULL
);
CREATE INDEX mutations_by_customer ON mutations (customer_id, event_id);

-- The last event of each customer that is reflected in the graph.
CREATE TABLE checkpoints (
	customer_id BIGINT PRIMARY KEY REFERENCES customers(id),
	event_id    BIGINT NOT NULL
);

-- Which replica is projecting a customer, so that the others leave it alone.
-- A hint only: the checkpoint's compare-and-set under a transaction lock keeps
-- every event applied once whatever the leases say. Unlogged: after a crash
-- the table starts empty, which is what an expired lease means anyway.
CREATE UNLOGGED TABLE projection_leases (
	customer_id BIGINT PRIMARY KEY,
	holder      TEXT NOT NULL,
	expires_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE nodes (
	id              BIGSERIAL PRIMARY KEY,
	customer_id     BIGINT NOT NULL,
	site            TEXT NOT NULL,
	kind            TEXT NOT NULL,
	jira_id         TEXT NOT NULL,
	key             TEXT NOT NULL DEFAULT '',   -- PAY-101 for issues, PAY for projects
	title           TEXT NOT NULL DEFAULT '',   -- summary or name
	status_category TEXT NOT NULL DEFAULT '',
	deleted         BOOLEAN NOT NULL DEFAULT false,
	first_at        BIGINT NOT NULL DEFAULT 0,  -- oldest event that named it, Unix ms
	last_at         BIGINT NOT NULL DEFAULT 0,  -- newest
	data            BYTEA NOT NULL,             -- cogniscape.Node as JSON, byte for byte as marshalled (not jsonb, which reorders)
	UNIQUE (customer_id, site, kind, jira_id)
);
CREATE INDEX nodes_by_key ON nodes (customer_id, kind, key);
CREATE INDEX nodes_by_kind ON nodes (customer_id, kind, last_at);
CREATE INDEX nodes_by_jira_id ON nodes (customer_id, kind, jira_id, site);

-- Current relations (the registers in nodes.data, indexed for queries).
CREATE TABLE edges (
	customer_id BIGINT NOT NULL,
	src         BIGINT NOT NULL REFERENCES nodes(id),
	rel         TEXT NOT NULL,
	dst         BIGINT NOT NULL REFERENCES nodes(id),
	since       BIGINT NOT NULL,                -- when the relation took its current value, Unix ms
	PRIMARY KEY (src, rel, dst)
);
CREATE INDEX edges_by_dst ON edges (dst, rel);
CREATE INDEX edges_by_customer ON edges (customer_id);

-- Every changelog item: the previous state on updates.
CREATE TABLE changes (
	id          BIGSERIAL PRIMARY KEY,
	customer_id BIGINT NOT NULL,
	node        BIGINT NOT NULL REFERENCES nodes(id),
	at          BIGINT NOT NULL,
	seq         BIGINT NOT NULL,
	idx         INTEGER NOT NULL,
	field       TEXT NOT NULL,
	from_text   TEXT NOT NULL,
	to_text     TEXT NOT NULL,
	from_id     TEXT NOT NULL,
	to_id       TEXT NOT NULL,
	actor       TEXT NOT NULL,                  -- Jira id of the person
	event_id    BIGINT NOT NULL,
	UNIQUE (node, at, seq, idx)
);
CREATE INDEX changes_by_customer ON changes (customer_id, at);

-- One row per projected event: what happened, to what, by whom.
CREATE TABLE activity (
	id          BIGSERIAL PRIMARY KEY,
	customer_id BIGINT NOT NULL,
	at          BIGINT NOT NULL,
	seq         BIGINT NOT NULL,
	event       TEXT NOT NULL,
	entity      BIGINT NOT NULL REFERENCES nodes(id),
	actor       TEXT NOT NULL,
	data        BYTEA NOT NULL,                 -- the mutation's changes, for rendering
	event_id    BIGINT NOT NULL,
	UNIQUE (entity, at, seq, event)
);
CREATE INDEX activity_by_customer ON activity (customer_id, at);

-- lz4 where the server has it, as for raw bodies.
DO $$
BEGIN
	IF EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
		EXECUTE 'ALTER TABLE mutations ALTER COLUMN payload SET COMPRESSION lz4';
		EXECUTE 'ALTER TABLE nodes ALTER COLUMN data SET COMPRESSION lz4';
	END IF;
END
$$;
