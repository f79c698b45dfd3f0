package sqlite

import (
	"context"
	"testing"
	"time"

	"github.com/cogniscape/cogniscape"
)

func openTestDB(t *testing.T) *DB {
	t.Helper()
	key := make([]byte, 32)
	db, err := Open(t.TempDir(), key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := cogniscape.ErrorCode(err); got != code {
		t.Errorf("%s: error %v (code %q), want %q", what, err, got, code)
	}
}

func TestUsersSessionsAudit(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return now }
	a, _, err := db.CreateCustomer(ctx, "A")
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := db.CreateCustomer(ctx, "B")
	if err != nil {
		t.Fatal(err)
	}

	u := &cogniscape.User{CustomerID: a.ID, Email: "  Ada@Example.COM ", Role: cogniscape.RoleAdmin}
	if err := db.CreateUser(ctx, u, "hash-1"); err != nil {
		t.Fatal(err)
	}
	if u.ID == 0 || u.Email != "ada@example.com" || !u.CreatedAt.Equal(now) {
		t.Errorf("created user = %+v", u)
	}
	wantCode(t, "same email, other case, other customer",
		db.CreateUser(ctx, &cogniscape.User{CustomerID: b.ID, Email: "ADA@example.com", Role: cogniscape.RoleMember}, "h"), cogniscape.ECONFLICT)
	wantCode(t, "unknown customer", db.CreateUser(ctx, &cogniscape.User{CustomerID: 999, Email: "x@y", Role: cogniscape.RoleMember}, "h"), cogniscape.ENOTFOUND)
	wantCode(t, "bad role", db.CreateUser(ctx, &cogniscape.User{CustomerID: a.ID, Email: "x@y", Role: "root"}, "h"), cogniscape.EINVALID)
	wantCode(t, "bad email", db.CreateUser(ctx, &cogniscape.User{CustomerID: a.ID, Email: "nobody", Role: cogniscape.RoleMember}, "h"), cogniscape.EINVALID)
	wantCode(t, "no hash", db.CreateUser(ctx, &cogniscape.User{CustomerID: a.ID, Email: "x@y", Role: cogniscape.RoleMember}, ""), cogniscape.EINVALID)

	got, hash, err := db.UserByEmail(ctx, "ADA@example.com")
	if err != nil || got.ID != u.ID || hash != "hash-1" || got.Role != cogniscape.RoleAdmin || got.CustomerID != a.ID {
		t.Fatalf("UserByEmail = %+v %q %v", got, hash, err)
	}
	_, _, err = db.UserByEmail(ctx, "nobody@example.com")
	wantCode(t, "unknown email", err, cogniscape.ENOTFOUND)

	tok, err := db.CreateSession(ctx, u.ID, now.Add(time.Hour))
	if err != nil || len(tok) < 40 {
		t.Fatalf("CreateSession = %q, %v", tok, err)
	}
	_, err = db.CreateSession(ctx, 12345, now.Add(time.Hour))
	wantCode(t, "session for unknown user", err, cogniscape.ENOTFOUND)
	s, err := db.SessionByToken(ctx, tok)
	if err != nil || s.User.ID != u.ID || s.Customer.ID != a.ID || s.Customer.Key != a.Key || !s.ExpiresAt.Equal(now.Add(time.Hour)) {
		t.Fatalf("SessionByToken = %+v, %v", s, err)
	}
	_, err = db.SessionByToken(ctx, tok+"x")
	wantCode(t, "wrong token", err, cogniscape.EUNAUTHORIZED)
	_, err = db.SessionByToken(ctx, "")
	wantCode(t, "empty token", err, cogniscape.EUNAUTHORIZED)

	// Expiry.
	now = now.Add(time.Hour)
	_, err = db.SessionByToken(ctx, tok)
	wantCode(t, "expired session", err, cogniscape.EUNAUTHORIZED)
	now = now.Add(-time.Minute)

	// Logout.
	if err := db.DeleteSession(ctx, tok); err != nil {
		t.Fatal(err)
	}
	_, err = db.SessionByToken(ctx, tok)
	wantCode(t, "deleted session", err, cogniscape.EUNAUTHORIZED)
	if err := db.DeleteSession(ctx, "never-issued"); err != nil {
		t.Errorf("delete unknown session: %v", err)
	}

	// A new password ends every session.
	tok2, _ := db.CreateSession(ctx, u.ID, now.Add(time.Hour))
	if err := db.SetPassword(ctx, u.ID, "hash-2"); err != nil {
		t.Fatal(err)
	}
	_, err = db.SessionByToken(ctx, tok2)
	wantCode(t, "session after password change", err, cogniscape.EUNAUTHORIZED)
	if _, hash, _ := db.UserByEmail(ctx, u.Email); hash != "hash-2" {
		t.Errorf("hash after SetPassword = %q", hash)
	}
	wantCode(t, "set password of unknown user", db.SetPassword(ctx, 999, "h"), cogniscape.ENOTFOUND)

	// Audit log: per customer, newest first.
	for _, action := range []string{"signin", "secret.reveal", "secret.rotate"} {
		if err := db.AppendAudit(ctx, &cogniscape.AuditEntry{CustomerID: a.ID, UserID: u.ID, Email: u.Email, Action: action, Addr: "192.0.2.1"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.AppendAudit(ctx, &cogniscape.AuditEntry{CustomerID: b.ID, Action: "signin"}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "audit without action", db.AppendAudit(ctx, &cogniscape.AuditEntry{CustomerID: a.ID}), cogniscape.EINVALID)
	log, err := db.AuditLog(ctx, a.ID, 0)
	if err != nil || len(log) != 3 || log[0].Action != "secret.rotate" || log[2].Action != "signin" || log[0].UserID != u.ID || log[0].Addr != "192.0.2.1" {
		t.Fatalf("AuditLog(A) = %+v, %v", log, err)
	}
	if log, _ := db.AuditLog(ctx, b.ID, 10); len(log) != 1 || log[0].UserID != 0 {
		t.Errorf("AuditLog(B) = %+v", log)
	}
}
