package main

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cogniscape/cogniscape"
	"github.com/cogniscape/cogniscape/internal/portal"
)

func TestUserAdd(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := openForTest(dir)
	if err != nil {
		t.Fatal(err)
	}
	cust, _, err := db.CreateCustomer(ctx, "Acme")
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	getenv := func(k string) string {
		if k == "COGNISCAPE_DATA" {
			return dir
		}
		return ""
	}
	add := func(stdin string, args ...string) (string, error) {
		var out, errb bytes.Buffer
		err := run(ctx, append([]string{"user", "add"}, args...), strings.NewReader(stdin), &out, &errb, getenv)
		return out.String(), err
	}

	out, err := add("a long password\n", "--customer-key", cust.Key, "--email", "Bob@Acme.example", "--role", "admin", "--password-stdin")
	if err != nil || !strings.Contains(out, "bob@acme.example (admin)") {
		t.Fatalf("user add: %v, %q", err, out)
	}
	if _, err := add("another long one\n", "--customer-key", cust.Key, "--email", "carol@acme.example", "--password-stdin"); err != nil {
		t.Fatalf("user add member: %v", err)
	}
	db, err = openForTest(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	u, hash, err := db.UserByEmail(ctx, "bob@acme.example")
	if err != nil || u.Role != cogniscape.RoleAdmin || u.CustomerID != cust.ID || !portal.VerifyPassword(hash, "a long password") {
		t.Fatalf("stored user = %+v, %v", u, err)
	}
	if u, _, _ := db.UserByEmail(ctx, "carol@acme.example"); u == nil || u.Role != cogniscape.RoleMember {
		t.Errorf("default role: %+v", u)
	}

	for name, c := range map[string]struct {
		stdin string
		args  []string
		usage bool
		want  string
	}{
		"taken email":    {"a long password\n", []string{"--customer-key", cust.Key, "--email", "BOB@acme.example", "--password-stdin"}, false, "exists"},
		"short password": {"short\n", []string{"--customer-key", cust.Key, "--email", "dan@acme.example", "--password-stdin"}, false, "at least"},
		"unknown key":    {"a long password\n", []string{"--customer-key", "nope", "--email", "dan@acme.example", "--password-stdin"}, false, "unknown customer"},
		"no key":         {"", []string{"--email", "dan@acme.example"}, true, "--customer-key"},
		"no email":       {"", []string{"--customer-key", cust.Key}, true, "--email"},
		"bad role":       {"", []string{"--customer-key", cust.Key, "--email", "dan@acme.example", "--role", "root"}, true, "--role"},
		"no terminal":    {"", []string{"--customer-key", cust.Key, "--email", "dan@acme.example"}, true, "--password-stdin"},
		"no subcommand":  {"", nil, true, ""},
	} {
		var err error
		if name == "no subcommand" {
			var out, errb bytes.Buffer
			err = run(ctx, []string{"user"}, strings.NewReader(""), &out, &errb, getenv)
		} else {
			_, err = add(c.stdin, c.args...)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to mention %q", name, err, c.want)
		}
		var u usageError
		if c.usage != errors.As(err, &u) {
			t.Errorf("%s: usage error = %v, want %v (%v)", name, !c.usage, c.usage, err)
		}
	}
}

var oneTimeRE = regexp.MustCompile(`Sign in as (\S+) with the one-time password\s+(\S+)`)

func TestFirstStartCreatesAnAdmin(t *testing.T) {
	ctx := context.Background()
	for _, email := range []string{"", "owner@acme.example"} {
		dir := t.TempDir()
		db, err := openForTest(dir)
		if err != nil {
			t.Fatal(err)
		}
		c := &common{data: dir, addr: "127.0.0.1:8080", getenv: func(k string) string {
			if k == "COGNISCAPE_ADMIN_EMAIL" {
				return email
			}
			return ""
		}}
		var out bytes.Buffer
		if err := firstStart(ctx, c, db, &out); err != nil {
			t.Fatal(err)
		}
		m := oneTimeRE.FindStringSubmatch(out.String())
		if m == nil || !strings.Contains(out.String(), "Webhook URL:") || !strings.Contains(out.String(), "http://127.0.0.1:8080/portal/") {
			t.Fatalf("first start printed:\n%s", out.String())
		}
		want := email
		if want == "" {
			want = firstAdminEmail
		}
		if m[1] != want {
			t.Errorf("admin email %q, want %q", m[1], want)
		}
		u, hash, err := db.UserByEmail(ctx, m[1])
		if err != nil || u.Role != cogniscape.RoleAdmin || !portal.VerifyPassword(hash, m[2]) {
			t.Errorf("first admin = %+v, %v; password verifies: %v", u, err, err == nil && portal.VerifyPassword(hash, m[2]))
		}
		// A second start creates nothing and prints nothing.
		out.Reset()
		if err := firstStart(ctx, c, db, &out); err != nil || out.Len() != 0 {
			t.Errorf("second start: %v, %q", err, out.String())
		}
		db.Close()
	}
}

// Rejected webhook requests are counted per known customer, in memory; an
// unknown customer key leaves no trace.
func TestRejectedRequestsCounted(t *testing.T) {
	a := newApp(t)
	body := fixture(t, "cloud/issue_created.json")
	cust, err := a.db.CustomerByKey(context.Background(), a.key)
	if err != nil {
		t.Fatal(err)
	}
	since := time.Now().Add(-time.Hour)
	if n, last := a.srv.Rejected(cust.ID, since); n != 0 || !last.IsZero() {
		t.Fatalf("before: %d, %v", n, last)
	}
	for i := 0; i < 2; i++ {
		if code, _ := deliver(t, a.url, a.key, body, signed(body, "wrong", "")); code != 401 {
			t.Fatalf("wrong secret: %d", code)
		}
	}
	if code, _ := deliver(t, a.url, a.key, body, nil); code != 401 {
		t.Fatalf("no secret: %d", code)
	}
	for i := 0; i < 3; i++ {
		deliver(t, a.url, "no-such-customer", body, signed(body, a.secret, ""))
	}
	if code, _ := deliver(t, a.url, a.key, body, signed(body, a.secret, "ok-1")); code != 200 {
		t.Fatalf("right secret: %d", code)
	}
	n, last := a.srv.Rejected(cust.ID, since)
	if n != 3 || last.IsZero() || time.Since(last) > time.Minute {
		t.Errorf("rejected = %d, last %v; want 3 just now", n, last)
	}
	if n, _ := a.srv.Rejected(cust.ID, time.Now().Add(time.Hour)); n != 0 {
		t.Errorf("rejected since the future = %d", n)
	}
	if n, _ := a.srv.Rejected(cust.ID+1000, since); n != 0 {
		t.Errorf("an unknown customer has %d rejections", n)
	}
}
