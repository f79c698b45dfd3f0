-- Customers, their credentials, and the durable event log with its delivery log.
CREATE TABLE customers (
	id          INTEGER PRIMARY KEY,
	key         TEXT NOT NULL UNIQUE,
	name        TEXT NOT NULL,
	created_at  INTEGER NOT NULL,          -- Unix ms
	secret_enc  BLOB NOT NULL,             -- Jira webhook secret, AES-256-GCM under the master key
	secret_rotated_at INTEGER NOT NULL
);

CREATE TABLE api_tokens (
	id          INTEGER PRIMARY KEY,
	customer_id INTEGER NOT NULL REFERENCES customers(id),
	hash        BLOB NOT NULL UNIQUE,      -- SHA-256 of the token; the token itself is never stored
	created_at  INTEGER NOT NULL,
	revoked_at  INTEGER
);

-- The log. One row per authenticated delivery that was not a duplicate.
CREATE TABLE events (
	id          INTEGER PRIMARY KEY,
	customer_id INTEGER NOT NULL REFERENCES customers(id),
	received_at INTEGER NOT NULL,
	source      TEXT NOT NULL,
	type        TEXT NOT NULL,
	site        TEXT NOT NULL,
	identifier  TEXT NOT NULL,
	retry       INTEGER NOT NULL,
	dedup_key   TEXT NOT NULL,
	ts          INTEGER NOT NULL,          -- the event's own timestamp, Unix ms
	ignored     INTEGER NOT NULL,
	body        BLOB,                      -- raw body, dropped after the raw retention
	UNIQUE (customer_id, dedup_key)
);

-- Every authenticated request, whatever became of it.
CREATE TABLE deliveries (
	id          INTEGER PRIMARY KEY,
	customer_id INTEGER NOT NULL REFERENCES customers(id),
	received_at INTEGER NOT NULL,
	event       TEXT NOT NULL,
	outcome     TEXT NOT NULL,
	identifier  TEXT NOT NULL,
	retry       INTEGER NOT NULL,
	size        INTEGER NOT NULL,
	reason      TEXT NOT NULL,
	event_id    INTEGER
);
CREATE INDEX deliveries_by_customer ON deliveries (customer_id, id);

CREATE TABLE quarantine (
	delivery_id INTEGER PRIMARY KEY REFERENCES deliveries(id),
	customer_id INTEGER NOT NULL REFERENCES customers(id),
	body        BLOB NOT NULL
);
