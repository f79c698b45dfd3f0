package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/cogniscape/cogniscape"
	"github.com/cogniscape/cogniscape/internal/secret"
	"github.com/cogniscape/cogniscape/internal/sqlite"
)

// common holds the flags every subcommand shares.
type common struct {
	data      string
	database  string // PostgreSQL URL; "" for the SQLite file in data
	stderr    io.Writer
	publicURL string
	addr      string
	tls       bool // serve speaks HTTPS itself
	getenv    func(string) string
}

func newFlagSet(name string, stderr io.Writer, getenv func(string) string, c *common) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.getenv, c.stderr = getenv, stderr
	fs.StringVar(&c.database, "database", getenv("COGNISCAPE_DATABASE"), "PostgreSQL URL (postgres://user:password@host:5432/db) shared by replicas; without it the SQLite database in --data is used (env COGNISCAPE_DATABASE)")
	fs.StringVar(&c.data, "data", envOr(getenv, "COGNISCAPE_DATA", "./data"), "data directory holding the SQLite database (env COGNISCAPE_DATA)")
	fs.StringVar(&c.publicURL, "public-url", getenv("COGNISCAPE_PUBLIC_URL"), "external base URL used in printed webhook URLs, e.g. https://cogniscape.example.com (env COGNISCAPE_PUBLIC_URL)")
	fs.StringVar(&c.addr, "addr", envOr(getenv, "COGNISCAPE_ADDR", "127.0.0.1:8080"), "listen address (env COGNISCAPE_ADDR)")
	return fs
}

// envFlags sets the named flags from their environment twins
// (COGNISCAPE_RAW_RETENTION for raw-retention), through the flags' own
// parsers, so that a bad value is refused as it would be on the command
// line. The command line, parsed after, still wins.
func envFlags(fs *flag.FlagSet, getenv func(string) string, names ...string) error {
	for _, name := range names {
		env := "COGNISCAPE_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
		if v := getenv(env); v != "" {
			if err := fs.Set(name, v); err != nil {
				return usageError{fmt.Sprintf("%s=%q: %v", env, v, err)}
			}
		}
	}
	return nil
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

// openStore opens the SQLite store in the data directory with the master key
// from COGNISCAPE_MASTER_KEY or the key file beside the database.
func (c *common) openStore() (cogniscape.Store, error) {
	if err := c.checkPublicURL(); err != nil {
		return nil, err
	}
	if c.database != "" {
		return c.openPostgres()
	}
	if err := os.MkdirAll(c.data, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	key, created, err := c.masterKey()
	if err != nil {
		return nil, err
	}
	db, err := sqlite.Open(c.data, key)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	if err := db.CheckMasterKey(context.Background()); err != nil {
		db.Close()
		return nil, c.wrongKey(err, created)
	}
	return db, nil
}

// masterKey loads the master key (secret.LoadKey) and says whether it was
// created just now because the data directory had none.
func (c *common) masterKey() (key []byte, created bool, err error) {
	env := c.getenv("COGNISCAPE_MASTER_KEY")
	_, statErr := os.Stat(filepath.Join(c.data, secret.KeyFile))
	key, err = secret.LoadKey(env, c.data)
	return key, err == nil && env == "" && errors.Is(statErr, fs.ErrNotExist), err
}

// wrongKey explains a master key that does not open the stored secrets. A
// key file created just now for a database that already had customers is
// removed again, so that the right one can be put back.
func (c *common) wrongKey(err error, created bool) error {
	if created {
		os.Remove(filepath.Join(c.data, secret.KeyFile))
		return fmt.Errorf("%w: %s has no %s; restore the one this database was created with, or set COGNISCAPE_MASTER_KEY", err, c.data, secret.KeyFile)
	}
	return fmt.Errorf("%w: set COGNISCAPE_MASTER_KEY, or keep %s, as when the customers were created", err, filepath.Join(c.data, secret.KeyFile))
}

// checkPublicURL refuses a --public-url that could not be a base of the
// URLs printed for Jira and for people.
func (c *common) checkPublicURL() error {
	if c.publicURL == "" {
		return nil
	}
	u, err := url.Parse(c.publicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return usageError{fmt.Sprintf("--public-url %q: want an absolute http or https URL, e.g. https://cogniscape.example.com", c.publicURL)}
	}
	return nil
}

// baseURL is where people and Jira reach this server: the public URL, or
// else the listen address (a wildcard one named as localhost).
func (c *common) baseURL() string {
	if c.publicURL != "" {
		return strings.TrimRight(c.publicURL, "/")
	}
	scheme := "http://"
	if c.tls {
		scheme = "https://"
	}
	host, port, err := net.SplitHostPort(c.addr)
	if err != nil {
		return scheme + c.addr
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return scheme + net.JoinHostPort(host, port)
}

func (c *common) webhookURL(customerKey string) string {
	return c.baseURL() + "/api/v1/events/jira/" + customerKey
}
