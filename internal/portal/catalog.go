package portal

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cogniscape/cogniscape"
)

// catalog lists the projects, people, sprints and versions of a customer's
// graph, for the explorer's lists and filters. The read API finds entities
// by id only, so the catalog is gathered from what refers to them: the
// issues' relations and the activity log.
type catalog struct {
	Projects  []projectEntry
	People    []personEntry
	Sprints   []sprintEntry
	Versions  []versionEntry
	Truncated bool // the customer has more issues than were scanned
}

type projectEntry struct {
	Key, Name string
	Issues    int
	Deleted   bool
}

type personEntry struct {
	ID, Name   string
	Assigned   int // live issues assigned now
	Open       int // of which not done
	Actions    int // activity items by them
	LastActive time.Time
}

type sprintEntry struct {
	ID, Name, State                  string
	StartDate, EndDate, CompleteDate string
	Board                            string
	Projects                         []string // keys of the projects its issues belong to
	Issues, Done                     int
	Deleted                          bool
	sortAt                           time.Time
}

type versionEntry struct {
	ID, Name, Project string
	Released          bool
	Archived          bool
	ReleaseDate       string
	Issues, Done      int
	Deleted           bool
}

const (
	catalogTTL       = 30 * time.Second
	catalogMaxIssues = 5000
)

type catalogCache struct {
	mu      sync.Mutex
	entries map[int64]cachedCatalog
}

type cachedCatalog struct {
	at time.Time
	c  *catalog
}

// catalog returns the customer's catalog, at most catalogTTL old.
func (p *Portal) catalog(ctx context.Context, customerID int64) (*catalog, error) {
	now := time.Now()
	p.catalogs.mu.Lock()
	if e, ok := p.catalogs.entries[customerID]; ok && now.Sub(e.at) < catalogTTL {
		p.catalogs.mu.Unlock()
		return e.c, nil
	}
	p.catalogs.mu.Unlock()
	c, err := buildCatalog(ctx, p.Graph.Store, customerID)
	if err != nil {
		return nil, err
	}
	p.catalogs.mu.Lock()
	if p.catalogs.entries == nil {
		p.catalogs.entries = map[int64]cachedCatalog{}
	}
	for id, e := range p.catalogs.entries {
		if now.Sub(e.at) >= catalogTTL {
			delete(p.catalogs.entries, id)
		}
	}
	p.catalogs.entries[customerID] = cachedCatalog{at: now, c: c}
	p.catalogs.mu.Unlock()
	return c, nil
}

func buildCatalog(ctx context.Context, g cogniscape.GraphReader, customerID int64) (*catalog, error) {
	type counts struct{ issues, done, open int }
	refs := map[cogniscape.NodeKey]*counts{}
	var order []cogniscape.NodeKey
	note := func(k cogniscape.NodeKey) *counts {
		c := refs[k]
		if c == nil {
			c = &counts{}
			refs[k] = c
			order = append(order, k)
		}
		return c
	}
	out := &catalog{}
	sprintProjects := map[cogniscape.NodeKey]map[cogniscape.NodeKey]bool{}
	cursor, scanned := "", 0
	for {
		ns, next, err := g.Issues(ctx, customerID, cogniscape.IssueQuery{Limit: 500, Cursor: cursor})
		if err != nil {
			return nil, err
		}
		for _, n := range ns {
			scanned++
			done := n.String("status_category") == cogniscape.CategoryDone
			for _, sp := range n.Rels[cogniscape.RelSprint] {
				k := cogniscape.NodeKey{Site: n.Key.Site, Kind: sp.Kind, ID: sp.ID}
				for _, pr := range n.Rels[cogniscape.RelProject] {
					if sprintProjects[k] == nil {
						sprintProjects[k] = map[cogniscape.NodeKey]bool{}
					}
					sprintProjects[k][cogniscape.NodeKey{Site: n.Key.Site, Kind: pr.Kind, ID: pr.ID}] = true
				}
			}
			for _, rel := range []string{cogniscape.RelProject, cogniscape.RelAssignee, cogniscape.RelReporter, cogniscape.RelSprint, cogniscape.RelFixVersion} {
				for _, ref := range n.Rels[rel] {
					c := note(cogniscape.NodeKey{Site: n.Key.Site, Kind: ref.Kind, ID: ref.ID})
					if n.Deleted || rel == cogniscape.RelReporter {
						continue
					}
					c.issues++
					if done {
						c.done++
					} else {
						c.open++
					}
				}
			}
		}
		if next == "" {
			break
		}
		if scanned >= catalogMaxIssues {
			out.Truncated = true
			break
		}
		cursor = next
	}
	acts, err := g.Activity(ctx, customerID, time.Time{}, 5000)
	if err != nil {
		return nil, err
	}
	actions := map[cogniscape.NodeKey]int{}
	last := map[cogniscape.NodeKey]time.Time{}
	for _, a := range acts {
		switch a.Entity.Key.Kind {
		case cogniscape.KindProject, cogniscape.KindSprint, cogniscape.KindVersion, cogniscape.KindPerson:
			note(a.Entity.Key)
		}
		if a.Actor != "" {
			k := cogniscape.NodeKey{Site: a.Entity.Key.Site, Kind: cogniscape.KindPerson, ID: a.Actor}
			note(k)
			actions[k]++
			if a.At.After(last[k]) {
				last[k] = a.At
			}
		}
	}
	projectKeys := map[cogniscape.NodeKey]string{}
	var sprintKeys []cogniscape.NodeKey
	for _, k := range order {
		n, err := g.NodeByKey(ctx, customerID, k)
		if cogniscape.ErrorCode(err) == cogniscape.ENOTFOUND {
			continue
		}
		if err != nil {
			return nil, err
		}
		c := refs[k]
		switch k.Kind {
		case cogniscape.KindProject:
			projectKeys[k] = n.String("key")
			out.Projects = append(out.Projects, projectEntry{Key: n.String("key"), Name: n.String("name"), Issues: c.issues, Deleted: n.Deleted})
		case cogniscape.KindPerson:
			name := n.String("name")
			if name == "" {
				name = k.ID
			}
			out.People = append(out.People, personEntry{ID: k.ID, Name: name, Assigned: c.issues, Open: c.open, Actions: actions[k], LastActive: last[k]})
		case cogniscape.KindSprint:
			e := sprintEntry{ID: k.ID, Name: n.String("name"), State: strings.ToLower(n.String("state")), StartDate: n.String("start_date"),
				EndDate: n.String("end_date"), CompleteDate: n.String("complete_date"), Issues: c.issues, Done: c.done, Deleted: n.Deleted,
				sortAt: n.First.Time()}
			if t, err := time.Parse(time.RFC3339, e.StartDate); err == nil {
				e.sortAt = t
			}
			for _, b := range n.Rels[cogniscape.RelBoard] {
				e.Board = b.ID
			}
			out.Sprints = append(out.Sprints, e)
			sprintKeys = append(sprintKeys, k)
		case cogniscape.KindVersion:
			e := versionEntry{ID: k.ID, Name: n.String("name"), ReleaseDate: n.String("release_date"), Issues: c.issues, Done: c.done, Deleted: n.Deleted}
			n.Attr("released", &e.Released)
			n.Attr("archived", &e.Archived)
			for _, pr := range n.Rels[cogniscape.RelProject] {
				if pn, err := g.NodeByKey(ctx, customerID, cogniscape.NodeKey{Site: k.Site, Kind: cogniscape.KindProject, ID: pr.ID}); err == nil {
					e.Project = pn.String("key")
				}
			}
			out.Versions = append(out.Versions, e)
		}
	}
	for i, k := range sprintKeys {
		for pk := range sprintProjects[k] {
			if key := projectKeys[pk]; key != "" {
				out.Sprints[i].Projects = append(out.Sprints[i].Projects, key)
			}
		}
		slices.Sort(out.Sprints[i].Projects)
	}
	slices.SortFunc(out.Projects, func(a, b projectEntry) int { return strings.Compare(a.Key, b.Key) })
	slices.SortFunc(out.People, func(a, b personEntry) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	slices.SortFunc(out.Sprints, func(a, b sprintEntry) int { return b.sortAt.Compare(a.sortAt) })
	slices.SortFunc(out.Versions, func(a, b versionEntry) int {
		if a.Project != b.Project {
			return strings.Compare(a.Project, b.Project)
		}
		return strings.Compare(b.ReleaseDate+b.Name, a.ReleaseDate+a.Name)
	})
	return out, nil
}

func (c *catalog) personName(id string) string {
	for _, p := range c.People {
		if p.ID == id {
			return p.Name
		}
	}
	return ""
}

func (c *catalog) hasProject(key string) bool {
	return slices.ContainsFunc(c.Projects, func(p projectEntry) bool { return strings.EqualFold(p.Key, key) })
}
