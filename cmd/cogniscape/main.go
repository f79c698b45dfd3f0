// Command cogniscape receives Jira webhooks, keeps them in a durable event
// log and turns them into a temporal knowledge graph of a team's work.
//
//	cogniscape serve                      run the server on ./data
//	cogniscape tenant create --name NAME  add a customer
//	cogniscape tenant list                list customers
//	cogniscape tenant rotate-secret --customer-key K
//	cogniscape tenant rotate-token --customer-key K
//	cogniscape deliveries --customer-key K
//	cogniscape replay [--customer-key K]
//	cogniscape user add --customer-key K --email E [--role admin|member]
//	cogniscape backup --out DIR
//
// Every subcommand takes --data DIR (env COGNISCAPE_DATA, default ./data).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `Usage: cogniscape <command> [flags]

Commands:
  serve                      receive webhooks and serve the API
  tenant create --name NAME  create a customer (prints its webhook URL, secret and API token once)
  tenant list                list customers
  tenant rotate-secret --customer-key K
                             replace a customer's Jira secret; the old one stops working at once
  tenant rotate-token --customer-key K
                             replace a customer's API tokens with a new one; the old ones stop working at once
  deliveries --customer-key K
                             show a customer's delivery log, newest first
  replay [--customer-key K]  rebuild the graph from the stored events
  user add --customer-key K --email E [--role admin|member] [--password-stdin]
                             add a portal user (the password is prompted, or read from stdin)
  migrate                    apply the database migrations and exit (every command applies them when it opens the store)
  backup --out DIR           a consistent copy of the SQLite database and its master key, taken while the server runs
  simulate [flags]           generate realistic Jira activity: to a file, or sent to a server (--url), verified (--verify)
  bench [--events N]         measure the whole pipeline on this machine (docs/benchmarks.md)

Run 'cogniscape <command> -h' for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "cogniscape:", err)
		}
		os.Exit(exitCode(err))
	}
}

// exitCode is 2 for usage errors, as flag does, and 1 otherwise.
func exitCode(err error) int {
	var u usageError
	if errors.As(err, &u) || errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}

type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

// run dispatches a subcommand. It takes its environment as arguments so that
// tests can call it in-process.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError{"no command given"}
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], stdout, stderr, getenv)
	case "tenant":
		if len(args) < 2 {
			fmt.Fprint(stderr, usage)
			return usageError{"tenant needs a subcommand: create, list, rotate-secret or rotate-token"}
		}
		switch args[1] {
		case "create":
			return runTenantCreate(ctx, args[2:], stdout, stderr, getenv)
		case "list":
			return runTenantList(ctx, args[2:], stdout, stderr, getenv)
		case "rotate-secret":
			return runTenantRotate(ctx, args[2:], stdout, stderr, getenv)
		case "rotate-token":
			return runTenantRotateToken(ctx, args[2:], stdout, stderr, getenv)
		}
		return usageError{fmt.Sprintf("unknown tenant subcommand %q", args[1])}
	case "deliveries":
		return runDeliveries(ctx, args[1:], stdout, stderr, getenv)
	case "user":
		return runUser(ctx, args[1:], stdin, stdout, stderr, getenv)
	case "replay":
		return runReplay(ctx, args[1:], stdout, stderr, getenv)
	case "migrate":
		return runMigrate(ctx, args[1:], stdout, stderr, getenv)
	case "backup":
		return runBackup(ctx, args[1:], stdout, stderr, getenv)
	case "simulate":
		return runSimulate(ctx, args[1:], stdout, stderr)
	case "bench":
		return runBench(ctx, args[1:], stdout, stderr, getenv)
	case "bench-bare": // the ceiling server that bench starts as a child
		return runBenchBare(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return usageError{fmt.Sprintf("unknown command %q", args[0])}
}
