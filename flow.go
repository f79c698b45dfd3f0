package cogniscape

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

// FlowDefinitions states how the flow figures are computed; every answer
// that uses them carries this text.
var FlowDefinitions = map[string]string{
	"backlog":        "status category new",
	"in_progress":    "status category indeterminate",
	"delivered":      "status category done",
	"lead_time":      "created → first entry into done",
	"cycle_time":     "first entry into indeterminate → first entry into done",
	"reopened":       "work reopened after done counts again until it is done again: its done time is the start of its last stay in done",
	"time_in_status": "sum of the intervals spent in each status (until now for the current one)",
	"percentiles":    "nearest rank over the issues delivered in the period",
}

// StatusSpan is one stay of an issue in one status.
type StatusSpan struct {
	Status   string `json:"status"`
	Category string `json:"category"`
	From     string `json:"from"`
	To       string `json:"to,omitempty"` // empty while the issue is still there
	Seconds  int64  `json:"seconds"`

	from, to time.Time
}

// flowOf is an issue's path through statuses and what follows from it.
type flowOf struct {
	spans     []StatusSpan
	created   time.Time
	started   time.Time // first entry into indeterminate; zero if never
	done      time.Time // start of the final stay in done; zero if not done now
	reopened  bool
	skipped   bool // went to done without ever being in progress
	statusIDs []string
}

// statusNamer resolves status ids to names and categories.
type statusNamer interface {
	category(id, name string) string
	name(id string) string
}

// issueFlow builds the status timeline of one issue from its status changes
// (oldest first), its creation time and its current status.
func issueFlow(created time.Time, curID, curName, curCategory string, changes []ChangeRecord, names statusNamer, now time.Time) flowOf {
	f := flowOf{created: created}
	if f.created.IsZero() && len(changes) > 0 {
		f.created = changes[0].At
	}
	type point struct {
		at            time.Time
		id, name, cat string
	}
	var pts []point
	if len(changes) == 0 {
		if curName == "" {
			curName = names.name(curID)
		}
		pts = append(pts, point{f.created, curID, curName, curCategory})
	} else {
		// The status before the first change, unless the issue was created
		// by that change (a create-time changelog has no "from").
		if first := changes[0]; first.From != "" || first.FromID != "" {
			pts = append(pts, point{f.created, first.FromID, first.From, names.category(first.FromID, first.From)})
		}
		for i, c := range changes {
			cat := names.category(c.ToID, c.To)
			if i == len(changes)-1 && curCategory != "" && (c.ToID == curID || c.To == curName) {
				cat = curCategory
			}
			pts = append(pts, point{c.At, c.ToID, c.To, cat})
		}
	}
	for i, p := range pts {
		end := now
		if i+1 < len(pts) {
			end = pts[i+1].at
		}
		if end.Before(p.at) {
			end = p.at
		}
		s := StatusSpan{Status: p.name, Category: p.cat, From: p.at.UTC().Format(time.RFC3339), Seconds: int64(end.Sub(p.at) / time.Second), from: p.at, to: end}
		if i+1 < len(pts) {
			s.To = end.UTC().Format(time.RFC3339)
		}
		f.spans = append(f.spans, s)
		if p.cat == CategoryIndeterminate && f.started.IsZero() {
			f.started = p.at
		}
	}
	// The final stay in done (consecutive done statuses count as one stay).
	doneFrom := -1
	for i := len(f.spans) - 1; i >= 0 && f.spans[i].Category == CategoryDone; i-- {
		doneFrom = i
	}
	if doneFrom >= 0 {
		f.done = f.spans[doneFrom].from
	}
	for i := 0; i+1 < len(f.spans); i++ {
		if f.spans[i].Category == CategoryDone && f.spans[i+1].Category != CategoryDone {
			f.reopened = true
		}
	}
	if !f.done.IsZero() && (f.started.IsZero() || f.started.After(f.done)) {
		f.skipped = true
	}
	return f
}

func (f flowOf) leadTime() *int64 {
	if f.done.IsZero() || f.created.IsZero() {
		return nil
	}
	s := int64(f.done.Sub(f.created) / time.Second)
	return &s
}

func (f flowOf) cycleTime() *int64 {
	if f.done.IsZero() || f.started.IsZero() || f.started.After(f.done) {
		return nil
	}
	s := int64(f.done.Sub(f.started) / time.Second)
	return &s
}

// categoryAt returns the issue's status category at t ("" before it existed).
func (f flowOf) categoryAt(t time.Time) string {
	cat := ""
	for _, s := range f.spans {
		if s.from.After(t) {
			break
		}
		cat = s.Category
	}
	return cat
}

// guessCategory is the last resort for a status Cogniscape never saw in a
// snapshot: Jira's usual names.
func guessCategory(name string) string {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "to do", "open", "backlog", "new", "selected for development", "reopened":
		return CategoryNew
	case "done", "closed", "resolved", "released", "cancelled", "canceled", "won't do":
		return CategoryDone
	case "":
		return ""
	}
	return CategoryIndeterminate
}

// namer resolves statuses of one site through the graph's status nodes.
type namer struct{ g *graphCtx }

func (n namer) category(id, name string) string {
	if c := n.g.statusCategory(id, name); c != "" {
		return c
	}
	return guessCategory(name)
}

func (n namer) name(id string) string {
	if id == "" {
		return ""
	}
	if s, err := n.g.r.Store.NodeByKey(n.g.ctx, n.g.customerID, NodeKey{Site: n.g.site, Kind: KindStatus, ID: id}); err == nil {
		return s.String("name")
	}
	return id
}

// Interval is a span of time during which something held.
type Interval struct {
	From string `json:"from"`
	To   string `json:"to,omitempty"` // empty: still true
}

// Involvement is one person's part in an issue.
type Involvement struct {
	Person  Person   `json:"person"`
	Roles   []string `json:"roles"` // reporter, assignee, commenter, worklog, changed
	Actions int      `json:"actions"`
}

// Lifecycle is GET /api/v1/issues/{key}/lifecycle.
type Lifecycle struct {
	Issue            string            `json:"issue"`
	Summary          string            `json:"summary"`
	Status           string            `json:"status"`
	StatusCategory   string            `json:"status_category"`
	Created          string            `json:"created"`
	Started          string            `json:"started,omitempty"`
	Done             string            `json:"done,omitempty"`
	LeadTimeSeconds  *int64            `json:"lead_time_seconds"`
	CycleTimeSeconds *int64            `json:"cycle_time_seconds"`
	Reopened         bool              `json:"reopened"`
	Notes            []string          `json:"notes"`
	Statuses         []StatusSpan      `json:"statuses"`
	TimeInStatus     map[string]int64  `json:"time_in_status"`
	Assignees        []PersonInterval  `json:"assignees"`
	Sprints          []SprintInterval  `json:"sprints"`
	People           []Involvement     `json:"people"`
	ReleasedIn       []VersionRef      `json:"released_in"`
	Definitions      map[string]string `json:"definitions"`
	Sources          []Source          `json:"sources"`
}

// PersonInterval is a person holding a role over a span of time.
type PersonInterval struct {
	Person *Person `json:"person"`
	Interval
}

// SprintInterval is an issue's membership of a sprint over time.
type SprintInterval struct {
	Sprint SprintRef `json:"sprint"`
	Interval
}

// Lifecycle returns an issue's path from backlog to delivery.
func (r Reader) Lifecycle(ctx context.Context, customerID int64, keyOrID string, now time.Time) (*Lifecycle, error) {
	v, err := r.Issue(ctx, customerID, keyOrID)
	if err != nil {
		return nil, err
	}
	n := v.node
	g := &graphCtx{r: r, ctx: ctx, customerID: customerID, site: n.Key.Site}
	var status []ChangeRecord
	var assign, sprint []ChangeRecord
	for _, c := range v.changes {
		switch strings.ToLower(c.Field) {
		case "status":
			status = append(status, c)
		case "assignee":
			assign = append(assign, c)
		case "sprint":
			sprint = append(sprint, c)
		}
	}
	created, _ := time.Parse(time.RFC3339, v.Created)
	f := issueFlow(created, n.String("status_id"), v.Status, v.StatusCategory, status, namer{g}, now)
	lc := &Lifecycle{Issue: v.Key, Summary: v.Summary, Status: v.Status, StatusCategory: v.StatusCategory, Created: v.Created,
		LeadTimeSeconds: f.leadTime(), CycleTimeSeconds: f.cycleTime(), Reopened: f.reopened, Notes: []string{},
		Statuses: f.spans, TimeInStatus: map[string]int64{}, Definitions: FlowDefinitions, ReleasedIn: []VersionRef{}}
	if !f.started.IsZero() {
		lc.Started = f.started.UTC().Format(time.RFC3339)
	}
	if !f.done.IsZero() {
		lc.Done = f.done.UTC().Format(time.RFC3339)
	}
	if f.reopened {
		lc.Notes = append(lc.Notes, "reopened after done: lead and cycle time run until it was done again")
	}
	if f.skipped {
		lc.Notes = append(lc.Notes, "went to done without being in progress: no cycle time")
	}
	if f.done.IsZero() {
		lc.Notes = append(lc.Notes, "not delivered yet: no lead or cycle time")
	}
	for _, s := range f.spans {
		lc.TimeInStatus[s.Status] += s.Seconds
	}

	// Assignees over time: the changelog, starting from the value before the first change.
	lc.Assignees = []PersonInterval{}
	cur := v.Assignee
	if len(assign) > 0 {
		first := assign[0]
		cur = personFromChange(g, first.FromID, first.From)
	}
	from := v.Created
	for _, c := range assign {
		if cur != nil {
			lc.Assignees = append(lc.Assignees, PersonInterval{Person: cur, Interval: Interval{From: from, To: c.At.Format(time.RFC3339)}})
		}
		cur, from = personFromChange(g, c.ToID, c.To), c.At.Format(time.RFC3339)
	}
	if cur != nil {
		lc.Assignees = append(lc.Assignees, PersonInterval{Person: cur, Interval: Interval{From: from}})
	}

	lc.Sprints = sprintIntervals(v, sprint)

	// Everyone involved, with what they did.
	inv := map[string]*Involvement{}
	add := func(p *Person, role string) {
		if p == nil || p.ID == "" {
			return
		}
		i := inv[p.ID]
		if i == nil {
			i = &Involvement{Person: *p}
			inv[p.ID] = i
		}
		if !slices.Contains(i.Roles, role) {
			i.Roles = append(i.Roles, role)
		}
		i.Actions++
	}
	add(v.Reporter, "reporter")
	for _, a := range lc.Assignees {
		add(a.Person, "assignee")
	}
	for _, c := range v.Comments {
		add(c.Author, "commenter")
	}
	for _, w := range v.Worklogs {
		add(w.Author, "worklog")
	}
	for _, c := range v.changes {
		add(g.person(c.Actor), "changed")
	}
	lc.People = []Involvement{}
	for _, i := range inv {
		lc.People = append(lc.People, *i)
	}
	sort.Slice(lc.People, func(i, j int) bool {
		if lc.People[i].Actions != lc.People[j].Actions {
			return lc.People[i].Actions > lc.People[j].Actions
		}
		return lc.People[i].Person.ID < lc.People[j].Person.ID
	})
	for _, fv := range v.FixVersions {
		if fv.Released {
			lc.ReleasedIn = append(lc.ReleasedIn, fv)
		}
	}
	ids := []int64{n.StoreID}
	in, err := r.Store.EdgesTo(ctx, customerID, n.StoreID, RelIssue)
	if err != nil {
		return nil, err
	}
	for _, e := range in {
		ids = append(ids, e.Src)
	}
	if lc.Sources, err = r.Store.Sources(ctx, customerID, ids, 500); err != nil {
		return nil, err
	}
	return lc, nil
}

// personFromChange names the person in an assignee change: Cloud gives the
// accountId, Data Center the user name, which is not the key people are
// stored under; then the display name stands alone.
func personFromChange(g *graphCtx, id, name string) *Person {
	if id == "" && name == "" {
		return nil
	}
	if id != "" {
		if p := g.person(id); p != nil && p.Name != id {
			return p
		}
	}
	return &Person{ID: id, Name: name}
}

// sprintIntervals derives sprint membership over time from the Sprint field's
// changelog (values are comma-separated sprint ids).
func sprintIntervals(v *IssueView, changes []ChangeRecord) []SprintInterval {
	names := map[string]SprintRef{}
	for _, s := range v.Sprints {
		names[s.ID] = s
	}
	ref := func(id string) SprintRef {
		if s, ok := names[id]; ok {
			return s
		}
		return SprintRef{ID: id}
	}
	open := map[string]string{} // sprint id → since
	var order []string
	if len(changes) == 0 {
		for _, s := range v.Sprints {
			open[s.ID] = v.Created
			order = append(order, s.ID)
		}
	} else {
		for _, id := range splitIDs(changes[0].FromID) {
			open[id] = v.Created
			order = append(order, id)
		}
	}
	out := []SprintInterval{}
	for _, c := range changes {
		at := c.At.Format(time.RFC3339)
		now := map[string]bool{}
		for _, id := range splitIDs(c.ToID) {
			now[id] = true
			if _, ok := open[id]; !ok {
				open[id] = at
				order = append(order, id)
			}
		}
		for _, id := range slices.Clone(order) {
			if since, ok := open[id]; ok && !now[id] {
				out = append(out, SprintInterval{Sprint: ref(id), Interval: Interval{From: since, To: at}})
				delete(open, id)
				order = slices.DeleteFunc(order, func(s string) bool { return s == id })
			}
		}
	}
	for _, id := range order {
		out = append(out, SprintInterval{Sprint: ref(id), Interval: Interval{From: open[id]}})
	}
	return out
}

func splitIDs(list string) []string {
	var out []string
	for _, p := range strings.Split(list, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Percentiles summarises durations in seconds.
type Percentiles struct {
	Count int    `json:"count"`
	P50   *int64 `json:"p50"`
	P85   *int64 `json:"p85"`
	P95   *int64 `json:"p95"`
}

func percentiles(samples []int64) Percentiles {
	p := Percentiles{Count: len(samples)}
	if len(samples) == 0 {
		return p
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	rank := func(q float64) *int64 {
		i := int(math.Ceil(q/100*float64(len(s)))) - 1
		v := s[max(i, 0)]
		return &v
	}
	p.P50, p.P85, p.P95 = rank(50), rank(85), rank(95)
	return p
}

// WeekCount is the number of issues delivered in one ISO week.
type WeekCount struct {
	Week  string `json:"week"`  // 2026-W10
	Start string `json:"start"` // Monday, YYYY-MM-DD
	Count int    `json:"count"`
}

// WIPItem is an issue in progress now.
type WIPItem struct {
	Issue      string `json:"issue"`
	Status     string `json:"status"`
	Since      string `json:"since"`
	AgeSeconds int64  `json:"age_seconds"`
}

// StatusTime is time spent in one status within the period.
type StatusTime struct {
	Status       string `json:"status"`
	Category     string `json:"category"`
	TotalSeconds int64  `json:"total_seconds"`
	Issues       int    `json:"issues"`
	MeanSeconds  int64  `json:"mean_seconds"`
}

// CFDPoint is one day of the cumulative flow diagram: issues per category at
// the end of the day.
type CFDPoint struct {
	Date          string `json:"date"`
	New           int    `json:"new"`
	Indeterminate int    `json:"indeterminate"`
	Done          int    `json:"done"`
}

// Delivered is one issue delivered in the period.
type Delivered struct {
	Issue            string `json:"issue"`
	Done             string `json:"done"`
	LeadTimeSeconds  *int64 `json:"lead_time_seconds"`
	CycleTimeSeconds *int64 `json:"cycle_time_seconds"`
	Reopened         bool   `json:"reopened,omitempty"`
}

// Flow is GET /api/v1/flow.
type Flow struct {
	Project          ProjectRef        `json:"project"`
	Since            string            `json:"since"`
	Until            string            `json:"until"`
	CycleTime        Percentiles       `json:"cycle_time"`
	LeadTime         Percentiles       `json:"lead_time"`
	Delivered        []Delivered       `json:"delivered"`
	Throughput       []WeekCount       `json:"throughput"`
	WIP              []WIPItem         `json:"wip"`
	TimeInStatus     []StatusTime      `json:"time_in_status"`
	CumulativeFlow   []CFDPoint        `json:"cumulative_flow"`
	Definitions      map[string]string `json:"definitions"`
	Sources          []Source          `json:"sources"`
	SourcesTruncated bool              `json:"sources_truncated"`
	// Truncated says delivered or wip hold only maxFlowItems of their
	// issues (the latest delivered, the oldest in progress); the
	// percentiles and counts cover them all.
	Truncated bool `json:"truncated,omitempty"`
}

// maxFlowItems bounds the issue lists of a flow answer.
const maxFlowItems = 1000

// MaxFlowPeriod is how far back a flow report may reach.
const MaxFlowPeriod = 3 * 366 * 24 * time.Hour

// maxSources bounds the sources listed in an aggregate answer.
const maxSources = 1000

// Flow computes flow metrics for a project over [since, now].
func (r Reader) Flow(ctx context.Context, customerID int64, projectKey string, since, now time.Time) (*Flow, error) {
	// The answer has a point per day of the period: bound it, whoever asks.
	if now.Sub(since) > MaxFlowPeriod {
		return nil, Errorf(EINVALID, "since may reach back three years at most")
	}
	p, err := r.Store.FindNode(ctx, customerID, KindProject, projectKey)
	if err != nil {
		return nil, err
	}
	issues, err := r.Store.ProjectIssues(ctx, customerID, p.StoreID)
	if err != nil {
		return nil, err
	}
	changes, err := r.Store.ProjectChanges(ctx, customerID, p.StoreID, "status")
	if err != nil {
		return nil, err
	}
	byNode := map[int64][]ChangeRecord{}
	for _, c := range changes {
		byNode[c.Node] = append(byNode[c.Node], c)
	}
	g := &graphCtx{r: r, ctx: ctx, customerID: customerID, site: p.Key.Site}
	nm := namer{g}
	out := &Flow{Project: ProjectRef{Key: p.String("key"), Name: p.String("name")}, Since: since.UTC().Format(time.RFC3339),
		Until: now.UTC().Format(time.RFC3339), Delivered: []Delivered{}, Throughput: []WeekCount{}, WIP: []WIPItem{},
		TimeInStatus: []StatusTime{}, CumulativeFlow: []CFDPoint{}, Definitions: FlowDefinitions, Sources: []Source{}}

	var cycles, leads []int64
	weeks := map[string]*WeekCount{}
	statusTime := map[string]*StatusTime{}
	var flows []flowOf
	for _, is := range issues {
		if is.Deleted {
			continue
		}
		f := issueFlow(is.CreatedAt, is.Status, "", is.StatusCategory, byNode[is.StoreID], nm, now)
		flows = append(flows, f)
		if !f.done.IsZero() && !f.done.Before(since) && !f.done.After(now) {
			d := Delivered{Issue: is.Key, Done: f.done.UTC().Format(time.RFC3339), LeadTimeSeconds: f.leadTime(), CycleTimeSeconds: f.cycleTime(), Reopened: f.reopened}
			out.Delivered = append(out.Delivered, d)
			if d.LeadTimeSeconds != nil {
				leads = append(leads, *d.LeadTimeSeconds)
			}
			if d.CycleTimeSeconds != nil {
				cycles = append(cycles, *d.CycleTimeSeconds)
			}
			y, w := f.done.UTC().ISOWeek()
			key := isoWeek(y, w)
			if weeks[key] == nil {
				weeks[key] = &WeekCount{Week: key, Start: weekStart(f.done).Format("2006-01-02")}
			}
			weeks[key].Count++
		}
		if is.StatusCategory == CategoryIndeterminate {
			start := f.started
			if start.IsZero() {
				start = f.created
			}
			status := ""
			if len(f.spans) > 0 {
				status = f.spans[len(f.spans)-1].Status
			}
			out.WIP = append(out.WIP, WIPItem{Issue: is.Key, Status: status, Since: start.UTC().Format(time.RFC3339), AgeSeconds: int64(now.Sub(start) / time.Second)})
		}
		for _, s := range f.spans {
			from, to := maxTime(s.from, since), minTime(s.to, now)
			if !to.After(from) {
				continue
			}
			st := statusTime[s.Status]
			if st == nil {
				st = &StatusTime{Status: s.Status, Category: s.Category}
				statusTime[s.Status] = st
			}
			st.TotalSeconds += int64(to.Sub(from) / time.Second)
			st.Issues++
		}
	}
	out.CycleTime, out.LeadTime = percentiles(cycles), percentiles(leads)
	sort.Slice(out.Delivered, func(i, j int) bool { return out.Delivered[i].Done < out.Delivered[j].Done })
	if n := len(out.Delivered); n > maxFlowItems {
		out.Delivered, out.Truncated = out.Delivered[n-maxFlowItems:], true
	}
	// Every week of the period, including those with nothing delivered.
	for w := weekStart(since); !w.After(now); w = w.AddDate(0, 0, 7) {
		y, n := w.ISOWeek()
		key := isoWeek(y, n)
		c := weeks[key]
		if c == nil {
			c = &WeekCount{Week: key, Start: w.Format("2006-01-02")}
		}
		out.Throughput = append(out.Throughput, *c)
	}
	sort.Slice(out.WIP, func(i, j int) bool { return out.WIP[i].AgeSeconds > out.WIP[j].AgeSeconds })
	if len(out.WIP) > maxFlowItems {
		out.WIP, out.Truncated = out.WIP[:maxFlowItems], true
	}
	for _, st := range statusTime {
		st.MeanSeconds = st.TotalSeconds / int64(st.Issues)
		out.TimeInStatus = append(out.TimeInStatus, *st)
	}
	sort.Slice(out.TimeInStatus, func(i, j int) bool { return out.TimeInStatus[i].TotalSeconds > out.TimeInStatus[j].TotalSeconds })
	for day := since.UTC().Truncate(24 * time.Hour); !day.After(now); day = day.AddDate(0, 0, 1) {
		end := minTime(day.AddDate(0, 0, 1).Add(-time.Millisecond), now)
		pt := CFDPoint{Date: day.Format("2006-01-02")}
		for _, f := range flows {
			switch f.categoryAt(end) {
			case CategoryNew:
				pt.New++
			case CategoryIndeterminate:
				pt.Indeterminate++
			case CategoryDone:
				pt.Done++
			}
		}
		out.CumulativeFlow = append(out.CumulativeFlow, pt)
	}
	seen := map[int64]bool{}
	for _, c := range changes {
		if c.At.Before(since) || seen[c.EventID] {
			continue
		}
		if len(out.Sources) == maxSources {
			out.SourcesTruncated = true
			break
		}
		seen[c.EventID] = true
		out.Sources = append(out.Sources, Source{EventID: c.EventID, At: c.At.Format(time.RFC3339), Event: "jira:issue_updated"})
	}
	return out, nil
}

func isoWeek(y, w int) string { return fmt.Sprintf("%d-W%02d", y, w) }

// weekStart is the Monday 00:00 UTC of t's ISO week.
func weekStart(t time.Time) time.Time {
	t = t.UTC().Truncate(24 * time.Hour)
	wd := (int(t.Weekday()) + 6) % 7 // Monday = 0
	return t.AddDate(0, 0, -wd)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
