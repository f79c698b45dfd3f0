package cogniscape

import (
	"context"
	"encoding/json"
	"strings"
)

// NodeLoader returns the node for key from the store (or a new empty node if
// the store has none), the same *Node for the same key within one batch.
type NodeLoader func(key NodeKey) (*Node, error)

// Project merges one mutation into the nodes it names and returns the nodes
// it changed. It does no I/O beyond the loader: stores call it inside their
// transaction and write back what it returns. Targets of relations are loaded
// too, so that the store creates a node for an entity that was only referred
// to so far ("an event about an entity not seen yet creates it").
func Project(m *Mutation, load NodeLoader) ([]*Node, error) {
	var changed []*Node
	seen := map[*Node]bool{}
	mark := func(n *Node) {
		if !seen[n] {
			seen[n] = true
			changed = append(changed, n)
		}
	}
	key := func(r NodeRef) NodeKey { return NodeKey{Site: m.Site, Kind: r.Kind, ID: r.ID} }
	for _, u := range m.Nodes {
		n, err := load(key(u.Ref))
		if err != nil {
			return nil, err
		}
		if n.ApplyUpdate(m.Version, u) || n.StoreID == 0 {
			mark(n)
		}
	}
	for _, e := range m.Edges {
		n, err := load(key(e.From))
		if err != nil {
			return nil, err
		}
		if n.ApplyEdge(m.Version, e.Rel, e.To) || n.StoreID == 0 {
			mark(n)
		}
		for _, t := range e.To {
			tn, err := load(key(t))
			if err != nil {
				return nil, err
			}
			if tn.StoreID == 0 {
				mark(tn)
			}
		}
	}
	return changed, nil
}

// SubjectOf returns the entity a mutation is mainly about: the issue of an
// issue event, the comment of a comment event, and so on.
func SubjectOf(m *Mutation) (NodeRef, bool) {
	want := subjectKind(m.Event)
	for _, u := range m.Nodes {
		if u.Ref.Kind == want {
			return u.Ref, true
		}
	}
	return NodeRef{}, false
}

// IsCommentTwin reports whether m is Data Center's jira:issue_updated twin
// of a comment event: the comment_* event already tells that story, so the
// twin adds nothing to the activity.
func IsCommentTwin(m *Mutation) bool {
	if m.Event != "jira:issue_updated" || len(m.Changes) > 0 {
		return false
	}
	for _, u := range m.Nodes {
		if u.Ref.Kind == KindComment {
			return true
		}
	}
	return false
}

func subjectKind(event string) Kind {
	e := strings.TrimPrefix(event, "jira:")
	switch {
	case strings.HasPrefix(e, "issuelink_"):
		return KindLink
	case strings.HasPrefix(e, "issue_"):
		return KindIssue
	case strings.HasPrefix(e, "comment_"):
		return KindComment
	case strings.HasPrefix(e, "worklog_"):
		return KindWorklog
	case strings.HasPrefix(e, "sprint_"):
		return KindSprint
	case strings.HasPrefix(e, "project_"):
		return KindProject
	case strings.HasPrefix(e, "version_"):
		return KindVersion
	}
	return ""
}

// MaxBatchBytes bounds the raw bodies and stored mutations one read of
// pending events holds.
const MaxBatchBytes = 32 << 20

// ProjectionStore is the write side of the graph, as the projector uses it.
type ProjectionStore interface {
	// PendingCustomers lists customers whose log has events past their
	// projection checkpoint.
	PendingCustomers(ctx context.Context) ([]int64, error)
	// PendingEvents reads up to limit events of the customer after its
	// checkpoint, in log order, with their stored mutations if they have one;
	// fewer once their bodies and mutations add up to MaxBatchBytes (but
	// always one), so that a batch of large bodies stays small in memory.
	PendingEvents(ctx context.Context, customerID int64, limit int) ([]PendingEvent, error)
	// ApplyBatch projects the mutations of a run of events and advances the
	// customer's checkpoint to through, all in one transaction. It fails with
	// ECONFLICT, applying nothing, if the checkpoint is no longer from (and
	// only then), and with EINVALID if the database refused a value of the
	// batch's events; any other failure is the store's.
	ApplyBatch(ctx context.Context, customerID int64, from, through int64, muts []*Mutation) error
	// ProjectionLag is the number of events not projected yet (all customers).
	ProjectionLag(ctx context.Context) (int64, error)
}

// PendingEvent is an event waiting to be projected.
type PendingEvent struct {
	Event
	Checkpoint int64           // the customer's checkpoint when the event was read
	Mutation   json.RawMessage // stored normalised form, if the event was normalised before (replay)
}
