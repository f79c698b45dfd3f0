package jirasim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func generate(t testing.TB, cfg Config) (*Simulator, []Delivery) {
	t.Helper()
	s := New(cfg)
	var ds []Delivery
	for d := range s.All() {
		ds = append(ds, d)
	}
	return s, ds
}

func TestDeterminism(t *testing.T) {
	cfg := Config{Seed: 7, Teams: 3, Days: 20, Flavor: FlavorMix}
	_, a := generate(t, cfg)
	_, b := generate(t, cfg)
	if len(a) != len(b) || len(a) < 1000 {
		t.Fatalf("lengths %d and %d", len(a), len(b))
	}
	for i := range a {
		if a[i].Identifier != b[i].Identifier || !bytes.Equal(a[i].Body, b[i].Body) || !maps.Equal(a[i].Headers, b[i].Headers) {
			t.Fatalf("delivery %d differs:\n%s\n%s", i, a[i].Body, b[i].Body)
		}
	}
	cfg.Seed = 8
	_, c := generate(t, cfg)
	if len(c) == len(a) && bytes.Equal(c[len(c)/2].Body, a[len(a)/2].Body) {
		t.Error("another seed gave the same stream")
	}
}

func TestTargetAndDays(t *testing.T) {
	s, ds := generate(t, Config{Seed: 1, Teams: 2, Days: 3, Target: 5000})
	if len(ds) != 5000 || s.Emitted() != 5000 {
		t.Fatalf("got %d deliveries, want exactly the target 5000", len(ds))
	}
	var last map[string]any
	json.Unmarshal(ds[len(ds)-1].Body, &last)
	end := float64(DefaultStart.AddDate(0, 0, 3).UnixMilli())
	if ts, _ := last["timestamp"].(float64); ts > end {
		t.Errorf("a target that fits was not spread over --days: last timestamp %v after %v", ts, end)
	}
	_, ds = generate(t, Config{Seed: 1, Teams: 1, Days: 2})
	var first map[string]any
	json.Unmarshal(ds[len(ds)-1].Body, &first)
	if ts, _ := first["timestamp"].(float64); ts >= float64(DefaultStart.AddDate(0, 0, 2).UnixMilli()) {
		t.Errorf("stream ran past --days: %v", ts)
	}
}

// ---- shapes ----

type body struct {
	Timestamp    int64                      `json:"timestamp"`
	WebhookEvent string                     `json:"webhookEvent"`
	TypeName     string                     `json:"issue_event_type_name"`
	User         map[string]any             `json:"user"`
	Issue        *wireIssue                 `json:"issue"`
	Changelog    *wireChangelog             `json:"changelog"`
	Comment      map[string]any             `json:"comment"`
	Worklog      map[string]any             `json:"worklog"`
	IssueLink    map[string]any             `json:"issueLink"`
	Sprint       map[string]any             `json:"sprint"`
	Version      map[string]any             `json:"version"`
	MergedTo     map[string]any             `json:"mergedTo"`
	Project      map[string]any             `json:"project"`
	Extra        map[string]json.RawMessage `json:"-"`
}

type wireIssue struct {
	ID     string         `json:"id"`
	Self   string         `json:"self"`
	Key    string         `json:"key"`
	Fields map[string]any `json:"fields"`
}

type wireChangelog struct {
	ID    string           `json:"id"`
	Items []map[string]any `json:"items"`
}

func decode(t testing.TB, d Delivery) body {
	t.Helper()
	var b body
	dec := json.NewDecoder(bytes.NewReader(d.Body))
	if err := dec.Decode(&b); err != nil {
		t.Fatalf("%s %s: %v\n%s", d.Event, d.Identifier, err, d.Body)
	}
	return b
}

var (
	cloudSite = regexp.MustCompile(`^https://[a-z0-9-]+\.atlassian\.net$`)
	dcSite    = regexp.MustCompile(`^https://jira\.[a-z0-9-]+\.internal$`)
	keyRE     = regexp.MustCompile(`^[A-Z][A-Z0-9]+-[0-9]+$`)
	ghRE      = regexp.MustCompile(`^com\.atlassian\.greenhopper\.service\.sprint\.Sprint@[0-9a-f]+\[id=([0-9]+),rapidViewId=[0-9]+,state=(FUTURE|ACTIVE|CLOSED),name=[^,]+,.*\]$`)
)

func checkUser(t *testing.T, where string, f Flavor, u any) {
	t.Helper()
	m, ok := u.(map[string]any)
	if !ok {
		t.Errorf("%s: user is %T", where, u)
		return
	}
	if _, ok := m["avatarUrls"].(map[string]any); !ok || m["displayName"] == "" {
		t.Errorf("%s: user without avatarUrls/displayName: %v", where, m)
	}
	if f == FlavorCloud {
		id, _ := m["accountId"].(string)
		if !(strings.HasPrefix(id, "712020:") && len(id) == 43) && len(id) != 24 || m["accountType"] != "atlassian" || m["name"] != nil {
			t.Errorf("%s: not a Cloud user: %v", where, m)
		}
	} else {
		key, _ := m["key"].(string)
		if !strings.HasPrefix(key, "JIRAUSER") || m["name"] == nil || m["emailAddress"] == nil || m["accountId"] != nil {
			t.Errorf("%s: not a Data Center user: %v", where, m)
		}
	}
}

func sprintField(fields map[string]any) (string, []any) {
	for k, v := range fields {
		if !strings.HasPrefix(k, "customfield_") {
			continue
		}
		if l, ok := v.([]any); ok && len(l) > 0 {
			switch e := l[0].(type) {
			case map[string]any:
				if _, ok := e["boardId"]; ok {
					return k, l
				}
			case string:
				if strings.HasPrefix(e, "com.atlassian.greenhopper.service.sprint.Sprint@") {
					return k, l
				}
			}
		}
	}
	return "", nil
}

func TestBodiesHaveFixtureShapes(t *testing.T) {
	for _, f := range []Flavor{FlavorCloud, FlavorDC, FlavorMix} {
		t.Run(string(f), func(t *testing.T) {
			t.Parallel()
			_, ds := generate(t, Config{Seed: 3, Teams: 3, Days: 30, Flavor: f})
			events := map[string]int{}
			typeNames := map[string]int{}
			ids := map[string]bool{}
			var lastTs int64
			var lastCl int64
			sawCarry, sawCode, sawMerge := false, false, false
			for _, d := range ds {
				if !json.Valid(d.Body) {
					t.Fatalf("invalid JSON: %s", d.Body)
				}
				if ids[d.Identifier] || len(d.Identifier) != 17 || strings.Trim(d.Identifier, "0123456789") != "" {
					t.Fatalf("identifier %q not a fresh 17-digit decimal", d.Identifier)
				}
				ids[d.Identifier] = true
				if d.Headers[HeaderIdentifier] != d.Identifier || d.Headers["Content-Type"] == "" || d.Headers[HeaderSignature] != "" {
					t.Fatalf("headers %v", d.Headers)
				}
				b := decode(t, d)
				events[b.WebhookEvent]++
				if b.WebhookEvent != d.Event {
					t.Fatalf("Event %q, body says %q", d.Event, b.WebhookEvent)
				}
				if b.Timestamp < lastTs {
					t.Fatalf("timestamp went back: %d after %d", b.Timestamp, lastTs)
				}
				lastTs = b.Timestamp
				switch d.Flavor {
				case FlavorCloud:
					if !cloudSite.MatchString(d.Site) || d.Headers["User-Agent"] != userAgentCloud || d.Headers[HeaderFlow] == "" {
						t.Fatalf("cloud delivery: site %q headers %v", d.Site, d.Headers)
					}
				case FlavorDC:
					if !dcSite.MatchString(d.Site) || d.Headers["User-Agent"] == userAgentCloud {
						t.Fatalf("dc delivery: site %q headers %v", d.Site, d.Headers)
					}
				default:
					t.Fatalf("flavor %q", d.Flavor)
				}
				where := d.Event + " " + d.Identifier
				switch {
				case strings.HasPrefix(b.WebhookEvent, "jira:issue_"):
					typeNames[b.TypeName]++
					if n := len(d.Body); n < 3<<10 || n > 12<<10 {
						t.Errorf("%s: %d bytes, want 3-12 KB", where, n)
					}
					is := b.Issue
					if is == nil || is.ID == "" || !keyRE.MatchString(is.Key) || is.Self != d.Site+"/rest/api/2/issue/"+is.ID {
						t.Fatalf("%s: issue %+v", where, is)
					}
					checkUser(t, where, d.Flavor, b.User)
					st, _ := is.Fields["status"].(map[string]any)
					cat, _ := st["statusCategory"].(map[string]any)
					want := map[string]string{"To Do": "10000/new", "In Progress": "3/indeterminate", "In Review": "10002/indeterminate", "Done": "10001/done"}
					if want[st["name"].(string)] != fmt.Sprint(st["id"], "/", cat["key"]) {
						t.Errorf("%s: status %v", where, st)
					}
					for _, k := range []string{"summary", "issuetype", "project", "priority", "reporter", "creator", "created", "updated", "labels", "fixVersions", "issuelinks", "subtasks", "description"} {
						if _, ok := is.Fields[k]; !ok {
							t.Errorf("%s: no fields.%s", where, k)
						}
					}
					if a := is.Fields["assignee"]; a != nil {
						checkUser(t, where+" assignee", d.Flavor, a)
					}
					_, hasComments := is.Fields["comment"]
					if hasComments != (d.Flavor == FlavorDC) {
						t.Errorf("%s: comment container present=%v", where, hasComments)
					}
					if _, l := sprintField(is.Fields); l != nil {
						for _, e := range l {
							if s, ok := e.(string); ok && !ghRE.MatchString(s) {
								t.Errorf("%s: sprint string %q", where, s)
							}
							if _, ok := e.(string); ok != (d.Flavor == FlavorDC) {
								t.Errorf("%s: sprint value %v in %s", where, e, d.Flavor)
							}
						}
					}
					dcComment := strings.HasPrefix(b.TypeName, "issue_comment")
					if dcComment != (b.Comment != nil) || (dcComment && d.Flavor != FlavorDC) {
						t.Errorf("%s: %s with comment %v", where, b.TypeName, b.Comment != nil)
					}
					needChangelog := b.WebhookEvent == "jira:issue_updated" && !dcComment ||
						b.WebhookEvent == "jira:issue_created" && d.Flavor == FlavorCloud
					if (b.Changelog != nil) != needChangelog {
						t.Errorf("%s: changelog present=%v", where, b.Changelog != nil)
					}
					if b.Changelog != nil {
						var id int64
						fmt.Sscan(b.Changelog.ID, &id)
						if id <= lastCl {
							t.Errorf("%s: changelog id %d not above %d", where, id, lastCl)
						}
						lastCl = id
						for _, it := range b.Changelog.Items {
							_, hasID := it["fieldId"]
							_, hasTmp := it["tmpToAccountId"]
							field := it["field"].(string)
							if d.Flavor == FlavorDC && (hasID || hasTmp) {
								t.Errorf("%s: DC changelog item with fieldId/tmp: %v", where, it)
							}
							if d.Flavor == FlavorCloud && !hasID && field != "IssueParentAssociation" && field != "WorklogId" && field != "Link" {
								t.Errorf("%s: Cloud changelog item without fieldId: %v", where, it)
							}
							if field == "Sprint" {
								from, _ := it["from"].(string)
								to, _ := it["to"].(string)
								if from != "" && strings.HasPrefix(to, from+", ") {
									sawCarry = true
								}
							}
						}
					}
				case strings.HasPrefix(b.WebhookEvent, "comment_"):
					c := b.Comment
					self, _ := c["self"].(string)
					if !regexp.MustCompile(`/rest/api/2/issue/[0-9]+/comment/[0-9]+$`).MatchString(self) || c["body"] == nil {
						t.Fatalf("%s: comment %v", where, c)
					}
					checkUser(t, where, d.Flavor, c["author"])
					if body, _ := c["body"].(string); strings.Contains(body, "{code") || strings.Contains(body, "```") {
						sawCode = true
					}
					if (b.Issue != nil) != (d.Flavor == FlavorCloud) {
						t.Errorf("%s: issue present=%v", where, b.Issue != nil)
					}
					if b.Issue != nil && len(b.Issue.Fields) != 6 {
						t.Errorf("%s: trimmed issue has fields %v", where, slices.Sorted(maps.Keys(b.Issue.Fields)))
					}
				case strings.HasPrefix(b.WebhookEvent, "worklog_"):
					w := b.Worklog
					if _, ok := w["issueId"].(string); !ok || w["timeSpentSeconds"] == nil || b.Issue != nil {
						t.Fatalf("%s: worklog %v", where, w)
					}
				case strings.HasPrefix(b.WebhookEvent, "issuelink_"):
					l := b.IssueLink
					for _, k := range []string{"id", "sourceIssueId", "destinationIssueId"} {
						if _, ok := l[k].(float64); !ok {
							t.Fatalf("%s: %s not a number: %v", where, k, l)
						}
					}
				case strings.HasPrefix(b.WebhookEvent, "sprint_"):
					if _, ok := b.Sprint["id"].(float64); !ok || b.Sprint["state"] == nil || b.Sprint["originBoardId"] == nil {
						t.Fatalf("%s: sprint %v", where, b.Sprint)
					}
				case strings.HasPrefix(b.WebhookEvent, "jira:version_"):
					if _, ok := b.Version["id"].(string); !ok {
						t.Fatalf("%s: version %v", where, b.Version)
					}
					if _, ok := b.Version["projectId"].(float64); !ok {
						t.Fatalf("%s: version %v", where, b.Version)
					}
					if b.MergedTo != nil {
						sawMerge = true
					}
				case strings.HasPrefix(b.WebhookEvent, "project_"):
					if _, ok := b.Project["id"].(float64); !ok {
						t.Fatalf("%s: project %v", where, b.Project)
					}
					checkUser(t, where, d.Flavor, b.Project["projectLead"])
				case b.WebhookEvent == "board_created":
				default:
					t.Errorf("unexpected event %s", b.WebhookEvent)
				}
			}
			for _, e := range []string{"jira:issue_created", "jira:issue_updated", "jira:issue_deleted",
				"comment_created", "comment_updated", "comment_deleted", "worklog_created", "worklog_updated",
				"worklog_deleted", "issuelink_created", "issuelink_deleted", "sprint_created", "sprint_updated",
				"sprint_started", "sprint_closed", "jira:version_created", "jira:version_released", "project_created"} {
				if events[e] == 0 {
					t.Errorf("no %s in %v", e, events)
				}
			}
			for _, n := range []string{"issue_created", "issue_updated", "issue_generic", "issue_assigned", "issue_worklogged", "issue_deleted"} {
				if typeNames[n] == 0 {
					t.Errorf("no issue_event_type_name %s in %v", n, typeNames)
				}
			}
			if f != FlavorCloud && typeNames["issue_commented"] == 0 {
				t.Errorf("no Data Center issue_commented twin")
			}
			if !sawCarry || !sawCode || !sawMerge {
				t.Errorf("carry-over %v, code in comments %v, version merge %v", sawCarry, sawCode, sawMerge)
			}
		})
	}
}

// ---- the World against an independent reading of the stream ----

type refIssue struct {
	site, key, id         string
	status, cat, assignee string
	sprints, fix          []string
	parent, epic          string
	deleted               bool
	comments              map[string]bool
	worklogs              map[string]int64
}

type refLink struct{ typ, src, dst string }

type refWorld struct {
	byID     map[string]*refIssue
	links    map[string]refLink
	sprints  map[string]string // id → state
	deletedS map[string]bool
	sprintCF map[string]string // site → custom field holding the Sprint field
}

var (
	commentSelf = regexp.MustCompile(`/issue/([0-9]+)/comment/`)
	ghID        = regexp.MustCompile(`\[id=([0-9]+),`)
)

func (rw *refWorld) issue(id string) *refIssue {
	is := rw.byID[id]
	if is == nil {
		is = &refIssue{id: id, comments: map[string]bool{}, worklogs: map[string]int64{}}
		rw.byID[id] = is
	}
	return is
}

// reduce reads the deliveries, in order, the way a projection would.
func reduce(t *testing.T, ds []Delivery) *refWorld {
	rw := &refWorld{byID: map[string]*refIssue{}, links: map[string]refLink{}, sprints: map[string]string{},
		deletedS: map[string]bool{}, sprintCF: map[string]string{}}
	for _, d := range ds {
		b := decode(t, d)
		switch ev := b.WebhookEvent; {
		case strings.HasPrefix(ev, "jira:issue_"):
			f := b.Issue.Fields
			is := rw.issue(b.Issue.ID)
			is.key = b.Issue.Key
			is.site = b.Issue.Self[:strings.Index(b.Issue.Self, "/rest/")]
			st := f["status"].(map[string]any)
			is.status = st["name"].(string)
			is.cat = st["statusCategory"].(map[string]any)["key"].(string)
			is.assignee = ""
			if a, ok := f["assignee"].(map[string]any); ok {
				if id, ok := a["accountId"].(string); ok {
					is.assignee = id
				} else {
					is.assignee = a["key"].(string)
				}
			}
			if cf, l := sprintField(f); l != nil {
				rw.sprintCF[is.site] = cf
				is.sprints = nil
				for _, e := range l {
					switch e := e.(type) {
					case map[string]any:
						is.sprints = append(is.sprints, fmt.Sprint(e["id"]))
					case string:
						is.sprints = append(is.sprints, ghID.FindStringSubmatch(e)[1])
					}
				}
			} else if cf := rw.sprintCF[is.site]; cf != "" && f[cf] == nil {
				is.sprints = nil
			}
			is.fix = nil
			for _, v := range f["fixVersions"].([]any) {
				is.fix = append(is.fix, v.(map[string]any)["id"].(string))
			}
			is.parent, is.epic = "", ""
			if p, ok := f["parent"].(map[string]any); ok {
				is.parent = p["key"].(string)
			}
			for k, v := range f {
				if s, ok := v.(string); ok && strings.HasPrefix(k, "customfield_") && keyRE.MatchString(s) {
					is.epic = s
				}
			}
			if ev == "jira:issue_deleted" {
				is.deleted = true
			}
		case ev == "comment_created" || ev == "comment_updated" || ev == "comment_deleted":
			id := b.Comment["id"].(string)
			issueID := commentSelf.FindStringSubmatch(b.Comment["self"].(string))[1]
			if ev == "comment_deleted" {
				delete(rw.issue(issueID).comments, id)
			} else {
				rw.issue(issueID).comments[id] = true
			}
		case strings.HasPrefix(ev, "worklog_"):
			is := rw.issue(b.Worklog["issueId"].(string))
			id := b.Worklog["id"].(string)
			if ev == "worklog_deleted" {
				delete(is.worklogs, id)
			} else {
				is.worklogs[id] = int64(b.Worklog["timeSpentSeconds"].(float64))
			}
		case strings.HasPrefix(ev, "issuelink_"):
			id := fmt.Sprint(b.IssueLink["id"])
			if ev == "issuelink_deleted" {
				delete(rw.links, id)
			} else {
				rw.links[id] = refLink{
					typ: b.IssueLink["issueLinkType"].(map[string]any)["name"].(string),
					src: fmt.Sprint(b.IssueLink["sourceIssueId"]), dst: fmt.Sprint(b.IssueLink["destinationIssueId"]),
				}
			}
		case strings.HasPrefix(ev, "sprint_"):
			id := fmt.Sprint(b.Sprint["id"])
			rw.sprints[id] = b.Sprint["state"].(string)
			if ev == "sprint_deleted" {
				rw.deletedS[id] = true
			}
		}
	}
	return rw
}

func TestWorldMatchesStream(t *testing.T) {
	for _, cfg := range []Config{
		{Seed: 11, Teams: 3, Days: 40, Flavor: FlavorCloud},
		{Seed: 12, Teams: 2, Days: 40, Flavor: FlavorDC},
		{Seed: 13, Teams: 3, Days: 30, Flavor: FlavorMix, Target: 3333}, // cut mid-action
	} {
		t.Run(fmt.Sprintf("%s-%d", cfg.Flavor, cfg.Seed), func(t *testing.T) {
			t.Parallel()
			s, ds := generate(t, cfg)
			rw := reduce(t, ds)
			w := s.World()
			if got, want := len(w.Issues()), len(rw.byID); got != want {
				t.Fatalf("world has %d issues, stream %d", got, want)
			}
			keyOf := map[string]string{}
			for _, ri := range rw.byID {
				keyOf[ri.id] = ri.key
			}
			counts := map[string]int{}
			for _, st := range w.Issues() {
				ri := rw.byID[st.ID]
				if ri == nil || ri.key != st.Key || ri.site != st.Site {
					t.Fatalf("%s: not in the stream as such (%+v)", st.Key, ri)
				}
				var links []Link
				for _, l := range rw.links {
					if l.src == st.ID {
						links = append(links, Link{l.typ, "outward", keyOf[l.dst]})
					}
					if l.dst == st.ID {
						links = append(links, Link{l.typ, "inward", keyOf[l.src]})
					}
				}
				sortLinks(links)
				var secs int64
				for _, s := range rw.byID[st.ID].worklogs {
					secs += s
				}
				var sprints []string
				for _, id := range st.Sprints {
					sprints = append(sprints, itoa(id))
				}
				got := fmt.Sprintf("%s %s %s %q %v %v %q %q %v %d %d %d %v", st.Status, st.StatusCategory, st.Type, st.Assignee,
					sprints, st.FixVersions, st.Parent, st.Epic, st.Links, st.Comments, st.Worklogs, st.WorklogSeconds, st.Deleted)
				want := fmt.Sprintf("%s %s %s %q %v %v %q %q %v %d %d %d %v", ri.status, ri.cat, st.Type, ri.assignee,
					ri.sprints, ri.fix, ri.parent, ri.epic, links, len(ri.comments), len(ri.worklogs), secs, ri.deleted)
				if st.Deleted {
					got, want = fmt.Sprint(st.Deleted), fmt.Sprint(ri.deleted)
				}
				if got != want {
					t.Errorf("%s:\nworld  %s\nstream %s", st.Key, got, want)
				}
				if st.Deleted {
					counts["deleted"]++
				}
				counts["links"] += len(st.Links)
				counts["comments"] += st.Comments
				counts["worklogs"] += st.Worklogs
				if st.Parent != "" || st.Epic != "" {
					counts["parent"]++
				}
				if len(st.Sprints) > 1 {
					counts["carried"]++
				}
				if st.StatusCategory == "done" {
					counts["done"]++
				}
			}
			for _, k := range []string{"deleted", "links", "comments", "worklogs", "parent", "carried", "done"} {
				if counts[k] == 0 {
					t.Errorf("the world has no %s: %v", k, counts)
				}
			}
			if len(w.Sprints()) != len(rw.sprints) {
				t.Fatalf("world has %d sprints, stream %d", len(w.Sprints()), len(rw.sprints))
			}
			for _, sp := range w.Sprints() {
				id := itoa(sp.ID)
				if rw.sprints[id] != sp.State || rw.deletedS[id] != sp.Deleted {
					t.Errorf("sprint %s: world %s/%v, stream %s/%v", id, sp.State, sp.Deleted, rw.sprints[id], rw.deletedS[id])
				}
				var keys []string
				for _, ri := range rw.byID {
					if !ri.deleted && slices.Contains(ri.sprints, id) {
						keys = append(keys, ri.key)
					}
				}
				slices.SortFunc(keys, compareKeys)
				if got := sp.Issues(); !slices.Equal(got, keys) {
					t.Errorf("sprint %s members:\nworld  %v\nstream %v", id, got, keys)
				}
			}
		})
	}
}

func TestMixKeysUnique(t *testing.T) {
	s, _ := generate(t, Config{Seed: 5, Teams: 4, Days: 10, Flavor: FlavorMix})
	sites := map[string]string{}
	ids := map[string]bool{}
	for _, st := range s.World().Issues() {
		proj, _, _ := strings.Cut(st.Key, "-")
		if other, ok := sites[proj]; ok && other != st.Site {
			t.Fatalf("project %s on two sites", proj)
		}
		sites[proj] = st.Site
		if ids[st.ID] {
			t.Fatalf("issue id %s twice", st.ID)
		}
		ids[st.ID] = true
	}
	n := map[string]int{}
	for _, site := range sites {
		n[site]++
	}
	if len(n) != 2 {
		t.Fatalf("want two sites, got %v", n)
	}
}

func BenchmarkGenerate(b *testing.B) {
	for _, f := range []Flavor{FlavorCloud, FlavorDC} {
		b.Run(string(f), func(b *testing.B) {
			s := New(Config{Seed: 1, Teams: 10, Days: 90, Flavor: f})
			var bytes int64
			b.ResetTimer()
			for range b.N {
				d, ok := s.Next()
				if !ok {
					s = New(Config{Seed: 1, Teams: 10, Days: 90, Flavor: f})
					d, _ = s.Next()
				}
				bytes += int64(len(d.Body))
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			b.SetBytes(bytes / int64(max(b.N, 1)))
		})
	}
}
