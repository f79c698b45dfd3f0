package postgres

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cogniscape/cogniscape/internal/secret"
	"github.com/jackc/pgx/v5"
)

// EnvTestDSN names the variable holding the DSN of a PostgreSQL server the
// tests may create databases on.
const EnvTestDSN = "COGNISCAPE_TEST_POSTGRES"

// testDB is this test run's own database, created on first use and dropped
// when the run ends.
var testDB struct {
	once    sync.Once
	base    string // the DSN the run was given
	dsn     string // of this run's database
	name    string
	err     error
	schemas atomic.Int64
}

func TestMain(m *testing.M) {
	code := m.Run()
	if testDB.name != "" {
		if err := dropDatabase(testDB.base, testDB.name); err != nil {
			fmt.Fprintf(os.Stderr, "drop test database %s: %v\n", testDB.name, err)
		}
	}
	os.Exit(code)
}

// requirePostgres skips the test without a test server or in -short mode.
func requirePostgres(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvTestDSN)
	if base == "" {
		t.Skip("PostgreSQL tests skipped: set " + EnvTestDSN + "=postgres://user@host:5432/db?sslmode=disable (a user that may create databases)")
	}
	if testing.Short() {
		t.Skip("PostgreSQL tests skipped in -short mode")
	}
	return base
}

// freshDSN returns the DSN of a new, empty schema in this run's database.
func freshDSN(t testing.TB) string {
	t.Helper()
	base := requirePostgres(t)
	testDB.once.Do(func() {
		testDB.base = base
		name := fmt.Sprintf("cogniscape_test_%d_%s", os.Getpid(), strings.ToLower(secret.Random(6)))
		name = strings.NewReplacer("-", "_").Replace(name)
		testDB.err = createDatabase(base, name)
		if testDB.err == nil {
			testDB.name = name
			testDB.dsn, testDB.err = withDatabase(base, name, "")
		}
	})
	if testDB.err != nil {
		t.Fatalf("create test database: %v", testDB.err)
	}
	schema := fmt.Sprintf("t%d", testDB.schemas.Add(1))
	conn, err := pgx.Connect(context.Background(), testDB.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), `CREATE SCHEMA `+schema); err != nil {
		t.Fatal(err)
	}
	dsn, err := withDatabase(base, testDB.name, schema)
	if err != nil {
		t.Fatal(err)
	}
	return dsn
}

// withDatabase returns base pointing at database name, and at schema if set.
func withDatabase(base, name, schema string) (string, error) {
	if strings.HasPrefix(base, "postgres://") || strings.HasPrefix(base, "postgresql://") {
		u, err := url.Parse(base)
		if err != nil {
			return "", err
		}
		u.Path = "/" + name
		q := u.Query()
		if schema != "" {
			q.Set("search_path", schema)
		}
		u.RawQuery = q.Encode()
		return u.String(), nil
	}
	dsn := base + " dbname=" + name
	if schema != "" {
		dsn += " search_path=" + schema
	}
	return dsn, nil
}

func createDatabase(base, name string) error {
	conn, err := pgx.Connect(context.Background(), base)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(context.Background(), `CREATE DATABASE `+pgx.Identifier{name}.Sanitize())
	return err
}

func dropDatabase(base, name string) error {
	conn, err := pgx.Connect(context.Background(), base)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(context.Background(), `DROP DATABASE IF EXISTS `+pgx.Identifier{name}.Sanitize()+` WITH (FORCE)`)
	return err
}

// testKey is the master key of the tests' stores.
var testKey = make([]byte, 32)

func openTest(t testing.TB, dsn string) *DB {
	t.Helper()
	db, err := Open(context.Background(), dsn, testKey)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
