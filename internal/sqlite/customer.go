package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/cogniscape/cogniscape"
	"github.com/cogniscape/cogniscape/internal/secret"
)

var _ cogniscape.CustomerService = (*DB)(nil)

// CreateCustomer creates a customer with a new key, Jira secret and API token.
func (db *DB) CreateCustomer(ctx context.Context, name string) (*cogniscape.Customer, cogniscape.Credentials, error) {
	c, creds, err := secret.NewCustomer(name, db.Now())
	if err != nil {
		return nil, cogniscape.Credentials{}, err
	}
	if err := db.exec(ctx, func(ctx context.Context, tx *sql.Tx) error { return db.insertCustomer(ctx, tx, c, creds) }); err != nil {
		return nil, cogniscape.Credentials{}, unavailable("create customer", err)
	}
	return c, creds, nil
}

// CreateFirstCustomer creates a customer if there is none. The check and the
// insert share a transaction that holds the database's write lock, so
// another process doing the same waits and then finds the customer.
func (db *DB) CreateFirstCustomer(ctx context.Context, name string) (*cogniscape.Customer, cogniscape.Credentials, error) {
	c, creds, err := secret.NewCustomer(name, db.Now())
	if err != nil {
		return nil, cogniscape.Credentials{}, err
	}
	created := false
	err = db.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		// The job may run twice (alone, after its group failed): decide anew.
		var exists bool
		if err := db.txQueryRow(ctx, tx, `SELECT EXISTS (SELECT 1 FROM customers)`).Scan(&exists); err != nil {
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

func (db *DB) insertCustomer(ctx context.Context, tx *sql.Tx, c *cogniscape.Customer, creds cogniscape.Credentials) error {
	res, err := db.txExec(ctx, tx, `INSERT INTO customers (key, name, created_at, secret_enc, secret_rotated_at) VALUES (?, ?, ?, ?, ?)`,
		c.Key, c.Name, ms(c.CreatedAt), db.box.Seal([]byte(creds.JiraSecret), c.Key), ms(c.CreatedAt))
	if err != nil {
		return err
	}
	if c.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	_, err = db.txExec(ctx, tx, `INSERT INTO api_tokens (customer_id, hash, created_at) VALUES (?, ?, ?)`,
		c.ID, secret.HashToken(creds.APIToken), ms(c.CreatedAt))
	return err
}

// Customers lists all customers, oldest first.
func (db *DB) Customers(ctx context.Context) ([]cogniscape.Customer, error) {
	rows, err := db.query(ctx, `SELECT id, key, name, created_at FROM customers ORDER BY id`)
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
	return out, unavailableIf("list customers", rows.Err())
}

// CustomerByKey returns the customer with this key, or ENOTFOUND.
func (db *DB) CustomerByKey(ctx context.Context, key string) (*cogniscape.Customer, error) {
	var c cogniscape.Customer
	var created int64
	err := db.queryRow(ctx, `SELECT id, key, name, created_at FROM customers WHERE key = ?`, key).
		Scan(&c.ID, &c.Key, &c.Name, &created)
	if errors.Is(err, sql.ErrNoRows) {
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
	err := db.queryRow(ctx, `SELECT id, secret_enc FROM customers WHERE key = ?`, customerKey).Scan(&id, &sealed)
	if errors.Is(err, sql.ErrNoRows) {
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

// CachedJiraSecret returns the secret JiraSecret last read for the customer.
// Its version is the sealed value, which a fresh random nonce makes unique
// to each rotation; Append checks it against the database in the
// transaction that stores the event (cogniscape.SecretCache). Only keys
// found in the database are cached, so unknown keys cannot grow the cache.
func (db *DB) CachedJiraSecret(customerKey string) (int64, []byte, string, bool) {
	return db.secrets.Get(customerKey)
}

// RotateJiraSecret replaces the customer's webhook secret and returns the new one.
func (db *DB) RotateJiraSecret(ctx context.Context, customerKey string) (string, error) {
	s := secret.NewJiraSecret()
	err := db.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := db.txExec(ctx, tx, `UPDATE customers SET secret_enc = ?, secret_rotated_at = ? WHERE key = ?`,
			db.box.Seal([]byte(s), customerKey), ms(db.Now()), customerKey)
		if err != nil {
			return unavailable("rotate secret", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return cogniscape.Errorf(cogniscape.ENOTFOUND, "unknown customer")
		}
		return nil
	})
	// Forget the old secret here at once; other processes' caches learn of
	// the rotation when an append with the old secret's version is refused.
	db.secrets.Forget(customerKey)
	if err != nil {
		return "", err
	}
	return s, nil
}

// CustomerByAPIToken authenticates a read token.
func (db *DB) CustomerByAPIToken(ctx context.Context, token string) (*cogniscape.Customer, error) {
	var c cogniscape.Customer
	var created int64
	err := db.queryRow(ctx, `SELECT c.id, c.key, c.name, c.created_at FROM api_tokens t JOIN customers c ON c.id = t.customer_id
		WHERE t.hash = ? AND t.revoked_at IS NULL`, secret.HashToken(token)).Scan(&c.ID, &c.Key, &c.Name, &created)
	if errors.Is(err, sql.ErrNoRows) {
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
	err := db.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := db.txExec(ctx, tx, `INSERT INTO api_tokens (customer_id, hash, created_at) VALUES (?, ?, ?)`,
			customerID, secret.HashToken(tok), ms(db.Now()))
		return err
	})
	if err != nil {
		return "", unavailable("create token", err)
	}
	return tok, nil
}

// RotateAPIToken revokes the customer's read tokens and issues a new one.
func (db *DB) RotateAPIToken(ctx context.Context, customerKey string) (string, error) {
	tok := secret.NewAPIToken()
	err := db.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var id int64
		err := db.txQueryRow(ctx, tx, `SELECT id FROM customers WHERE key = ?`, customerKey).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return cogniscape.Errorf(cogniscape.ENOTFOUND, "unknown customer")
		}
		if err != nil {
			return err
		}
		now := ms(db.Now())
		if _, err := db.txExec(ctx, tx, `UPDATE api_tokens SET revoked_at = ? WHERE customer_id = ? AND revoked_at IS NULL`, now, id); err != nil {
			return err
		}
		_, err = db.txExec(ctx, tx, `INSERT INTO api_tokens (customer_id, hash, created_at) VALUES (?, ?, ?)`, id, secret.HashToken(tok), now)
		return err
	})
	if err != nil {
		return "", unavailable("rotate token", err)
	}
	return tok, nil
}

// Backup writes a consistent copy of the database to path, a new file,
// while the store is in use: SQLite's VACUUM INTO reads one snapshot. The
// file copy of a live database would not be consistent: the WAL moves on
// (and starts over) while the files are copied.
func (db *DB) Backup(ctx context.Context, path string) error {
	if _, err := db.ckpt.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

// CheckMasterKey verifies that this store's master key opens the customer
// secrets already in the database: with another key the server would start
// and then answer every webhook with an error.
func (db *DB) CheckMasterKey(ctx context.Context) error {
	var key string
	var sealed []byte
	err := db.queryRow(ctx, `SELECT key, secret_enc FROM customers ORDER BY id LIMIT 1`).Scan(&key, &sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return unavailable("check master key", err)
	}
	if _, err := db.box.Open(sealed, key); err != nil {
		return secret.ErrWrongKey
	}
	return nil
}

func unavailableIf(op string, err error) error {
	if err == nil {
		return nil
	}
	return unavailable(op, err)
}
