package cogniscape

import (
	"context"
	"time"
)

// Edge is one current relation between two stored nodes.
type Edge struct {
	Src, Dst int64
	Rel      string
	Since    time.Time
}

// ChangeRecord is one stored changelog item.
type ChangeRecord struct {
	Node    int64
	At      time.Time
	Seq     int64
	Field   string
	From    string
	To      string
	FromID  string
	ToID    string
	Actor   string // Jira id of the person, in the node's site
	EventID int64
}

// ActivityRecord is one projected event, to be rendered for people.
type ActivityRecord struct {
	At      time.Time
	Event   string
	Entity  *Node
	Actor   string
	Changes []Change
	EventID int64
}

// CutChangeValues cuts the display values of changelog items to a readable
// length in place, as answers show them: an activity record of a long
// description's edit would otherwise carry both whole texts.
func CutChangeValues(changes []Change) {
	for i := range changes {
		changes[i].From, _ = cutValue(changes[i].From)
		changes[i].To, _ = cutValue(changes[i].To)
	}
}

// IssueFilter selects issues for a list, naming entities as callers do.
type IssueFilter struct {
	Project        string // project key or Jira id
	StatusCategory string
	Assignee       string // person Jira id
	Sprint         string // sprint Jira id
	Query          string // text in key or summary
	Limit          int
	Cursor         string // opaque, from a previous page
}

// IssueQuery is an IssueFilter whose project, assignee and sprint are
// resolved to nodes, by store id (0: any). Jira ids repeat across the sites
// of a customer; store ids do not, so a query never mixes sites.
type IssueQuery struct {
	Project        int64 // store id of the project node
	StatusCategory string
	Assignee       int64 // store id of the person node
	Sprint         int64 // store id of the sprint node
	Query          string
	Limit          int
	Cursor         string
}

// GraphReader is the read side of a graph store: the primitives the REST API,
// the MCP server and the portal are built from. Every method is scoped to one
// customer; nodes of other customers do not exist for it (ENOTFOUND).
type GraphReader interface {
	// FindNode finds a node by kind and Jira key (issues, projects) or Jira id.
	FindNode(ctx context.Context, customerID int64, kind Kind, keyOrID string) (*Node, error)
	// NodeByKey finds a node by its identity.
	NodeByKey(ctx context.Context, customerID int64, key NodeKey) (*Node, error)
	// Nodes returns the nodes with these store ids, in no particular order.
	Nodes(ctx context.Context, customerID int64, ids []int64) ([]*Node, error)
	// EdgesFrom returns current relations from node (of rel, or all if "").
	EdgesFrom(ctx context.Context, customerID, node int64, rel string) ([]Edge, error)
	// EdgesTo returns current relations into node.
	EdgesTo(ctx context.Context, customerID, node int64, rel string) ([]Edge, error)
	// NodesInto returns the nodes of kind with a current rel relation into
	// any of dsts (the worklogs of a set of issues, say), in no particular
	// order.
	NodesInto(ctx context.Context, customerID int64, dsts []int64, rel string, kind Kind) ([]*Node, error)
	// Changes returns the node's changelog, oldest first.
	Changes(ctx context.Context, customerID, node int64) ([]ChangeRecord, error)
	// ChangesOfNodes returns the changelog items of field (case-insensitive)
	// of these nodes, oldest first.
	ChangesOfNodes(ctx context.Context, customerID int64, nodes []int64, field string) ([]ChangeRecord, error)
	// ChangesOfField returns the changelog items of field (case-insensitive)
	// of all nodes, oldest first, at or after since.
	ChangesOfField(ctx context.Context, customerID int64, field string, since time.Time) ([]ChangeRecord, error)
	// SprintChanges returns the Sprint field's changelog items at or after
	// since whose old or new value names the sprint id, oldest first.
	SprintChanges(ctx context.Context, customerID int64, sprintID string, since time.Time) ([]ChangeRecord, error)
	// Issues lists issue nodes matching q, most recently updated first, and
	// the cursor of the next page ("" at the end).
	Issues(ctx context.Context, customerID int64, q IssueQuery) ([]*Node, string, error)
	// Activity returns projected events at or after since, newest first.
	Activity(ctx context.Context, customerID int64, since time.Time, limit int) ([]ActivityRecord, error)

	// Search ranks nodes matching a full-text query (words are ANDed, a
	// trailing * matches a prefix), best first; kind "" searches every kind.
	Search(ctx context.Context, customerID int64, query string, kind Kind, limit int) ([]SearchHit, error)
	// ProjectIssues returns the indexed facts of every issue of a project.
	ProjectIssues(ctx context.Context, customerID, project int64) ([]IssueFact, error)
	// ProjectChanges returns the changelog items of field (case-insensitive)
	// of every issue of a project, oldest first.
	ProjectChanges(ctx context.Context, customerID, project int64, field string) ([]ChangeRecord, error)
	// ChangesByActor returns the changelog items the person with Jira id
	// actor made at or after since on the nodes of site (the site whose
	// person that is: Jira ids repeat across sites), oldest first.
	ChangesByActor(ctx context.Context, customerID int64, site, actor string, since time.Time) ([]ChangeRecord, error)
	// Sources returns the events that made or changed these nodes, oldest
	// first, at most limit.
	Sources(ctx context.Context, customerID int64, nodes []int64, limit int) ([]Source, error)
}

// SearchHit is one full-text search result.
type SearchHit struct {
	Node    *Node
	Score   float64 // higher is better
	Snippet string
}

// IssueFact is what flow metrics need of an issue, without its whole node.
type IssueFact struct {
	StoreID        int64
	Key            string
	CreatedAt      time.Time // zero if unknown
	Status         string    // status id
	StatusCategory string
	Deleted        bool
}

// Source is an event an answer was computed from.
type Source struct {
	EventID int64  `json:"event_id"`
	At      string `json:"at"`
	Event   string `json:"event"`
}
