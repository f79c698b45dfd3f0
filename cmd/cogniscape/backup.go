package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/cogniscape/cogniscape/internal/secret"
	"github.com/cogniscape/cogniscape/internal/sqlite"
)

// runBackup implements `cogniscape backup --out DIR`: a consistent copy of
// the SQLite database, taken while the server runs, and the master key file
// beside it, so that DIR can serve as a data directory as it is.
func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	var c common
	fs := newFlagSet("backup", stderr, getenv, &c)
	out := fs.String("out", "", "directory to write the backup to; it must not exist yet (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return usageError{"backup: --out DIR is required"}
	}
	if c.database != "" {
		return usageError{"backup: on PostgreSQL, back up the database with its own tools (pg_dump), and keep COGNISCAPE_MASTER_KEY"}
	}
	store, err := c.openStore()
	if err != nil {
		return err
	}
	defer store.Close()
	if err := os.Mkdir(*out, 0o700); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	db := store.(*sqlite.DB)
	if err := db.Backup(ctx, filepath.Join(*out, sqlite.FileName)); err != nil {
		return err
	}
	keyNote := "the master key comes from COGNISCAPE_MASTER_KEY: keep it with the backup"
	if c.getenv("COGNISCAPE_MASTER_KEY") == "" {
		if err := copyFile(filepath.Join(c.data, secret.KeyFile), filepath.Join(*out, secret.KeyFile)); err != nil {
			return fmt.Errorf("backup master key: %w", err)
		}
		keyNote = "with the master key"
	}
	fmt.Fprintf(stdout, "Backed up %s to %s, %s. Restore by serving with --data %s (or copying it into place while no server runs).\n",
		c.data, *out, keyNote, *out)
	return nil
}

// copyFile copies a small file, synced, with mode 0600.
func copyFile(from, to string) error {
	data, err := os.ReadFile(from)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s is missing", from)
	}
	if err != nil {
		return err
	}
	f, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
