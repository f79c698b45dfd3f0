package cogniscape

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// Person is how people appear in answers: the Cloud accountId or the Data
// Center user key, and the display name.
type Person struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// ProjectRef names a project in answers.
type ProjectRef struct {
	Key  string `json:"key"`
	Name string `json:"name"`
}

// IssueView is GET /api/v1/issues/{key}.
type IssueView struct {
	ID             string        `json:"id"`
	Key            string        `json:"key"`
	Site           string        `json:"site"`
	Summary        string        `json:"summary"`
	Description    string        `json:"description"`
	Status         string        `json:"status"`
	StatusCategory string        `json:"status_category"`
	Priority       string        `json:"priority"`
	IssueType      string        `json:"issue_type"`
	Assignee       *Person       `json:"assignee"`
	Reporter       *Person       `json:"reporter"`
	Labels         []string      `json:"labels"`
	Project        *ProjectRef   `json:"project"`
	Sprints        []SprintRef   `json:"sprints"`
	FixVersions    []VersionRef  `json:"fix_versions"`
	Parent         *string       `json:"parent"`
	Links          []LinkView    `json:"links"`
	Comments       []CommentView `json:"comments"`
	Worklogs       []WorklogView `json:"worklogs"`
	Created        string        `json:"created"`
	Updated        string        `json:"updated"`
	Deleted        bool          `json:"deleted"`
	History        []HistoryItem `json:"history"`
	// Truncated says the answer leaves out older comments or history items,
	// or cuts long changed values (a description edited many times), so that
	// one issue cannot make an answer of many megabytes. Lifecycle reads the
	// whole history.
	Truncated bool           `json:"truncated,omitempty"`
	node      *Node          `json:"-"`
	changes   []ChangeRecord `json:"-"`
}

// SprintRef is a sprint in an issue's Sprint field.
type SprintRef struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	State string `json:"state"`
}

// VersionRef is a version in an issue's Fix Version field.
type VersionRef struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Released bool   `json:"released"`
}

// LinkView is one issue link as seen from one of its ends.
type LinkView struct {
	Type      string `json:"type"`
	Direction string `json:"direction"` // outward: this issue is the source ("blocks"); inward: the destination
	Issue     string `json:"issue"`
	Since     string `json:"since,omitempty"`
}

// CommentView is a comment, its text without code.
type CommentView struct {
	ID      string  `json:"id"`
	Author  *Person `json:"author"`
	Body    string  `json:"body"`
	Created string  `json:"created"`
	Updated string  `json:"updated"`
}

// WorklogView is one worklog.
type WorklogView struct {
	ID               string  `json:"id"`
	Author           *Person `json:"author"`
	TimeSpentSeconds int64   `json:"time_spent_seconds"`
	Started          string  `json:"started"`
}

// HistoryItem is one recorded change of a field.
type HistoryItem struct {
	At       string  `json:"at"`
	Field    string  `json:"field"`
	From     string  `json:"from"`
	To       string  `json:"to"`
	By       *Person `json:"by"`
	Category string  `json:"to_category,omitempty"` // for status changes: the category entered
	EventID  int64   `json:"event_id,omitempty"`
}

// Reader builds the answers of the read API from a GraphReader.
type Reader struct{ Store GraphReader }

// Issue returns one issue by key or numeric Jira id.
func (r Reader) Issue(ctx context.Context, customerID int64, keyOrID string) (*IssueView, error) {
	n, err := r.Store.FindNode(ctx, customerID, KindIssue, keyOrID)
	if err != nil {
		return nil, err
	}
	return r.issueView(ctx, customerID, n)
}

func (r Reader) issueView(ctx context.Context, customerID int64, n *Node) (*IssueView, error) {
	v := &IssueView{
		ID: n.Key.ID, Key: n.String("key"), Site: n.Key.Site, Summary: n.String("summary"), Description: n.String("description"),
		Status: n.String("status"), StatusCategory: n.String("status_category"), Priority: n.String("priority"),
		IssueType: n.String("issue_type"), Created: n.String("created"), Updated: n.String("updated"), Deleted: n.Deleted,
		Labels: []string{}, Sprints: []SprintRef{}, FixVersions: []VersionRef{}, Links: []LinkView{},
		Comments: []CommentView{}, Worklogs: []WorklogView{}, History: []HistoryItem{}, node: n,
	}
	n.Attr("labels", &v.Labels)
	if v.Labels == nil {
		v.Labels = []string{}
	}
	g := graphCtx{r: r, ctx: ctx, customerID: customerID, site: n.Key.Site}
	out, err := r.Store.EdgesFrom(ctx, customerID, n.StoreID, "")
	if err != nil {
		return nil, err
	}
	ids := make([]int64, 0, len(out))
	for _, e := range out {
		ids = append(ids, e.Dst)
	}
	targets, err := g.nodes(ids)
	if err != nil {
		return nil, err
	}
	for _, e := range out {
		t := targets[e.Dst]
		if t == nil {
			continue
		}
		switch e.Rel {
		case RelAssignee:
			v.Assignee = personOf(t)
		case RelReporter:
			v.Reporter = personOf(t)
		case RelProject:
			v.Project = &ProjectRef{Key: t.String("key"), Name: t.String("name")}
		case RelSprint:
			v.Sprints = append(v.Sprints, SprintRef{ID: t.Key.ID, Name: t.String("name"), State: strings.ToLower(t.String("state"))})
		case RelFixVersion:
			var rel bool
			t.Attr("released", &rel)
			v.FixVersions = append(v.FixVersions, VersionRef{ID: t.Key.ID, Name: t.String("name"), Released: rel})
		case RelParent:
			k := t.String("key")
			if k == "" {
				k = t.Key.ID
			}
			v.Parent = &k
		}
	}
	sort.Slice(v.Sprints, func(i, j int) bool { return numLess(v.Sprints[i].ID, v.Sprints[j].ID) })
	sort.Slice(v.FixVersions, func(i, j int) bool { return numLess(v.FixVersions[i].ID, v.FixVersions[j].ID) })

	// Comments, worklogs and links point at the issue.
	in, err := r.Store.EdgesTo(ctx, customerID, n.StoreID, "")
	if err != nil {
		return nil, err
	}
	ids = ids[:0]
	for _, e := range in {
		ids = append(ids, e.Src)
	}
	sources, err := g.nodes(ids)
	if err != nil {
		return nil, err
	}
	for _, e := range in {
		s := sources[e.Src]
		if s == nil || s.Deleted {
			continue
		}
		switch {
		case e.Rel == RelIssue && s.Key.Kind == KindComment:
			v.Comments = append(v.Comments, CommentView{ID: s.Key.ID, Author: g.author(s), Body: s.String("body"),
				Created: s.String("created"), Updated: s.String("updated")})
		case e.Rel == RelIssue && s.Key.Kind == KindWorklog:
			var secs float64
			s.Attr("time_spent_seconds", &secs)
			v.Worklogs = append(v.Worklogs, WorklogView{ID: s.Key.ID, Author: g.author(s), TimeSpentSeconds: int64(secs), Started: s.String("started")})
		case s.Key.Kind == KindLink && (e.Rel == RelSource || e.Rel == RelDestination):
			other, dir := RelDestination, "outward"
			if e.Rel == RelDestination {
				other, dir = RelSource, "inward"
			}
			key := g.linkedKey(s, other)
			if key == "" {
				continue
			}
			v.Links = append(v.Links, LinkView{Type: s.String("type"), Direction: dir, Issue: key, Since: s.First.Time().Format(time.RFC3339)})
		}
	}
	sort.Slice(v.Comments, func(i, j int) bool {
		return v.Comments[i].Created+v.Comments[i].ID < v.Comments[j].Created+v.Comments[j].ID
	})
	if n := len(v.Comments); n > maxViewComments {
		v.Comments, v.Truncated = v.Comments[n-maxViewComments:], true
	}
	sort.Slice(v.Worklogs, func(i, j int) bool {
		return v.Worklogs[i].Started+v.Worklogs[i].ID < v.Worklogs[j].Started+v.Worklogs[j].ID
	})
	sort.Slice(v.Links, func(i, j int) bool {
		a, b := v.Links[i], v.Links[j]
		return a.Type+a.Direction+a.Issue < b.Type+b.Direction+b.Issue
	})

	changes, err := r.Store.Changes(ctx, customerID, n.StoreID)
	if err != nil {
		return nil, err
	}
	v.changes = changes
	if n := len(changes); n > maxViewHistory {
		changes, v.Truncated = changes[n-maxViewHistory:], true
	}
	for _, c := range changes {
		h := HistoryItem{At: c.At.Format(time.RFC3339), Field: c.Field, By: g.person(c.Actor), EventID: c.EventID}
		var cut bool
		h.From, cut = cutValue(c.From)
		v.Truncated = v.Truncated || cut
		h.To, cut = cutValue(c.To)
		v.Truncated = v.Truncated || cut
		if strings.EqualFold(c.Field, "status") {
			h.Category = g.statusCategory(c.ToID, c.To)
		}
		v.History = append(v.History, h)
	}
	return v, nil
}

// Bounds of an issue's answer: the latest comments and history items, and
// changed values cut to a readable length.
const (
	maxViewComments   = 200
	maxViewHistory    = 500
	maxViewValueBytes = 2000
)

// cutValue cuts a changed value to maxViewValueBytes, marking the cut.
func cutValue(s string) (string, bool) {
	if len(s) <= maxViewValueBytes {
		return s, false
	}
	return truncateText(s, maxViewValueBytes) + "…", true
}

// graphCtx caches lookups while one answer is built.
type graphCtx struct {
	r          Reader
	ctx        context.Context
	customerID int64
	site       string
	people     map[string]*Person
	statuses   map[string]string
	cache      map[int64]*Node
}

func (g *graphCtx) nodes(ids []int64) (map[int64]*Node, error) {
	if g.cache == nil {
		g.cache = map[int64]*Node{}
	}
	var missing []int64
	for _, id := range ids {
		if _, ok := g.cache[id]; !ok {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		ns, err := g.r.Store.Nodes(g.ctx, g.customerID, missing)
		if err != nil {
			return nil, err
		}
		for _, n := range ns {
			g.cache[n.StoreID] = n
		}
	}
	out := make(map[int64]*Node, len(ids))
	for _, id := range ids {
		out[id] = g.cache[id]
	}
	return out, nil
}

// person resolves a person's Jira id to {id, name}; nil for "".
func (g *graphCtx) person(id string) *Person {
	if id == "" {
		return nil
	}
	if g.people == nil {
		g.people = map[string]*Person{}
	}
	if p, ok := g.people[id]; ok {
		return p
	}
	p := &Person{ID: id, Name: id}
	if n, err := g.r.Store.NodeByKey(g.ctx, g.customerID, NodeKey{Site: g.site, Kind: KindPerson, ID: id}); err == nil {
		if name := n.String("name"); name != "" {
			p.Name = name
		}
	}
	g.people[id] = p
	return p
}

// author returns the person a comment or worklog points to.
func (g *graphCtx) author(n *Node) *Person {
	for _, r := range n.Rels[RelAuthor] {
		return g.person(r.ID)
	}
	return nil
}

// linkedKey returns the key of the issue at the other end of a link.
func (g *graphCtx) linkedKey(link *Node, rel string) string {
	for _, r := range link.Rels[rel] {
		n, err := g.r.Store.NodeByKey(g.ctx, g.customerID, NodeKey{Site: link.Key.Site, Kind: KindIssue, ID: r.ID})
		if err != nil {
			return r.ID
		}
		if k := n.String("key"); k != "" {
			return k
		}
		return r.ID
	}
	return ""
}

// statusCategory names the category of a status, by id or else by name.
func (g *graphCtx) statusCategory(id, name string) string {
	if g.statuses == nil {
		g.statuses = map[string]string{}
	}
	k := id + "\x00" + name
	if c, ok := g.statuses[k]; ok {
		return c
	}
	c := ""
	if id != "" {
		if n, err := g.r.Store.NodeByKey(g.ctx, g.customerID, NodeKey{Site: g.site, Kind: KindStatus, ID: id}); err == nil {
			c = n.String("category")
		}
	}
	g.statuses[k] = c
	return c
}

func personOf(n *Node) *Person {
	name := n.String("name")
	if name == "" {
		name = n.Key.ID
	}
	return &Person{ID: n.Key.ID, Name: name}
}

// numLess orders numeric strings numerically, others lexically.
func numLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// IssueSummary is one row of an issue list.
type IssueSummary struct {
	ID             string      `json:"id"`
	Key            string      `json:"key"`
	Site           string      `json:"site"`
	Summary        string      `json:"summary"`
	Status         string      `json:"status"`
	StatusCategory string      `json:"status_category"`
	IssueType      string      `json:"issue_type"`
	Priority       string      `json:"priority"`
	Assignee       *Person     `json:"assignee"`
	Project        *ProjectRef `json:"project"`
	Updated        string      `json:"updated"`
	Deleted        bool        `json:"deleted"`
}

// Issues lists issues matching f. Its project, assignee and sprint are each
// the one node FindNode finds, the one the rest of the read API shows: where
// a customer's sites share an id, the list does not mix their issues. An
// unknown project, person or sprint matches no issue.
func (r Reader) Issues(ctx context.Context, customerID int64, f IssueFilter) ([]IssueSummary, string, error) {
	q, err := r.issueQuery(ctx, customerID, f)
	if ErrorCode(err) == ENOTFOUND {
		return []IssueSummary{}, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	ns, next, err := r.Store.Issues(ctx, customerID, q)
	if err != nil {
		return nil, "", err
	}
	out := make([]IssueSummary, 0, len(ns))
	for _, n := range ns {
		s, err := r.summary(ctx, customerID, n)
		if err != nil {
			return nil, "", err
		}
		out = append(out, s)
	}
	return out, next, nil
}

// issueQuery resolves f's project, assignee and sprint to their nodes.
func (r Reader) issueQuery(ctx context.Context, customerID int64, f IssueFilter) (IssueQuery, error) {
	q := IssueQuery{StatusCategory: f.StatusCategory, Query: f.Query, Limit: f.Limit, Cursor: f.Cursor}
	for _, c := range []struct {
		kind    Kind
		keyOrID string
		id      *int64
	}{{KindProject, f.Project, &q.Project}, {KindPerson, f.Assignee, &q.Assignee}, {KindSprint, f.Sprint, &q.Sprint}} {
		if c.keyOrID == "" {
			continue
		}
		n, err := r.Store.FindNode(ctx, customerID, c.kind, c.keyOrID)
		if err != nil {
			return IssueQuery{}, fmt.Errorf("issue filter: %s %q: %w", c.kind, c.keyOrID, err)
		}
		*c.id = n.StoreID
	}
	return q, nil
}

func (r Reader) summary(ctx context.Context, customerID int64, n *Node) (IssueSummary, error) {
	s := IssueSummary{ID: n.Key.ID, Key: n.String("key"), Site: n.Key.Site, Summary: n.String("summary"), Status: n.String("status"),
		StatusCategory: n.String("status_category"), IssueType: n.String("issue_type"), Priority: n.String("priority"),
		Updated: n.String("updated"), Deleted: n.Deleted}
	g := graphCtx{r: r, ctx: ctx, customerID: customerID, site: n.Key.Site}
	for _, a := range n.Rels[RelAssignee] {
		s.Assignee = g.person(a.ID)
	}
	for _, p := range n.Rels[RelProject] {
		if pn, err := r.Store.NodeByKey(ctx, customerID, NodeKey{Site: n.Key.Site, Kind: KindProject, ID: p.ID}); err == nil {
			s.Project = &ProjectRef{Key: pn.String("key"), Name: pn.String("name")}
		}
	}
	return s, nil
}

// SprintView is GET /api/v1/sprints/{id}.
type SprintView struct {
	ID           string   `json:"id"`
	Name         string   `json:"name"`
	State        string   `json:"state"`
	Goal         string   `json:"goal"`
	StartDate    string   `json:"start_date"`
	EndDate      string   `json:"end_date"`
	CompleteDate string   `json:"complete_date"`
	Board        string   `json:"board,omitempty"`
	Deleted      bool     `json:"deleted"`
	Issues       []string `json:"issues"`
	Added        []string `json:"added"`   // joined after the start, in at the end (close, or now)
	Removed      []string `json:"removed"` // in at the start or added later, out at the end
}

// Sprint returns one sprint with its issues and its scope change.
func (r Reader) Sprint(ctx context.Context, customerID int64, id string) (*SprintView, error) {
	n, err := r.Store.FindNode(ctx, customerID, KindSprint, id)
	if err != nil {
		return nil, err
	}
	v := &SprintView{ID: n.Key.ID, Name: n.String("name"), State: strings.ToLower(n.String("state")), Goal: n.String("goal"),
		StartDate: n.String("start_date"), EndDate: n.String("end_date"), CompleteDate: n.String("complete_date"), Deleted: n.Deleted,
		Issues: []string{}, Added: []string{}, Removed: []string{}}
	for _, b := range n.Rels[RelBoard] {
		v.Board = b.ID
	}
	keys, err := r.issueKeysInto(ctx, customerID, n, RelSprint)
	if err != nil {
		return nil, err
	}
	v.Issues = keys
	if start, err := time.Parse(time.RFC3339, v.StartDate); err == nil {
		end := time.Now()
		if t, err := time.Parse(time.RFC3339, v.CompleteDate); err == nil {
			end = t
		}
		m, err := r.sprintMembership(ctx, customerID, n, start, end)
		if err != nil {
			return nil, err
		}
		for _, im := range m {
			switch {
			case !im.atStart && im.atEnd:
				v.Added = append(v.Added, issueKey(im.node))
			case (im.atStart || im.joinedLater) && !im.atEnd:
				v.Removed = append(v.Removed, issueKey(im.node))
			}
		}
		sortKeys(v.Added)
		sortKeys(v.Removed)
	}
	return v, nil
}

// issueKeysInto returns the keys of the live issues whose rel points at n.
func (r Reader) issueKeysInto(ctx context.Context, customerID int64, n *Node, rel string) ([]string, error) {
	issues, err := r.issuesInto(ctx, customerID, n, rel)
	return keysOf(issues), err
}

// issuesInto returns the live issues related to n by rel, in key order.
func (r Reader) issuesInto(ctx context.Context, customerID int64, n *Node, rel string) ([]*Node, error) {
	ns, err := r.Store.NodesInto(ctx, customerID, []int64{n.StoreID}, rel, KindIssue)
	if err != nil {
		return nil, err
	}
	issues := slices.DeleteFunc(ns, func(x *Node) bool { return x.Deleted })
	slices.SortFunc(issues, func(a, b *Node) int { return compareKeys(issueKey(a), issueKey(b)) })
	return issues, nil
}

// keysOf returns the issues' keys, never nil.
func keysOf(issues []*Node) []string {
	keys := make([]string, 0, len(issues))
	for _, x := range issues {
		keys = append(keys, issueKey(x))
	}
	return keys
}

func issueKey(n *Node) string {
	if k := n.String("key"); k != "" {
		return k
	}
	return n.Key.ID
}

// sortKeys orders issue keys as people expect: PAY-9 before PAY-10.
func sortKeys(keys []string) { slices.SortFunc(keys, compareKeys) }

// compareKeys orders issue keys by project, then by number (PAY-9 before PAY-10).
func compareKeys(a, b string) int {
	pa, na, _ := strings.Cut(a, "-")
	pb, nb, _ := strings.Cut(b, "-")
	if pa != pb {
		return strings.Compare(pa, pb)
	}
	if len(na) != len(nb) {
		return len(na) - len(nb)
	}
	return strings.Compare(na, nb)
}

// containsID reports whether a comma-separated id list contains id.
func containsID(list, id string) bool {
	for _, p := range strings.Split(list, ",") {
		if strings.TrimSpace(p) == id {
			return true
		}
	}
	return false
}

// VersionView is GET /api/v1/versions/{id}.
type VersionView struct {
	ID          string      `json:"id"`
	Name        string      `json:"name"`
	Description string      `json:"description"`
	Project     *ProjectRef `json:"project"`
	Released    bool        `json:"released"`
	Archived    bool        `json:"archived"`
	ReleaseDate string      `json:"release_date"`
	Deleted     bool        `json:"deleted"`
	MergedTo    string      `json:"merged_to,omitempty"`
	Issues      []string    `json:"issues"`
}

// Version returns one version with the issues that name it as fix version.
func (r Reader) Version(ctx context.Context, customerID int64, id string) (*VersionView, error) {
	v, _, err := r.version(ctx, customerID, id)
	return v, err
}

// version is Version with the version's issue nodes, in the order of
// VersionView.Issues.
func (r Reader) version(ctx context.Context, customerID int64, id string) (*VersionView, []*Node, error) {
	n, err := r.Store.FindNode(ctx, customerID, KindVersion, id)
	if err != nil {
		return nil, nil, err
	}
	v := &VersionView{ID: n.Key.ID, Name: n.String("name"), Description: n.String("description"), ReleaseDate: n.String("release_date"),
		Deleted: n.Deleted, MergedTo: n.String("merged_to")}
	n.Attr("released", &v.Released)
	n.Attr("archived", &v.Archived)
	for _, p := range n.Rels[RelProject] {
		if pn, err := r.Store.NodeByKey(ctx, customerID, NodeKey{Site: n.Key.Site, Kind: KindProject, ID: p.ID}); err == nil {
			v.Project = &ProjectRef{Key: pn.String("key"), Name: pn.String("name")}
		}
	}
	issues, err := r.issuesInto(ctx, customerID, n, RelFixVersion)
	if err != nil {
		return nil, nil, err
	}
	v.Issues = keysOf(issues)
	return v, issues, nil
}

// ProjectView is GET /api/v1/projects/{key}.
type ProjectView struct {
	ID       string  `json:"id"`
	Key      string  `json:"key"`
	Name     string  `json:"name"`
	Category string  `json:"category,omitempty"`
	Lead     *Person `json:"lead"`
	Deleted  bool    `json:"deleted"`
}

// Project returns one project by key or id.
func (r Reader) Project(ctx context.Context, customerID int64, keyOrID string) (*ProjectView, error) {
	n, err := r.Store.FindNode(ctx, customerID, KindProject, keyOrID)
	if err != nil {
		return nil, err
	}
	g := graphCtx{r: r, ctx: ctx, customerID: customerID, site: n.Key.Site}
	v := &ProjectView{ID: n.Key.ID, Key: n.String("key"), Name: n.String("name"), Category: n.String("category"), Deleted: n.Deleted}
	for _, l := range n.Rels[RelLead] {
		v.Lead = g.person(l.ID)
	}
	return v, nil
}

// PersonView is GET /api/v1/people/{id}.
type PersonView struct {
	ID       string         `json:"id"`
	Name     string         `json:"name"`
	Email    string         `json:"email,omitempty"`
	Assigned []string       `json:"assigned"`
	Recent   []ActivityItem `json:"recent"`
}

// PersonByID returns one person, the issues assigned to them now, and what
// they did recently.
func (r Reader) PersonByID(ctx context.Context, customerID int64, id string) (*PersonView, error) {
	n, err := r.Store.FindNode(ctx, customerID, KindPerson, id)
	if err != nil {
		return nil, err
	}
	v := &PersonView{ID: n.Key.ID, Name: personOf(n).Name, Email: n.String("email")}
	if v.Assigned, err = r.issueKeysInto(ctx, customerID, n, RelAssignee); err != nil {
		return nil, err
	}
	items, err := r.Activity(ctx, customerID, time.Time{}, 2000)
	if err != nil {
		return nil, err
	}
	v.Recent = []ActivityItem{}
	for _, it := range items {
		if it.Actor != nil && it.Actor.ID == id {
			v.Recent = append(v.Recent, it)
			if len(v.Recent) == 20 {
				break
			}
		}
	}
	return v, nil
}

// ActivityItem is one thing that happened, in words a person reads.
type ActivityItem struct {
	At      string  `json:"at"`
	Kind    string  `json:"kind"` // the Jira event, e.g. jira:issue_updated
	Summary string  `json:"summary"`
	Actor   *Person `json:"actor"`
	Entity  string  `json:"entity"` // PAY-101, sprint:37, version:10021, …
	EventID int64   `json:"event_id"`
}

// Activity returns what happened since, newest first.
func (r Reader) Activity(ctx context.Context, customerID int64, since time.Time, limit int) ([]ActivityItem, error) {
	recs, err := r.Store.Activity(ctx, customerID, since, limit)
	if err != nil {
		return nil, err
	}
	out := make([]ActivityItem, 0, len(recs))
	people := map[string]*graphCtx{}
	for _, rec := range recs {
		g := people[rec.Entity.Key.Site]
		if g == nil {
			g = &graphCtx{r: r, ctx: ctx, customerID: customerID, site: rec.Entity.Key.Site}
			people[rec.Entity.Key.Site] = g
		}
		actor := g.person(rec.Actor)
		out = append(out, ActivityItem{At: rec.At.Format(time.RFC3339), Kind: rec.Event, Actor: actor, Entity: EntityRef(rec.Entity),
			Summary: describe(g, rec, actor), EventID: rec.EventID})
	}
	return out, nil
}

// EntityRef is how answers name a node: an issue by its key, anything else
// as kind:id (person:<accountId>, sprint:37, project:PAY, …).
func EntityRef(n *Node) string {
	switch n.Key.Kind {
	case KindIssue:
		return issueKey(n)
	case KindProject:
		if k := n.String("key"); k != "" {
			return "project:" + k
		}
	}
	return string(n.Key.Kind) + ":" + n.Key.ID
}

// describe renders an activity record as a sentence.
func describe(g *graphCtx, rec ActivityRecord, actor *Person) string {
	who := "Someone"
	if actor != nil {
		who = actor.Name
	}
	n := rec.Entity
	name := EntityRef(n)
	switch n.Key.Kind {
	case KindComment, KindWorklog:
		for _, r := range n.Rels[RelIssue] {
			if in, err := g.r.Store.NodeByKey(g.ctx, g.customerID, NodeKey{Site: n.Key.Site, Kind: KindIssue, ID: r.ID}); err == nil {
				name = issueKey(in)
			} else {
				name = "issue " + r.ID
			}
		}
	case KindLink:
		return fmt.Sprintf("%s %s %s", g.linkedKey(n, RelSource), linkVerb(n, rec.Event), g.linkedKey(n, RelDestination))
	}
	ev := strings.TrimPrefix(rec.Event, "jira:")
	switch ev {
	case "issue_created":
		return fmt.Sprintf("%s created %s “%s”", who, name, n.String("summary"))
	case "issue_deleted":
		return fmt.Sprintf("%s deleted %s", who, name)
	case "issue_updated":
		return describeChanges(who, name, rec.Changes)
	case "comment_created":
		return fmt.Sprintf("%s commented on %s", who, name)
	case "comment_updated":
		return fmt.Sprintf("%s edited a comment on %s", who, name)
	case "comment_deleted":
		return fmt.Sprintf("%s deleted a comment on %s", who, name)
	case "worklog_created", "worklog_updated":
		var secs float64
		n.Attr("time_spent_seconds", &secs)
		verb := "logged"
		if ev == "worklog_updated" {
			verb = "changed a worklog to"
		}
		return fmt.Sprintf("%s %s %s on %s", who, verb, FormatDuration(time.Duration(secs)*time.Second), name)
	case "worklog_deleted":
		return fmt.Sprintf("%s deleted a worklog on %s", who, name)
	}
	label := n.String("name")
	if label == "" {
		label = name
	}
	switch {
	case strings.HasPrefix(ev, "sprint_"):
		return fmt.Sprintf("Sprint %s %s", label, pastTense(strings.TrimPrefix(ev, "sprint_")))
	case strings.HasPrefix(ev, "version_"):
		return fmt.Sprintf("Version %s %s", label, pastTense(strings.TrimPrefix(ev, "version_")))
	case strings.HasPrefix(ev, "project_"):
		return fmt.Sprintf("Project %s %s", label, pastTense(strings.TrimPrefix(ev, "project_")))
	}
	return fmt.Sprintf("%s: %s", rec.Event, name)
}

func linkVerb(link *Node, event string) string {
	verb := strings.ToLower(link.String("outward"))
	if verb == "" {
		verb = strings.ToLower(link.String("type"))
	}
	if strings.HasSuffix(event, "deleted") {
		return "no longer " + verb
	}
	return verb
}

func pastTense(s string) string {
	return strings.NewReplacer("_", " ", "soft deleted", "moved to trash", "restored deleted", "restored").Replace(s)
}

func describeChanges(who, name string, changes []Change) string {
	var fields []string
	for _, c := range changes {
		switch strings.ToLower(c.Field) {
		case "status":
			return fmt.Sprintf("%s moved %s from %s to %s", who, name, c.From, c.To)
		case "assignee":
			if c.To == "" {
				return fmt.Sprintf("%s unassigned %s", who, name)
			}
			return fmt.Sprintf("%s assigned %s to %s", who, name, c.To)
		case "sprint":
			if c.To != "" {
				return fmt.Sprintf("%s moved %s to sprint %s", who, name, lastItem(c.To))
			}
		}
		if !slices.Contains(fields, c.Field) && !strings.EqualFold(c.Field, "rank") {
			fields = append(fields, c.Field)
		}
	}
	if len(fields) == 0 {
		return fmt.Sprintf("%s updated %s", who, name)
	}
	return fmt.Sprintf("%s changed %s of %s", who, strings.Join(fields, ", "), name)
}

func lastItem(list string) string {
	parts := strings.Split(list, ",")
	return strings.TrimSpace(parts[len(parts)-1])
}

// FormatDuration renders a duration the way Jira does: 2h 30m, 1d 4h.
func FormatDuration(d time.Duration) string {
	if d <= 0 {
		return "0m"
	}
	m := int64(d / time.Minute)
	var parts []string
	if h := m / 60; h > 0 {
		parts = append(parts, fmt.Sprintf("%dh", h))
	}
	if m%60 > 0 {
		parts = append(parts, fmt.Sprintf("%dm", m%60))
	}
	if len(parts) == 0 {
		return fmt.Sprintf("%ds", int64(d/time.Second))
	}
	return strings.Join(parts, " ")
}
