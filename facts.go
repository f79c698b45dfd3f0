package cogniscape

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Fact is a relation or a state as a sentence, with the time it became true
// and, once it stopped, the time it stopped.
type Fact struct {
	Statement string `json:"statement"`
	Entity    string `json:"entity"`
	ValidFrom string `json:"valid_from"`
	ValidTo   string `json:"valid_to,omitempty"` // empty: still true
}

// Text renders the fact with its validity: "PAY-102 blocks PAY-101, since 2026-03-04".
func (f Fact) Text() string {
	if f.ValidTo == "" {
		return fmt.Sprintf("%s, since %s", f.Statement, day(f.ValidFrom))
	}
	return fmt.Sprintf("%s, from %s until %s", f.Statement, day(f.ValidFrom), day(f.ValidTo))
}

func day(rfc3339 string) string {
	if len(rfc3339) >= 10 {
		return rfc3339[:10]
	}
	return rfc3339
}

// Facts returns what is and was true of an entity, oldest first.
func (r Reader) Facts(ctx context.Context, customerID int64, ref string, now time.Time) ([]Fact, error) {
	n, err := r.ResolveEntity(ctx, customerID, ref)
	if err != nil {
		return nil, err
	}
	var facts []Fact
	name := EntityRef(n)
	if n.Key.Kind == KindIssue {
		lc, err := r.Lifecycle(ctx, customerID, ref, now)
		if err != nil {
			return nil, err
		}
		name = lc.Issue
		for _, s := range lc.Statuses {
			facts = append(facts, Fact{Statement: fmt.Sprintf("%s is %s (%s)", name, s.Status, s.Category), Entity: name, ValidFrom: s.From, ValidTo: s.To})
		}
		for _, a := range lc.Assignees {
			facts = append(facts, Fact{Statement: fmt.Sprintf("%s is assigned to %s", name, a.Person.Name), Entity: name, ValidFrom: a.From, ValidTo: a.To})
		}
		for _, s := range lc.Sprints {
			label := s.Sprint.Name
			if label == "" {
				label = "sprint " + s.Sprint.ID
			}
			facts = append(facts, Fact{Statement: fmt.Sprintf("%s is in %s", name, label), Entity: name, ValidFrom: s.From, ValidTo: s.To})
		}
		// Links, including those removed since.
		g := &graphCtx{r: r, ctx: ctx, customerID: customerID, site: n.Key.Site}
		in, err := r.Store.EdgesTo(ctx, customerID, n.StoreID, "")
		if err != nil {
			return nil, err
		}
		ids := []int64{}
		for _, e := range in {
			ids = append(ids, e.Src)
		}
		links, err := g.nodes(ids)
		if err != nil {
			return nil, err
		}
		done := map[int64]bool{}
		for _, e := range in {
			l := links[e.Src]
			if l == nil || l.Key.Kind != KindLink || done[l.StoreID] {
				continue
			}
			done[l.StoreID] = true
			f := Fact{Statement: fmt.Sprintf("%s %s %s", g.linkedKey(l, RelSource), linkVerb(l, ""), g.linkedKey(l, RelDestination)),
				Entity: name, ValidFrom: l.First.Time().Format(time.RFC3339)}
			if l.Deleted {
				f.ValidTo = l.DeletedAt.Time().Format(time.RFC3339)
			}
			facts = append(facts, f)
		}
	}
	// Current relations of any node (issues' assignee and sprints are covered above, with their history).
	out, err := r.Store.EdgesFrom(ctx, customerID, n.StoreID, "")
	if err != nil {
		return nil, err
	}
	ids := []int64{}
	for _, e := range out {
		ids = append(ids, e.Dst)
	}
	g := &graphCtx{r: r, ctx: ctx, customerID: customerID, site: n.Key.Site}
	targets, err := g.nodes(ids)
	if err != nil {
		return nil, err
	}
	for _, e := range out {
		t := targets[e.Dst]
		if t == nil || (n.Key.Kind == KindIssue && (e.Rel == RelAssignee || e.Rel == RelSprint)) {
			continue
		}
		facts = append(facts, Fact{Statement: fmt.Sprintf("%s %s %s", name, relPhrase(e.Rel), nodeLabelShort(t)), Entity: name,
			ValidFrom: e.Since.Format(time.RFC3339)})
	}
	if n.Deleted {
		facts = append(facts, Fact{Statement: name + " is deleted", Entity: name, ValidFrom: n.DeletedAt.Time().Format(time.RFC3339)})
	}
	sort.SliceStable(facts, func(i, j int) bool { return facts[i].ValidFrom < facts[j].ValidFrom })
	return facts, nil
}

func relPhrase(rel string) string {
	switch rel {
	case RelProject:
		return "belongs to project"
	case RelReporter:
		return "was reported by"
	case RelFixVersion:
		return "is to ship in"
	case RelParent:
		return "is a child of"
	case RelIssue:
		return "is on"
	case RelAuthor:
		return "was written by"
	case RelLead:
		return "is led by"
	case RelBoard:
		return "is on board"
	}
	return strings.ReplaceAll(rel, "_", " ")
}

func nodeLabelShort(n *Node) string {
	switch n.Key.Kind {
	case KindIssue:
		return issueKey(n)
	case KindProject:
		if k := n.String("key"); k != "" {
			return k
		}
	}
	if name := n.String("name"); name != "" {
		return name
	}
	return EntityRef(n)
}
