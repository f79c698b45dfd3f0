package portal

import (
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cogniscape/cogniscape"
)

// entityHref is the portal page of an entity reference as the read API names
// it (PAY-101, person:<id>, sprint:37, version:10021, project:PAY); "" if
// the portal has no page for it.
func entityHref(ref string) string {
	kind, id, found := strings.Cut(ref, ":")
	if !found {
		return Prefix + "/issues/" + url.PathEscape(ref)
	}
	switch kind {
	case "issue":
		return Prefix + "/issues/" + url.PathEscape(id)
	case "person":
		return Prefix + "/people/" + url.PathEscape(id)
	case "sprint":
		return Prefix + "/sprints/" + url.PathEscape(id)
	case "version":
		return Prefix + "/releases/" + url.PathEscape(id)
	case "project":
		return Prefix + "/issues?project=" + url.QueryEscape(id)
	}
	return ""
}

var activityPeriods = [][2]string{{"", "All time"}, {"24h", "Last 24 hours"}, {"7d", "Last 7 days"}, {"30d", "Last 30 days"}, {"90d", "Last 90 days"}}

type activityPage struct {
	Project, Person, Since string
	Cat                    *catalog
	Periods                [][2]string
	Days                   []activityDay
	Limited                bool
	Total                  int
}

type activityDay struct {
	Date  time.Time
	Items []activityRow
}

type activityRow struct {
	cogniscape.ActivityItem
	At   time.Time
	Href string
}

const activityShown = 300

var issueKeyRE = regexp.MustCompile(`\b[A-Z][A-Z0-9_]*-\d+\b`)

func (p *Portal) handleActivity(w http.ResponseWriter, r *http.Request, s *cogniscape.Session) error {
	q := r.URL.Query()
	d := activityPage{Project: strings.ToUpper(strings.TrimSpace(q.Get("project"))), Person: q.Get("person"), Since: q.Get("since"), Periods: activityPeriods}
	since, err := parsePeriod(d.Since, p.Now())
	if err != nil {
		return err
	}
	if d.Cat, err = p.catalog(r.Context(), s.Customer.ID); err != nil {
		return err
	}
	// Unfiltered, the newest page is enough; filters look further back.
	limit := activityShown + 1
	if d.Project != "" || d.Person != "" {
		limit = 3000
	}
	items, err := p.Graph.Activity(r.Context(), s.Customer.ID, since, limit)
	if err != nil {
		return err
	}
	var mentions *regexp.Regexp
	versions, sprints := map[string]bool{}, map[string]bool{}
	if d.Project != "" {
		mentions = regexp.MustCompile(`\b` + regexp.QuoteMeta(d.Project) + `-\d+\b`)
		for _, v := range d.Cat.Versions {
			if strings.EqualFold(v.Project, d.Project) {
				versions["version:"+v.ID] = true
			}
		}
		for _, sp := range d.Cat.Sprints {
			if slices.ContainsFunc(sp.Projects, func(k string) bool { return strings.EqualFold(k, d.Project) }) {
				sprints["sprint:"+sp.ID] = true
			}
		}
	}
	for _, it := range items {
		if d.Person != "" && (it.Actor == nil || it.Actor.ID != d.Person) {
			continue
		}
		if d.Project != "" && !(strings.HasPrefix(it.Entity, d.Project+"-") || it.Entity == "project:"+d.Project ||
			versions[it.Entity] || sprints[it.Entity] || mentions.MatchString(it.Summary)) {
			continue
		}
		d.Total++
		if d.Total > activityShown {
			d.Limited = true
			continue
		}
		at, _ := time.Parse(time.RFC3339, it.At)
		row := activityRow{ActivityItem: it, At: at, Href: entityHref(it.Entity)}
		if k, _, _ := strings.Cut(it.Entity, ":"); k == "comment" || k == "worklog" || k == "link" {
			// Name the issue it is on, as the sentence does.
			row.Href, row.Entity = "", ""
			if key := issueKeyRE.FindString(it.Summary); key != "" {
				row.Href, row.Entity = entityHref(key), key
			}
		}
		day := at.UTC().Truncate(24 * time.Hour)
		if n := len(d.Days); n == 0 || !d.Days[n-1].Date.Equal(day) {
			d.Days = append(d.Days, activityDay{Date: day})
		}
		d.Days[len(d.Days)-1].Items = append(d.Days[len(d.Days)-1].Items, row)
	}
	p.render(w, r, s, http.StatusOK, "activity.html", "Activity", "activity", d)
	return nil
}

type issuesPage struct {
	Q, Project, Status, Assignee, Sprint string
	Rows                                 []cogniscape.IssueSummary
	Next                                 string
	Paged                                bool
	Cat                                  *catalog
}

func (p *Portal) handleIssues(w http.ResponseWriter, r *http.Request, s *cogniscape.Session) error {
	q := r.URL.Query()
	d := issuesPage{Q: strings.TrimSpace(q.Get("q")), Project: strings.TrimSpace(q.Get("project")), Status: q.Get("status"),
		Assignee: q.Get("assignee"), Sprint: q.Get("sprint"), Paged: q.Get("cursor") != ""}
	switch d.Status {
	case "", cogniscape.CategoryNew, cogniscape.CategoryIndeterminate, cogniscape.CategoryDone:
	default:
		return cogniscape.Errorf(cogniscape.EINVALID, "Unknown status category %q.", d.Status)
	}
	if len(d.Q) > 200 {
		d.Q = d.Q[:200]
	}
	var err error
	if d.Cat, err = p.catalog(r.Context(), s.Customer.ID); err != nil {
		return err
	}
	rows, next, err := p.Graph.Issues(r.Context(), s.Customer.ID, cogniscape.IssueFilter{Project: d.Project, StatusCategory: d.Status,
		Assignee: d.Assignee, Sprint: d.Sprint, Query: d.Q, Limit: 50, Cursor: q.Get("cursor")})
	if err != nil {
		return err
	}
	d.Rows = rows
	if next != "" {
		v := url.Values{}
		for k, val := range map[string]string{"q": d.Q, "project": d.Project, "status": d.Status, "assignee": d.Assignee, "sprint": d.Sprint} {
			if val != "" {
				v.Set(k, val)
			}
		}
		v.Set("cursor", next)
		d.Next = Prefix + "/issues?" + v.Encode()
	}
	p.render(w, r, s, http.StatusOK, "issues.html", "Issues", "issues", d)
	return nil
}

type issuePage struct {
	I            *cogniscape.IssueView
	L            *cogniscape.Lifecycle
	Timeline     template.HTML
	Spans        []spanRow
	Graph        template.HTML
	GraphNodes   []cogniscape.GraphNode
	Depth        int
	Logged       int64
	History      []cogniscape.HistoryItem
	AssigneeRows []intervalRow
	SprintRows   []intervalRow
}

type spanRow struct {
	Status, Category string
	From, To         time.Time
	Seconds          int64
	Current          bool
}

type intervalRow struct {
	Label, Href string
	From, To    time.Time
	Current     bool
}

func parseT(s string) time.Time {
	t, _ := time.Parse(time.RFC3339, s)
	return t
}

func (p *Portal) handleIssue(w http.ResponseWriter, r *http.Request, s *cogniscape.Session) error {
	key := r.PathValue("key")
	ctx := r.Context()
	iv, err := p.Graph.Issue(ctx, s.Customer.ID, key)
	if err != nil {
		return err
	}
	now := p.Now()
	lc, err := p.Graph.Lifecycle(ctx, s.Customer.ID, key, now)
	if err != nil {
		return err
	}
	d := issuePage{I: iv, L: lc, Depth: 1}
	if v := r.URL.Query().Get("depth"); v == "2" {
		d.Depth = 2
	}
	for _, wl := range iv.Worklogs {
		d.Logged += wl.TimeSpentSeconds
	}
	for _, h := range iv.History {
		if !strings.EqualFold(h.Field, "rank") {
			d.History = append(d.History, h)
		}
	}
	slices.Reverse(d.History)

	// The lifecycle timeline: one lane per status, in the order of the
	// categories (backlog, in progress, done), then assignees and sprints.
	t0 := parseT(lc.Created)
	for _, sp := range lc.Statuses {
		if f := parseT(sp.From); !f.IsZero() && (t0.IsZero() || f.Before(t0)) {
			t0 = f
		}
	}
	if t0.IsZero() {
		t0 = now
	}
	t1 := now
	if done := parseT(lc.Done); !done.IsZero() && iv.StatusCategory == cogniscape.CategoryDone {
		t1 = done.Add(max(done.Sub(t0)/8, time.Hour))
		if t1.After(now) {
			t1 = now
		}
	}
	if !t1.After(t0) {
		t1 = t0.Add(time.Hour)
	}
	rank := map[string]int{cogniscape.CategoryNew: 0, cogniscape.CategoryIndeterminate: 1, cogniscape.CategoryDone: 2}
	var lanes []lane
	laneOf := map[string]int{}
	for _, sp := range lc.Statuses {
		if sp.Status == "" && sp.Seconds == 0 {
			continue // a status-less instant before the first status was set
		}
		if sp.Status == "" {
			sp.Status = "(no status)"
		}
		from, to := parseT(sp.From), parseT(sp.To)
		row := spanRow{Status: sp.Status, Category: sp.Category, From: from, To: to, Seconds: sp.Seconds, Current: sp.To == ""}
		d.Spans = append(d.Spans, row)
		if to.IsZero() {
			to = t1
		}
		i, ok := laneOf[sp.Status]
		if !ok {
			i = len(lanes)
			laneOf[sp.Status] = i
			lanes = append(lanes, lane{Label: sp.Status, Category: sp.Category})
		}
		lanes[i].Bars = append(lanes[i].Bars, bar{From: from, To: to, Label: fmtDuration(sp.Seconds),
			Title: fmt.Sprintf("%s: %s → %s (%s)", sp.Status, from.Format("2 Jan 15:04"), endLabel(sp.To), fmtDuration(sp.Seconds))})
	}
	slices.SortStableFunc(lanes, func(a, b lane) int { return rank[a.Category] - rank[b.Category] })
	if len(lc.Assignees) > 0 {
		l := lane{Label: "Assignee"}
		for i, a := range lc.Assignees {
			from, to := parseT(a.From), parseT(a.To)
			row := intervalRow{Label: a.Person.Name, Href: entityHref("person:" + a.Person.ID), From: from, To: to, Current: a.To == ""}
			d.AssigneeRows = append(d.AssigneeRows, row)
			if to.IsZero() {
				to = t1
			}
			l.Bars = append(l.Bars, bar{From: from, To: to, Label: a.Person.Name, Class: fmt.Sprintf("bar who who-%d", i%2),
				Title: fmt.Sprintf("Assigned to %s: %s → %s", a.Person.Name, from.Format("2 Jan 15:04"), endLabel(a.To))})
		}
		lanes = append(lanes, l)
	}
	if len(lc.Sprints) > 0 {
		l := lane{Label: "Sprint"}
		for i, sp := range lc.Sprints {
			name := sp.Sprint.Name
			if name == "" {
				name = "Sprint " + sp.Sprint.ID
			}
			from, to := parseT(sp.From), parseT(sp.To)
			d.SprintRows = append(d.SprintRows, intervalRow{Label: name, Href: entityHref("sprint:" + sp.Sprint.ID), From: from, To: to, Current: sp.To == ""})
			if to.IsZero() {
				to = t1
			}
			l.Bars = append(l.Bars, bar{From: from, To: to, Label: name, Class: fmt.Sprintf("bar sprint sprint-%d", i%2),
				Title: fmt.Sprintf("In %s: %s → %s", name, from.Format("2 Jan 15:04"), endLabel(sp.To))})
		}
		lanes = append(lanes, l)
	}
	var markers []marker
	if t := parseT(lc.Started); !t.IsZero() {
		markers = append(markers, marker{At: t, Label: "started"})
	}
	if t := parseT(lc.Done); !t.IsZero() {
		markers = append(markers, marker{At: t, Label: "done"})
	}
	d.Timeline = timelineChart("lifecycle", "The lifecycle of "+iv.Key+": statuses, assignees and sprints over time", t0, t1, lanes, markers)

	hood, err := p.Graph.Neighbors(ctx, s.Customer.ID, "issue:"+iv.Key, d.Depth)
	if err != nil {
		return err
	}
	d.Graph, d.GraphNodes = neighbourhood(hood, iv.Key)
	p.render(w, r, s, http.StatusOK, "issue.html", iv.Key+" "+iv.Summary, "issues", d)
	return nil
}

func endLabel(to string) string {
	if to == "" {
		return "now"
	}
	return parseT(to).Format("2 Jan 15:04")
}

func neighbourhood(h *cogniscape.Neighborhood, center string) (template.HTML, []cogniscape.GraphNode) {
	nodes := make([]graphNode, 0, len(h.Nodes))
	for _, n := range h.Nodes {
		nodes = append(nodes, graphNode{ID: n.ID, Kind: string(n.Kind), Label: n.Label, Href: entityHref(n.ID), Center: n.ID == center})
	}
	edges := make([]graphEdge, 0, len(h.Edges))
	for _, e := range h.Edges {
		edges = append(edges, graphEdge{From: e.From, To: e.To, Rel: e.Rel})
	}
	return graphChart("graph", nodes, edges), h.Nodes
}

type graphPage struct {
	Node      string
	Depth     int
	Graph     template.HTML
	Nodes     []cogniscape.GraphNode
	Edges     []cogniscape.GraphEdge
	Truncated bool
}

func (p *Portal) handleGraph(w http.ResponseWriter, r *http.Request, s *cogniscape.Session) error {
	q := r.URL.Query()
	d := graphPage{Node: strings.TrimSpace(q.Get("node")), Depth: 1}
	if d.Node == "" || len(d.Node) > 300 {
		return cogniscape.Errorf(cogniscape.EINVALID, "Name an entity, e.g. node=PAY-101 or node=person:<id>.")
	}
	if q.Get("depth") == "2" {
		d.Depth = 2
	}
	hood, err := p.Graph.Neighbors(r.Context(), s.Customer.ID, d.Node, d.Depth)
	if err != nil {
		return err
	}
	center := d.Node
	if len(hood.Nodes) > 0 {
		center = hood.Nodes[0].ID
	}
	d.Graph, d.Nodes = neighbourhood(hood, center)
	d.Edges, d.Truncated = hood.Edges, hood.Truncated
	p.render(w, r, s, http.StatusOK, "graph.html", "Graph: "+center, "", d)
	return nil
}

type peoplePage struct{ Cat *catalog }

func (p *Portal) handlePeople(w http.ResponseWriter, r *http.Request, s *cogniscape.Session) error {
	c, err := p.catalog(r.Context(), s.Customer.ID)
	if err != nil {
		return err
	}
	p.render(w, r, s, http.StatusOK, "people.html", "People", "people", peoplePage{Cat: c})
	return nil
}

type personPage struct {
	P       *cogniscape.PersonView
	W       *cogniscape.PersonWork
	Since   string
	Periods [][2]string
	// Newest first, the first few shown and the rest behind a disclosure.
	Moved, MovedMore     []cogniscape.Move
	Touches, TouchesMore []touchRow
}

type touchRow struct {
	cogniscape.Touch
	Comment bool
}

const personShown = 12

func (p *Portal) handlePerson(w http.ResponseWriter, r *http.Request, s *cogniscape.Session) error {
	id := r.PathValue("id")
	d := personPage{Since: r.URL.Query().Get("since"), Periods: activityPeriods}
	if d.Since == "" {
		d.Since = "30d"
	}
	if r.URL.Query().Get("since") == "all" {
		d.Since = ""
	}
	since, err := parsePeriod(d.Since, p.Now())
	if err != nil {
		return err
	}
	if d.P, err = p.Graph.PersonByID(r.Context(), s.Customer.ID, id); err != nil {
		return err
	}
	if d.W, err = p.Graph.PersonWork(r.Context(), s.Customer.ID, id, since); err != nil {
		return err
	}
	if d.Since == "" {
		d.Since = "all"
	}
	moved := slices.Clone(d.W.Moved)
	slices.Reverse(moved)
	d.Moved, d.MovedMore = moved[:min(len(moved), personShown)], moved[min(len(moved), personShown):]
	var touches []touchRow
	for _, c := range d.W.Commented {
		touches = append(touches, touchRow{Touch: c, Comment: true})
	}
	for _, l := range d.W.Logged {
		touches = append(touches, touchRow{Touch: l})
	}
	slices.SortStableFunc(touches, func(a, b touchRow) int { return strings.Compare(b.At, a.At) })
	d.Touches, d.TouchesMore = touches[:min(len(touches), personShown)], touches[min(len(touches), personShown):]
	p.render(w, r, s, http.StatusOK, "person.html", d.P.Name, "people", d)
	return nil
}

type sprintsPage struct{ Cat *catalog }

func (p *Portal) handleSprints(w http.ResponseWriter, r *http.Request, s *cogniscape.Session) error {
	c, err := p.catalog(r.Context(), s.Customer.ID)
	if err != nil {
		return err
	}
	p.render(w, r, s, http.StatusOK, "sprints.html", "Sprints", "sprints", sprintsPage{Cat: c})
	return nil
}

type sprintPage struct {
	S       *cogniscape.SprintView
	R       *cogniscape.SprintReport
	Burnup  template.HTML
	Points  []burnPoint
	Summary map[string]*cogniscape.IssueSummary
}

func (p *Portal) handleSprint(w http.ResponseWriter, r *http.Request, s *cogniscape.Session) error {
	id := r.PathValue("id")
	ctx := r.Context()
	sv, err := p.Graph.Sprint(ctx, s.Customer.ID, id)
	if err != nil {
		return err
	}
	now := p.Now()
	rep, err := p.Graph.SprintReport(ctx, s.Customer.ID, id, now)
	if err != nil {
		return err
	}
	d := sprintPage{S: sv, R: rep}
	start := parseT(sv.StartDate)
	if !start.IsZero() {
		end := now
		if t := parseT(sv.CompleteDate); !t.IsZero() {
			end = t
		}
		if d.Points, err = p.burnup(ctx, s.Customer.ID, sv.ID, start, end); err != nil {
			return err
		}
		d.Burnup = burnupChart("burnup", d.Points, parseT(sv.EndDate))
	}
	p.render(w, r, s, http.StatusOK, "sprint.html", sv.Name, "sprints", d)
	return nil
}

type releasesPage struct{ Cat *catalog }

func (p *Portal) handleReleases(w http.ResponseWriter, r *http.Request, s *cogniscape.Session) error {
	c, err := p.catalog(r.Context(), s.Customer.ID)
	if err != nil {
		return err
	}
	p.render(w, r, s, http.StatusOK, "releases.html", "Releases", "releases", releasesPage{Cat: c})
	return nil
}

type releasePage struct {
	R        *cogniscape.VersionReport
	Total    int
	Progress int // percent shipped
}

func (p *Portal) handleRelease(w http.ResponseWriter, r *http.Request, s *cogniscape.Session) error {
	rep, err := p.Graph.VersionReport(r.Context(), s.Customer.ID, r.PathValue("id"), p.Now())
	if err != nil {
		return err
	}
	d := releasePage{R: rep, Total: len(rep.Shipped) + len(rep.NotDone)}
	if d.Total > 0 {
		d.Progress = len(rep.Shipped) * 100 / d.Total
	}
	p.render(w, r, s, http.StatusOK, "release.html", rep.Version.Name, "releases", d)
	return nil
}

var flowPeriods = [][2]string{{"", "Since the first issue (up to a year)"}, {"4w", "Last 4 weeks"}, {"12w", "Last 12 weeks"}, {"26w", "Last 26 weeks"}, {"52w", "Last 52 weeks"}}

type flowPage struct {
	Project, Since string
	Cat            *catalog
	Periods        [][2]string
	F              *cogniscape.Flow
	From, Until    time.Time
	CFD, Scatter   template.HTML
	Throughput     template.HTML
	Aging          template.HTML
	WIP            []cogniscape.WIPItem
	CycleDays      []float64
}

func (p *Portal) handleFlow(w http.ResponseWriter, r *http.Request, s *cogniscape.Session) error {
	q := r.URL.Query()
	ctx := r.Context()
	d := flowPage{Project: strings.ToUpper(strings.TrimSpace(q.Get("project"))), Since: q.Get("since"), Periods: flowPeriods}
	var err error
	if d.Cat, err = p.catalog(ctx, s.Customer.ID); err != nil {
		return err
	}
	if d.Project == "" {
		best := -1
		for _, pr := range d.Cat.Projects {
			if !pr.Deleted && pr.Issues > best {
				d.Project, best = pr.Key, pr.Issues
			}
		}
		if d.Project == "" {
			p.render(w, r, s, http.StatusOK, "flow.html", "Flow", "flow", d)
			return nil
		}
	}
	now := p.Now()
	since, err := parsePeriod(d.Since, now)
	if err != nil {
		return err
	}
	if since.Before(now.AddDate(-3, 0, 0)) && d.Since != "" {
		return cogniscape.Errorf(cogniscape.EINVALID, "The period may reach back three years at most.")
	}
	if d.Since == "" {
		since, err = p.projectStart(r, s.Customer.ID, d.Project, now)
		if err != nil {
			return err
		}
	}
	f, err := p.Graph.Flow(ctx, s.Customer.ID, d.Project, since, now)
	if err != nil {
		return err
	}
	d.F, d.From, d.Until = f, since, now

	var cfd []cfdPoint
	for _, pt := range f.CumulativeFlow {
		day, err := time.Parse("2006-01-02", pt.Date)
		if err != nil {
			continue
		}
		cfd = append(cfd, cfdPoint{Day: day, New: pt.New, Progress: pt.Indeterminate, Done: pt.Done})
	}
	d.CFD = cfdChart("cfd", cfd)

	var pts []scatterPoint
	for _, dl := range f.Delivered {
		if dl.CycleTimeSeconds == nil {
			continue
		}
		pts = append(pts, scatterPoint{At: parseT(dl.Done), Days: days(*dl.CycleTimeSeconds), Label: dl.Issue, Href: entityHref(dl.Issue)})
	}
	refs := percentileLines(f.CycleTime)
	d.Scatter = scatterChart("scatter", since, now, pts, refs)

	var weeks []weekBar
	for _, wk := range f.Throughput {
		start, _ := time.Parse("2006-01-02", wk.Start)
		weeks = append(weeks, weekBar{Label: wk.Week, Start: start, Count: wk.Count})
	}
	d.Throughput = throughputChart("throughput", weeks)

	var items []agingItem
	var statuses []string
	for _, it := range f.WIP {
		items = append(items, agingItem{Issue: it.Issue, Status: it.Status, Days: days(it.AgeSeconds), Href: entityHref(it.Issue)})
		if !slices.Contains(statuses, it.Status) {
			statuses = append(statuses, it.Status)
		}
	}
	slices.Sort(statuses)
	d.WIP = f.WIP
	d.Aging = agingChart("aging", items, statuses, refs)
	p.render(w, r, s, http.StatusOK, "flow.html", "Flow: "+d.Project, "flow", d)
	return nil
}

// projectStart is the default start of the flow period: the creation of
// the project's first issue, at most a year back, at least four weeks.
func (p *Portal) projectStart(r *http.Request, customerID int64, project string, now time.Time) (time.Time, error) {
	since := now.AddDate(0, 0, -28)
	pn, err := p.Graph.Store.FindNode(r.Context(), customerID, cogniscape.KindProject, project)
	if err != nil {
		return since, err
	}
	facts, err := p.Graph.Store.ProjectIssues(r.Context(), customerID, pn.StoreID)
	if err != nil {
		return since, err
	}
	for _, f := range facts {
		if !f.CreatedAt.IsZero() && f.CreatedAt.Before(since) {
			since = f.CreatedAt
		}
	}
	if floor := now.AddDate(-1, 0, 0); since.Before(floor) {
		since = floor
	}
	return since.UTC().Truncate(24 * time.Hour), nil
}

func days(seconds int64) float64 { return float64(seconds) / 86400 }

// percentileLines are the reference lines of the percentiles; equal values
// share one line and one label.
func percentileLines(p cogniscape.Percentiles) []refLine {
	var out []refLine
	var names []string
	for _, x := range []struct {
		v    *int64
		name string
	}{{p.P50, "50%"}, {p.P85, "85%"}, {p.P95, "95%"}} {
		if x.v == nil {
			continue
		}
		v := days(*x.v)
		if n := len(out); n > 0 && fmtDays(out[n-1].Value) == fmtDays(v) {
			names = append(names, strings.TrimSuffix(x.name, "%"))
			out[n-1].Label = strings.Join(names, "/") + "% ≤ " + fmtDays(v)
			continue
		}
		names = []string{strings.TrimSuffix(x.name, "%")}
		out = append(out, refLine{Value: v, Label: x.name + " ≤ " + fmtDays(v)})
	}
	return out
}

func fmtDays(d float64) string {
	switch {
	case d < 1:
		return fmt.Sprintf("%.0f h", math.Round(d*24))
	case d < 10:
		return fmt.Sprintf("%.1f d", d)
	}
	return fmt.Sprintf("%.0f d", d)
}

// fmtDuration renders seconds as 3d 4h, 2h 5m, 40s.
func fmtDuration(secs int64) string {
	if secs < 0 {
		secs = 0
	}
	d := secs / 86400
	h := (secs % 86400) / 3600
	m := (secs % 3600) / 60
	switch {
	case d > 0 && h > 0:
		return fmt.Sprintf("%dd %dh", d, h)
	case d > 0:
		return fmt.Sprintf("%dd", d)
	case h > 0 && m > 0:
		return fmt.Sprintf("%dh %dm", h, m)
	case h > 0:
		return fmt.Sprintf("%dh", h)
	case m > 0:
		return fmt.Sprintf("%dm", m)
	}
	return fmt.Sprintf("%ds", secs)
}

func itoa(n int) string { return strconv.Itoa(n) }
