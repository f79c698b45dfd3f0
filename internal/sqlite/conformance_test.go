package sqlite_test

import (
	"testing"

	"github.com/cogniscape/cogniscape"
	"github.com/cogniscape/cogniscape/internal/sqlite"
	"github.com/cogniscape/cogniscape/internal/storetest"
)

// The SQLite store passes the conformance suite every store must pass.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) cogniscape.Store {
		db, err := sqlite.Open(t.TempDir(), make([]byte, 32))
		if err != nil {
			t.Fatal(err)
		}
		return db
	})
}
