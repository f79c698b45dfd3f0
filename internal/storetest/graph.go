package storetest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cogniscape/cogniscape"
)

// site is the Jira site of the scenario.
const site = "https://acme.atlassian.net"

// t0 is the scenario's first moment, Unix ms.
var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC).UnixMilli()

func ref(k cogniscape.Kind, id string) cogniscape.NodeRef { return cogniscape.NodeRef{Kind: k, ID: id} }

func attrs(kv ...any) map[string]json.RawMessage {
	m := map[string]json.RawMessage{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(string)] = cogniscape.Attr(kv[i+1])
	}
	return m
}

func edge(from cogniscape.NodeRef, rel string, to ...cogniscape.NodeRef) cogniscape.EdgeUpdate {
	return cogniscape.EdgeUpdate{From: from, Rel: rel, To: to}
}

// scenario is a small team's week as normalised mutations, in the order it
// happened: a project, three issues, a sprint, a status move, a comment, an
// issue link (which names no site, as Jira's do not) and a reassignment.
func scenario() []*cogniscape.Mutation {
	v := func(sec, seq int64) cogniscape.Version { return cogniscape.Version{At: t0 + sec*1000, Seq: seq} }
	created := func(sec int64) string { return time.UnixMilli(t0 + sec*1000).UTC().Format(time.RFC3339) }
	project, alice, bob := ref(cogniscape.KindProject, "10000"), ref(cogniscape.KindPerson, "alice"), ref(cogniscape.KindPerson, "bob")
	pay1, pay2, pay3 := ref(cogniscape.KindIssue, "10001"), ref(cogniscape.KindIssue, "10002"), ref(cogniscape.KindIssue, "10003")
	sprint, comment, link := ref(cogniscape.KindSprint, "5"), ref(cogniscape.KindComment, "200"), ref(cogniscape.KindLink, "300")
	people := []cogniscape.NodeUpdate{{Ref: alice, Attrs: attrs("name", "Alice Liddell")}, {Ref: bob, Attrs: attrs("name", "Bob Builder")}}
	return []*cogniscape.Mutation{
		{Source: "jira", Site: site, Event: "project_created", Version: v(0, 0), Actor: "alice",
			Nodes: []cogniscape.NodeUpdate{{Ref: project, Attrs: attrs("key", "PAY", "name", "Payments")}, people[0]},
			Edges: []cogniscape.EdgeUpdate{edge(project, cogniscape.RelLead, alice)}},
		{Source: "jira", Site: site, Event: "jira:issue_created", Version: v(1, 0), Actor: "alice",
			Nodes: append([]cogniscape.NodeUpdate{{Ref: pay1, Attrs: attrs("key", "PAY-1", "summary", "Fix login timeout", "status", "To Do",
				"status_id", "10", "status_category", "new", "description", "Users are logged out after a minute", "created", created(1))}}, people...),
			Edges: []cogniscape.EdgeUpdate{edge(pay1, cogniscape.RelProject, project), edge(pay1, cogniscape.RelReporter, alice), edge(pay1, cogniscape.RelAssignee, bob)}},
		{Source: "jira", Site: site, Event: "jira:issue_created", Version: v(2, 0), Actor: "bob",
			Nodes: []cogniscape.NodeUpdate{{Ref: pay2, Attrs: attrs("key", "PAY-2", "summary", "Add refunds", "status", "To Do", "status_id", "10",
				"status_category", "new", "created", created(2))},
				{Ref: sprint, Attrs: attrs("name", "Sprint 5", "state", "active", "goal", "Ship refunds")}},
			Edges: []cogniscape.EdgeUpdate{edge(pay2, cogniscape.RelProject, project), edge(pay2, cogniscape.RelAssignee, alice), edge(pay2, cogniscape.RelSprint, sprint)}},
		{Source: "jira", Site: site, Event: "jira:issue_updated", Version: v(3, 100), Actor: "bob",
			Nodes: []cogniscape.NodeUpdate{{Ref: pay1, Attrs: attrs("status", "In Progress", "status_id", "20", "status_category", "indeterminate")}},
			Edges: []cogniscape.EdgeUpdate{edge(pay1, cogniscape.RelSprint, sprint)},
			Changes: []cogniscape.Change{{Node: pay1, Field: "status", From: "To Do", To: "In Progress", FromID: "10", ToID: "20"},
				{Node: pay1, Field: "Sprint", From: "", To: "Sprint 5", ToID: "5"}}},
		{Source: "jira", Site: site, Event: "comment_created", Version: v(4, 0), Actor: "alice",
			Nodes: []cogniscape.NodeUpdate{{Ref: comment, Attrs: attrs("body", "Looks good to me", "created", created(4))}},
			Edges: []cogniscape.EdgeUpdate{edge(comment, cogniscape.RelIssue, pay1), edge(comment, cogniscape.RelAuthor, alice)}},
		{Source: "jira", Site: "", Event: "issuelink_created", Version: v(5, 0),
			Nodes: []cogniscape.NodeUpdate{{Ref: link, Attrs: attrs("type", "Blocks")}},
			Edges: []cogniscape.EdgeUpdate{edge(link, cogniscape.RelSource, pay2), edge(link, cogniscape.RelDestination, pay1)}},
		{Source: "jira", Site: site, Event: "jira:issue_created", Version: v(6, 0), Actor: "alice",
			Nodes: []cogniscape.NodeUpdate{{Ref: pay3, Attrs: attrs("key", "PAY-3", "summary", "Refund report", "status", "Done", "status_id", "30",
				"status_category", "done", "created", created(6))}},
			Edges: []cogniscape.EdgeUpdate{edge(pay3, cogniscape.RelProject, project), edge(pay3, cogniscape.RelAssignee, bob)}},
		{Source: "jira", Site: site, Event: "jira:issue_updated", Version: v(7, 101), Actor: "alice",
			Edges:   []cogniscape.EdgeUpdate{edge(pay3, cogniscape.RelAssignee, alice)},
			Nodes:   []cogniscape.NodeUpdate{{Ref: pay3}},
			Changes: []cogniscape.Change{{Node: pay3, Field: "assignee", From: "Bob Builder", To: "Alice Liddell", FromID: "bob", ToID: "alice"}}},
	}
}

// issueKeys lists the keys of the issues the read API lists for f.
func issueKeys(t *testing.T, s cogniscape.Store, customerID int64, f cogniscape.IssueFilter) []string {
	t.Helper()
	rows, _, err := cogniscape.Reader{Store: s}.Issues(ctx, customerID, f)
	if err != nil {
		t.Fatalf("Issues(%+v): %v", f, err)
	}
	var keys []string
	for _, row := range rows {
		keys = append(keys, row.Key)
	}
	return keys
}

func keysOf(ns []*cogniscape.Node) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.String("key"))
	}
	return out
}

func testGraph(t *testing.T, s cogniscape.Store) {
	a, _ := customer(t, s, "A")
	evs := appendMutations(t, s, a.ID, scenario(), "g")
	if n := project(t, s, 3); n != len(evs) {
		t.Fatalf("projected %d events, want %d", n, len(evs))
	}
	if lag := must(s.ProjectionLag(ctx))(t); lag != 0 {
		t.Errorf("lag %d after projection", lag)
	}

	// Nodes by key, by id, by identity.
	pay1 := must(s.FindNode(ctx, a.ID, cogniscape.KindIssue, "pay-1"))(t)
	if pay1.Key != (cogniscape.NodeKey{Site: site, Kind: cogniscape.KindIssue, ID: "10001"}) || pay1.String("summary") != "Fix login timeout" ||
		pay1.String("status") != "In Progress" || pay1.StoreID == 0 {
		t.Fatalf("FindNode(pay-1) = %+v", pay1)
	}
	if byID := must(s.FindNode(ctx, a.ID, cogniscape.KindIssue, "10001"))(t); byID.StoreID != pay1.StoreID {
		t.Errorf("FindNode by id = %d, by key = %d", byID.StoreID, pay1.StoreID)
	}
	_, err := s.FindNode(ctx, a.ID, cogniscape.KindIssue, "PAY-99")
	wantCode(t, "FindNode(unknown)", err, cogniscape.ENOTFOUND)
	proj := must(s.FindNode(ctx, a.ID, cogniscape.KindProject, "PAY"))(t)
	if proj.String("name") != "Payments" {
		t.Errorf("project = %+v", proj)
	}
	pay2 := must(s.NodeByKey(ctx, a.ID, cogniscape.NodeKey{Site: site, Kind: cogniscape.KindIssue, ID: "10002"}))(t)
	pay3 := must(s.FindNode(ctx, a.ID, cogniscape.KindIssue, "PAY-3"))(t)
	_, err = s.NodeByKey(ctx, a.ID, cogniscape.NodeKey{Site: "https://other.atlassian.net", Kind: cogniscape.KindIssue, ID: "10002"})
	wantCode(t, "NodeByKey(other site)", err, cogniscape.ENOTFOUND)
	alice := must(s.FindNode(ctx, a.ID, cogniscape.KindPerson, "alice"))(t)
	bob := must(s.FindNode(ctx, a.ID, cogniscape.KindPerson, "bob"))(t)
	sprint := must(s.FindNode(ctx, a.ID, cogniscape.KindSprint, "5"))(t)
	// The link event named no site: it lands on the site that has its issues.
	link := must(s.NodeByKey(ctx, a.ID, cogniscape.NodeKey{Site: site, Kind: cogniscape.KindLink, ID: "300"}))(t)
	if link.String("type") != "Blocks" {
		t.Errorf("link = %+v", link)
	}
	nodes := must(s.Nodes(ctx, a.ID, []int64{pay1.StoreID, pay2.StoreID, alice.StoreID}))(t)
	if got := idsOf(nodes); !slices.Equal(got, []string{"10001", "10002", "alice"}) {
		t.Errorf("Nodes = %v", got)
	}
	if got := must(s.Nodes(ctx, a.ID, nil))(t); len(got) != 0 {
		t.Errorf("Nodes(nil) = %v", got)
	}

	// Relations.
	edges := must(s.EdgesFrom(ctx, a.ID, pay1.StoreID, cogniscape.RelAssignee))(t)
	if len(edges) != 1 || edges[0].Dst != bob.StoreID || edges[0].Src != pay1.StoreID || !edges[0].Since.Equal(time.UnixMilli(t0+1000).UTC()) {
		t.Errorf("PAY-1 assignee edges = %+v", edges)
	}
	all := must(s.EdgesFrom(ctx, a.ID, pay1.StoreID, ""))(t)
	rels := map[string]int64{}
	for _, e := range all {
		rels[e.Rel] = e.Dst
	}
	if len(all) != 4 || rels[cogniscape.RelProject] != proj.StoreID || rels[cogniscape.RelReporter] != alice.StoreID || rels[cogniscape.RelSprint] != sprint.StoreID {
		t.Errorf("PAY-1 edges = %+v", all)
	}
	in := must(s.EdgesTo(ctx, a.ID, pay1.StoreID, ""))(t)
	if len(in) != 2 {
		t.Errorf("edges into PAY-1 = %+v, want the comment and the link", in)
	}
	if got := must(s.EdgesTo(ctx, a.ID, pay1.StoreID, cogniscape.RelDestination))(t); len(got) != 1 || got[0].Src != link.StoreID {
		t.Errorf("link into PAY-1 = %+v", got)
	}
	issues := []int64{pay1.StoreID, pay2.StoreID, pay3.StoreID}
	if got := must(s.NodesInto(ctx, a.ID, issues, cogniscape.RelIssue, cogniscape.KindComment))(t); len(got) != 1 ||
		got[0].Key.Kind != cogniscape.KindComment {
		t.Errorf("comments into the issues = %v", idsOf(got))
	}
	if got := must(s.NodesInto(ctx, a.ID, issues, cogniscape.RelIssue, cogniscape.KindWorklog))(t); len(got) != 0 {
		t.Errorf("worklogs into the issues = %v, want none", idsOf(got))
	}
	if got := must(s.NodesInto(ctx, a.ID, []int64{pay1.StoreID}, cogniscape.RelDestination, cogniscape.KindLink))(t); len(got) != 1 ||
		got[0].StoreID != link.StoreID {
		t.Errorf("links into PAY-1 = %v", idsOf(got))
	}
	if got := must(s.NodesInto(ctx, a.ID, nil, cogniscape.RelIssue, cogniscape.KindComment))(t); len(got) != 0 {
		t.Errorf("NodesInto(nil) = %v", idsOf(got))
	}
	if got := must(s.EdgesTo(ctx, a.ID, bob.StoreID, cogniscape.RelAssignee))(t); len(got) != 1 || got[0].Src != pay1.StoreID {
		t.Errorf("assigned to bob = %+v (PAY-3 moved to alice)", got)
	}
	if got := must(s.EdgesTo(ctx, a.ID, alice.StoreID, cogniscape.RelAssignee))(t); len(got) != 2 {
		t.Errorf("assigned to alice = %+v", got)
	}

	// History.
	changes := must(s.Changes(ctx, a.ID, pay1.StoreID))(t)
	if len(changes) != 2 || changes[0].Field != "status" || changes[0].From != "To Do" || changes[0].To != "In Progress" ||
		changes[0].FromID != "10" || changes[0].ToID != "20" || changes[0].Actor != "bob" || changes[0].Seq != 100 ||
		!changes[0].At.Equal(time.UnixMilli(t0+3000).UTC()) || changes[0].EventID != evs[3].ID || changes[0].Node != pay1.StoreID ||
		changes[1].Field != "Sprint" {
		t.Errorf("Changes(PAY-1) = %+v", changes)
	}
	if got := must(s.ChangesOfField(ctx, a.ID, "STATUS", time.Time{}))(t); len(got) != 1 || got[0].Node != pay1.StoreID {
		t.Errorf("ChangesOfField(STATUS) = %+v", got)
	}
	if got := must(s.ChangesOfField(ctx, a.ID, "status", time.UnixMilli(t0+3001)))(t); len(got) != 0 {
		t.Errorf("ChangesOfField since later = %+v", got)
	}
	if got := must(s.ChangesOfField(ctx, a.ID, "Assignee", time.Time{}))(t); len(got) != 1 || got[0].Node != pay3.StoreID || got[0].Actor != "alice" {
		t.Errorf("ChangesOfField(Assignee) = %+v", got)
	}
	if got := must(s.ChangesOfNodes(ctx, a.ID, issues, "STATUS"))(t); len(got) != 1 || got[0].Node != pay1.StoreID || got[0].To != "In Progress" {
		t.Errorf("ChangesOfNodes(STATUS) = %+v", got)
	}
	if got := must(s.ChangesOfNodes(ctx, a.ID, []int64{pay1.StoreID, pay3.StoreID}, "assignee"))(t); len(got) != 1 || got[0].Node != pay3.StoreID {
		t.Errorf("ChangesOfNodes(assignee) = %+v", got)
	}
	if got := must(s.ChangesOfNodes(ctx, a.ID, []int64{pay2.StoreID}, "status"))(t); len(got) != 0 {
		t.Errorf("ChangesOfNodes(PAY-2) = %+v", got)
	}
	if got := must(s.SprintChanges(ctx, a.ID, "5", time.Time{}))(t); len(got) != 1 || got[0].Node != pay1.StoreID || got[0].To != "Sprint 5" {
		t.Errorf("SprintChanges(5) = %+v", got)
	}
	if got := must(s.SprintChanges(ctx, a.ID, "50", time.Time{}))(t); len(got) != 0 {
		t.Errorf("SprintChanges(50) = %+v", got)
	}
	if got := must(s.ChangesByActor(ctx, a.ID, site, "bob", time.Time{}))(t); len(got) != 2 {
		t.Errorf("ChangesByActor(bob) = %+v", got)
	}
	if got := must(s.ChangesByActor(ctx, a.ID, "https://other.atlassian.net", "bob", time.Time{}))(t); len(got) != 0 {
		t.Errorf("ChangesByActor(bob of another site) = %+v", got)
	}
	if got := must(s.ProjectChanges(ctx, a.ID, proj.StoreID, "Status"))(t); len(got) != 1 || got[0].To != "In Progress" {
		t.Errorf("ProjectChanges = %+v", got)
	}
	facts := must(s.ProjectIssues(ctx, a.ID, proj.StoreID))(t)
	slices.SortFunc(facts, func(x, y cogniscape.IssueFact) int { return cmpString(x.Key, y.Key) })
	if len(facts) != 3 || facts[0].Key != "PAY-1" || facts[0].Status != "20" || facts[0].StatusCategory != "indeterminate" ||
		!facts[0].CreatedAt.Equal(time.UnixMilli(t0+1000).UTC()) || facts[2].StatusCategory != "done" || facts[0].Deleted {
		t.Errorf("ProjectIssues = %+v", facts)
	}
	sources := must(s.Sources(ctx, a.ID, []int64{pay1.StoreID}, 100))(t)
	if len(sources) != 2 || sources[0].EventID != evs[1].ID || sources[1].EventID != evs[3].ID || sources[1].Event != "jira:issue_updated" {
		t.Errorf("Sources(PAY-1) = %+v", sources)
	}

	// Issue lists: most recently active first, filtered, paged. The read
	// API finds a filter's project, assignee and sprint; the store lists by
	// their nodes.
	for _, c := range []struct {
		f    cogniscape.IssueFilter
		want []string
	}{
		{cogniscape.IssueFilter{}, []string{"PAY-3", "PAY-1", "PAY-2"}},
		{cogniscape.IssueFilter{Project: "pay"}, []string{"PAY-3", "PAY-1", "PAY-2"}},
		{cogniscape.IssueFilter{Project: "10000"}, []string{"PAY-3", "PAY-1", "PAY-2"}},
		{cogniscape.IssueFilter{Project: "NOPE"}, nil},
		{cogniscape.IssueFilter{StatusCategory: "new"}, []string{"PAY-2"}},
		{cogniscape.IssueFilter{StatusCategory: "indeterminate"}, []string{"PAY-1"}},
		{cogniscape.IssueFilter{Assignee: "alice"}, []string{"PAY-3", "PAY-2"}},
		{cogniscape.IssueFilter{Assignee: "bob"}, []string{"PAY-1"}},
		{cogniscape.IssueFilter{Sprint: "5"}, []string{"PAY-1", "PAY-2"}},
		{cogniscape.IssueFilter{Query: "REFUND"}, []string{"PAY-3", "PAY-2"}},
		{cogniscape.IssueFilter{Query: "pay-1"}, []string{"PAY-1"}},
		{cogniscape.IssueFilter{Query: "%"}, nil},
		{cogniscape.IssueFilter{Query: "_"}, nil},
		{cogniscape.IssueFilter{Assignee: "alice", StatusCategory: "done", Project: "PAY"}, []string{"PAY-3"}},
	} {
		if got := issueKeys(t, s, a.ID, c.f); !slices.Equal(got, c.want) {
			t.Errorf("Issues(%+v) = %v, want %v", c.f, got, c.want)
		}
	}
	for _, c := range []struct {
		q    cogniscape.IssueQuery
		want []string
	}{
		{cogniscape.IssueQuery{Project: proj.StoreID}, []string{"PAY-3", "PAY-1", "PAY-2"}},
		{cogniscape.IssueQuery{Assignee: bob.StoreID}, []string{"PAY-1"}},
		{cogniscape.IssueQuery{Sprint: sprint.StoreID, StatusCategory: "new"}, []string{"PAY-2"}},
		{cogniscape.IssueQuery{Project: proj.StoreID, Assignee: alice.StoreID, Sprint: sprint.StoreID}, []string{"PAY-2"}},
		{cogniscape.IssueQuery{Sprint: alice.StoreID}, nil},
	} {
		ns, _, err := s.Issues(ctx, a.ID, c.q)
		if err != nil {
			t.Fatalf("store Issues(%+v): %v", c.q, err)
		}
		if got := keysOf(ns); !slices.Equal(got, c.want) {
			t.Errorf("store Issues(%+v) = %v, want %v", c.q, got, c.want)
		}
	}
	var paged []string
	cursor := ""
	for page := 0; page < 5; page++ {
		ns, next, err := s.Issues(ctx, a.ID, cogniscape.IssueQuery{Limit: 1, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, keysOf(ns)...)
		if next == "" {
			break
		}
		cursor = next
	}
	if !slices.Equal(paged, []string{"PAY-3", "PAY-1", "PAY-2"}) {
		t.Errorf("paged issues = %v", paged)
	}
	_, _, err = s.Issues(ctx, a.ID, cogniscape.IssueQuery{Cursor: "not a cursor!"})
	wantCode(t, "Issues(bad cursor)", err, cogniscape.EINVALID)

	// Activity: newest first.
	act := must(s.Activity(ctx, a.ID, time.Time{}, 100))(t)
	if len(act) != 8 {
		t.Fatalf("Activity = %d items, want 8", len(act))
	}
	if act[0].Event != "jira:issue_updated" || act[0].Entity.Key.ID != "10003" || act[0].Actor != "alice" || len(act[0].Changes) != 1 ||
		act[0].Changes[0].Field != "assignee" || !act[0].At.Equal(time.UnixMilli(t0+7000).UTC()) || act[0].EventID != evs[7].ID {
		t.Errorf("newest activity = %+v", act[0])
	}
	if act[2].Entity.Key.Kind != cogniscape.KindLink || act[7].Event != "project_created" || act[7].Entity.String("key") != "PAY" {
		t.Errorf("activity = %+v ... %+v", act[2], act[7])
	}
	if got := must(s.Activity(ctx, a.ID, time.UnixMilli(t0+6000), 100))(t); len(got) != 2 {
		t.Errorf("Activity since t0+6s = %d items", len(got))
	}
	if got := must(s.Activity(ctx, a.ID, time.Time{}, 3))(t); len(got) != 3 || got[0].EventID != evs[7].ID {
		t.Errorf("Activity limit 3 = %d items", len(got))
	}

	// Search.
	search := func(q string, kind cogniscape.Kind) []string {
		t.Helper()
		hits, err := s.Search(ctx, a.ID, q, kind, 10)
		if err != nil {
			t.Fatalf("Search(%q): %v", q, err)
		}
		var ids []string
		for _, h := range hits {
			ids = append(ids, h.Node.Key.ID)
		}
		slices.Sort(ids)
		return ids
	}
	for _, c := range []struct {
		q    string
		kind cogniscape.Kind
		want []string
	}{
		{"refund", "", []string{"10003"}},
		{"refund*", cogniscape.KindIssue, []string{"10002", "10003"}},
		{"refund*", cogniscape.KindSprint, []string{"5"}},
		{"LOGIN", cogniscape.KindIssue, []string{"10001"}},
		{"logged out", "", []string{"10001"}},
		{"looks good", "", []string{"200"}},
		{"PAY-1", cogniscape.KindIssue, []string{"10001"}},
		{"alic*", "", []string{"alice"}},
		{"refund login", "", nil},
		{`"); DROP TABLE nodes; --`, "", nil},
		{"", "", nil},
	} {
		if got := search(c.q, c.kind); !slices.Equal(got, c.want) {
			t.Errorf("Search(%q, %q) = %v, want %v", c.q, c.kind, got, c.want)
		}
	}
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Customer B never sees anything of customer A's: the same answers as for
// things that do not exist.
func testTenantScoping(t *testing.T, s cogniscape.Store) {
	a, _ := customer(t, s, "A")
	b, credsB := customer(t, s, "B")
	evs := appendMutations(t, s, a.ID, scenario(), "t")
	check(t, s.Quarantine(ctx, a.ID, cogniscape.Delivery{ReceivedAt: time.Now(), Reason: "bad"}, []byte("x")))
	project(t, s, 100)
	pay1 := must(s.FindNode(ctx, a.ID, cogniscape.KindIssue, "PAY-1"))(t)
	proj := must(s.FindNode(ctx, a.ID, cogniscape.KindProject, "PAY"))(t)

	_, err := s.FindNode(ctx, b.ID, cogniscape.KindIssue, "PAY-1")
	wantCode(t, "B FindNode(A's issue)", err, cogniscape.ENOTFOUND)
	_, err = s.FindNode(ctx, b.ID, cogniscape.KindIssue, "10001")
	wantCode(t, "B FindNode(A's issue id)", err, cogniscape.ENOTFOUND)
	_, err = s.NodeByKey(ctx, b.ID, pay1.Key)
	wantCode(t, "B NodeByKey(A's issue)", err, cogniscape.ENOTFOUND)
	if got := must(s.Nodes(ctx, b.ID, []int64{pay1.StoreID, proj.StoreID}))(t); len(got) != 0 {
		t.Errorf("B Nodes(A's) = %v", got)
	}
	if got := must(s.EdgesFrom(ctx, b.ID, pay1.StoreID, ""))(t); len(got) != 0 {
		t.Errorf("B EdgesFrom(A's) = %v", got)
	}
	if got := must(s.EdgesTo(ctx, b.ID, pay1.StoreID, ""))(t); len(got) != 0 {
		t.Errorf("B EdgesTo(A's) = %v", got)
	}
	if got := must(s.Changes(ctx, b.ID, pay1.StoreID))(t); len(got) != 0 {
		t.Errorf("B Changes(A's) = %v", got)
	}
	if got := must(s.ChangesOfNodes(ctx, b.ID, []int64{pay1.StoreID}, "status"))(t); len(got) != 0 {
		t.Errorf("B ChangesOfNodes(A's) = %v", got)
	}
	if got := must(s.NodesInto(ctx, b.ID, []int64{pay1.StoreID}, cogniscape.RelIssue, cogniscape.KindComment))(t); len(got) != 0 {
		t.Errorf("B NodesInto(A's) = %v", got)
	}
	if got := must(s.ChangesOfField(ctx, b.ID, "status", time.Time{}))(t); len(got) != 0 {
		t.Errorf("B ChangesOfField = %v", got)
	}
	if got := must(s.SprintChanges(ctx, b.ID, "5", time.Time{}))(t); len(got) != 0 {
		t.Errorf("B SprintChanges = %v", got)
	}
	if got := must(s.ChangesByActor(ctx, b.ID, site, "bob", time.Time{}))(t); len(got) != 0 {
		t.Errorf("B ChangesByActor = %v", got)
	}
	if got := must(s.ProjectIssues(ctx, b.ID, proj.StoreID))(t); len(got) != 0 {
		t.Errorf("B ProjectIssues(A's) = %v", got)
	}
	if got := must(s.ProjectChanges(ctx, b.ID, proj.StoreID, "status"))(t); len(got) != 0 {
		t.Errorf("B ProjectChanges(A's) = %v", got)
	}
	if got := must(s.Sources(ctx, b.ID, []int64{pay1.StoreID}, 100))(t); len(got) != 0 {
		t.Errorf("B Sources(A's) = %v", got)
	}
	if ns, next, err := s.Issues(ctx, b.ID, cogniscape.IssueQuery{}); err != nil || len(ns) != 0 || next != "" {
		t.Errorf("B Issues = %v %q %v", ns, next, err)
	}
	if ns, _, err := s.Issues(ctx, b.ID, cogniscape.IssueQuery{Project: proj.StoreID}); err != nil || len(ns) != 0 {
		t.Errorf("B Issues(A's project) = %v %v", ns, err)
	}
	if rows, _, err := (cogniscape.Reader{Store: s}).Issues(ctx, b.ID, cogniscape.IssueFilter{Project: "PAY"}); err != nil || len(rows) != 0 {
		t.Errorf("B Issues(project PAY) = %v %v", rows, err)
	}
	if got := must(s.Activity(ctx, b.ID, time.Time{}, 100))(t); len(got) != 0 {
		t.Errorf("B Activity = %v", got)
	}
	if got := must(s.Search(ctx, b.ID, "refund*", "", 10))(t); len(got) != 0 {
		t.Errorf("B Search = %v", got)
	}
	if got := must(s.Deliveries(ctx, b.ID, cogniscape.DeliveryFilter{}))(t); len(got) != 0 {
		t.Errorf("B Deliveries = %v", got)
	}
	ds := must(s.Deliveries(ctx, a.ID, cogniscape.DeliveryFilter{Outcome: cogniscape.OutcomeQuarantined}))(t)
	_, err = s.QuarantinedBody(ctx, b.ID, ds[0].ID)
	wantCode(t, "B QuarantinedBody(A's)", err, cogniscape.ENOTFOUND)
	if got := must(s.PendingEvents(ctx, b.ID, 100))(t); len(got) != 0 {
		t.Errorf("B PendingEvents = %v", got)
	}
	if d := digest(t, s, b.ID); d != emptyDigest {
		t.Errorf("B's digest is not the empty graph's")
	}
	// B's token authenticates B, never A; B's secret is not A's.
	if c := must(s.CustomerByAPIToken(ctx, credsB.APIToken))(t); c.ID != b.ID {
		t.Errorf("B's token authenticates customer %d", c.ID)
	}
	if _, sec, _, _ := s.JiraSecret(ctx, a.Key); string(sec) == credsB.JiraSecret {
		t.Error("A and B share a secret")
	}
	// The same Jira entity in two customers is two nodes.
	appendMutations(t, s, b.ID, scenario()[:2], "tb")
	project(t, s, 100)
	pay1B := must(s.FindNode(ctx, b.ID, cogniscape.KindIssue, "PAY-1"))(t)
	if pay1B.StoreID == pay1.StoreID || pay1B.String("status") != "To Do" {
		t.Errorf("B's PAY-1 = %+v (A's is %d)", pay1B, pay1.StoreID)
	}
	if pay1A := must(s.FindNode(ctx, a.ID, cogniscape.KindIssue, "PAY-1"))(t); pay1A.String("status") != "In Progress" {
		t.Errorf("B's events changed A's PAY-1: %+v", pay1A)
	}
	_ = evs
}

func testUsers(t *testing.T, s cogniscape.Store) {
	a, _ := customer(t, s, "A")
	b, _ := customer(t, s, "B")
	u := &cogniscape.User{CustomerID: a.ID, Email: "  Ada@Example.COM ", Role: cogniscape.RoleAdmin}
	if err := s.CreateUser(ctx, u, "hash-1"); err != nil {
		t.Fatal(err)
	}
	if u.ID == 0 || u.Email != "ada@example.com" || u.CreatedAt.IsZero() {
		t.Errorf("created user = %+v", u)
	}
	wantCode(t, "same email, other case, other customer",
		s.CreateUser(ctx, &cogniscape.User{CustomerID: b.ID, Email: "ADA@example.com", Role: cogniscape.RoleMember}, "h"), cogniscape.ECONFLICT)
	wantCode(t, "unknown customer", s.CreateUser(ctx, &cogniscape.User{CustomerID: a.ID + b.ID + 100, Email: "x@y", Role: cogniscape.RoleMember}, "h"), cogniscape.ENOTFOUND)
	wantCode(t, "bad role", s.CreateUser(ctx, &cogniscape.User{CustomerID: a.ID, Email: "x@y", Role: "root"}, "h"), cogniscape.EINVALID)
	wantCode(t, "bad email", s.CreateUser(ctx, &cogniscape.User{CustomerID: a.ID, Email: "nobody", Role: cogniscape.RoleMember}, "h"), cogniscape.EINVALID)
	wantCode(t, "no hash", s.CreateUser(ctx, &cogniscape.User{CustomerID: a.ID, Email: "x@y", Role: cogniscape.RoleMember}, ""), cogniscape.EINVALID)

	got, hash, err := s.UserByEmail(ctx, "ADA@example.com")
	if err != nil || got.ID != u.ID || hash != "hash-1" || got.Role != cogniscape.RoleAdmin || got.CustomerID != a.ID {
		t.Fatalf("UserByEmail = %+v %q %v", got, hash, err)
	}
	_, _, err = s.UserByEmail(ctx, "nobody@example.com")
	wantCode(t, "unknown email", err, cogniscape.ENOTFOUND)

	tok, err := s.CreateSession(ctx, u.ID, time.Now().Add(time.Hour))
	if err != nil || len(tok) < 40 {
		t.Fatalf("CreateSession = %q, %v", tok, err)
	}
	_, err = s.CreateSession(ctx, u.ID+12345, time.Now().Add(time.Hour))
	wantCode(t, "session for unknown user", err, cogniscape.ENOTFOUND)
	sess, err := s.SessionByToken(ctx, tok)
	if err != nil || sess.User.ID != u.ID || sess.Customer.ID != a.ID || sess.Customer.Key != a.Key || sess.User.Email != "ada@example.com" {
		t.Fatalf("SessionByToken = %+v, %v", sess, err)
	}
	_, err = s.SessionByToken(ctx, tok+"x")
	wantCode(t, "wrong token", err, cogniscape.EUNAUTHORIZED)
	_, err = s.SessionByToken(ctx, "")
	wantCode(t, "empty token", err, cogniscape.EUNAUTHORIZED)
	expired := must(s.CreateSession(ctx, u.ID, time.Now().Add(-time.Minute)))(t)
	_, err = s.SessionByToken(ctx, expired)
	wantCode(t, "expired session", err, cogniscape.EUNAUTHORIZED)

	if err := s.DeleteSession(ctx, tok); err != nil {
		t.Fatal(err)
	}
	_, err = s.SessionByToken(ctx, tok)
	wantCode(t, "deleted session", err, cogniscape.EUNAUTHORIZED)
	if err := s.DeleteSession(ctx, "never-issued"); err != nil {
		t.Errorf("delete unknown session: %v", err)
	}
	tok2 := must(s.CreateSession(ctx, u.ID, time.Now().Add(time.Hour)))(t)
	if err := s.SetPassword(ctx, u.ID, "hash-2"); err != nil {
		t.Fatal(err)
	}
	_, err = s.SessionByToken(ctx, tok2)
	wantCode(t, "session after password change", err, cogniscape.EUNAUTHORIZED)
	if _, hash, _ := s.UserByEmail(ctx, u.Email); hash != "hash-2" {
		t.Errorf("hash after SetPassword = %q", hash)
	}
	wantCode(t, "set password of unknown user", s.SetPassword(ctx, u.ID+999, "h"), cogniscape.ENOTFOUND)

	for _, action := range []string{"signin", "secret.reveal", "secret.rotate"} {
		if err := s.AppendAudit(ctx, &cogniscape.AuditEntry{CustomerID: a.ID, UserID: u.ID, Email: u.Email, Action: action, Addr: "192.0.2.1"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AppendAudit(ctx, &cogniscape.AuditEntry{CustomerID: b.ID, Action: "signin"}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "audit without action", s.AppendAudit(ctx, &cogniscape.AuditEntry{CustomerID: a.ID}), cogniscape.EINVALID)
	log, err := s.AuditLog(ctx, a.ID, 0)
	if err != nil || len(log) != 3 || log[0].Action != "secret.rotate" || log[2].Action != "signin" || log[0].UserID != u.ID || log[0].Addr != "192.0.2.1" || log[0].At.IsZero() {
		t.Fatalf("AuditLog(A) = %+v, %v", log, err)
	}
	if log, _ := s.AuditLog(ctx, b.ID, 10); len(log) != 1 || log[0].UserID != 0 {
		t.Errorf("AuditLog(B) = %+v", log)
	}
}

// testLinkSites: a customer with two Jira sites, which number their issues
// alike. An issue link names bare issue ids and no site; it belongs where
// both its issues are, whether they were projected long before or in the
// same batch as the link.
func testLinkSites(t *testing.T, fresh func(*testing.T) cogniscape.Store) {
	const cloud, dc = "https://acme.atlassian.net", "https://jira.acme.internal"
	v := func(sec int64) cogniscape.Version { return cogniscape.Version{At: t0 + sec*1000} }
	issue := func(site, id, key string, sec int64) *cogniscape.Mutation {
		return &cogniscape.Mutation{Source: "jira", Site: site, Event: "jira:issue_created", Version: v(sec),
			Nodes: []cogniscape.NodeUpdate{{Ref: ref(cogniscape.KindIssue, id), Attrs: attrs("key", key)}}}
	}
	link := ref(cogniscape.KindLink, "400")
	muts := []*cogniscape.Mutation{
		issue(cloud, "10102", "WEB-2", 1),
		issue(dc, "10101", "PAY-101", 2),
		issue(dc, "10102", "PAY-102", 3),
		{Source: "jira", Site: "", Event: "issuelink_created", Version: v(4),
			Nodes: []cogniscape.NodeUpdate{{Ref: link, Attrs: attrs("type", "Blocks")}},
			Edges: []cogniscape.EdgeUpdate{edge(link, cogniscape.RelSource, ref(cogniscape.KindIssue, "10102")),
				edge(link, cogniscape.RelDestination, ref(cogniscape.KindIssue, "10101"))}},
	}
	for _, batch := range []int{1, 100} {
		s := fresh(t)
		a, _ := customer(t, s, "A")
		appendMutations(t, s, a.ID, muts, "links")
		project(t, s, batch)
		l, err := s.NodeByKey(ctx, a.ID, cogniscape.NodeKey{Site: dc, Kind: cogniscape.KindLink, ID: "400"})
		if err != nil {
			t.Fatalf("batch %d: the link is not on the site that has both its issues: %v", batch, err)
		}
		src := must(s.EdgesFrom(ctx, a.ID, l.StoreID, cogniscape.RelSource))(t)
		pay102 := must(s.NodeByKey(ctx, a.ID, cogniscape.NodeKey{Site: dc, Kind: cogniscape.KindIssue, ID: "10102"}))(t)
		if len(src) != 1 || src[0].Dst != pay102.StoreID {
			t.Errorf("batch %d: link source = %+v, want PAY-102 (%d)", batch, src, pay102.StoreID)
		}
		if _, err := s.NodeByKey(ctx, a.ID, cogniscape.NodeKey{Site: cloud, Kind: cogniscape.KindIssue, ID: "10101"}); cogniscape.ErrorCode(err) != cogniscape.ENOTFOUND {
			t.Errorf("batch %d: the link made a stand-in issue 10101 on the other site: %v", batch, err)
		}
	}
}

// testSiteFilters: a customer with two Data Center sites, which number their
// projects, issues and sprints alike and share a user key. A list filtered by
// project, assignee or sprint, and a person's work, are of the one node the
// rest of the read API shows for that key or id (as FindNode finds it), never
// of both sites mixed.
func testSiteFilters(t *testing.T, s cogniscape.Store) {
	const east, west = "https://jira-east.acme.internal", "https://jira-west.acme.internal"
	a, _ := customer(t, s, "A")
	proj, person := ref(cogniscape.KindProject, "10000"), ref(cogniscape.KindPerson, "JIRAUSER10100")
	sprint, issue := ref(cogniscape.KindSprint, "37"), ref(cogniscape.KindIssue, "10001")
	v := func(sec int64) cogniscape.Version { return cogniscape.Version{At: t0 + sec*1000} }
	// Each site: an issue in its project and sprint, assigned to its
	// JIRAUSER10100, who then starts it.
	work := func(on, key, name string, sec int64) []*cogniscape.Mutation {
		return []*cogniscape.Mutation{
			{Source: "jira", Site: on, Event: "jira:issue_created", Version: v(sec), Actor: person.ID,
				Nodes: []cogniscape.NodeUpdate{{Ref: issue, Attrs: attrs("key", key+"-1", "summary", "Work in "+key, "status", "To Do",
					"status_id", "10", "status_category", "new")},
					{Ref: proj, Attrs: attrs("key", key, "name", key+" project")}, {Ref: person, Attrs: attrs("name", name)},
					{Ref: sprint, Attrs: attrs("name", key+" sprint 37", "state", "active")}},
				Edges: []cogniscape.EdgeUpdate{edge(issue, cogniscape.RelProject, proj), edge(issue, cogniscape.RelAssignee, person),
					edge(issue, cogniscape.RelSprint, sprint)}},
			{Source: "jira", Site: on, Event: "jira:issue_updated", Version: v(sec + 1), Actor: person.ID,
				Nodes:   []cogniscape.NodeUpdate{{Ref: issue, Attrs: attrs("status", "In Progress", "status_id", "20", "status_category", "indeterminate")}},
				Changes: []cogniscape.Change{{Node: issue, Field: "status", From: "To Do", To: "In Progress", FromID: "10", ToID: "20"}}},
		}
	}
	muts := append(work(east, "EAST", "Erin East", 1), work(west, "WEST", "Walt West", 3)...)
	// East's sprint is the most recently active sprint 37; West has the
	// most recently active project 10000 and JIRAUSER10100.
	muts = append(muts, &cogniscape.Mutation{Source: "jira", Site: east, Event: "sprint_updated", Version: v(5),
		Nodes: []cogniscape.NodeUpdate{{Ref: sprint, Attrs: attrs("goal", "Ship it")}}})
	appendMutations(t, s, a.ID, muts, "sites")
	project(t, s, 100)
	for _, c := range []struct {
		kind cogniscape.Kind
		id   string
		site string
	}{{cogniscape.KindSprint, "37", east}, {cogniscape.KindPerson, person.ID, west}, {cogniscape.KindProject, "10000", west}} {
		if n := must(s.FindNode(ctx, a.ID, c.kind, c.id))(t); n.Key.Site != c.site {
			t.Fatalf("FindNode(%s %s) is on %s, want %s", c.kind, c.id, n.Key.Site, c.site)
		}
	}

	for _, c := range []struct {
		f    cogniscape.IssueFilter
		want []string
	}{
		{cogniscape.IssueFilter{}, []string{"WEST-1", "EAST-1"}},
		{cogniscape.IssueFilter{Sprint: "37"}, []string{"EAST-1"}},
		{cogniscape.IssueFilter{Assignee: person.ID}, []string{"WEST-1"}},
		{cogniscape.IssueFilter{Project: "10000"}, []string{"WEST-1"}},
		{cogniscape.IssueFilter{Project: "east"}, []string{"EAST-1"}},
		{cogniscape.IssueFilter{Project: "WEST", Assignee: person.ID, Sprint: "38"}, nil},
		{cogniscape.IssueFilter{Assignee: "JIRAUSER99999"}, nil},
	} {
		if got := issueKeys(t, s, a.ID, c.f); !slices.Equal(got, c.want) {
			t.Errorf("Issues(%+v) = %v, want %v", c.f, got, c.want)
		}
	}
	// The list agrees with the sprint's own view.
	r := cogniscape.Reader{Store: s}
	inSprint := issueKeys(t, s, a.ID, cogniscape.IssueFilter{Sprint: "37"})
	if sv := must(r.Sprint(ctx, a.ID, "37"))(t); !slices.Equal(sv.Issues, inSprint) {
		t.Errorf("Sprint(37).Issues = %v, Issues(sprint 37) = %v", sv.Issues, inSprint)
	}

	// The person's work is West's JIRAUSER10100's alone.
	w := must(r.PersonWork(ctx, a.ID, person.ID, time.UnixMilli(t0)))(t)
	if w.Person.Name != "Walt West" || !slices.Equal(w.Assigned, []string{"WEST-1"}) {
		t.Errorf("PersonWork = %+v, want Walt West's", w)
	}
	if len(w.Moved) != 1 || w.Moved[0].Issue != "WEST-1" {
		t.Errorf("PersonWork moved = %+v, want only WEST-1's move", w.Moved)
	}
}

// testHugeText: an issue whose description is most of a megabyte of
// distinct words (well under the 25 MiB body limit) is projected and found
// by the words it begins with; the search index keeps a bounded part of it.
func testHugeText(t *testing.T, s cogniscape.Store) {
	a, _ := customer(t, s, "A")
	var b strings.Builder
	for i := 0; b.Len() < 850<<10; i++ {
		fmt.Fprintf(&b, "w%x ", i*7919)
	}
	issue := ref(cogniscape.KindIssue, "10001")
	m := &cogniscape.Mutation{Source: "jira", Site: site, Event: "jira:issue_created", Version: cogniscape.Version{At: t0},
		Nodes: []cogniscape.NodeUpdate{{Ref: issue, Attrs: attrs("key", "PAY-1", "summary", "Enormous", "description", "zanzibar "+b.String())}}}
	appendMutations(t, s, a.ID, []*cogniscape.Mutation{m}, "huge")
	if n := project(t, s, 10); n != 1 {
		t.Fatalf("projected %d events, want 1", n)
	}
	if lag := must(s.ProjectionLag(ctx))(t); lag != 0 {
		t.Fatalf("lag %d: the huge description was not projected", lag)
	}
	hits := must(s.Search(ctx, a.ID, "zanzibar", "", 10))(t)
	if len(hits) != 1 || hits[0].Node.Key.ID != "10001" {
		t.Errorf("search = %+v", hits)
	}
}

// testPendingBytes: a read of pending events stops once their bodies add up
// to MaxBatchBytes, so that a batch of large bodies stays small in memory;
// the rest come with the next read.
func testPendingBytes(t *testing.T, s cogniscape.Store) {
	a, _ := customer(t, s, "A")
	body := make([]byte, cogniscape.MaxBatchBytes/2+1)
	for i := range body {
		body[i] = 'x'
	}
	for i := range 3 {
		if _, err := s.Append(ctx, &cogniscape.Event{CustomerID: a.ID, ReceivedAt: time.Now(), Source: "jira", Type: "jira:issue_updated",
			Site: site, DedupKey: fmt.Sprint("big-", i), Timestamp: time.Now(), Body: body}, len(body)); err != nil {
			t.Fatal(err)
		}
	}
	if got := must(s.PendingEvents(ctx, a.ID, 10))(t); len(got) != 2 {
		t.Errorf("read %d events of %d bytes each, want the 2 that reach the bound", len(got), len(body))
	}
}

// testActivityMemory: a read of the activity holds each entity once however
// often it was active, and cuts long changed values, so that a period of a
// few thousand edits of long descriptions stays small in memory.
func testActivityMemory(t *testing.T, s cogniscape.Store) {
	a, _ := customer(t, s, "A")
	long := strings.Repeat("lorem ipsum ", 2500)
	issue := ref(cogniscape.KindIssue, "10001")
	var muts []*cogniscape.Mutation
	for i := range 3 {
		muts = append(muts, &cogniscape.Mutation{Source: "jira", Site: site, Event: "jira:issue_updated", Version: cogniscape.Version{At: t0 + int64(i)*1000},
			Nodes:   []cogniscape.NodeUpdate{{Ref: issue, Attrs: attrs("key", "PAY-1", "description", long+fmt.Sprint(i))}},
			Changes: []cogniscape.Change{{Node: issue, Field: "description", From: long, To: long + fmt.Sprint(i)}}})
	}
	appendMutations(t, s, a.ID, muts, "act")
	project(t, s, 10)
	recs := must(s.Activity(ctx, a.ID, time.UnixMilli(t0), 100))(t)
	if len(recs) != 3 {
		t.Fatalf("%d activity records, want 3", len(recs))
	}
	if recs[0].Entity != recs[1].Entity || recs[1].Entity != recs[2].Entity {
		t.Errorf("one entity decoded once per record")
	}
	for _, r := range recs {
		if len(r.Changes) != 1 || len(r.Changes[0].To) > 2010 || len(r.Changes[0].From) > 2010 {
			t.Errorf("activity change of %d bytes", len(r.Changes[0].To))
		}
	}
}
