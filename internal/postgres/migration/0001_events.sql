-- Customers, their credentials, and the durable event log with its delivery log.
-- Times are Unix milliseconds, as in the SQLite store, so that both stores
-- hold and compare exactly the same values.
CREATE TABLE customers (
	id          BIGSERIAL PRIMARY KEY,
	key         TEXT NOT NULL UNIQUE,
	name        TEXT NOT NULL,
	created_at  BIGINT NOT NULL,
	secret_enc  BYTEA NOT NULL,            -- Jira webhook secret, AES-256-GCM under the master key
	secret_rotated_at BIGINT NOT NULL
);

CREATE TABLE api_tokens (
	id          BIGSERIAL PRIMARY KEY,
	customer_id BIGINT NOT NULL REFERENCES customers(id),
	hash        BYTEA NOT NULL UNIQUE,     -- SHA-256 of the token; the token itself is never stored
	created_at  BIGINT NOT NULL,
	revoked_at  BIGINT
);

-- The log. One row per authenticated delivery that was not a duplicate. Within
-- one customer, ids increase in commit order: appends take a per-customer
-- lock, so that a projector reading past its checkpoint never skips an event
-- that commits later with a smaller id.
CREATE TABLE events (
	id          BIGSERIAL PRIMARY KEY,
	customer_id BIGINT NOT NULL REFERENCES customers(id),
	received_at BIGINT NOT NULL,
	source      TEXT NOT NULL,
	type        TEXT NOT NULL,
	site        TEXT NOT NULL,
	identifier  TEXT NOT NULL,
	retry       INTEGER NOT NULL,
	dedup_key   TEXT NOT NULL,
	ts          BIGINT NOT NULL,           -- the event's own timestamp
	ignored     BOOLEAN NOT NULL,
	body        BYTEA,                     -- raw body, dropped after the raw retention
	UNIQUE (customer_id, dedup_key)        -- catches duplicates across replicas
);

-- Every authenticated request, whatever became of it.
CREATE TABLE deliveries (
	id          BIGSERIAL PRIMARY KEY,
	customer_id BIGINT NOT NULL REFERENCES customers(id),
	received_at BIGINT NOT NULL,
	event       TEXT NOT NULL,
	outcome     TEXT NOT NULL,
	identifier  TEXT NOT NULL,
	retry       INTEGER NOT NULL,
	size        INTEGER NOT NULL,
	reason      TEXT NOT NULL,
	event_id    BIGINT
);
CREATE INDEX deliveries_by_customer ON deliveries (customer_id, id);
-- Keep bodies up to a page in the row itself: moving a typical 3–10 KB
-- Jira body out to the TOAST table costs more than half of an append.
ALTER TABLE events SET (toast_tuple_target = 8160);

-- Raw bodies compress with lz4 where the server has it (PostgreSQL 14 and
-- later): several times cheaper than the default pglz on the acknowledgement
-- path. Dynamic SQL, so that older servers need not parse the clause.
DO $$
BEGIN
	IF EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
		EXECUTE 'ALTER TABLE events ALTER COLUMN body SET COMPRESSION lz4';
	END IF;
END
$$;

CREATE TABLE quarantine (
	delivery_id BIGINT PRIMARY KEY REFERENCES deliveries(id),
	customer_id BIGINT NOT NULL REFERENCES customers(id),
	body        BYTEA NOT NULL
);
