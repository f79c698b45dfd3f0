package portal

import (
	"context"
	"strings"
	"time"

	"github.com/cogniscape/cogniscape"
)

// maxBurnupSpan bounds the days a burn-up chart shows, counted back from
// its end.
const maxBurnupSpan = 366 * 24 * time.Hour

// burnup computes a sprint's scope and done count at its start, at the end
// of each day, and at its end, from the graph's changelog: which issues had
// the sprint in their Sprint field then, and which of those were in a done
// status then. It reads two changelogs per issue, not the whole lifecycle.
func (p *Portal) burnup(ctx context.Context, customerID int64, sprintID string, start, end time.Time) ([]burnPoint, error) {
	// A point per day: the dates come from webhooks, so bound the span.
	if end.Sub(start) > maxBurnupSpan {
		start = end.Add(-maxBurnupSpan)
	}
	g := p.Graph.Store
	sn, err := g.FindNode(ctx, customerID, cogniscape.KindSprint, sprintID)
	if err != nil {
		return nil, err
	}
	now, err := g.EdgesTo(ctx, customerID, sn.StoreID, cogniscape.RelSprint)
	if err != nil {
		return nil, err
	}
	member := map[int64]bool{}
	for _, e := range now {
		member[e.Src] = true
	}
	// Membership at t is the "from" side of the first change after t, or
	// the membership now; so only changes after the start matter.
	changes, err := g.ChangesOfField(ctx, customerID, "Sprint", start)
	if err != nil {
		return nil, err
	}
	moves := map[int64][]cogniscape.ChangeRecord{}
	for _, c := range changes {
		if hasID(c.FromID, sn.Key.ID) != hasID(c.ToID, sn.Key.ID) {
			moves[c.Node] = append(moves[c.Node], c)
		}
	}
	ids := make([]int64, 0, len(member)+len(moves))
	for id := range member {
		ids = append(ids, id)
	}
	for id := range moves {
		if !member[id] {
			ids = append(ids, id)
		}
	}
	nodes, err := g.Nodes(ctx, customerID, ids)
	if err != nil {
		return nil, err
	}
	cats := statusCategories{ctx: ctx, g: g, customerID: customerID, site: sn.Key.Site, byID: map[string]string{}}
	type issue struct {
		created time.Time
		moves   []cogniscape.ChangeRecord
		in      bool
		status  []cogniscape.ChangeRecord // oldest first
		cur     string                    // category now
	}
	var issues []issue
	for _, n := range nodes {
		if n.Key.Kind != cogniscape.KindIssue || n.Deleted || n.Key.Site != sn.Key.Site {
			continue
		}
		all, err := g.Changes(ctx, customerID, n.StoreID)
		if err != nil {
			return nil, err
		}
		is := issue{created: parseT(n.String("created")), moves: moves[n.StoreID], in: member[n.StoreID], cur: n.String("status_category")}
		for _, c := range all {
			if strings.EqualFold(c.Field, "status") {
				is.status = append(is.status, c)
			}
		}
		issues = append(issues, is)
	}
	at := func(t time.Time) burnPoint {
		bp := burnPoint{At: t}
		for _, is := range issues {
			if !is.created.IsZero() && is.created.After(t) {
				continue
			}
			in := is.in
			for _, c := range is.moves {
				if c.At.After(t) {
					in = hasID(c.FromID, sn.Key.ID)
					break
				}
			}
			if !in {
				continue
			}
			bp.Scope++
			cat := is.cur
			for i, c := range is.status {
				if c.At.After(t) {
					if i == 0 {
						cat = cats.of(c.FromID, c.From)
					}
					break
				}
				cat = cats.of(c.ToID, c.To)
				if i == len(is.status)-1 && is.cur != "" {
					cat = is.cur
				}
			}
			if cat == cogniscape.CategoryDone {
				bp.Done++
			}
		}
		return bp
	}
	pts := []burnPoint{at(start)}
	for day := start.UTC().Truncate(24*time.Hour).AddDate(0, 0, 1); day.Before(end); day = day.AddDate(0, 0, 1) {
		pts = append(pts, at(day))
	}
	return append(pts, at(end)), nil
}

// hasID reports whether a comma-separated id list holds id.
func hasID(list, id string) bool {
	for _, p := range strings.Split(list, ",") {
		if strings.TrimSpace(p) == id {
			return true
		}
	}
	return false
}

// statusCategories names the category of a status through the graph's
// status nodes, and by Jira's usual names for statuses it never saw.
type statusCategories struct {
	ctx        context.Context
	g          cogniscape.GraphReader
	customerID int64
	site       string
	byID       map[string]string
}

func (s statusCategories) of(id, name string) string {
	if id != "" {
		c, ok := s.byID[id]
		if !ok {
			if n, err := s.g.NodeByKey(s.ctx, s.customerID, cogniscape.NodeKey{Site: s.site, Kind: cogniscape.KindStatus, ID: id}); err == nil {
				c = n.String("category")
			}
			s.byID[id] = c
		}
		if c != "" {
			return c
		}
	}
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "done", "closed", "resolved", "released", "cancelled", "canceled", "won't do":
		return cogniscape.CategoryDone
	case "to do", "open", "backlog", "new", "selected for development", "reopened", "":
		return cogniscape.CategoryNew
	}
	return cogniscape.CategoryIndeterminate
}
