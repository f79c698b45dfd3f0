package jira

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/cogniscape/cogniscape"
)

// People of the fixture world.
const (
	priya  = "712020:3f1c9a52-7b4e-4d6a-9c2e-8a1b5d7e9f01"
	marco  = "5f8a2c7d9e1b4a0068c3d2e1"
	aisha  = "712020:b7e4d1c8-2a9f-4e3b-8d6c-1f0a9e2b3c4d"
	priyaD = "JIRAUSER10100"
	marcoD = "JIRAUSER10101"
	aishaD = "JIRAUSER10102"

	cloudSite = "https://acme-pay.atlassian.net"
	dcSite    = "https://jira.acme-pay.internal"
)

// got wraps a Mutation with lookups that fail the test when something
// expected is missing.
type got struct {
	t *testing.T
	m *cogniscape.Mutation
}

func (g got) node(kind cogniscape.Kind, id string) *cogniscape.NodeUpdate {
	g.t.Helper()
	for i := range g.m.Nodes {
		if g.m.Nodes[i].Ref == ref(kind, id) {
			return &g.m.Nodes[i]
		}
	}
	g.t.Fatalf("no node %s %s", kind, id)
	return nil
}

func (g got) hasNode(kind cogniscape.Kind, id string) bool {
	for _, n := range g.m.Nodes {
		if n.Ref == ref(kind, id) {
			return true
		}
	}
	return false
}

// attr checks that the node has attribute name with value want (compared as
// JSON: want nil means null, numbers are float64, lists are []any).
func (g got) attr(kind cogniscape.Kind, id, name string, want any) {
	g.t.Helper()
	raw, ok := g.node(kind, id).Attrs[name]
	if !ok {
		g.t.Errorf("%s %s: no attribute %q", kind, id, name)
		return
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		g.t.Fatalf("%s %s %s: %v", kind, id, name, err)
	}
	if w, ok := want.([]string); ok {
		want = stringsToAny(w)
	}
	if w, ok := want.(int); ok {
		want = float64(w)
	}
	if !reflect.DeepEqual(v, want) {
		g.t.Errorf("%s %s %s = %s, want %#v", kind, id, name, raw, want)
	}
}

func (g got) noAttr(kind cogniscape.Kind, id string, names ...string) {
	g.t.Helper()
	n := g.node(kind, id)
	for _, name := range names {
		if raw, ok := n.Attrs[name]; ok {
			g.t.Errorf("%s %s: unexpected attribute %s = %s", kind, id, name, raw)
		}
	}
}

func (g got) deleted(kind cogniscape.Kind, id string, want *bool) {
	g.t.Helper()
	d := g.node(kind, id).Deleted
	if (d == nil) != (want == nil) || d != nil && *d != *want {
		g.t.Errorf("%s %s: Deleted = %s, want %s", kind, id, fmtBool(d), fmtBool(want))
	}
}

// edge checks the targets of one relation; want lists "kind:id".
func (g got) edge(kind cogniscape.Kind, id, rel string, want ...string) {
	g.t.Helper()
	for _, e := range g.m.Edges {
		if e.From != ref(kind, id) || e.Rel != rel {
			continue
		}
		if e.To == nil {
			g.t.Errorf("%s %s %s: To is nil, want a list", kind, id, rel)
		}
		var to []string
		for _, r := range e.To {
			to = append(to, string(r.Kind)+":"+r.ID)
		}
		if !slices.Equal(to, want) {
			g.t.Errorf("%s %s %s → %v, want %v", kind, id, rel, to, want)
		}
		return
	}
	g.t.Errorf("no edge %s %s %s", kind, id, rel)
}

func (g got) noEdge(kind cogniscape.Kind, id string, rels ...string) {
	g.t.Helper()
	for _, e := range g.m.Edges {
		if e.From == ref(kind, id) && slices.Contains(rels, e.Rel) {
			g.t.Errorf("unexpected edge %s %s %s → %v", kind, id, e.Rel, e.To)
		}
	}
}

func (g got) change(field, from, to, fromID, toID string) {
	g.t.Helper()
	for _, c := range g.m.Changes {
		if c.Field == field {
			want := cogniscape.Change{Node: c.Node, Field: field, From: from, To: to, FromID: fromID, ToID: toID}
			if c != want {
				g.t.Errorf("change %s = %+v, want %+v", field, c, want)
			}
			return
		}
	}
	g.t.Errorf("no change of %q in %+v", field, g.m.Changes)
}

func stringsToAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func fmtBool(b *bool) string {
	if b == nil {
		return "nil"
	}
	if *b {
		return "true"
	}
	return "false"
}

var (
	yes = func() *bool { b := true; return &b }()
	no  = func() *bool { b := false; return &b }()
)

const (
	issue   = cogniscape.KindIssue
	person  = cogniscape.KindPerson
	project = cogniscape.KindProject
	sprint  = cogniscape.KindSprint
	version = cogniscape.KindVersion
	comment = cogniscape.KindComment
	worklog = cogniscape.KindWorklog
	link    = cogniscape.KindLink
	status  = cogniscape.KindStatus
)

func normalizeFile(t testing.TB, path string) *cogniscape.Mutation {
	t.Helper()
	body, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Normalize(body)
	if err != nil {
		t.Fatalf("Normalize(%s): %v", path, err)
	}
	return m
}

func fixtureFiles(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	return files
}

// fixtureCase says what one fixture must project to. The header fields are
// checked for every case; check looks at the specific facts.
type fixtureCase struct {
	event, site, actor string
	at, seq            int64
	ignored            bool
	check              func(g got)
}

var fixtureCases = map[string]fixtureCase{
	// ---- Cloud issue events ----
	"cloud/issue_created.json": {event: "jira:issue_created", site: cloudSite, actor: aisha, at: 1772532847412, seq: 10871, check: func(g got) {
		g.attr(issue, "10105", "key", "PAY-105")
		g.attr(issue, "10105", "summary", "Payout rounding ignores currency minor units")
		g.attr(issue, "10105", "status", "To Do")
		g.attr(issue, "10105", "status_id", "10000")
		g.attr(issue, "10105", "status_category", "new")
		g.attr(issue, "10105", "priority", "High")
		g.attr(issue, "10105", "issue_type", "Bug")
		g.attr(issue, "10105", "labels", []string{"payouts", "fx"})
		g.attr(issue, "10105", "created", "2026-03-03T10:14:07.412Z")
		g.attr(issue, "10105", "resolution", nil)
		g.attr(issue, "10105", "resolution_date", nil)
		g.attr(status, "10000", "name", "To Do")
		g.attr(status, "10000", "category", "new")
		g.attr(project, "10000", "key", "PAY")
		g.attr(project, "10000", "name", "Payments")
		g.attr(person, aisha, "name", "Aisha Okafor")
		g.noAttr(person, aisha, "email") // Cloud hides it
		g.edge(issue, "10105", "project", "project:10000")
		g.edge(issue, "10105", "assignee")
		g.edge(issue, "10105", "reporter", "person:"+aisha)
		g.edge(issue, "10105", "parent")
		g.edge(issue, "10105", "fix_version")
		g.noEdge(issue, "10105", "sprint") // null Sprint field, no Sprint change: unknown, not cleared
		g.deleted(issue, "10105", nil)
		if len(g.m.Changes) != 6 {
			g.t.Errorf("%d changes, want 6", len(g.m.Changes))
		}
		g.change("Status", "", "To Do", "", "10000")
		g.change("reporter", "", "Aisha Okafor", "", aisha)
		g.change("labels", "", "fx payouts", "", "")
	}},
	"cloud/issue_deleted.json": {event: "jira:issue_deleted", site: cloudSite, actor: priya, at: 1773130527734, check: func(g got) {
		g.deleted(issue, "10106", yes)
		g.attr(issue, "10106", "key", "PAY-106")
		g.attr(issue, "10106", "description", "Duplicate of PAY-105 (double submit).")
		g.attr(person, priya, "name", "Priya Raman")
		if len(g.m.Changes) != 0 {
			g.t.Errorf("changes %+v, want none", g.m.Changes)
		}
	}},
	"cloud/issue_updated_assigned.json": {event: "jira:issue_updated", site: cloudSite, actor: priya, at: 1772535521006, seq: 10874, check: func(g got) {
		g.edge(issue, "10101", "assignee", "person:"+marco)
		g.edge(issue, "10101", "reporter", "person:"+priya)
		g.attr(person, marco, "name", "Marco Bellini")
		g.change("assignee", "", "Marco Bellini", "", marco)
		g.attr(issue, "10101", "status", "To Do")
	}},
	"cloud/issue_updated_fields.json": {event: "jira:issue_updated", site: cloudSite, actor: aisha, at: 1772716833640, seq: 10893, check: func(g got) {
		g.attr(issue, "10102", "priority", "Highest")
		g.attr(issue, "10102", "labels", []string{"refunds", "reliability"})
		g.attr(issue, "10102", "description", "Refund webhook retries open a new HTTP connection each time; under load the pool is exhausted.\n\n"+
			"Repro: run against staging for 5 minutes. Seen in prod on 2026-03-04 (INC-2231).")
		g.edge(issue, "10102", "fix_version", "version:10021")
		g.attr(version, "10021", "name", "2.4.0")
		g.attr(version, "10021", "released", false)
		g.attr(version, "10021", "archived", false)
		g.attr(version, "10021", "release_date", "2026-03-17")
		g.noAttr(version, "10021", "start_date") // not in an issue's fixVersions: left alone
		g.edge(version, "10021", "project", "project:10000")
		g.change("priority", "High", "Highest", "2", "1")
		g.change("Fix Version", "", "2.4.0", "", "10021")
		g.change("labels", "refunds", "refunds reliability", "", "")
		g.change("description", "Refund webhook retries open a new HTTP connection each time; under load the pool is exhausted.",
			"Refund webhook retries open a new HTTP connection each time; under load the pool is exhausted.\n\n"+
				"Repro: run against staging for 5 minutes. Seen in prod on 2026-03-04 (INC-2231).", "", "")
	}},
	"cloud/issue_updated_parent_epic.json": {event: "jira:issue_updated", site: cloudSite, actor: priya, at: 1772614150227, seq: 10882, check: func(g got) {
		g.edge(issue, "10103", "parent", "issue:10090")
		g.attr(issue, "10090", "key", "PAY-90")
		g.attr(issue, "10090", "summary", "Refunds v2")
		g.noAttr(issue, "10090", "status", "description")
		g.change("IssueParentAssociation", "", "PAY-90", "", "10090")
	}},
	"cloud/issue_updated_sprint_added.json": {event: "jira:issue_updated", site: cloudSite, actor: priya, at: 1772614075901, seq: 10881, check: func(g got) {
		g.edge(issue, "10103", "sprint", "sprint:37")
		g.attr(sprint, "37", "name", "PAY Sprint 14")
		g.attr(sprint, "37", "state", "active")
		g.attr(sprint, "37", "start_date", "2026-03-02T09:00:00.000Z")
		g.attr(sprint, "37", "end_date", "2026-03-16T09:00:00.000Z")
		g.attr(sprint, "37", "goal", "Refund idempotency in prod; settlement report reconciled")
		g.noAttr(sprint, "37", "complete_date")
		g.edge(sprint, "37", "board", "board:3")
		g.edge(issue, "10103", "parent") // absent from a full snapshot: no parent
		g.change("Sprint", "", "PAY Sprint 14", "", "37")
		g.change("Rank", "", "Ranked higher", "", "")
	}},
	"cloud/issue_updated_sprint_carryover.json": {event: "jira:issue_updated", site: cloudSite, actor: priya, at: 1773678603402, seq: 10960, check: func(g got) {
		g.edge(issue, "10103", "sprint", "sprint:37", "sprint:38")
		g.attr(sprint, "37", "state", "closed")
		g.attr(sprint, "37", "complete_date", "2026-03-16T16:30:02.118Z")
		g.attr(sprint, "38", "state", "future")
		g.attr(sprint, "38", "name", "PAY Sprint 15")
		g.noAttr(sprint, "38", "start_date")
		g.edge(sprint, "38", "board", "board:3")
		g.change("Sprint", "PAY Sprint 14", "PAY Sprint 14, PAY Sprint 15", "37", "37, 38")
		g.attr(issue, "10103", "updated", "2026-03-16T16:30:03.402Z")
	}},
	"cloud/issue_updated_status_done.json": {event: "jira:issue_updated", site: cloudSite, actor: aisha, at: 1773050630512, seq: 10917, check: func(g got) {
		g.attr(issue, "10104", "status", "Done")
		g.attr(issue, "10104", "status_id", "10001")
		g.attr(issue, "10104", "status_category", "done")
		g.attr(issue, "10104", "resolution", "Done")
		g.attr(issue, "10104", "resolution_date", "2026-03-09T10:03:50.512Z")
		g.attr(status, "10001", "category", "done")
		g.change("resolution", "", "Done", "", "10000")
		g.change("status", "In Review", "Done", "10002", "10001")
	}},
	"cloud/issue_updated_status_in_progress.json": {event: "jira:issue_updated", site: cloudSite, actor: marco, at: 1772535739345, seq: 10875, check: func(g got) {
		g.attr(issue, "10101", "key", "PAY-101")
		g.attr(issue, "10101", "status", "In Progress")
		g.attr(issue, "10101", "status_id", "3")
		g.attr(issue, "10101", "status_category", "indeterminate")
		g.attr(issue, "10101", "issue_type", "Story")
		g.attr(issue, "10101", "created", "2026-02-24T15:31:02.770Z")
		g.attr(issue, "10101", "updated", "2026-03-03T11:02:19.345Z")
		g.attr(issue, "10101", "description", "h3. Problem\nA client retry after a 504 can create a second refund.\n\n"+
			"h3. Acceptance\n* accepts an header\n* A replay within 24h returns the original refund")
		g.attr(status, "3", "name", "In Progress")
		g.attr(status, "3", "category", "indeterminate")
		g.edge(issue, "10101", "parent", "issue:10090")
		g.edge(issue, "10101", "sprint", "sprint:37")
		g.edge(issue, "10101", "fix_version", "version:10021")
		g.edge(issue, "10101", "assignee", "person:"+marco)
		g.edge(issue, "10101", "reporter", "person:"+priya)
		g.attr(person, priya, "name", "Priya Raman") // creator and reporter: one node
		g.change("status", "To Do", "In Progress", "10000", "3")
		if len(g.m.Changes) != 1 || g.m.Changes[0].Node != ref(issue, "10101") {
			g.t.Errorf("changes %+v, want the one status change of 10101", g.m.Changes)
		}
	}},
	"cloud/issue_updated_status_in_review.json": {event: "jira:issue_updated", site: cloudSite, actor: marco, at: 1772811667025, seq: 10902, check: func(g got) {
		g.attr(issue, "10102", "status", "In Review")
		g.attr(issue, "10102", "status_id", "10002")
		g.attr(status, "10002", "name", "In Review")
		g.change("status", "In Progress", "In Review", "3", "10002")
	}},
	"cloud/issue_updated_worklogged.json": {event: "jira:issue_updated", site: cloudSite, actor: marco, at: 1772730312880, seq: 10896, check: func(g got) {
		g.change("timespent", "3600", "12600", "3600", "12600")
		g.change("WorklogId", "", "10212", "", "10212")
		g.attr(issue, "10101", "key", "PAY-101")
	}},

	// ---- Cloud comments and worklogs ----
	"cloud/comment_created.json": {event: "comment_created", site: cloudSite, actor: aisha, at: 1772811860118, check: func(g got) {
		g.attr(comment, "10551", "body", "[~accountid:5f8a2c7d9e1b4a0068c3d2e1] the retry path still opens a new client per attempt, see. Can we reuse the pooled transport?")
		g.attr(comment, "10551", "created", "2026-03-06T15:44:20.118Z")
		g.attr(comment, "10551", "updated", "2026-03-06T15:44:20.118Z")
		g.edge(comment, "10551", "issue", "issue:10102")
		g.edge(comment, "10551", "author", "person:"+aisha)
		g.deleted(comment, "10551", nil)
		// The trimmed issue: what it carries, and nothing about what it leaves out.
		g.attr(issue, "10102", "key", "PAY-102")
		g.attr(issue, "10102", "summary", "Refund webhook retries exhaust connection pool")
		g.attr(issue, "10102", "status", "In Review")
		g.attr(issue, "10102", "priority", "Highest")
		g.noAttr(issue, "10102", "description", "labels", "created", "updated", "resolution", "resolution_date")
		g.edge(issue, "10102", "assignee", "person:"+marco)
		g.edge(issue, "10102", "project", "project:10000")
		g.noEdge(issue, "10102", "parent", "sprint", "fix_version", "reporter")
	}},
	"cloud/comment_updated.json": {event: "comment_updated", site: cloudSite, actor: aisha, at: 1772812323771, check: func(g got) {
		g.attr(comment, "10551", "body", "[~accountid:5f8a2c7d9e1b4a0068c3d2e1] the retry path still opens a new client per attempt, see. "+
			"Can we reuse the pooled transport?\n\nEdit: also cap retries at 5 with jitter.")
		g.attr(comment, "10551", "updated", "2026-03-06T15:52:03.771Z")
		g.edge(comment, "10551", "issue", "issue:10102")
		g.noEdge(issue, "10102", "parent")
	}},
	"cloud/comment_deleted.json": {event: "comment_deleted", site: cloudSite, actor: marco, at: 1772874644309, check: func(g got) {
		g.deleted(comment, "10553", yes)
		g.edge(comment, "10553", "author", "person:"+marco)
		g.edge(comment, "10553", "issue", "issue:10102")
	}},
	"cloud/worklog_created.json": {event: "worklog_created", site: cloudSite, actor: marco, at: 1772730312880, check: func(g got) {
		g.attr(worklog, "10212", "time_spent_seconds", 9000)
		g.attr(worklog, "10212", "started", "2026-03-05T13:30:00.000Z")
		g.attr(worklog, "10212", "comment", "Idempotency-Key middleware + storage schema")
		g.attr(worklog, "10212", "created", "2026-03-05T17:05:12.880Z")
		g.edge(worklog, "10212", "issue", "issue:10101")
		g.edge(worklog, "10212", "author", "person:"+marco)
		g.deleted(worklog, "10212", nil)
	}},
	"cloud/worklog_updated.json": {event: "worklog_updated", site: cloudSite, actor: marco, at: 1772731240015, check: func(g got) {
		g.attr(worklog, "10212", "time_spent_seconds", 10800)
		g.attr(worklog, "10212", "updated", "2026-03-05T17:20:40.015Z")
		g.attr(worklog, "10212", "comment", "Idempotency-Key middleware + storage schema + tests")
	}},
	"cloud/worklog_deleted.json": {event: "worklog_deleted", site: cloudSite, actor: marco, at: 1772784151640, check: func(g got) {
		g.deleted(worklog, "10215", yes)
		g.attr(worklog, "10215", "time_spent_seconds", 1800)
		g.edge(worklog, "10215", "issue", "issue:10101")
	}},

	// ---- Cloud links, sprints, projects, versions ----
	"cloud/issuelink_created.json": {event: "issuelink_created", site: "", at: 1772614992517, check: func(g got) {
		g.attr(link, "10433", "type", "Blocks")
		g.attr(link, "10433", "outward", "blocks")
		g.attr(link, "10433", "inward", "is blocked by")
		g.attr(link, "10433", "system", false)
		g.edge(link, "10433", "source", "issue:10102")
		g.edge(link, "10433", "destination", "issue:10101")
		g.deleted(link, "10433", nil)
	}},
	"cloud/issuelink_deleted.json": {event: "issuelink_deleted", site: "", at: 1773050671090, check: func(g got) {
		g.deleted(link, "10433", yes)
		g.edge(link, "10433", "source", "issue:10102")
	}},
	"cloud/sprint_created.json": {event: "sprint_created", site: cloudSite, at: 1772201112031, check: func(g got) {
		g.attr(sprint, "37", "name", "PAY Sprint 14")
		g.attr(sprint, "37", "state", "future")
		g.attr(sprint, "37", "goal", "")
		g.attr(sprint, "37", "start_date", nil)
		g.attr(sprint, "37", "created_date", "2026-02-27T14:05:12.031Z")
		g.edge(sprint, "37", "board", "board:3")
	}},
	"cloud/sprint_updated.json": {event: "sprint_updated", site: cloudSite, at: 1772382044508, check: func(g got) {
		g.attr(sprint, "37", "goal", "Refund idempotency in prod; settlement report reconciled") // not oldValue's ""
		g.attr(sprint, "37", "start_date", "2026-03-02T09:00:00.000Z")
		g.attr(sprint, "37", "state", "future")
	}},
	"cloud/sprint_started.json": {event: "sprint_started", site: cloudSite, at: 1772442031227, check: func(g got) {
		g.attr(sprint, "37", "state", "active")
		g.attr(sprint, "37", "end_date", "2026-03-16T09:00:00.000Z")
		g.attr(sprint, "37", "complete_date", nil)
		g.deleted(sprint, "37", nil)
	}},
	"cloud/sprint_closed.json": {event: "sprint_closed", site: cloudSite, at: 1773678602118, check: func(g got) {
		g.attr(sprint, "37", "state", "closed")
		g.attr(sprint, "37", "complete_date", "2026-03-16T16:30:02.118Z")
		g.edge(sprint, "37", "board", "board:3")
	}},
	"cloud/sprint_deleted.json": {event: "sprint_deleted", site: cloudSite, at: 1773834429660, check: func(g got) {
		g.deleted(sprint, "39", yes)
		g.attr(sprint, "39", "name", "PAY Sprint 16")
	}},
	"cloud/project_created.json": {event: "project_created", site: cloudSite, at: 1768210218204, check: func(g got) {
		g.attr(project, "10000", "key", "PAY")
		g.attr(project, "10000", "name", "Payments")
		g.attr(project, "10000", "category", "Fintech")
		g.noAttr(project, "10000", "archived")
		g.edge(project, "10000", "lead", "person:"+priya)
		g.attr(person, priya, "name", "Priya Raman")
		g.deleted(project, "10000", nil)
	}},
	"cloud/project_updated.json": {event: "project_updated", site: cloudSite, at: 1773915175871, check: func(g got) {
		g.edge(project, "10000", "lead", "person:"+aisha)
	}},
	"cloud/project_soft_deleted.json": {event: "project_soft_deleted", site: cloudSite, at: 1773928802455, check: func(g got) {
		g.deleted(project, "10005", yes)
		g.attr(project, "10005", "key", "PAYSB")
		g.attr(project, "10005", "category", nil)
	}},
	"cloud/project_deleted.json": {event: "project_deleted", site: cloudSite, at: 1773992736118, check: func(g got) {
		g.deleted(project, "10005", yes)
		g.edge(project, "10005", "lead", "person:"+marco)
	}},
	"cloud/version_created.json": {event: "jira:version_created", site: cloudSite, at: 1771581731932, check: func(g got) {
		g.attr(version, "10021", "name", "2.4.0")
		g.attr(version, "10021", "description", "Refunds v2 GA")
		g.attr(version, "10021", "release_date", "2026-03-13")
		g.attr(version, "10021", "start_date", "2026-03-02")
		g.attr(version, "10021", "released", false)
		g.edge(version, "10021", "project", "project:10000")
		g.deleted(version, "10021", nil)
	}},
	"cloud/version_updated.json": {event: "jira:version_updated", site: cloudSite, at: 1773160120711, check: func(g got) {
		g.attr(version, "10021", "release_date", "2026-03-17")
	}},
	"cloud/version_moved.json": {event: "jira:version_moved", site: cloudSite, at: 1773220445388, check: func(g got) {
		g.attr(version, "10021", "name", "2.4.0")
		g.deleted(version, "10021", nil)
	}},
	"cloud/version_released.json": {event: "jira:version_released", site: cloudSite, at: 1773759612554, check: func(g got) {
		g.attr(version, "10021", "released", true)
	}},
	"cloud/version_unreleased.json": {event: "jira:version_unreleased", site: cloudSite, at: 1773760009213, check: func(g got) {
		g.attr(version, "10021", "released", false)
	}},
	"cloud/version_deleted.json": {event: "jira:version_deleted", site: cloudSite, at: 1773826822871, check: func(g got) {
		g.deleted(version, "10026", yes)
		g.attr(version, "10026", "release_date", nil)
		g.noAttr(version, "10026", "merged_to")
	}},
	"cloud/version_merged.json":         {event: "jira:version_deleted", site: cloudSite, at: 1773316907006, check: checkMerged},
	"cloud/version_merged_dynamic.json": {event: "jira:version_merged", site: cloudSite, at: 1773316907006, check: checkMerged},

	// ---- Data Center ----
	"datacenter/dc_issue_created.json": {event: "jira:issue_created", site: dcSite, actor: aishaD, at: 1772532847412, check: func(g got) {
		g.attr(issue, "10105", "key", "PAY-105")
		g.attr(issue, "10105", "labels", []string{"fx", "payouts"})
		g.attr(person, aishaD, "name", "Aisha Okafor")
		g.attr(person, aishaD, "email", "aisha.okafor@acme-pay.example")
		g.attr(person, aishaD, "username", "aisha.okafor")
		g.edge(issue, "10105", "reporter", "person:"+aishaD)
		g.edge(issue, "10105", "assignee")
		g.noEdge(issue, "10105", "sprint")
		if len(g.m.Changes) != 0 {
			g.t.Errorf("changes %+v, want none", g.m.Changes)
		}
	}},
	"datacenter/dc_issue_updated_status.json": {event: "jira:issue_updated", site: dcSite, actor: marcoD, at: 1772535739345, seq: 20875, check: func(g got) {
		g.attr(issue, "10101", "status", "In Progress")
		g.change("status", "To Do", "In Progress", "10000", "3")
		g.edge(issue, "10101", "assignee", "person:"+marcoD)
		g.edge(issue, "10101", "reporter", "person:"+priyaD)
		// GreenHopper string, local times converted to UTC.
		g.edge(issue, "10101", "sprint", "sprint:37")
		g.attr(sprint, "37", "name", "PAY Sprint 14")
		g.attr(sprint, "37", "state", "active")
		g.attr(sprint, "37", "start_date", "2026-03-02T09:00:00.000Z")
		g.attr(sprint, "37", "end_date", "2026-03-16T09:00:00.000Z")
		g.attr(sprint, "37", "goal", "Refund idempotency in prod; settlement report reconciled")
		g.noAttr(sprint, "37", "complete_date")
		g.edge(sprint, "37", "board", "board:3")
		// The Epic Link (customfield_10101 "PAY-90") names a key, not an id;
		// the full snapshot has no parent field.
		g.edge(issue, "10101", "parent")
	}},
	"datacenter/dc_issue_updated_commented.json": {event: "jira:issue_updated", site: dcSite, actor: aishaD, at: 1772811860118, check: func(g got) {
		g.attr(issue, "10102", "key", "PAY-102")
		g.attr(issue, "10102", "status", "In Progress")
		g.attr(comment, "20551", "body", "[~marco.bellini] the retry path still opens a new client per attempt, see. Can we reuse the pooled transport?")
		g.edge(comment, "20551", "issue", "issue:10102")
		g.edge(comment, "20551", "author", "person:"+aishaD)
		g.deleted(comment, "20551", nil)
		// Its twin comment_created says exactly the same about the comment.
		twin := got{g.t, normalizeFile(g.t, "testdata/datacenter/dc_comment_created.json")}
		c := ref(comment, "20551")
		if a, b := *g.node(comment, "20551"), *twin.node(comment, "20551"); !reflect.DeepEqual(a, b) {
			g.t.Errorf("comment differs from its twin:\n%+v\n%+v", a, b)
		}
		for _, rel := range []string{"issue", "author"} {
			if a, b := edgeOf(g.m, c, rel), edgeOf(twin.m, c, rel); !reflect.DeepEqual(a, b) {
				g.t.Errorf("comment %s differs from its twin: %v vs %v", rel, a, b)
			}
		}
	}},
	"datacenter/dc_comment_created.json": {event: "comment_created", site: dcSite, actor: aishaD, at: 1772811860118, check: func(g got) {
		g.edge(comment, "20551", "issue", "issue:10102") // from comment.self
		g.edge(comment, "20551", "author", "person:"+aishaD)
		g.attr(comment, "20551", "created", "2026-03-06T15:44:20.118Z")
		if g.hasNode(issue, "10102") {
			g.t.Errorf("no issue object in the body, yet an issue node: %+v", g.m.Nodes)
		}
	}},
	"datacenter/dc_worklog_created.json": {event: "worklog_created", site: dcSite, actor: marcoD, at: 1772730312880, check: func(g got) {
		g.attr(worklog, "20212", "time_spent_seconds", 9000)
		g.attr(worklog, "20212", "started", "2026-03-05T13:30:00.000Z")
		g.edge(worklog, "20212", "issue", "issue:10101")
		g.edge(worklog, "20212", "author", "person:"+marcoD)
		g.attr(person, marcoD, "username", "marco.bellini")
	}},
	"datacenter/dc_sprint_started.json": {event: "sprint_started", site: dcSite, at: 1772442031227, check: func(g got) {
		g.attr(sprint, "37", "state", "active")
		g.attr(sprint, "37", "start_date", "2026-03-02T09:00:00.000Z")
		g.attr(sprint, "37", "end_date", "2026-03-16T09:00:00.000Z")
		g.noAttr(sprint, "37", "created_date") // DC leaves it out: never cleared
		g.edge(sprint, "37", "board", "board:3")
	}},
	"datacenter/dc_version_released.json": {event: "jira:version_released", site: dcSite, at: 1773759612554, check: func(g got) {
		g.attr(version, "10021", "released", true)
		g.attr(version, "10021", "release_date", "2026-03-17")
		g.edge(version, "10021", "project", "project:10000")
	}},

	// ---- not projected ----
	"ignored/board_created.json":               {ignored: true},
	"ignored/filter_updated.json":              {ignored: true},
	"ignored/issue_property_set.json":          {ignored: true},
	"ignored/issuetype_updated.json":           {ignored: true},
	"ignored/option_timetracking_changed.json": {ignored: true},
	"ignored/user_created.json":                {ignored: true},
}

func checkMerged(g got) {
	g.deleted(version, "10023", yes)
	g.attr(version, "10023", "merged_to", "10021")
	g.attr(version, "10023", "name", "2.4.0-rc1")
	g.edge(version, "10023", "project", "project:10000")
	g.attr(version, "10021", "name", "2.4.0")
	g.attr(version, "10021", "release_date", "2026-03-17")
	g.deleted(version, "10021", nil)
}

func edgeOf(m *cogniscape.Mutation, from cogniscape.NodeRef, rel string) []cogniscape.NodeRef {
	for _, e := range m.Edges {
		if e.From == from && e.Rel == rel {
			return e.To
		}
	}
	return nil
}

func TestNormalizeFixtures(t *testing.T) {
	for _, path := range fixtureFiles(t) {
		name := filepath.ToSlash(strings.TrimPrefix(path, "testdata"+string(filepath.Separator)))
		t.Run(name, func(t *testing.T) {
			tc, ok := fixtureCases[name]
			if !ok {
				t.Fatalf("fixture %s has no case in fixtureCases", name)
			}
			m := normalizeFile(t, path)
			if tc.ignored {
				if m != nil {
					t.Fatalf("Normalize = %+v, want nil for an event that is not projected", m)
				}
				return
			}
			if m == nil {
				t.Fatal("Normalize = nil, want a mutation")
			}
			if m.Source != "jira" || m.Event != tc.event || m.Site != tc.site || m.Actor != tc.actor ||
				m.Version != (cogniscape.Version{At: tc.at, Seq: tc.seq}) {
				t.Errorf("header = {Source:%q Event:%q Site:%q Actor:%q Version:%+v},\nwant {jira %q %q %q {At:%d Seq:%d}}",
					m.Source, m.Event, m.Site, m.Actor, m.Version, tc.event, tc.site, tc.actor, tc.at, tc.seq)
			}
			checkSane(t, m)
			tc.check(got{t, m})
		})
	}
	// Every case names a fixture that exists.
	for name := range fixtureCases {
		if _, err := os.Stat(filepath.Join("testdata", filepath.FromSlash(name))); err != nil {
			t.Errorf("case %s: %v", name, err)
		}
	}
}

// TestNormalizeNoCode checks the privacy promise on the whole corpus: no
// code markup survives anywhere in a mutation.
func TestNormalizeNoCode(t *testing.T) {
	for _, path := range fixtureFiles(t) {
		m := normalizeFile(t, path)
		if m == nil {
			continue
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		s := asciiLower(string(b)) // JSON itself never has "{{"
		for _, marker := range codeMarkers {
			if strings.Contains(s, marker) {
				t.Errorf("%s: mutation contains %q", path, marker)
			}
		}
		for _, code := range []string{"RefundNotifier.retry()", "load/refunds_burst.js", "POST /v2/refunds"} {
			if strings.Contains(string(b), code) {
				t.Errorf("%s: mutation contains code %q", path, code)
			}
		}
	}
}

// checkSane checks what every mutation must satisfy, whatever the body.
func checkSane(t testing.TB, m *cogniscape.Mutation) {
	t.Helper()
	if m.Source != "jira" {
		t.Fatalf("Source = %q", m.Source)
	}
	if m.Event == "" {
		t.Fatal("empty Event")
	}
	checkRef := func(what string, r cogniscape.NodeRef) {
		t.Helper()
		if r.Kind == "" || r.ID == "" {
			t.Fatalf("%s: bad ref %+v", what, r)
		}
		if r.Kind != cogniscape.KindPerson && strings.Trim(r.ID, "0123456789") != "" {
			t.Fatalf("%s: id of %s is not decimal: %q", what, r.Kind, r.ID)
		}
	}
	seen := map[cogniscape.NodeRef]bool{}
	for _, n := range m.Nodes {
		checkRef("node", n.Ref)
		if seen[n.Ref] {
			t.Fatalf("node %+v updated twice", n.Ref)
		}
		seen[n.Ref] = true
		for k, v := range n.Attrs {
			if k == "" || !json.Valid(v) {
				t.Fatalf("node %+v: bad attribute %q = %s", n.Ref, k, v)
			}
		}
	}
	type key struct {
		from cogniscape.NodeRef
		rel  string
	}
	edges := map[key]bool{}
	for _, e := range m.Edges {
		checkRef("edge from", e.From)
		if e.Rel == "" || e.To == nil {
			t.Fatalf("edge %+v: empty rel or nil targets", e)
		}
		if edges[key{e.From, e.Rel}] {
			t.Fatalf("edge %+v %s set twice", e.From, e.Rel)
		}
		edges[key{e.From, e.Rel}] = true
		for _, r := range e.To {
			checkRef("edge to", r)
		}
	}
	for _, c := range m.Changes {
		checkRef("change", c.Node)
		if c.Field == "" {
			t.Fatalf("change without field: %+v", c)
		}
	}
}

func TestNormalizeErrors(t *testing.T) {
	for _, body := range []string{
		``, `   `, `null`, `[]`, `[{"webhookEvent":"jira:issue_created"}]`, `42`, `"jira:issue_created"`, `{`,
		`{}`, `{"webhookEvent":""}`, `{"webhookEvent":5}`, `{"webhookEvent":null}`, `{"timestamp":1}`,
		`{"webhookEvent":"jira:issue_created"} {}`, `{"webhookEvent":"jira:issue_created"}x`,
	} {
		m, err := Normalize([]byte(body))
		if err == nil || m != nil {
			t.Errorf("Normalize(%q) = %+v, %v; want an error", body, m, err)
		}
	}
}

func TestNormalizeIgnored(t *testing.T) {
	for _, event := range []string{
		"board_created", "user_updated", "filter_deleted", "issuetype_created", "option_voting_changed",
		"issue_property_set", "attachment_created", "attachment_deleted", "comment_liked", "something_new",
	} {
		m, err := Normalize([]byte(`{"timestamp":1,"webhookEvent":"` + event + `","issue":{"id":"1","self":"https://x.example/rest/api/2/issue/1"}}`))
		if m != nil || err != nil {
			t.Errorf("%s: Normalize = %+v, %v; want nil, nil", event, m, err)
		}
	}
}

// TestNormalizeTolerant feeds bodies with odd but possible shapes.
func TestNormalizeTolerant(t *testing.T) {
	tests := []struct {
		name, body string
		check      func(g got)
	}{
		{"EmptyIssueEvent", `{"webhookEvent":"jira:issue_updated"}`, func(g got) {
			if len(g.m.Nodes)+len(g.m.Edges)+len(g.m.Changes) != 0 || g.m.Site != "" || g.m.Version != (cogniscape.Version{}) {
				g.t.Errorf("got %+v, want an empty mutation", g.m)
			}
		}},
		{"TimestampStringChangelogNumber", `{"webhookEvent":"jira:issue_updated","timestamp":"1772535739345",
			"issue":{"id":10101,"fields":{}},"changelog":{"id":10875,"items":[{"field":"status","from":3,"to":10001,"fromString":null}]}}`,
			func(g got) {
				if g.m.Version != (cogniscape.Version{At: 1772535739345, Seq: 10875}) {
					g.t.Errorf("Version = %+v", g.m.Version)
				}
				g.node(issue, "10101")
				g.change("status", "", "", "3", "10001")
				g.edge(issue, "10101", "parent") // a full snapshot without parent
			}},
		{"OddTypes", `{"webhookEvent":"jira:issue_updated","user":{"accountId":""},"issue":{"id":"x1","fields":{}}}`, func(g got) {
			if len(g.m.Nodes) != 0 || g.m.Actor != "" {
				g.t.Errorf("got %+v, want nothing: no usable ids", g.m)
			}
		}},
		{"FieldsOddTypes", `{"webhookEvent":"jira:issue_created","issue":{"id":"7","key":7,"fields":{"summary":3,"status":"Done",
			"labels":"a","assignee":{"displayName":"No Id"},"reporter":[],"project":{"key":"P"},"parent":"PAY-1","fixVersions":{},
			"created":"yesterday","resolutiondate":"2026-03-09","priority":null,"customfield_1":[{"id":"x"}]}}}`, func(g got) {
			g.noAttr(issue, "7", "key", "summary", "status", "labels", "created")
			g.attr(issue, "7", "resolution_date", "2026-03-09T00:00:00.000Z")
			g.attr(issue, "7", "priority", nil)
			g.noEdge(issue, "7", "assignee", "reporter", "project", "parent", "fix_version", "sprint")
		}},
		{"SprintClearedByChangelog", `{"webhookEvent":"jira:issue_updated","issue":{"id":"1","fields":{"customfield_10020":null}},
			"changelog":{"id":"5","items":[{"field":"Sprint","fieldId":"customfield_10020","from":"37","to":""}]}}`, func(g got) {
			g.edge(issue, "1", "sprint")
		}},
		{"SprintClearedDataCenter", `{"webhookEvent":"jira:issue_updated","issue":{"id":"1","fields":{"customfield_10104":null}},
			"changelog":{"id":"5","items":[{"field":"Sprint","from":"37","to":null}]}}`, func(g got) {
			g.edge(issue, "1", "sprint")
		}},
		{"SprintObjectsAsStrings", `{"webhookEvent":"jira:issue_updated","issue":{"id":"1","fields":{"customfield_1":[
			{"id":"40","name":"S","state":"CLOSED","boardId":"4","completeDate":"2026-03-16T17:30:02.118+0100"}]}}}`, func(g got) {
			g.edge(issue, "1", "sprint", "sprint:40")
			g.attr(sprint, "40", "state", "closed")
			g.attr(sprint, "40", "complete_date", "2026-03-16T16:30:02.118Z")
			g.edge(sprint, "40", "board", "board:4")
		}},
		{"SprintWithoutUsableID", `{"webhookEvent":"jira:issue_updated","issue":{"id":"1","fields":{"customfield_1":[
			{"id":"37","name":"S","state":"active"},{"id":"x","name":"T","state":"future"}]}}}`, func(g got) {
			g.noEdge(issue, "1", "sprint") // the set is not known: leave it
			g.attr(sprint, "37", "name", "S")
		}},
		{"TrimmedIssueKeepsParent", `{"webhookEvent":"comment_created","issue":{"id":"1","fields":{"summary":"s"}},
			"comment":{"id":"9","body":"x {code}y{code}","author":{"key":"k"}}}`, func(g got) {
			g.noEdge(issue, "1", "parent")
			g.attr(comment, "9", "body", "x")
			g.edge(comment, "9", "issue", "issue:1")
			g.edge(comment, "9", "author", "person:k")
			if g.m.Actor != "k" {
				g.t.Errorf("Actor = %q", g.m.Actor)
			}
		}},
		{"DataCenterCommentDeletedTwin", `{"webhookEvent":"jira:issue_updated","issue_event_type_name":"issue_comment_deleted",
			"user":{"name":"priya.raman"},"issue":{"id":"10102","fields":{}},"comment":{"id":"20553","self":"https://h/rest/api/2/issue/10102/comment/20553"}}`,
			func(g got) {
				g.deleted(comment, "20553", yes)
				g.edge(comment, "20553", "issue", "issue:10102")
				g.attr(person, "priya.raman", "username", "priya.raman") // no key: name is the id
				if g.m.Actor != "priya.raman" || g.m.Site != "https://h" {
					g.t.Errorf("Actor %q Site %q", g.m.Actor, g.m.Site)
				}
			}},
		{"LegacyWorklogUpdated", `{"webhookEvent":"jira:worklog_updated","worklog":{"id":"3","issueId":"1","timeSpentSeconds":"60.5",
			"self":"https://h/rest/api/2/issue/1/worklog/3"}}`, func(g got) {
			g.attr(worklog, "3", "time_spent_seconds", 60.5)
			g.edge(worklog, "3", "issue", "issue:1")
			g.deleted(worklog, "3", nil)
		}},
		{"WorklogIssueFromSelf", `{"webhookEvent":"worklog_deleted","worklog":{"id":"3","self":"https://h/rest/api/2/issue/12/worklog/3"}}`, func(g got) {
			g.edge(worklog, "3", "issue", "issue:12")
			g.deleted(worklog, "3", yes)
		}},
		{"LinkNumbersAsStrings", `{"webhookEvent":"issuelink_created","issueLink":{"id":"0042","sourceIssueId":"1","destinationIssueId":2.0,
			"issueLinkType":{"name":"Epic-Story Link","isSystemLinkType":true}}}`, func(g got) {
			g.attr(link, "42", "system", true)
			g.edge(link, "42", "source", "issue:1")
			g.edge(link, "42", "destination", "issue:2")
		}},
		{"ProjectArchived", `{"webhookEvent":"project_archived","project":{"id":5,"key":"A","projectCategory":{"name":"C"}}}`, func(g got) {
			g.attr(project, "5", "archived", true)
			g.attr(project, "5", "category", "C")
			g.deleted(project, "5", nil)
		}},
		{"ProjectRestoredArchived", `{"webhookEvent":"project_restored_archived","project":{"id":"5"}}`, func(g got) {
			g.attr(project, "5", "archived", false)
		}},
		{"ProjectRestoredDeleted", `{"webhookEvent":"project_restored_deleted","project":{"id":"5"}}`, func(g got) {
			g.deleted(project, "5", no)
		}},
		{"VersionMergedWithoutMergedTo", `{"webhookEvent":"jira:version_merged","version":{"id":"8","projectId":"1"}}`, func(g got) {
			g.deleted(version, "8", yes)
			g.noAttr(version, "8", "merged_to")
		}},
		{"SprintEventLocalTimes", `{"webhookEvent":"sprint_closed","sprint":{"id":"37","state":"CLOSED","originBoardId":3,
			"completeDate":"2026-03-16T17:30:02.118+01:00","createdDate":1772201112031}}`, func(g got) {
			g.attr(sprint, "37", "state", "closed")
			g.attr(sprint, "37", "complete_date", "2026-03-16T16:30:02.118Z")
			g.attr(sprint, "37", "created_date", "2026-02-27T14:05:12.031Z")
		}},
		{"SiteFromNestedSelf", `{"webhookEvent":"issuelink_created","issueLink":{"id":1,"issueLinkType":{"self":"HTTPS://Jira.Example:8443/rest/api/2/issueLinkType/1"}}}`,
			func(g got) {
				if g.m.Site != "https://jira.example:8443" {
					g.t.Errorf("Site = %q", g.m.Site)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Normalize([]byte(tt.body))
			if err != nil || m == nil {
				t.Fatalf("Normalize = %+v, %v", m, err)
			}
			checkSane(t, m)
			tt.check(got{t, m})
		})
	}
}

func TestNormTime(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{"2026-03-04T09:12:44.123+0000", "2026-03-04T09:12:44.123Z"},
		{"2026-03-03T12:02:19.345+0100", "2026-03-03T11:02:19.345Z"},
		{"2026-03-02T10:00:00.000+01:00", "2026-03-02T09:00:00.000Z"},
		{"2026-03-02T09:00:00.000Z", "2026-03-02T09:00:00.000Z"},
		{"2026-03-02T09:00:00Z", "2026-03-02T09:00:00.000Z"},
		{"2026-03-02T09:00:00-0530", "2026-03-02T14:30:00.000Z"},
		{"2026-03-02T09:00:00.5", "2026-03-02T09:00:00.500Z"},
		{"2026-03-02 09:00:00+0000", "2026-03-02T09:00:00.000Z"},
		{" 2026-03-02T09:00:00Z ", "2026-03-02T09:00:00.000Z"},
		{json.Number("1772535739345"), "2026-03-03T11:02:19.345Z"},
		{"", ""}, {"17/Mar/26", ""}, {"2026-13-01T00:00:00Z", ""}, {nil, ""}, {true, ""},
		{json.Number("1e300"), ""},
	}
	for _, tt := range tests {
		got, ok := normTime(tt.in)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("normTime(%#v) = %q, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
}

func TestIDOf(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{"10101", "10101"}, {json.Number("10000"), "10000"}, {" 37 ", "37"}, {"0042", "42"}, {"0", "0"},
		{json.Number("2.0"), "2"}, {json.Number("1e4"), "10000"},
		{json.Number("2.5"), ""}, {json.Number("-1"), ""}, {"-1", ""}, {"PAY-1", ""}, {"", ""}, {nil, ""},
		{true, ""}, {map[string]any{}, ""}, {json.Number("1e300"), ""},
	}
	for _, tt := range tests {
		if got := idOf(tt.in); got != tt.want {
			t.Errorf("idOf(%#v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseGreenHopperSprint(t *testing.T) {
	s, ok := parseGreenHopperSprint("com.atlassian.greenhopper.service.sprint.Sprint@6f3a1c2e[id=37,rapidViewId=3,state=ACTIVE," +
		"name=PAY Sprint 14, part 2,startDate=2026-03-02T10:00:00.000+01:00,completeDate=<null>,sequence=37,goal=a=b,synced=false]")
	if !ok {
		t.Fatal("not recognised")
	}
	want := map[string]any{"id": "37", "boardId": "3", "state": "ACTIVE", "name": "PAY Sprint 14, part 2",
		"startDate": "2026-03-02T10:00:00.000+01:00", "sequence": "37", "goal": "a=b", "synced": "false"}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("got %v\nwant %v", s, want)
	}
	for _, bad := range []string{"", "PAY-90", "Sprint@1[id=1", "com.atlassian.greenhopper.service.sprint.Sprint@1[name=x]", "[id=1]"} {
		if _, ok := parseGreenHopperSprint(bad); ok {
			t.Errorf("%q recognised as a sprint", bad)
		}
	}
}

func FuzzNormalize(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no fixtures: %v", err)
	}
	for _, path := range files {
		body, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body)
	}
	for _, s := range []string{
		`{"webhookEvent":"jira:issue_updated","issue":{"id":1,"fields":{"customfield_1":["x.sprint.Sprint@1[id=2,rapidViewId=,state=]"]}}}`,
		`{"webhookEvent":"sprint_started","sprint":{"id":1e3,"startDate":1e300,"originBoardId":"-1"}}`,
		`{"webhookEvent":"worklog_created","worklog":{"id":"1","timeSpentSeconds":"NaN"}}`,
		`{"webhookEvent":"comment_deleted","comment":{"id":"1","self":"/issue/007/comment/1"},"issue":[]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := Normalize(body)
		if err != nil {
			if m != nil {
				t.Fatalf("both a mutation and an error: %v", err)
			}
			return
		}
		if m == nil {
			return // not projected
		}
		checkSane(t, m)
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("mutation does not encode: %v", err)
		}
		// Deterministic: the same body gives the same mutation.
		m2, _ := Normalize(body)
		if b2, _ := json.Marshal(m2); string(b) != string(b2) {
			t.Fatalf("not deterministic:\n%s\n%s", b, b2)
		}
	})
}

// TestNormalizeTypeSwaps replaces, one at a time, every value in every
// fixture with a value of another type, and checks that Normalize neither
// panics nor produces a malformed mutation: Jira's types are inconsistent
// enough that any field may come in any shape.
func TestNormalizeTypeSwaps(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: thousands of bodies")
	}
	swaps := []any{nil, "x", json.Number("-1.5"), true, map[string]any{}, []any{"y"}}
	for _, path := range fixtureFiles(t) {
		body, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var root any
		dec := json.NewDecoder(strings.NewReader(string(body)))
		dec.UseNumber()
		if err := dec.Decode(&root); err != nil {
			t.Fatal(err)
		}
		n := 0
		visitValues(root, func(set func(any)) {
			for _, v := range swaps {
				set(v)
				b, err := json.Marshal(root)
				if err != nil {
					t.Fatal(err)
				}
				m, err := Normalize(b)
				if err == nil && m != nil {
					checkSane(t, m)
				}
				n++
			}
		})
		if n == 0 {
			t.Errorf("%s: no values visited", path)
		}
	}
}

// visitValues calls visit for every value below v (not v itself), with a
// function that replaces that value; the original is put back afterwards.
// Avatar URL maps are skipped: nothing reads them.
func visitValues(v any, visit func(set func(any))) {
	switch x := v.(type) {
	case map[string]any:
		for k, old := range x {
			if k == "avatarUrls" {
				continue
			}
			visit(func(nv any) { x[k] = nv })
			x[k] = old
			visitValues(old, visit)
		}
	case []any:
		for i, old := range x {
			visit(func(nv any) { x[i] = nv })
			x[i] = old
			visitValues(old, visit)
		}
	}
}

// Identifiers no Jira would send (a NUL, invalid UTF-8, thousands of bytes)
// become no identifier at all: they are parts of node keys and index
// entries, which a store could not keep as read.
func TestNormalizeDropsImpossibleIdentifiers(t *testing.T) {
	long := strings.Repeat("k", 4000)
	body := `{"webhookEvent":"jira:issue_updated","timestamp":1772535739345,
		"user":{"accountId":"bob\u0000"},
		"issue":{"id":"10101","key":"` + long + `","self":"https://acme.atlassian.net/rest/api/2/issue/10101",
			"fields":{"summary":"s","assignee":{"accountId":"` + long + `"},"reporter":{"accountId":"ok-person"},
				"project":{"id":"10000","key":"PAY\u0000"}}},
		"changelog":{"id":"1","items":[{"field":"` + long + `","fromString":"a","toString":"b"},{"field":"status","fromString":"To Do","toString":"Done"}]}}`
	m, err := Normalize([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range m.Nodes {
		if n.Ref.Kind == cogniscape.KindPerson && n.Ref.ID != "ok-person" {
			t.Errorf("person %.40q kept", n.Ref.ID)
		}
		if raw, ok := n.Attrs["key"]; ok && len(raw) > 300 || ok && strings.Contains(string(raw), `\u0000`) {
			t.Errorf("%s %s kept the key %.40s", n.Ref.Kind, n.Ref.ID, raw)
		}
	}
	if m.Actor != "" {
		t.Errorf("actor %q kept", m.Actor)
	}
	if len(m.Changes) != 1 || m.Changes[0].Field != "status" {
		t.Errorf("changes = %+v", m.Changes)
	}
}
