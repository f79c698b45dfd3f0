package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/cogniscape/cogniscape"
	"github.com/cogniscape/cogniscape/internal/jira"
	"github.com/cogniscape/cogniscape/internal/jirasim"
)

// demoCustomer is the name of the customer `serve --demo` fills.
const demoCustomer = "Demo"

// demoStart makes sure a demo customer exists: on first use it creates one,
// prints its credentials (with an admin to sign in as), and returns a
// function that fills it with 90 days of simulated Jira activity ending now.
// The caller runs that in the background, so the server answers at once and
// the graph fills within seconds. A demo customer left empty (its first fill
// was interrupted before anything was stored) is filled again.
func demoStart(ctx context.Context, c *common, db cogniscape.Store, stdout io.Writer) (fill func(context.Context, func(), *slog.Logger), err error) {
	customers, err := db.Customers(ctx)
	if err != nil {
		return nil, err
	}
	var cust *cogniscape.Customer
	for _, cu := range customers {
		if cu.Name == demoCustomer {
			cust = &cu
			break
		}
	}
	if cust != nil {
		delivered, err := db.Deliveries(ctx, cust.ID, cogniscape.DeliveryFilter{Limit: 1})
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(stdout, "Demo customer already created: %s\n", c.webhookURL(cust.Key))
		if len(delivered) > 0 {
			return nil, nil
		}
	} else {
		var creds cogniscape.Credentials
		if cust, creds, err = db.CreateCustomer(ctx, demoCustomer); err != nil {
			return nil, fmt.Errorf("create demo customer: %w", err)
		}
		if err := showNewCustomer(ctx, c, db, stdout, cust, creds); err != nil {
			return nil, err
		}
	}
	return func(ctx context.Context, appended func(), logger *slog.Logger) {
		start := time.Now()
		n, err := loadSimulation(ctx, db, cust.ID, jirasim.Config{Seed: 2026, Teams: 3, Days: 90, Flavor: jirasim.FlavorCloud,
			Start: time.Now().UTC().AddDate(0, 0, -90).Truncate(24 * time.Hour), Site: "demo"}, appended)
		if err != nil {
			logger.Error("load demo activity", "err", err)
			return
		}
		logger.Info("demo activity loaded", "deliveries", n, "took", time.Since(start).Round(time.Millisecond))
	}, nil
}

// loadSimulation appends a simulation's deliveries to a customer's log the
// way the webhook receiver would, many at a time so that they share commits.
func loadSimulation(ctx context.Context, db cogniscape.EventLog, customerID int64, cfg jirasim.Config, appended func()) (int, error) {
	sim := jirasim.New(cfg)
	deliveries := make(chan jirasim.Delivery)
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for d := range deliveries {
				env, err := jira.Inspect(d.Body)
				if err == nil {
					ev := &cogniscape.Event{CustomerID: customerID, ReceivedAt: time.Now().UTC(), Source: "jira", Type: env.Event,
						Site: env.Site, Identifier: d.Identifier, DedupKey: "id:" + env.Site + "#" + d.Identifier,
						Timestamp: env.Timestamp, Body: d.Body, Ignored: env.Ignored}
					_, err = db.Append(ctx, ev, len(d.Body))
				}
				if err != nil {
					select {
					case errs <- err:
					default:
					}
					continue
				}
				if appended != nil {
					appended()
				}
			}
		})
	}
	n := 0
	for d := range sim.All() {
		if ctx.Err() != nil {
			break
		}
		deliveries <- d
		n++
	}
	close(deliveries)
	wg.Wait()
	select {
	case err := <-errs:
		return n, err
	default:
		return n, ctx.Err()
	}
}
