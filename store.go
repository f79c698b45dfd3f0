package cogniscape

import (
	"context"
	"time"
)

// Store is everything a storage adapter (SQLite, PostgreSQL) provides. The
// conformance suite in internal/storetest holds every implementation to the
// same behaviour.
type Store interface {
	CustomerService
	EventLog
	ProjectionStore
	GraphReader
	UserService

	// Ping reports whether the store answers (EUNAVAILABLE if not).
	Ping(ctx context.Context) error
	// LogSize is the number of events in the log, all customers.
	LogSize(ctx context.Context) (int64, error)
	// GraphDigest hashes a customer's graph by natural keys, independent of
	// arrival order and row ids.
	GraphDigest(ctx context.Context, customerID int64) (string, error)
	// ResetGraph forgets a customer's graph and checkpoint (0: every
	// customer) so that projection rebuilds it from the log.
	ResetGraph(ctx context.Context, customerID int64) error
	// DropRawBodies removes raw bodies of projected events received before
	// cutoff; their normalised mutations stay.
	DropRawBodies(ctx context.Context, cutoff time.Time) (int64, error)
	// SetRawRetention sets how long raw bodies are kept after projection; 0
	// drops them in the projecting transaction.
	SetRawRetention(d time.Duration)
	// Close releases the store, finishing queued writes first.
	Close() error
}
