package cogniscape

import (
	"context"
	"time"
)

// Roles a portal user can have.
const (
	RoleAdmin  = "admin"  // connects Jira: sees and rotates the secret, reads quarantined bodies
	RoleMember = "member" // reads the explorer and the delivery log
)

// User is a person who signs in to the portal. A user belongs to exactly one
// customer and sees nothing of any other.
type User struct {
	ID         int64
	CustomerID int64
	Email      string // lower case; unique across all customers
	Role       string // RoleAdmin or RoleMember
	CreatedAt  time.Time
}

// Session is a signed-in browser. The store keeps only a hash of the token
// that the browser holds.
type Session struct {
	User      User
	Customer  Customer
	CreatedAt time.Time
	ExpiresAt time.Time
}

// AuditEntry is one security-relevant action of a user: a secret revealed or
// rotated, a quarantined body read, a sign-in.
type AuditEntry struct {
	ID         int64
	CustomerID int64
	UserID     int64  // 0 when no user is known
	Email      string // of the user, as it was when the entry was written
	At         time.Time
	Action     string // e.g. "secret.reveal", "secret.rotate", "signin"
	Detail     string
	Addr       string // client address
}

// UserService stores portal accounts, their sessions and the audit log.
// Password hashing happens above the store: it stores and returns hashes only.
type UserService interface {
	// CreateUser adds a user to a customer with a password hash and fills in
	// u.ID and u.CreatedAt. EINVALID for an empty email or hash or an unknown
	// role, ENOTFOUND for an unknown customer, ECONFLICT if the email is taken
	// (compared without regard to case), EUNAVAILABLE if the store failed.
	CreateUser(ctx context.Context, u *User, passwordHash string) error
	// UserByEmail returns the user and its password hash. ENOTFOUND if there
	// is no such user, EUNAVAILABLE if the store failed.
	UserByEmail(ctx context.Context, email string) (*User, string, error)
	// SetPassword replaces the user's password hash and ends all of the
	// user's sessions. ENOTFOUND for an unknown user, EUNAVAILABLE.
	SetPassword(ctx context.Context, userID int64, passwordHash string) error

	// CreateSession starts a session for the user that ends at expires and
	// returns its token (high-entropy, shown once; the store keeps only a
	// hash). ENOTFOUND for an unknown user, EUNAVAILABLE.
	CreateSession(ctx context.Context, userID int64, expires time.Time) (string, error)
	// SessionByToken returns a live session with its user and customer.
	// EUNAUTHORIZED if the token is unknown or the session has expired,
	// EUNAVAILABLE if the store failed. It does not write.
	SessionByToken(ctx context.Context, token string) (*Session, error)
	// DeleteSession ends a session; an unknown token is not an error.
	// EUNAVAILABLE if the store failed.
	DeleteSession(ctx context.Context, token string) error

	// AppendAudit records e (e.ID and, if zero, e.At are filled in).
	// EINVALID without a customer or action, EUNAVAILABLE.
	AppendAudit(ctx context.Context, e *AuditEntry) error
	// AuditLog returns the customer's newest entries first, at most limit
	// (1 to 1000; 100 if out of range). EUNAVAILABLE if the store failed.
	AuditLog(ctx context.Context, customerID int64, limit int) ([]AuditEntry, error)
}
