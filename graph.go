package cogniscape

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// Kind is the type of a node in the knowledge graph.
type Kind string

// Node kinds.
const (
	KindPerson  Kind = "person"
	KindProject Kind = "project"
	KindIssue   Kind = "issue"
	KindSprint  Kind = "sprint"
	KindVersion Kind = "version"
	KindComment Kind = "comment"
	KindWorklog Kind = "worklog"
	KindBoard   Kind = "board"
	KindLink    Kind = "link"   // an issue link; its endpoints are edges "source" and "destination"
	KindStatus  Kind = "status" // a workflow status, so that history can name its category
)

// Relations between nodes. Each (node, relation) pair is a register that holds
// a set of target nodes (at most one for the single-valued relations).
const (
	RelProject     = "project"     // issue → project, version → project
	RelAssignee    = "assignee"    // issue → person
	RelReporter    = "reporter"    // issue → person
	RelSprint      = "sprint"      // issue → sprints (set)
	RelFixVersion  = "fix_version" // issue → versions (set)
	RelParent      = "parent"      // issue → issue (epic or parent)
	RelIssue       = "issue"       // comment → issue, worklog → issue
	RelAuthor      = "author"      // comment → person, worklog → person
	RelLead        = "lead"        // project → person
	RelBoard       = "board"       // sprint → board
	RelSource      = "source"      // link → issue (outward side: "PAY-102 blocks …")
	RelDestination = "destination" // link → issue (inward side: "… blocks PAY-101")
)

// Status categories as Jira names them.
const (
	CategoryNew           = "new"           // backlog
	CategoryIndeterminate = "indeterminate" // in progress
	CategoryDone          = "done"          // delivered
)

// NodeRef names a node by its kind and its Jira id. The Jira site is implied
// by the Mutation that carries the reference; Jira ids are unique only within
// a site.
type NodeRef struct {
	Kind Kind   `json:"kind"`
	ID   string `json:"id"`
}

// Version orders the facts about one entity: the Jira event's own timestamp,
// then a sequence number (the changelog id) for events in the same
// millisecond. An older version never overwrites a newer one.
type Version struct {
	At  int64 `json:"at"`  // Unix milliseconds
	Seq int64 `json:"seq"` // changelog id, 0 if none
}

// Less reports whether v is older than w.
func (v Version) Less(w Version) bool {
	if v.At != w.At {
		return v.At < w.At
	}
	return v.Seq < w.Seq
}

// Time returns the version's timestamp.
func (v Version) Time() time.Time { return time.UnixMilli(v.At).UTC() }

// Mutation is what one event says about the world, in source-neutral terms:
// the normalised form of an event. It is kept after the raw body is dropped, so
// the graph can always be rebuilt from the mutations alone. Applying the same
// set of mutations in any order gives the same graph.
type Mutation struct {
	EventID int64   `json:"-"`
	Source  string  `json:"source"` // "jira"
	Site    string  `json:"site"`   // "" when the event names no site (issue links): resolved by the store
	Event   string  `json:"event"`  // webhookEvent
	Version Version `json:"version"`
	Actor   string  `json:"actor,omitempty"` // Jira id of the person who acted, if known

	Nodes   []NodeUpdate `json:"nodes,omitempty"`
	Edges   []EdgeUpdate `json:"edges,omitempty"`
	Changes []Change     `json:"changes,omitempty"`

	// Payload is the mutation encoded as JSON, when its producer has it at
	// hand: the projector encodes it while the store applies the previous
	// batch, and a replayed mutation keeps the bytes it was read from.
	// Stores keep it as the mutation's record instead of encoding it again
	// inside their write transaction; nil makes them encode it. Whoever
	// changes a mutation must clear it.
	Payload []byte `json:"-"`
}

// EncodePayload sets m.Payload from m's fields.
func (m *Mutation) EncodePayload() error {
	m.Payload = nil
	data, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode mutation: %w", err)
	}
	m.Payload = data
	return nil
}

// NodeUpdate sets some attributes of a node (creating it if needed). Attribute
// values are JSON values: strings, numbers, booleans, string lists, or null to
// clear. Attributes not named are left as they are.
//
// Deleted, when set, marks the node deleted (true) or restored (false) as of
// the mutation's version; its history stays readable.
type NodeUpdate struct {
	Ref     NodeRef                    `json:"ref"`
	Attrs   map[string]json.RawMessage `json:"attrs,omitempty"`
	Deleted *bool                      `json:"deleted,omitempty"`
}

// EdgeUpdate replaces the targets of one relation of a node as of the
// mutation's version.
type EdgeUpdate struct {
	From NodeRef   `json:"from"`
	Rel  string    `json:"rel"`
	To   []NodeRef `json:"to"`
}

// Change is one recorded change of a field, as Jira's changelog gives it: the
// "previous state on updates".
type Change struct {
	Node   NodeRef `json:"node"`
	Field  string  `json:"field"` // as Jira names it: status, assignee, Sprint, …
	From   string  `json:"from"`  // display value (fromString)
	To     string  `json:"to"`    // display value (toString)
	FromID string  `json:"from_id,omitempty"`
	ToID   string  `json:"to_id,omitempty"`
}

// Attr marshals v as an attribute value; it panics only on values that
// encoding/json cannot encode, which is a programming error.
func Attr(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// ChooseSite picks the site of a mutation that names none (Jira's issue-link
// events carry bare numeric ids, and every site numbers its issues from the
// same start): the site that already has the most of the links and issues
// it names. sitesOf lists the sites having one node; among sites that have
// as many, the first in byte order wins, so that the choice never depends
// on the order in which nodes were read. "" when no site has any of them.
func ChooseSite(m *Mutation, sitesOf func(NodeRef) ([]string, error)) (string, error) {
	var refs []NodeRef
	add := func(r NodeRef) {
		if (r.Kind == KindIssue || r.Kind == KindLink) && !slices.Contains(refs, r) {
			refs = append(refs, r)
		}
	}
	for _, n := range m.Nodes {
		add(n.Ref)
	}
	for _, e := range m.Edges {
		add(e.From)
		for _, t := range e.To {
			add(t)
		}
	}
	count := map[string]int{}
	for _, r := range refs {
		sites, err := sitesOf(r)
		if err != nil {
			return "", err
		}
		for _, s := range sites {
			if s != "" {
				count[s]++
			}
		}
	}
	best := ""
	for s, n := range count {
		if n > count[best] || n == count[best] && s < best {
			best = s
		}
	}
	return best, nil
}
