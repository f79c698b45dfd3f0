-- Portal accounts, their sessions, and the audit log of security-relevant actions.
CREATE TABLE users (
	id            BIGSERIAL PRIMARY KEY,
	customer_id   BIGINT NOT NULL REFERENCES customers(id),
	email         TEXT NOT NULL UNIQUE,      -- lower case
	role          TEXT NOT NULL CHECK (role IN ('admin', 'member')),
	password_hash TEXT NOT NULL,             -- PHC string (argon2id); never the password
	created_at    BIGINT NOT NULL
);
CREATE INDEX users_by_customer ON users (customer_id);

CREATE TABLE sessions (
	hash        BYTEA PRIMARY KEY,           -- SHA-256 of the cookie's token; the token itself is never stored
	user_id     BIGINT NOT NULL REFERENCES users(id),
	created_at  BIGINT NOT NULL,
	expires_at  BIGINT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

CREATE TABLE audit_log (
	id          BIGSERIAL PRIMARY KEY,
	customer_id BIGINT NOT NULL REFERENCES customers(id),
	user_id     BIGINT,
	email       TEXT NOT NULL,
	at          BIGINT NOT NULL,
	action      TEXT NOT NULL,
	detail      TEXT NOT NULL,
	addr        TEXT NOT NULL
);
CREATE INDEX audit_by_customer ON audit_log (customer_id, id);
