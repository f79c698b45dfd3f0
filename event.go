package cogniscape

import (
	"context"
	"time"
)

// Outcome is what happened to one authenticated delivery.
type Outcome string

// Delivery outcomes, as recorded in the delivery log.
const (
	OutcomeAccepted    Outcome = "accepted"    // stored, will be projected
	OutcomeDuplicate   Outcome = "duplicate"   // a retry of a delivery already stored
	OutcomeIgnored     Outcome = "ignored"     // stored, but of a type Cogniscape does not project
	OutcomeQuarantined Outcome = "quarantined" // not a webhook body; kept for an operator
)

// Event is one authenticated webhook delivery, as appended to a customer's
// log. The log is the source of truth: the graph is rebuilt from it.
type Event struct {
	ID         int64 // position in the log, increasing
	CustomerID int64
	ReceivedAt time.Time
	Source     string // "jira"
	Type       string // Jira's webhookEvent
	Site       string // scheme://host of the Jira site, from the body's self URLs; "" if none
	Identifier string // X-Atlassian-Webhook-Identifier, if sent
	Retry      int    // X-Atlassian-Webhook-Retry, 0 on the first attempt
	DedupKey   string // identifies the delivery across retries
	Timestamp  time.Time
	Body       []byte // raw body; nil once the raw retention has passed
	Ignored    bool   // recorded but not projected
	// SecretVersion is the version of a cached secret (SecretCache) the
	// delivery was authenticated with; "" when it was checked against a
	// secret read from the store for this request.
	SecretVersion string
}

// Delivery is one row of the delivery log.
type Delivery struct {
	ID         int64     `json:"id"`
	ReceivedAt time.Time `json:"received_at"`
	Event      string    `json:"event"`
	Outcome    Outcome   `json:"outcome"`
	Identifier string    `json:"identifier"` // "" when Jira sent none (Data Center)
	Retry      int       `json:"retry"`
	Size       int       `json:"size"`
	Reason     string    `json:"reason"` // why a delivery was quarantined; "" otherwise
	EventID    int64     `json:"event_id,omitempty"`
}

// Envelope is what the acknowledgement path learns from a webhook body
// without projecting it.
type Envelope struct {
	Event     string    // the provider's event type (Jira's webhookEvent)
	Timestamp time.Time // the event's own time; zero if the body has none
	Site      string    // scheme://host of the sending site; "" if the body names none
	Ignored   bool      // a type Cogniscape records but does not project
}

// Quarantined is an authenticated body that could not be accepted as an event.
type Quarantined struct {
	Delivery
	Body []byte
}

// DeliveryFilter selects delivery log rows, newest first.
type DeliveryFilter struct {
	Outcome Outcome
	Event   string
	Before  int64 // only rows with ID < Before; 0 for no bound
	Limit   int
}

// EventLog is the durable, append-only log of webhook deliveries.
type EventLog interface {
	// Append stores ev and its delivery row durably before returning. It
	// returns OutcomeDuplicate (and stores only the delivery row) if a
	// delivery with the same DedupKey is already in the customer's log.
	// ECONFLICT if ev.SecretVersion is set and no longer the customer's
	// current secret (nothing is stored). Failures of the store are
	// EUNAVAILABLE. Neither Append nor Quarantine keeps the body once it
	// returns: the caller may reuse the buffer.
	Append(ctx context.Context, ev *Event, size int) (Outcome, error)
	// Quarantine stores a body that could not be accepted, with the reason.
	Quarantine(ctx context.Context, customerID int64, d Delivery, body []byte) error
	// Deliveries reads the customer's delivery log, newest first.
	Deliveries(ctx context.Context, customerID int64, f DeliveryFilter) ([]Delivery, error)
	// QuarantinedBody returns one quarantined body of the customer.
	QuarantinedBody(ctx context.Context, customerID, deliveryID int64) (*Quarantined, error)
}
