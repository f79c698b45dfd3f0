package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/cogniscape/cogniscape"
	"github.com/cogniscape/cogniscape/internal/secret"
	"github.com/jackc/pgx/v5"
)

var _ cogniscape.CustomerService = (*DB)(nil)

// CreateCustomer creates a customer with a new key, Jira secret and API token.
func (db *DB) CreateCustomer(ctx context.Context, name string) (*cogniscape.Customer, cogniscape.Credentials, error) {
	c, creds, err := db.newCustomer(name)
	if err != nil {
		return nil, cogniscape.Credentials{}, err
	}
	if err := db.insertCustomer(ctx, db.pool, c, creds); err != nil {
		return nil, cogniscape.Credentials{}, unavailable("create customer", err)
	}
	return c, creds, nil
}

// CreateFirstCustomer creates a customer if there is none. Replicas starting
// on one empty database serialise on an advisory lock, so one of them
// creates it and the others find it.
func (db *DB) CreateFirstCustomer(ctx context.Context, name string) (*cogniscape.Customer, cogniscape.Credentials, error) {
	c, creds, err := db.newCustomer(name)
	if err != nil {
		return nil, cogniscape.Credentials{}, err
	}
	created := false
	err = pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockKey(lockNamespace("first-customer", db.schema), 0)); err != nil {
			return err
		}
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM customers)`).Scan(&exists); err != nil {
			return err
		}
		if created = !exists; !created {
			return nil
		}
		return db.insertCustomer(ctx, tx, c, creds)
	})
	if err != nil {
		return nil, cogniscape.Credentials{}, unavailable("create first customer", err)
	}
	if !created {
		return nil, cogniscape.Credentials{}, nil
	}
	return c, creds, nil
}

// newCustomer is secret.NewCustomer with a name PostgreSQL can store.
func (db *DB) newCustomer(name string) (*cogniscape.Customer, cogniscape.Credentials, error) {
	c, creds, err := secret.NewCustomer(name, db.Now())
	if err == nil {
		c.Name = text(c.Name)
	}
	return c, creds, err
}

type rowQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// insertCustomer stores c with its credentials in one statement (one
// implicit transaction when q is the pool).
func (db *DB) insertCustomer(ctx context.Context, q rowQuerier, c *cogniscape.Customer, creds cogniscape.Credentials) error {
	return q.QueryRow(ctx, `WITH c AS (
			INSERT INTO customers (key, name, created_at, secret_enc, secret_rotated_at) VALUES ($1, $2, $3, $4, $3) RETURNING id
		), t AS (
			INSERT INTO api_tokens (customer_id, hash, created_at) SELECT id, $5, $3 FROM c
		)
		SELECT id FROM c`,
		c.Key, c.Name, ms(c.CreatedAt), db.box.Seal([]byte(creds.JiraSecret), c.Key), secret.HashToken(creds.APIToken)).Scan(&c.ID)
}

// Customers lists all customers, oldest first.
func (db *DB) Customers(ctx context.Context) ([]cogniscape.Customer, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, key, name, created_at FROM customers ORDER BY id`)
	if err != nil {
		return nil, unavailable("list customers", err)
	}
	defer rows.Close()
	var out []cogniscape.Customer
	for rows.Next() {
		var c cogniscape.Customer
		var created int64
		if err := rows.Scan(&c.ID, &c.Key, &c.Name, &created); err != nil {
			return nil, unavailable("list customers", err)
		}
		c.CreatedAt = fromMS(created)
		out = append(out, c)
	}
	return out, unavailable("list customers", rows.Err())
}

// CustomerByKey returns the customer with this key, or ENOTFOUND.
func (db *DB) CustomerByKey(ctx context.Context, key string) (*cogniscape.Customer, error) {
	var c cogniscape.Customer
	var created int64
	err := db.pool.QueryRow(ctx, `SELECT id, key, name, created_at FROM customers WHERE key = $1`, text(key)).
		Scan(&c.ID, &c.Key, &c.Name, &created)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, cogniscape.Errorf(cogniscape.ENOTFOUND, "unknown customer")
	}
	if err != nil {
		return nil, unavailable("customer by key", err)
	}
	c.CreatedAt = fromMS(created)
	return &c, nil
}

// JiraSecret returns the customer's current webhook secret, read from the
// database on every call, and refreshes the cache CachedJiraSecret answers
// from.
func (db *DB) JiraSecret(ctx context.Context, customerKey string) (int64, []byte, string, error) {
	var id int64
	var sealed []byte
	err := db.pool.QueryRow(ctx, `SELECT id, secret_enc FROM customers WHERE key = $1`, text(customerKey)).Scan(&id, &sealed)
	if errors.Is(err, pgx.ErrNoRows) {
		db.secrets.Forget(customerKey)
		return 0, nil, "", cogniscape.Errorf(cogniscape.ENOTFOUND, "unknown customer")
	}
	if err != nil {
		return 0, nil, "", unavailable("read secret", err)
	}
	plain, err := db.secrets.Open(db.box, customerKey, id, sealed)
	if err != nil {
		return 0, nil, "", &cogniscape.Error{Code: cogniscape.EINTERNAL, Message: "cannot decrypt customer secret", Err: err}
	}
	return id, plain, string(sealed), nil
}

// CachedJiraSecret returns the secret JiraSecret last read for the customer
// on this replica. Its version is the sealed value, unique to each rotation;
// the append statement stores a delivery only if it is still the customer's
// (cogniscape.SecretCache), so a rotation on any replica refuses the old
// secret everywhere on the next request.
func (db *DB) CachedJiraSecret(customerKey string) (int64, []byte, string, bool) {
	return db.secrets.Get(customerKey)
}

// RotateJiraSecret replaces the customer's webhook secret and returns the new one.
// It takes the customer's append lock, which every batch of appends holds
// from its secret check to its commit: a batch that checked the old secret
// commits before the rotation does, and one that checks after sees the new
// secret. Without it a delivery authenticated with the old secret could be
// stored after the rotation had returned.
func (db *DB) RotateJiraSecret(ctx context.Context, customerKey string) (string, error) {
	s := secret.NewJiraSecret()
	found := true
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `SELECT id FROM customers WHERE key = $1`, text(customerKey)).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			found = false
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockKey(db.appendNS, id)); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE customers SET secret_enc = $1, secret_rotated_at = $2 WHERE id = $3`,
			db.box.Seal([]byte(s), customerKey), ms(db.Now()), id)
		return err
	})
	// Forget the old secret here at once; other replicas' caches learn of
	// the rotation when an append with the old secret's version is refused.
	db.secrets.Forget(customerKey)
	if err != nil {
		return "", unavailable("rotate secret", err)
	}
	if !found {
		return "", cogniscape.Errorf(cogniscape.ENOTFOUND, "unknown customer")
	}
	return s, nil
}

// CustomerByAPIToken authenticates a read token, reading the database on
// every call so that a revoked token stops working everywhere at once.
func (db *DB) CustomerByAPIToken(ctx context.Context, token string) (*cogniscape.Customer, error) {
	var c cogniscape.Customer
	var created int64
	err := db.pool.QueryRow(ctx, `SELECT c.id, c.key, c.name, c.created_at FROM api_tokens t JOIN customers c ON c.id = t.customer_id
		WHERE t.hash = $1 AND t.revoked_at IS NULL`, secret.HashToken(token)).Scan(&c.ID, &c.Key, &c.Name, &created)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, cogniscape.Errorf(cogniscape.EUNAUTHORIZED, "invalid API token")
	}
	if err != nil {
		return nil, unavailable("authenticate token", err)
	}
	c.CreatedAt = fromMS(created)
	return &c, nil
}

// CreateAPIToken issues another read token for the customer.
func (db *DB) CreateAPIToken(ctx context.Context, customerID int64) (string, error) {
	tok := secret.NewAPIToken()
	_, err := db.pool.Exec(ctx, `INSERT INTO api_tokens (customer_id, hash, created_at) VALUES ($1, $2, $3)`,
		customerID, secret.HashToken(tok), ms(db.Now()))
	if err != nil {
		return "", unavailable("create token", err)
	}
	return tok, nil
}

// RotateAPIToken revokes the customer's read tokens and issues a new one,
// in one statement: no moment with no token or with both.
func (db *DB) RotateAPIToken(ctx context.Context, customerKey string) (string, error) {
	tok := secret.NewAPIToken()
	var id int64
	err := db.pool.QueryRow(ctx, `WITH c AS (SELECT id FROM customers WHERE key = $1),
			revoked AS (UPDATE api_tokens SET revoked_at = $2 WHERE customer_id = (SELECT id FROM c) AND revoked_at IS NULL)
		INSERT INTO api_tokens (customer_id, hash, created_at) SELECT id, $3, $2 FROM c RETURNING customer_id`,
		text(customerKey), ms(db.Now()), secret.HashToken(tok)).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", cogniscape.Errorf(cogniscape.ENOTFOUND, "unknown customer")
	}
	if err != nil {
		return "", unavailable("rotate token", err)
	}
	return tok, nil
}

// CheckMasterKey verifies that this store's master key opens the customer
// secrets already in the database, so that a replica started with another
// key fails at once instead of rejecting every webhook.
func (db *DB) CheckMasterKey(ctx context.Context) error {
	var key string
	var sealed []byte
	err := db.pool.QueryRow(ctx, `SELECT key, secret_enc FROM customers ORDER BY id LIMIT 1`).Scan(&key, &sealed)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return unavailable("check master key", err)
	}
	if _, err := db.box.Open(sealed, key); err != nil {
		return fmt.Errorf("%w (every replica needs the same one)", secret.ErrWrongKey)
	}
	return nil
}
