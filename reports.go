package cogniscape

import (
	"context"
	"sort"
	"strings"
	"time"
)

// SprintReport is GET /api/v1/sprints/{id}/report.
type SprintReport struct {
	Sprint           SprintRef         `json:"sprint"`
	StartDate        string            `json:"start_date"`
	EndDate          string            `json:"end_date"`
	CompleteDate     string            `json:"complete_date"`
	Committed        []string          `json:"committed"`     // in the sprint when it started
	Added            []string          `json:"added"`         // joined after the start and still in at the end
	Removed          []string          `json:"removed"`       // in at the start or added, but out at the end
	Completed        []string          `json:"completed"`     // in at the end and done at the end
	CarriedOver      []string          `json:"carried_over"`  // closed sprints: in at the close, not done
	NotCompleted     []string          `json:"not_completed"` // active sprints: in now, not done
	TimeLoggedSecond int64             `json:"time_logged_seconds"`
	Definitions      map[string]string `json:"definitions"`
	Sources          []Source          `json:"sources"`
}

var sprintDefinitions = map[string]string{
	"committed":    "issues whose Sprint field held the sprint when it started",
	"added":        "issues that joined after the start and were in it at the end (close, or now)",
	"removed":      "issues in it at the start or added later that were out of it at the end",
	"completed":    "issues in it at the end whose status category was done then",
	"carried_over": "closed sprint: issues in it at the close that were not done",
	"time_logged":  "worklogs on the sprint's issues started between its start and its end",
}

// SprintReport reports a sprint's scope change and completion.
func (r Reader) SprintReport(ctx context.Context, customerID int64, id string, now time.Time) (*SprintReport, error) {
	sn, err := r.Store.FindNode(ctx, customerID, KindSprint, id)
	if err != nil {
		return nil, err
	}
	rep := &SprintReport{Sprint: SprintRef{ID: sn.Key.ID, Name: sn.String("name"), State: strings.ToLower(sn.String("state"))},
		StartDate: sn.String("start_date"), EndDate: sn.String("end_date"), CompleteDate: sn.String("complete_date"),
		Committed: []string{}, Added: []string{}, Removed: []string{}, Completed: []string{}, CarriedOver: []string{}, NotCompleted: []string{},
		Definitions: sprintDefinitions}
	start, err := time.Parse(time.RFC3339, rep.StartDate)
	if err != nil {
		start = sn.First.Time() // never started: membership since it was made
	}
	end := now
	if t, err := time.Parse(time.RFC3339, rep.CompleteDate); err == nil {
		end = t
	}
	m, err := r.sprintMembership(ctx, customerID, sn, start, end)
	if err != nil {
		return nil, err
	}
	sourceIDs := []int64{sn.StoreID}
	var members []int64
	var atEnd []*Node
	for _, im := range m {
		members = append(members, im.node.StoreID)
		if im.atEnd {
			atEnd = append(atEnd, im.node)
		}
	}
	flows, err := r.issueFlows(ctx, customerID, atEnd, now)
	if err != nil {
		return nil, err
	}
	for _, im := range m {
		key := issueKey(im.node)
		sourceIDs = append(sourceIDs, im.node.StoreID)
		switch {
		case im.atStart && im.atEnd:
			rep.Committed = append(rep.Committed, key)
		case im.atStart && !im.atEnd:
			rep.Committed = append(rep.Committed, key)
			rep.Removed = append(rep.Removed, key)
		case !im.atStart && im.atEnd:
			rep.Added = append(rep.Added, key)
		case im.joinedLater:
			rep.Removed = append(rep.Removed, key)
		}
		if im.atEnd {
			switch done := flows[im.node.StoreID].categoryAt(end) == CategoryDone; {
			case done:
				rep.Completed = append(rep.Completed, key)
			case rep.Sprint.State == "closed":
				rep.CarriedOver = append(rep.CarriedOver, key)
			default:
				rep.NotCompleted = append(rep.NotCompleted, key)
			}
		}
	}
	// Time logged on the members within the sprint, read for all at once.
	worklogs, err := r.Store.NodesInto(ctx, customerID, members, RelIssue, KindWorklog)
	if err != nil {
		return nil, err
	}
	for _, w := range worklogs {
		if w.Deleted {
			continue
		}
		started, err := time.Parse(time.RFC3339, w.String("started"))
		if err != nil || started.Before(start) || started.After(end) {
			continue
		}
		var secs float64
		w.Attr("time_spent_seconds", &secs)
		rep.TimeLoggedSecond += int64(secs)
		sourceIDs = append(sourceIDs, w.StoreID)
	}
	for _, l := range [][]string{rep.Committed, rep.Added, rep.Removed, rep.Completed, rep.CarriedOver, rep.NotCompleted} {
		sortKeys(l)
	}
	if rep.Sources, err = r.Store.Sources(ctx, customerID, sourceIDs, maxSources); err != nil {
		return nil, err
	}
	return rep, nil
}

// issueFlows computes each issue's flow from its node and its status
// history, read for all the issues in one query rather than per issue.
func (r Reader) issueFlows(ctx context.Context, customerID int64, issues []*Node, now time.Time) (map[int64]flowOf, error) {
	ids := make([]int64, 0, len(issues))
	for _, n := range issues {
		ids = append(ids, n.StoreID)
	}
	changes, err := r.Store.ChangesOfNodes(ctx, customerID, ids, "status")
	if err != nil {
		return nil, err
	}
	statusOf := map[int64][]ChangeRecord{}
	for _, c := range changes {
		statusOf[c.Node] = append(statusOf[c.Node], c)
	}
	sites := map[string]*graphCtx{} // status names are per site
	flows := make(map[int64]flowOf, len(issues))
	for _, n := range issues {
		g := sites[n.Key.Site]
		if g == nil {
			g = &graphCtx{r: r, ctx: ctx, customerID: customerID, site: n.Key.Site}
			sites[n.Key.Site] = g
		}
		created, _ := time.Parse(time.RFC3339, n.String("created"))
		flows[n.StoreID] = issueFlow(created, n.String("status_id"), n.String("status"), n.String("status_category"), statusOf[n.StoreID], namer{g}, now)
	}
	return flows, nil
}

// issueMembership is one issue's place in a sprint at its start and end.
type issueMembership struct {
	node           *Node
	atStart, atEnd bool
	joinedLater    bool // joined after the start at some point
}

// sprintMembership reconstructs which issues were in a sprint at start and
// at end from the issues in it now and the Sprint changelog after start.
func (r Reader) sprintMembership(ctx context.Context, customerID int64, sprint *Node, start, end time.Time) ([]issueMembership, error) {
	now, err := r.Store.EdgesTo(ctx, customerID, sprint.StoreID, RelSprint)
	if err != nil {
		return nil, err
	}
	member := map[int64]bool{}
	for _, e := range now {
		member[e.Src] = true
	}
	changes, err := r.Store.SprintChanges(ctx, customerID, sprint.Key.ID, start)
	if err != nil {
		return nil, err
	}
	byNode := map[int64][]ChangeRecord{}
	for _, c := range changes {
		if containsID(c.FromID, sprint.Key.ID) != containsID(c.ToID, sprint.Key.ID) {
			byNode[c.Node] = append(byNode[c.Node], c)
		}
	}
	ids := []int64{}
	for id := range member {
		ids = append(ids, id)
	}
	for id := range byNode {
		if !member[id] {
			ids = append(ids, id)
		}
	}
	nodes, err := r.Store.Nodes(ctx, customerID, ids)
	if err != nil {
		return nil, err
	}
	// membership at t: the "from" side of the first change after t, or now.
	at := func(id int64, t time.Time) bool {
		for _, c := range byNode[id] {
			if c.At.After(t) {
				return containsID(c.FromID, sprint.Key.ID)
			}
		}
		return member[id]
	}
	var out []issueMembership
	for _, n := range nodes {
		if n.Key.Kind != KindIssue || n.Deleted || n.Key.Site != sprint.Key.Site {
			continue
		}
		im := issueMembership{node: n, atStart: at(n.StoreID, start), atEnd: at(n.StoreID, end)}
		if created, err := time.Parse(time.RFC3339, n.String("created")); err == nil && created.After(start) {
			// Created into the running sprint: scope added after the start.
			im.atStart, im.joinedLater = false, true
		}
		for _, c := range byNode[n.StoreID] {
			if !c.At.After(end) && containsID(c.ToID, sprint.Key.ID) {
				im.joinedLater = true
			}
		}
		out = append(out, im)
	}
	return out, nil
}

// VersionReport is GET /api/v1/versions/{id}/report.
type VersionReport struct {
	Version     VersionView       `json:"version"`
	Shipped     []Delivered       `json:"shipped"`  // issues done with this fix version
	NotDone     []string          `json:"not_done"` // issues with this fix version not done
	LeadTime    Percentiles       `json:"lead_time"`
	CycleTime   Percentiles       `json:"cycle_time"`
	Definitions map[string]string `json:"definitions"`
	Sources     []Source          `json:"sources"`
}

// VersionReport reports what shipped in a release and how long it took.
func (r Reader) VersionReport(ctx context.Context, customerID int64, id string, now time.Time) (*VersionReport, error) {
	v, issues, err := r.version(ctx, customerID, id)
	if err != nil {
		return nil, err
	}
	rep := &VersionReport{Version: *v, Shipped: []Delivered{}, NotDone: []string{}, Definitions: FlowDefinitions}
	flows, err := r.issueFlows(ctx, customerID, issues, now)
	if err != nil {
		return nil, err
	}
	var leads, cycles, ids []int64
	for _, n := range issues {
		ids = append(ids, n.StoreID)
		f := flows[n.StoreID]
		key := issueKey(n)
		if f.done.IsZero() {
			rep.NotDone = append(rep.NotDone, key)
			continue
		}
		d := Delivered{Issue: key, Done: f.done.UTC().Format(time.RFC3339), LeadTimeSeconds: f.leadTime(), CycleTimeSeconds: f.cycleTime(), Reopened: f.reopened}
		rep.Shipped = append(rep.Shipped, d)
		if d.LeadTimeSeconds != nil {
			leads = append(leads, *d.LeadTimeSeconds)
		}
		if d.CycleTimeSeconds != nil {
			cycles = append(cycles, *d.CycleTimeSeconds)
		}
	}
	rep.LeadTime, rep.CycleTime = percentiles(leads), percentiles(cycles)
	if rep.Sources, err = r.Store.Sources(ctx, customerID, ids, maxSources); err != nil {
		return nil, err
	}
	return rep, nil
}

// PersonWork is GET /api/v1/people/{id}/work.
type PersonWork struct {
	Person        Person         `json:"person"`
	Since         string         `json:"since"`
	WorkingOn     []IssueSummary `json:"working_on"` // assigned and in progress now
	Assigned      []string       `json:"assigned"`   // every issue assigned now
	Moved         []Move         `json:"moved"`
	Commented     []Touch        `json:"commented"`
	Logged        []Touch        `json:"logged"`
	LoggedSeconds int64          `json:"logged_seconds"` // over the whole period, also when Logged is cut
	Sources       []Source       `json:"sources"`
	// Truncated says moved, commented or logged hold only the latest
	// maxWorkItems of the period.
	Truncated bool `json:"truncated,omitempty"`
}

// maxWorkItems bounds each list of a person's work.
const maxWorkItems = 500

// Move is a status change someone made.
type Move struct {
	Issue string `json:"issue"`
	From  string `json:"from"`
	To    string `json:"to"`
	At    string `json:"at"`
}

// Touch is a comment or worklog someone wrote.
type Touch struct {
	Issue   string `json:"issue"`
	ID      string `json:"id"`
	At      string `json:"at"`
	Seconds int64  `json:"seconds,omitempty"`
}

// PersonWork tells what a person works on now and what they did since.
func (r Reader) PersonWork(ctx context.Context, customerID int64, id string, since time.Time) (*PersonWork, error) {
	pn, err := r.Store.FindNode(ctx, customerID, KindPerson, id)
	if err != nil {
		return nil, err
	}
	out := &PersonWork{Person: *personOf(pn), Since: since.UTC().Format(time.RFC3339), WorkingOn: []IssueSummary{},
		Moved: []Move{}, Commented: []Touch{}, Logged: []Touch{}}
	if out.Assigned, err = r.issueKeysInto(ctx, customerID, pn, RelAssignee); err != nil {
		return nil, err
	}
	assigned, err := r.Store.EdgesTo(ctx, customerID, pn.StoreID, RelAssignee)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, 0, len(assigned))
	for _, e := range assigned {
		ids = append(ids, e.Src)
	}
	nodes, err := r.Store.Nodes(ctx, customerID, ids)
	if err != nil {
		return nil, err
	}
	sourceIDs := []int64{}
	for _, n := range nodes {
		if n.Key.Kind == KindIssue && !n.Deleted && n.String("status_category") == CategoryIndeterminate {
			s, err := r.summary(ctx, customerID, n)
			if err != nil {
				return nil, err
			}
			out.WorkingOn = append(out.WorkingOn, s)
			sourceIDs = append(sourceIDs, n.StoreID)
		}
	}
	sort.Slice(out.WorkingOn, func(i, j int) bool { return out.WorkingOn[i].Key < out.WorkingOn[j].Key })
	changes, err := r.Store.ChangesByActor(ctx, customerID, pn.Key.Site, pn.Key.ID, since)
	if err != nil {
		return nil, err
	}
	var moved []int64
	for _, c := range changes {
		if strings.EqualFold(c.Field, "status") {
			moved = append(moved, c.Node)
		}
	}
	movedNodes, err := r.Store.Nodes(ctx, customerID, moved)
	if err != nil {
		return nil, err
	}
	keys := map[int64]string{}
	for _, n := range movedNodes {
		keys[n.StoreID] = issueKey(n)
	}
	for _, c := range changes {
		if strings.EqualFold(c.Field, "status") {
			out.Moved = append(out.Moved, Move{Issue: keys[c.Node], From: c.From, To: c.To, At: c.At.Format(time.RFC3339)})
			out.Sources = append(out.Sources, Source{EventID: c.EventID, At: c.At.Format(time.RFC3339), Event: "jira:issue_updated"})
		}
	}
	if n := len(out.Moved); n > maxWorkItems { // oldest first: keep the latest
		out.Moved, out.Sources, out.Truncated = out.Moved[n-maxWorkItems:], out.Sources[n-maxWorkItems:], true
	}
	authored, err := r.Store.EdgesTo(ctx, customerID, pn.StoreID, RelAuthor)
	if err != nil {
		return nil, err
	}
	ids = ids[:0]
	for _, e := range authored {
		ids = append(ids, e.Src)
	}
	written, err := r.Store.Nodes(ctx, customerID, ids)
	if err != nil {
		return nil, err
	}
	g := &graphCtx{r: r, ctx: ctx, customerID: customerID, site: pn.Key.Site}
	for _, w := range written {
		if w.Deleted {
			continue
		}
		at := w.String("created")
		if w.Key.Kind == KindWorklog {
			at = w.String("started")
		}
		t, err := time.Parse(time.RFC3339, at)
		if err != nil || t.Before(since) {
			continue
		}
		issue, onDeleted := "", false
		for _, ref := range w.Rels[RelIssue] {
			if in, err := g.r.Store.NodeByKey(ctx, customerID, NodeKey{Site: w.Key.Site, Kind: KindIssue, ID: ref.ID}); err == nil {
				issue, onDeleted = issueKey(in), in.Deleted
			}
		}
		if onDeleted {
			// Deleting an issue deletes its comments and worklogs in Jira,
			// but Jira Cloud sends no worklog_deleted for them, and Data
			// Center sends nothing at all.
			continue
		}
		sourceIDs = append(sourceIDs, w.StoreID)
		switch w.Key.Kind {
		case KindComment:
			out.Commented = append(out.Commented, Touch{Issue: issue, ID: w.Key.ID, At: at})
		case KindWorklog:
			var secs float64
			w.Attr("time_spent_seconds", &secs)
			out.Logged = append(out.Logged, Touch{Issue: issue, ID: w.Key.ID, At: at, Seconds: int64(secs)})
			out.LoggedSeconds += int64(secs)
		}
	}
	sort.Slice(out.Commented, func(i, j int) bool { return out.Commented[i].At > out.Commented[j].At })
	sort.Slice(out.Logged, func(i, j int) bool { return out.Logged[i].At > out.Logged[j].At })
	if len(out.Commented) > maxWorkItems { // newest first
		out.Commented, out.Truncated = out.Commented[:maxWorkItems], true
	}
	if len(out.Logged) > maxWorkItems {
		out.Logged, out.Truncated = out.Logged[:maxWorkItems], true
	}
	more, err := r.Store.Sources(ctx, customerID, sourceIDs, maxSources)
	if err != nil {
		return nil, err
	}
	if out.Sources == nil {
		out.Sources = []Source{}
	}
	out.Sources = append(out.Sources, more...)
	return out, nil
}

// SearchResult is one hit of GET /api/v1/search.
type SearchResult struct {
	Kind    Kind    `json:"kind"`
	ID      string  `json:"id"` // entity reference
	Title   string  `json:"title"`
	Snippet string  `json:"snippet"`
	Score   float64 `json:"score"`
	Deleted bool    `json:"deleted,omitempty"`
}

// Search finds nodes by text, best first.
func (r Reader) Search(ctx context.Context, customerID int64, query string, kind Kind, limit int) ([]SearchResult, error) {
	hits, err := r.Store.Search(ctx, customerID, query, kind, limit)
	if err != nil {
		return nil, err
	}
	out := make([]SearchResult, 0, len(hits))
	for _, h := range hits {
		title := nodeLabel(h.Node)
		id := EntityRef(h.Node)
		deleted := h.Node.Deleted
		if h.Node.Key.Kind == KindComment {
			// A comment is found by its text; name the issue it is on. A
			// comment on a deleted issue is gone with it, whether or not
			// Jira said so (Data Center does not).
			for _, ref := range h.Node.Rels[RelIssue] {
				if in, err := r.Store.NodeByKey(ctx, customerID, NodeKey{Site: h.Node.Key.Site, Kind: KindIssue, ID: ref.ID}); err == nil {
					title = "comment on " + issueKey(in)
					deleted = deleted || in.Deleted
				}
			}
		}
		out = append(out, SearchResult{Kind: h.Node.Key.Kind, ID: id, Title: title, Snippet: h.Snippet, Score: h.Score, Deleted: deleted})
	}
	return out, nil
}
