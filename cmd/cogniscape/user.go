package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"

	"github.com/cogniscape/cogniscape"
	"github.com/cogniscape/cogniscape/internal/httpd"
	"github.com/cogniscape/cogniscape/internal/portal"
	"golang.org/x/term"
)

// firstAdminEmail is the sign-in of the admin created with the first
// customer; COGNISCAPE_ADMIN_EMAIL overrides it.
const firstAdminEmail = "admin@localhost"

func runUser(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 || args[0] != "add" {
		fmt.Fprint(stderr, usage)
		return usageError{"user needs a subcommand: add"}
	}
	return runUserAdd(ctx, args[1:], stdin, stdout, stderr, getenv)
}

func runUserAdd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	var c common
	fs := newFlagSet("user add", stderr, getenv, &c)
	key := fs.String("customer-key", "", "the customer the user belongs to (required)")
	email := fs.String("email", "", "the user's email address, used to sign in (required)")
	role := fs.String("role", cogniscape.RoleMember, "admin (connects Jira, sees the secret) or member (reads)")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input instead of prompting")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case *key == "":
		return usageError{"user add: --customer-key is required"}
	case *email == "" || !strings.Contains(*email, "@"):
		return usageError{"user add: --email with an email address is required"}
	case *role != cogniscape.RoleAdmin && *role != cogniscape.RoleMember:
		return usageError{"user add: --role must be admin or member"}
	}
	pw, err := readPassword(stdin, stderr, *fromStdin)
	if err != nil {
		return err
	}
	if err := portal.CheckPassword(pw); err != nil {
		return fmt.Errorf("user add: %w", err)
	}
	hash, err := portal.HashPassword(pw)
	if err != nil {
		return err
	}
	db, err := c.openStore()
	if err != nil {
		return err
	}
	defer db.Close()
	cust, err := db.CustomerByKey(ctx, *key)
	if err != nil {
		return fmt.Errorf("user add: %w", err)
	}
	u := &cogniscape.User{CustomerID: cust.ID, Email: *email, Role: *role}
	if err := db.CreateUser(ctx, u, hash); err != nil {
		return fmt.Errorf("user add: %w", err)
	}
	fmt.Fprintf(stdout, "User %s (%s) added to %q. Sign in at %s/portal/\n", u.Email, u.Role, cust.Name, c.baseURL())
	return nil
}

// readPassword reads the new password from the first line of stdin, or
// prompts for it twice on the terminal without echo.
func readPassword(stdin io.Reader, stderr io.Writer, fromStdin bool) (string, error) {
	if fromStdin {
		line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("read password: %w", err)
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	f, ok := stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", usageError{"user add: no terminal to ask for the password on; pipe it in with --password-stdin"}
	}
	fmt.Fprint(stderr, "Password: ")
	first, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(stderr)
	if err != nil {
		return "", err
	}
	fmt.Fprint(stderr, "Password again: ")
	second, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(stderr)
	if err != nil {
		return "", err
	}
	if string(first) != string(second) {
		return "", errors.New("user add: the passwords differ")
	}
	return string(first), nil
}

// createFirstAdmin gives the first customer an admin with a one-time
// password, which the caller prints once.
func createFirstAdmin(ctx context.Context, db cogniscape.Store, customerID int64, email string) (string, error) {
	pw := portal.NewPassword()
	hash, err := portal.HashPassword(pw)
	if err != nil {
		return "", err
	}
	if err := db.CreateUser(ctx, &cogniscape.User{CustomerID: customerID, Email: email, Role: cogniscape.RoleAdmin}, hash); err != nil {
		return "", fmt.Errorf("create first admin: %w", err)
	}
	return pw, nil
}

// printFirstAdmin shows the portal sign-in of the first admin, once.
func printFirstAdmin(w io.Writer, baseURL, email, password string) {
	fmt.Fprintf(w, `
Portal:  %s/portal/
  Sign in as %s with the one-time password  %s
  and change it under your account. Add people with: cogniscape user add --customer-key K --email E
`, baseURL, email, password)
}

// wirePortal serves the web portal from srv, after any routes already
// added through srv.Extra.
func wirePortal(srv *httpd.Server, db cogniscape.Store, graph *cogniscape.Reader, publicURL string, logger *slog.Logger) *portal.Portal {
	p := &portal.Portal{Customers: db, Events: db, Users: db, Graph: graph, PublicURL: publicURL, Rejected: srv.Rejected, Logger: logger}
	prev := srv.Extra
	srv.Extra = func(mux *http.ServeMux, auth func(http.Handler) http.Handler) {
		if prev != nil {
			prev(mux, auth)
		}
		p.Routes(mux)
	}
	return p
}
