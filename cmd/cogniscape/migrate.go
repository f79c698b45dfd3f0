package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/cogniscape/cogniscape"
	"github.com/cogniscape/cogniscape/internal/postgres"
	"github.com/cogniscape/cogniscape/internal/secret"
	"github.com/cogniscape/cogniscape/internal/sqlite"
)

// waker is a store shared by several processes that can tell when any of
// them appended events (PostgreSQL's LISTEN/NOTIFY).
type waker interface {
	Wake(ctx context.Context) <-chan struct{}
}

// runMigrate implements `cogniscape migrate`: apply the schema migrations
// the database does not have yet, and exit. Every other command applies them
// too when it opens the store; this one lets a deployment do it first.
func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	var c common
	fs := newFlagSet("migrate", stderr, getenv, &c)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if c.database == "" {
		db, err := c.openStore()
		if err != nil {
			return err
		}
		if err := db.Close(); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "SQLite database in %s is up to date (%d migrations).\n", c.data, len(sqlite.MigrationNames()))
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	applied, err := postgres.Migrate(ctx, c.database)
	for _, name := range applied {
		fmt.Fprintf(stdout, "applied %s\n", name)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "PostgreSQL database %s is up to date (%d migrations, %d applied now).\n",
		postgres.Redact(c.database), len(postgres.MigrationNames()), len(applied))
	return nil
}

// openPostgres opens the PostgreSQL store named by --database. Replicas must
// share the master key that seals customer secrets: it comes from
// COGNISCAPE_MASTER_KEY, or else from the key file in --data, which only
// serves replicas on this machine.
func (c *common) openPostgres() (cogniscape.Store, error) {
	envKey := c.getenv("COGNISCAPE_MASTER_KEY")
	if envKey == "" {
		if err := os.MkdirAll(c.data, 0o700); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
		fmt.Fprintf(c.stderr, "warning: master key read from %s; replicas on other machines need the same key in COGNISCAPE_MASTER_KEY (see docs/postgres.md)\n",
			filepath.Join(c.data, secret.KeyFile))
	}
	key, created, err := c.masterKey()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := postgres.Open(ctx, c.database, key)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	// A replica with another master key would answer every webhook with an
	// error: refuse to start instead.
	if err := db.CheckMasterKey(ctx); err != nil {
		db.Close()
		return nil, c.wrongKey(err, created)
	}
	return db, nil
}
