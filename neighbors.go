package cogniscape

import (
	"context"
	"strings"
	"time"
)

// GraphNode is a node in a neighbourhood answer.
type GraphNode struct {
	ID      string `json:"id"` // entity reference: PAY-101, person:<id>, sprint:37, …
	Kind    Kind   `json:"kind"`
	Label   string `json:"label"`
	Deleted bool   `json:"deleted,omitempty"`
}

// GraphEdge is a current relation in a neighbourhood answer.
type GraphEdge struct {
	From  string `json:"from"`
	To    string `json:"to"`
	Rel   string `json:"rel"` // relation name, or for issue links the outward name ("blocks")
	Since string `json:"since"`
}

// Neighborhood is GET /api/v1/graph/neighbors.
type Neighborhood struct {
	Nodes []GraphNode `json:"nodes"`
	Edges []GraphEdge `json:"edges"`
	// Truncated says the neighbourhood holds more than the answer shows: a
	// node has more relations than one answer may hold (a project's issues,
	// say), or the answer reached its bound of nodes.
	Truncated bool `json:"truncated,omitempty"`
}

// maxNeighbors bounds an answer, whatever the depth.
const maxNeighbors = 300

// ResolveEntity finds a node from an entity reference: an issue key or id
// ("PAY-101", "issue:PAY-101"), or kind:id ("person:<id>", "sprint:37",
// "version:10021", "project:PAY").
func (r Reader) ResolveEntity(ctx context.Context, customerID int64, ref string) (*Node, error) {
	kind, id, found := strings.Cut(ref, ":")
	if !found {
		return r.Store.FindNode(ctx, customerID, KindIssue, ref)
	}
	switch Kind(kind) {
	case KindIssue, KindPerson, KindProject, KindSprint, KindVersion, KindComment, KindWorklog, KindBoard, KindLink, KindStatus:
		return r.Store.FindNode(ctx, customerID, Kind(kind), id)
	}
	return nil, Errorf(EINVALID, "unknown entity kind %q (want issue, person, project, sprint, version, …)", kind)
}

// Neighbors returns the nodes within depth hops of the entity and the
// relations between them. Issue links are shown as edges between issues.
func (r Reader) Neighbors(ctx context.Context, customerID int64, ref string, depth int) (*Neighborhood, error) {
	if depth < 1 || depth > 3 {
		return nil, Errorf(EINVALID, "depth must be 1, 2 or 3")
	}
	start, err := r.ResolveEntity(ctx, customerID, ref)
	if err != nil {
		return nil, err
	}
	out := &Neighborhood{Nodes: []GraphNode{}, Edges: []GraphEdge{}}
	seen := map[int64]bool{start.StoreID: true}
	edgeSeen := map[GraphEdge]bool{}
	g := graphCtx{r: r, ctx: ctx, customerID: customerID, site: start.Key.Site}
	addNode := func(n *Node) {
		out.Nodes = append(out.Nodes, GraphNode{ID: EntityRef(n), Kind: n.Key.Kind, Label: nodeLabel(n), Deleted: n.Deleted})
	}
	addEdge := func(e GraphEdge) {
		if !edgeSeen[e] {
			edgeSeen[e] = true
			out.Edges = append(out.Edges, e)
		}
	}
	addNode(start)
	frontier := []*Node{start}
	for d := 0; d < depth && len(frontier) > 0 && len(out.Nodes) < maxNeighbors; d++ {
		var next []*Node
		for _, n := range frontier {
			if len(out.Nodes) >= maxNeighbors {
				out.Truncated = true
				break
			}
			from, err := r.Store.EdgesFrom(ctx, customerID, n.StoreID, "")
			if err != nil {
				return nil, err
			}
			to, err := r.Store.EdgesTo(ctx, customerID, n.StoreID, "")
			if err != nil {
				return nil, err
			}
			// A hub (a project, a busy person) may have thousands of
			// relations: read no more neighbours than an answer can show.
			if len(from)+len(to) > maxNeighbors {
				out.Truncated = true
				from = from[:min(len(from), maxNeighbors)]
				to = to[:min(len(to), maxNeighbors-len(from))]
			}
			ids := make([]int64, 0, len(from)+len(to))
			for _, e := range from {
				ids = append(ids, e.Dst)
			}
			for _, e := range to {
				ids = append(ids, e.Src)
			}
			others, err := g.nodes(ids)
			if err != nil {
				return nil, err
			}
			visit := func(o *Node) {
				if o == nil || seen[o.StoreID] {
					return
				}
				if len(out.Nodes) >= maxNeighbors {
					out.Truncated = true
					return
				}
				seen[o.StoreID] = true
				addNode(o)
				next = append(next, o)
			}
			for _, e := range from {
				if o := others[e.Dst]; o != nil {
					addEdge(GraphEdge{From: EntityRef(n), To: EntityRef(o), Rel: e.Rel, Since: e.Since.Format(time.RFC3339)})
					visit(o)
				}
			}
			for _, e := range to {
				o := others[e.Src]
				if o == nil {
					continue
				}
				if o.Key.Kind == KindLink {
					if o.Deleted {
						continue
					}
					// Collapse the link node into an edge between its issues.
					src, dst := g.linkEnd(o, RelSource), g.linkEnd(o, RelDestination)
					if src == nil || dst == nil {
						continue
					}
					verb := strings.ToLower(o.String("outward"))
					if verb == "" {
						verb = strings.ToLower(o.String("type"))
					}
					addEdge(GraphEdge{From: EntityRef(src), To: EntityRef(dst), Rel: verb, Since: o.First.Time().Format(time.RFC3339)})
					if src.StoreID == n.StoreID {
						visit(dst)
					} else {
						visit(src)
					}
					continue
				}
				addEdge(GraphEdge{From: EntityRef(o), To: EntityRef(n), Rel: e.Rel, Since: e.Since.Format(time.RFC3339)})
				visit(o)
			}
		}
		frontier = next
	}
	return out, nil
}

// linkEnd returns the issue at one end of a link node.
func (g *graphCtx) linkEnd(link *Node, rel string) *Node {
	for _, r := range link.Rels[rel] {
		n, err := g.r.Store.NodeByKey(g.ctx, g.customerID, NodeKey{Site: link.Key.Site, Kind: KindIssue, ID: r.ID})
		if err == nil {
			return n
		}
	}
	return nil
}

func nodeLabel(n *Node) string {
	switch n.Key.Kind {
	case KindIssue:
		return issueKey(n) + " " + n.String("summary")
	case KindComment:
		body := n.String("body")
		if len(body) > 80 {
			body = body[:80] + "…"
		}
		return body
	case KindWorklog:
		var secs float64
		n.Attr("time_spent_seconds", &secs)
		return FormatDuration(time.Duration(secs) * time.Second)
	}
	if name := n.String("name"); name != "" {
		return name
	}
	return n.Key.ID
}
