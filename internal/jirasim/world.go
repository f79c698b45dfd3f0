package jirasim

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// World is the simulator's own model of the Jira sites it generates: the state
// that a correct projection of the emitted deliveries must reach. It is updated
// as each delivery is handed out by Next, so after a stream that stopped early
// (a Target) it describes exactly what was emitted.
type World struct {
	issues   map[issueRef]*IssueState
	byKey    map[string]*IssueState
	sprints  map[int64]*SprintState
	lastKey  issueRef
	hasLast  bool
	versions map[string]*VersionState
}

type issueRef struct{ site, key string }

// IssueState is what the graph must say about one issue.
type IssueState struct {
	Site           string   // Jira site base URL, e.g. https://acme.atlassian.net
	Key            string   // PAY-101
	ID             string   // Jira issue id
	Type           string   // Story, Bug, Task, Epic, Sub-task
	Status         string   // status name: To Do, In Progress, In Review, Done
	StatusID       string   // 10000, 3, 10002, 10001
	StatusCategory string   // new, indeterminate, done
	Assignee       string   // accountId (Cloud) or user key (Data Center); "" if unassigned
	Sprints        []int64  // the Sprint field, closed sprints included, ascending
	FixVersions    []string // version ids, ascending
	Parent         string   // key in the parent field: a sub-task's parent, a Cloud epic; "" if none
	Epic           string   // Data Center: key in the Epic Link field (no parent field there); "" otherwise
	Links          []Link   // current links, sorted
	Comments       int      // comments not deleted
	Worklogs       int      // worklogs not deleted
	WorklogSeconds int64    // their total time spent
	Deleted        bool
}

// Link is one issue link as seen from an issue.
type Link struct {
	Type      string // link type name: Blocks, Relates, Duplicate, Cloners
	Direction string // outward or inward
	Issue     string // key of the other issue
}

// SprintState is what the graph must say about one sprint.
type SprintState struct {
	Site    string
	ID      int64
	Name    string
	State   string // future, active, closed
	Deleted bool
	issues  map[string]struct{}
}

// Issues returns the keys of the issues whose Sprint field contains the
// sprint (deleted issues excluded), sorted.
func (s *SprintState) Issues() []string {
	keys := make([]string, 0, len(s.issues))
	for k := range s.issues {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compareKeys)
	return keys
}

// VersionState is what the graph must say about one version.
type VersionState struct {
	Site     string
	ID       string
	Name     string
	Project  string // project key
	Released bool
	Deleted  bool
	MergedTo string // id of the version it was merged into, if any
}

func newWorld() *World {
	return &World{
		issues:   make(map[issueRef]*IssueState),
		byKey:    make(map[string]*IssueState),
		sprints:  make(map[int64]*SprintState),
		versions: make(map[string]*VersionState),
	}
}

// Issue returns the state of the issue with key on site, or nil.
func (w *World) Issue(site, key string) *IssueState { return w.issues[issueRef{site, key}] }

// IssueByKey returns the state of the issue with key on any site (keys are
// unique across the sites of one simulation), or nil.
func (w *World) IssueByKey(key string) *IssueState { return w.byKey[key] }

// Issues returns every issue ever created, deleted ones included, ordered by
// site then key.
func (w *World) Issues() []*IssueState {
	out := make([]*IssueState, 0, len(w.issues))
	for _, st := range w.issues {
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b *IssueState) int {
		if c := cmp.Compare(a.Site, b.Site); c != 0 {
			return c
		}
		return compareKeys(a.Key, b.Key)
	})
	return out
}

// Sprint returns the sprint with id, or nil.
func (w *World) Sprint(id int64) *SprintState { return w.sprints[id] }

// Sprints returns every sprint ever created, deleted ones included, by id.
func (w *World) Sprints() []*SprintState {
	out := make([]*SprintState, 0, len(w.sprints))
	for _, s := range w.sprints {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b *SprintState) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// Versions returns every version ever created, by id.
func (w *World) Versions() []*VersionState {
	out := make([]*VersionState, 0, len(w.versions))
	for _, v := range w.versions {
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b *VersionState) int { return compareNumeric(a.ID, b.ID) })
	return out
}

// LastIssue returns the issue touched by the latest emitted delivery that
// touched an issue, or nil.
func (w *World) LastIssue() *IssueState {
	if !w.hasLast {
		return nil
	}
	return w.issues[w.lastKey]
}

func (w *World) setIssue(st IssueState) {
	ref := issueRef{st.Site, st.Key}
	if old := w.issues[ref]; old != nil {
		for _, id := range old.Sprints {
			if sp := w.sprints[id]; sp != nil {
				delete(sp.issues, st.Key)
			}
		}
	}
	if !st.Deleted {
		for _, id := range st.Sprints {
			sp := w.sprints[id]
			if sp == nil {
				sp = &SprintState{Site: st.Site, ID: id, issues: map[string]struct{}{}}
				w.sprints[id] = sp
			}
			sp.issues[st.Key] = struct{}{}
		}
	}
	if old := w.issues[ref]; old != nil {
		*old = st
	} else {
		cp := st
		w.issues[ref] = &cp
		w.byKey[st.Key] = &cp
	}
	w.lastKey, w.hasLast = ref, true
}

func (w *World) setSprint(site string, id int64, name, state string, deleted bool) {
	sp := w.sprints[id]
	if sp == nil {
		sp = &SprintState{Site: site, ID: id, issues: map[string]struct{}{}}
		w.sprints[id] = sp
	}
	sp.Name, sp.State, sp.Deleted = name, state, deleted
}

func (w *World) setVersion(v VersionState) {
	cp := v
	w.versions[v.ID] = &cp
}

// compareKeys orders issue keys by project, then number.
func compareKeys(a, b string) int {
	pa, na, _ := strings.Cut(a, "-")
	pb, nb, _ := strings.Cut(b, "-")
	if c := cmp.Compare(pa, pb); c != 0 {
		return c
	}
	return compareNumeric(na, nb)
}

func compareNumeric(a, b string) int {
	x, errA := strconv.ParseInt(a, 10, 64)
	y, errB := strconv.ParseInt(b, 10, 64)
	if errA != nil || errB != nil {
		return cmp.Compare(a, b)
	}
	return cmp.Compare(x, y)
}

func sortLinks(ls []Link) {
	slices.SortFunc(ls, func(a, b Link) int {
		if c := cmp.Compare(a.Type, b.Type); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Direction, b.Direction); c != 0 {
			return c
		}
		return compareKeys(a.Issue, b.Issue)
	})
}
