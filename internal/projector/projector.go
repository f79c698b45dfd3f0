// Package projector turns the event log into the graph: in the background, in
// log order per customer, checkpointed in the same transaction as the graph
// writes, so that a restart resumes where it stopped and never applies an
// event twice.
package projector

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cogniscape/cogniscape"
)

// Decoder turns a raw body into its normalised mutation; (nil, nil) means
// there is nothing to project.
type Decoder func(body []byte) (*cogniscape.Mutation, error)

// Projector projects pending events. Set the fields, then call Run.
type Projector struct {
	Store  cogniscape.ProjectionStore
	Decode Decoder
	// BatchSize bounds the events applied in one transaction while webhooks
	// arrive: small enough that appends queued behind it wait only
	// milliseconds. CatchUpBatchSize is used when none arrived for a second
	// (catching up, replaying): bigger batches save and commit hot nodes
	// (people, projects, sprints) far less often.
	BatchSize        int
	CatchUpBatchSize int
	// Poll is how often to look for work without a Notify (other processes,
	// missed wake-ups).
	Poll time.Duration
	// BurstRate is the webhook rate (Notify calls per second) above which
	// projection yields to acknowledgement: it then works at most a tenth of
	// the time, and catches up at full speed once the burst is over. Jira
	// sends bursts (bulk edits, imports, sprint closes); acknowledging them
	// quickly is what keeps Jira from retrying and disabling the webhook,
	// while the graph may trail by seconds. Zero disables yielding.
	BurstRate float64
	// Turn is how long one customer's backlog is worked on before the other
	// customers with pending events have theirs: a replay or a bulk import
	// of one customer leaves the others' graphs current.
	Turn   time.Duration
	Logger *slog.Logger

	wake       chan struct{}
	applied    atomic.Int64
	skipped    atomic.Int64
	lastNotify atomic.Int64 // Unix nanoseconds of the last Notify
	notifies   atomic.Int64

	// The rate window, read and moved by the projecting goroutine only.
	windowStart    time.Time
	windowNotifies int64
	rate           float64
}

// New returns a projector with defaults.
func New(store cogniscape.ProjectionStore, decode Decoder, logger *slog.Logger) *Projector {
	return &Projector{Store: store, Decode: decode, BatchSize: 128, CatchUpBatchSize: 2000, Poll: time.Second, BurstRate: 200,
		Turn: time.Second, Logger: logger, wake: make(chan struct{}, 1)}
}

// Notify tells the projector that a webhook was appended. It never blocks,
// so the acknowledgement path can call it freely.
func (p *Projector) Notify() {
	p.notifies.Add(1)
	p.lastNotify.Store(time.Now().UnixNano())
	p.Wake()
}

// Wake tells the projector that new events may be waiting, without counting
// them as webhook traffic to yield to (a bulk load of the projector's own
// process, say).
func (p *Projector) Wake() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Applied returns the number of events projected by this projector.
func (p *Projector) Applied() int64 { return p.applied.Load() }

// Skipped returns the number of events this projector left out of the
// graph because the store refused them (each is logged as an error).
func (p *Projector) Skipped() int64 { return p.skipped.Load() }

// Run projects until ctx ends. After a failure it waits before trying
// again, longer each time up to half a minute, whatever wakes it meanwhile:
// every webhook wakes it, and a store that is down would otherwise be asked
// again for each one.
func (p *Projector) Run(ctx context.Context) error {
	t := time.NewTicker(p.Poll)
	defer t.Stop()
	var backoff time.Duration
	for {
		if _, err := p.CatchUp(ctx); err != nil && ctx.Err() == nil {
			p.Logger.Error("projection", "err", err)
			backoff = min(max(2*backoff, p.Poll), 30*time.Second)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(backoff):
			}
			continue
		}
		backoff = 0
		select {
		case <-ctx.Done():
			return nil
		case <-p.wake:
		case <-t.C:
		}
	}
}

// CatchUp projects every pending event and returns how many it applied. A
// customer whose events cannot be projected now does not hold up the
// others; the first such failure is returned once they have had their turn.
func (p *Projector) CatchUp(ctx context.Context) (int, error) {
	total := 0
	var failed error
	for {
		customers, err := p.Store.PendingCustomers(ctx)
		if err != nil || len(customers) == 0 {
			return total, errors.Join(failed, err)
		}
		progress := 0
		for _, c := range customers {
			n, err := p.projectCustomer(ctx, c)
			progress += n
			if err != nil && failed == nil {
				failed = err
			}
			if ctx.Err() != nil {
				return total + progress, ctx.Err()
			}
		}
		total += progress
		if progress == 0 || failed != nil {
			return total, failed
		}
	}
}

// eventsAfter is what a store offers when it can read ahead of its
// checkpoint; with it the projector normalises the next batch while the
// store applies the current one.
type eventsAfter interface {
	EventsAfter(ctx context.Context, customerID, after int64, limit int) ([]cogniscape.PendingEvent, error)
}

// projectCustomer applies a customer's pending events, a batch at a time,
// for at most one Turn.
func (p *Projector) projectCustomer(ctx context.Context, customerID int64) (int, error) {
	turn := time.Now()
	events, err := p.Store.PendingEvents(ctx, customerID, p.batchSize())
	if err != nil || len(events) == 0 {
		return 0, err
	}
	ahead, canReadAhead := p.Store.(eventsAfter)
	muts := p.normalize(events)
	total := 0
	for len(events) > 0 {
		started := time.Now()
		from, through := events[0].Checkpoint, events[len(events)-1].ID
		applied := make(chan error, 1)
		go func() { applied <- p.Store.ApplyBatch(ctx, customerID, from, through, muts) }()
		var next []cogniscape.PendingEvent
		var nextMuts []*cogniscape.Mutation
		var readErr error
		if canReadAhead {
			if next, readErr = ahead.EventsAfter(ctx, customerID, through, p.batchSize()); readErr == nil {
				for i := range next {
					next[i].Checkpoint = through
				}
				nextMuts = p.normalize(next)
			}
		}
		err := <-applied
		if cogniscape.ErrorCode(err) == cogniscape.ECONFLICT {
			return total, nil // another projector got there first; re-read
		}
		if cogniscape.ErrorCode(err) == cogniscape.EINVALID {
			// One of the events holds something the store will not keep:
			// find it, leave it out, and go on from the next read.
			n, err := p.isolate(ctx, customerID, events, muts)
			return total + n, err
		}
		if err != nil {
			return total, err
		}
		total += len(events)
		p.applied.Add(int64(len(events)))
		if !canReadAhead || readErr != nil {
			return total, readErr
		}
		events, muts = next, nextMuts
		if len(events) > 0 && time.Since(turn) >= p.Turn {
			return total, nil // the other customers' turn; CatchUp comes back
		}
		if len(events) > 0 {
			p.yield(ctx, time.Since(started))
		}
	}
	return total, nil
}

// isolate applies a refused batch one event at a time, skipping each event
// the store refuses on its own: its checkpoint moves past it with nothing
// projected. Left in, one such event would stop its customer's projection
// for good. The event stays in the log (its body for the raw retention), and
// the error names it.
func (p *Projector) isolate(ctx context.Context, customerID int64, events []cogniscape.PendingEvent, muts []*cogniscape.Mutation) (int, error) {
	from := events[0].Checkpoint
	for i, ev := range events {
		err := p.Store.ApplyBatch(ctx, customerID, from, ev.ID, muts[i:i+1])
		if cogniscape.ErrorCode(err) == cogniscape.EINVALID {
			p.Logger.Error("event not projected: the store refused it", "event_id", ev.ID, "type", ev.Type, "err", err)
			err = p.Store.ApplyBatch(ctx, customerID, from, ev.ID, []*cogniscape.Mutation{nil})
			if err == nil {
				p.skipped.Add(1)
			}
		} else if err == nil {
			p.applied.Add(1)
		}
		if cogniscape.ErrorCode(err) == cogniscape.ECONFLICT {
			return i, nil
		}
		if err != nil {
			return i, err
		}
		from = ev.ID
	}
	return len(events), nil
}

// yield pauses for nine times worked (what the last batch took, at most a
// second) while webhooks arrive in a burst, so that projection takes at most
// a tenth of the time.
func (p *Projector) yield(ctx context.Context, worked time.Duration) {
	if p.BurstRate <= 0 || p.webhookRate() < p.BurstRate {
		return
	}
	t := time.NewTimer(min(9*worked, time.Second))
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// webhookRate estimates Notify calls per second over the last quarter second
// or more; zero once none arrived for a second.
func (p *Projector) webhookRate() float64 {
	now, n := time.Now(), p.notifies.Load()
	if p.windowStart.IsZero() {
		p.windowStart, p.windowNotifies = now, n
		return 0
	}
	if elapsed := now.Sub(p.windowStart); elapsed >= 250*time.Millisecond {
		p.rate = float64(n-p.windowNotifies) / elapsed.Seconds()
		p.windowStart, p.windowNotifies = now, n
	}
	if !p.ingesting() {
		p.rate = 0
	}
	return p.rate
}

// normalize turns events into mutations. It is pure CPU work, spread over
// the cores.
func (p *Projector) normalize(events []cogniscape.PendingEvent) []*cogniscape.Mutation {
	muts := make([]*cogniscape.Mutation, len(events))
	workers := min(runtime.GOMAXPROCS(0), 1+len(events)/32)
	if p.ingesting() {
		workers = 1 // leave the other cores to the webhooks
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(events); i += workers {
				ev := events[i]
				m, err := p.mutation(ev)
				if err != nil {
					// A stored event that cannot be normalised would block the
					// customer forever; log it and move on. It stays in the log.
					p.Logger.Warn("event not projected", "event_id", ev.ID, "type", ev.Type, "err", err)
					m = nil
				}
				if m != nil {
					m.EventID = ev.ID
				}
				muts[i] = m
			}
		})
	}
	wg.Wait()
	return muts
}

// ingesting reports whether webhooks arrived in the last second.
func (p *Projector) ingesting() bool {
	return time.Since(time.Unix(0, p.lastNotify.Load())) <= time.Second
}

// batchSize is small while webhooks arrive and large otherwise.
func (p *Projector) batchSize() int {
	if p.CatchUpBatchSize > p.BatchSize && !p.ingesting() {
		return p.CatchUpBatchSize
	}
	return p.BatchSize
}

func (p *Projector) mutation(ev cogniscape.PendingEvent) (*cogniscape.Mutation, error) {
	if ev.Ignored {
		return nil, nil
	}
	if len(ev.Mutation) > 0 {
		m := cogniscape.Mutation{Payload: ev.Mutation}
		if err := json.Unmarshal(ev.Mutation, &m); err != nil {
			return nil, err
		}
		return &m, nil
	}
	if ev.Body == nil {
		return nil, errors.New("neither a raw body nor a stored mutation")
	}
	m, err := p.Decode(ev.Body)
	if err != nil || m == nil {
		return m, err
	}
	// Encoded here, beside the store's writer, rather than inside its
	// transaction. A mutation that names no site is encoded by the store
	// once it has resolved the site.
	if m.Site != "" {
		if err := m.EncodePayload(); err != nil {
			return nil, err
		}
	}
	return m, nil
}
