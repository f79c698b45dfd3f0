package postgres

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/cogniscape/cogniscape"
	"github.com/cogniscape/cogniscape/internal/sqlite"
	"github.com/cogniscape/cogniscape/internal/storetest"
)

// The PostgreSQL store passes the conformance suite every store must pass,
// each subtest on a fresh schema of this run's own database.
func TestConformance(t *testing.T) {
	requirePostgres(t)
	storetest.Run(t, func(t *testing.T) cogniscape.Store {
		db, err := Open(context.Background(), freshDSN(t), testKey)
		if err != nil {
			t.Fatal(err)
		}
		return db
	})
}

// Both stores have migrations of the same names, so that a schema change is
// never made to one store only.
func TestMigrationFoldersMatch(t *testing.T) {
	list := func(dir string) []string {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		return names
	}
	pg, lite := list("migration"), list(filepath.Join("..", "sqlite", "migration"))
	if !slices.Equal(pg, lite) {
		t.Errorf("migration files differ:\n  postgres: %v\n  sqlite:   %v", pg, lite)
	}
	if !slices.Equal(MigrationNames(), sqlite.MigrationNames()) {
		t.Errorf("embedded migrations differ:\n  postgres: %v\n  sqlite:   %v", MigrationNames(), sqlite.MigrationNames())
	}
}
