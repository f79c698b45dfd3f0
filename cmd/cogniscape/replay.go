package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/cogniscape/cogniscape/internal/jira"
	"github.com/cogniscape/cogniscape/internal/projector"
)

// runReplay rebuilds the graph from the stored events: from the normalised
// mutation stored when each event was first projected, or from its raw body
// if it never was. (A fix to the normaliser therefore applies to new events
// only.)
func runReplay(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	var c common
	fs := newFlagSet("replay", stderr, getenv, &c)
	key := fs.String("customer-key", "", "rebuild only this customer's graph (default: all)")
	retention := fs.Duration("raw-retention", 7*24*time.Hour, "how long raw webhook bodies are kept after projection, as for serve; 0 drops them as events are replayed (env COGNISCAPE_RAW_RETENTION)")
	if err := envFlags(fs, getenv, "raw-retention"); err != nil {
		return err
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	db, err := c.openStore()
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetRawRetention(*retention)
	var customerID int64
	if *key != "" {
		cust, err := db.CustomerByKey(ctx, *key)
		if err != nil {
			return fmt.Errorf("replay: %w", err)
		}
		customerID = cust.ID
	}
	start := time.Now()
	if err := db.ResetGraph(ctx, customerID); err != nil {
		return err
	}
	// A running server's projector may join in; the checkpoint's
	// compare-and-set keeps every event applied once.
	proj := projector.New(db, jira.Normalize, slog.New(slog.NewTextHandler(stderr, nil)))
	n, err := proj.CatchUp(ctx)
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	elapsed := time.Since(start)
	fmt.Fprintf(stdout, "replayed %d events in %s (%.0f events/s)\n", n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds())
	return nil
}
