package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/cogniscape/cogniscape"
	"github.com/cogniscape/cogniscape/internal/secret"
)

var _ cogniscape.UserService = (*DB)(nil)

// normEmail is the stored form of an email address: trimmed, lower case.
func normEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// CreateUser adds a portal user to a customer.
func (db *DB) CreateUser(ctx context.Context, u *cogniscape.User, passwordHash string) error {
	email := normEmail(u.Email)
	switch {
	case email == "" || !strings.Contains(email, "@") || len(email) > 320:
		return cogniscape.Errorf(cogniscape.EINVALID, "a valid email address is required")
	case u.Role != cogniscape.RoleAdmin && u.Role != cogniscape.RoleMember:
		return cogniscape.Errorf(cogniscape.EINVALID, "role must be admin or member")
	case passwordHash == "":
		return cogniscape.Errorf(cogniscape.EINVALID, "a password is required")
	}
	created := db.Now().UTC().Truncate(time.Millisecond)
	var id int64
	err := db.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM customers WHERE id = ?`, u.CustomerID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
			return cogniscape.Errorf(cogniscape.ENOTFOUND, "unknown customer")
		} else if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO users (customer_id, email, role, password_hash, created_at) VALUES (?, ?, ?, ?, ?)`,
			u.CustomerID, email, u.Role, passwordHash, ms(created))
		if isUniqueViolation(err) {
			return cogniscape.Errorf(cogniscape.ECONFLICT, "a user with this email exists already")
		}
		if err != nil {
			return err
		}
		id, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return unavailable("create user", err)
	}
	u.ID, u.Email, u.CreatedAt = id, email, created
	return nil
}

// UserByEmail returns the user with this email and its password hash.
func (db *DB) UserByEmail(ctx context.Context, email string) (*cogniscape.User, string, error) {
	var u cogniscape.User
	var hash string
	var created int64
	err := db.read.QueryRowContext(ctx, `SELECT id, customer_id, email, role, password_hash, created_at FROM users WHERE email = ?`,
		normEmail(email)).Scan(&u.ID, &u.CustomerID, &u.Email, &u.Role, &hash, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", cogniscape.Errorf(cogniscape.ENOTFOUND, "unknown user")
	}
	if err != nil {
		return nil, "", unavailable("user by email", err)
	}
	u.CreatedAt = fromMS(created)
	return &u, hash, nil
}

// SetPassword replaces the user's password hash and ends the user's sessions.
func (db *DB) SetPassword(ctx context.Context, userID int64, passwordHash string) error {
	if passwordHash == "" {
		return cogniscape.Errorf(cogniscape.EINVALID, "a password is required")
	}
	err := db.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, passwordHash, userID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return cogniscape.Errorf(cogniscape.ENOTFOUND, "unknown user")
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID)
		return err
	})
	return unavailableIf("set password", err)
}

// CreateSession starts a session and returns its token. Expired sessions of
// every user are removed in the same transaction.
func (db *DB) CreateSession(ctx context.Context, userID int64, expires time.Time) (string, error) {
	token := secret.Random(32)
	now := db.Now()
	err := db.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM users WHERE id = ?`, userID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
			return cogniscape.Errorf(cogniscape.ENOTFOUND, "unknown user")
		} else if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, ms(now)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sessions (hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
			secret.HashToken(token), userID, ms(now), ms(expires))
		return err
	})
	if err != nil {
		return "", unavailable("create session", err)
	}
	return token, nil
}

// SessionByToken returns the live session with this token.
func (db *DB) SessionByToken(ctx context.Context, token string) (*cogniscape.Session, error) {
	if token == "" {
		return nil, cogniscape.Errorf(cogniscape.EUNAUTHORIZED, "not signed in")
	}
	var s cogniscape.Session
	var created, expires, userCreated, customerCreated int64
	err := db.read.QueryRowContext(ctx, `SELECT s.created_at, s.expires_at,
			u.id, u.customer_id, u.email, u.role, u.created_at, c.id, c.key, c.name, c.created_at
		FROM sessions s JOIN users u ON u.id = s.user_id JOIN customers c ON c.id = u.customer_id
		WHERE s.hash = ? AND s.expires_at > ?`, secret.HashToken(token), ms(db.Now())).
		Scan(&created, &expires, &s.User.ID, &s.User.CustomerID, &s.User.Email, &s.User.Role, &userCreated,
			&s.Customer.ID, &s.Customer.Key, &s.Customer.Name, &customerCreated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, cogniscape.Errorf(cogniscape.EUNAUTHORIZED, "not signed in")
	}
	if err != nil {
		return nil, unavailable("read session", err)
	}
	s.CreatedAt, s.ExpiresAt = fromMS(created), fromMS(expires)
	s.User.CreatedAt, s.Customer.CreatedAt = fromMS(userCreated), fromMS(customerCreated)
	return &s, nil
}

// DeleteSession ends the session with this token, if there is one.
func (db *DB) DeleteSession(ctx context.Context, token string) error {
	err := db.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE hash = ?`, secret.HashToken(token))
		return err
	})
	return unavailableIf("delete session", err)
}

// AppendAudit records one audit entry.
func (db *DB) AppendAudit(ctx context.Context, e *cogniscape.AuditEntry) error {
	if e.CustomerID == 0 || e.Action == "" {
		return cogniscape.Errorf(cogniscape.EINVALID, "an audit entry needs a customer and an action")
	}
	if e.At.IsZero() {
		e.At = db.Now()
	}
	e.At = e.At.UTC().Truncate(time.Millisecond)
	var user sql.NullInt64
	if e.UserID != 0 {
		user = sql.NullInt64{Int64: e.UserID, Valid: true}
	}
	err := db.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO audit_log (customer_id, user_id, email, at, action, detail, addr) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			e.CustomerID, user, e.Email, ms(e.At), e.Action, e.Detail, e.Addr)
		if err != nil {
			return err
		}
		e.ID, err = res.LastInsertId()
		return err
	})
	return unavailableIf("append audit", err)
}

// AuditLog returns the customer's newest audit entries first.
func (db *DB) AuditLog(ctx context.Context, customerID int64, limit int) ([]cogniscape.AuditEntry, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows, err := db.read.QueryContext(ctx, `SELECT id, customer_id, user_id, email, at, action, detail, addr FROM audit_log
		WHERE customer_id = ? ORDER BY id DESC LIMIT ?`, customerID, limit)
	if err != nil {
		return nil, unavailable("audit log", err)
	}
	defer rows.Close()
	out := []cogniscape.AuditEntry{}
	for rows.Next() {
		var e cogniscape.AuditEntry
		var user sql.NullInt64
		var at int64
		if err := rows.Scan(&e.ID, &e.CustomerID, &user, &e.Email, &at, &e.Action, &e.Detail, &e.Addr); err != nil {
			return nil, unavailable("audit log", err)
		}
		e.UserID, e.At = user.Int64, fromMS(at)
		out = append(out, e)
	}
	return out, unavailableIf("audit log", rows.Err())
}
