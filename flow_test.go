package cogniscape_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cogniscape/cogniscape"
	"github.com/cogniscape/cogniscape/internal/secret"
	"github.com/cogniscape/cogniscape/internal/sqlite"
)

// A small hand-checked world: project FLOW on one site, four statuses, five
// issues and one sprint. Every expected figure below is worked out by hand
// from the story, not taken from the code's output.
const site = "https://flow.atlassian.net"

var statuses = map[string][2]string{ // id → name, category
	"1": {"To Do", "new"}, "3": {"In Progress", "indeterminate"}, "4": {"In Review", "indeterminate"}, "5": {"Done", "done"},
}

func at(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

type world struct {
	muts []*cogniscape.Mutation
	seq  int64
}

// issue adds one event for an issue: its full snapshot as of when, plus the
// changelog items of the event.
func (w *world) issue(when, key, created, statusID string, sprints []string, assignee string, changes ...cogniscape.Change) {
	w.seq++
	id := "9" + key[len("FLOW-"):]
	ref := cogniscape.NodeRef{Kind: cogniscape.KindIssue, ID: id}
	st := statuses[statusID]
	m := &cogniscape.Mutation{Source: "jira", Site: site, Event: "jira:issue_updated", Version: cogniscape.Version{At: at(when).UnixMilli(), Seq: w.seq},
		Actor: "marco", EventID: w.seq}
	m.Nodes = append(m.Nodes,
		cogniscape.NodeUpdate{Ref: ref, Attrs: map[string]json.RawMessage{
			"key": cogniscape.Attr(key), "summary": cogniscape.Attr("work " + key), "status": cogniscape.Attr(st[0]), "status_id": cogniscape.Attr(statusID),
			"status_category": cogniscape.Attr(st[1]), "created": cogniscape.Attr(at(created).Format(time.RFC3339))}},
		cogniscape.NodeUpdate{Ref: cogniscape.NodeRef{Kind: cogniscape.KindStatus, ID: statusID}, Attrs: map[string]json.RawMessage{
			"name": cogniscape.Attr(st[0]), "category": cogniscape.Attr(st[1])}},
		cogniscape.NodeUpdate{Ref: cogniscape.NodeRef{Kind: cogniscape.KindProject, ID: "700"}, Attrs: map[string]json.RawMessage{
			"key": cogniscape.Attr("FLOW"), "name": cogniscape.Attr("Flow")}},
		cogniscape.NodeUpdate{Ref: cogniscape.NodeRef{Kind: cogniscape.KindPerson, ID: "marco"}, Attrs: map[string]json.RawMessage{"name": cogniscape.Attr("Marco")}},
	)
	var sp []cogniscape.NodeRef
	for _, s := range sprints {
		sp = append(sp, cogniscape.NodeRef{Kind: cogniscape.KindSprint, ID: s})
	}
	var as []cogniscape.NodeRef
	if assignee != "" {
		as = append(as, cogniscape.NodeRef{Kind: cogniscape.KindPerson, ID: assignee})
	}
	m.Edges = []cogniscape.EdgeUpdate{
		{From: ref, Rel: cogniscape.RelProject, To: []cogniscape.NodeRef{{Kind: cogniscape.KindProject, ID: "700"}}},
		{From: ref, Rel: cogniscape.RelSprint, To: sp},
		{From: ref, Rel: cogniscape.RelAssignee, To: as},
	}
	for i := range changes {
		changes[i].Node = ref
	}
	m.Changes = changes
	if when == created {
		m.Event = "jira:issue_created"
	}
	w.muts = append(w.muts, m)
}

func status(from, to string) cogniscape.Change {
	return cogniscape.Change{Field: "status", From: statuses[from][0], To: statuses[to][0], FromID: from, ToID: to}
}

func sprintChange(from, to string) cogniscape.Change {
	return cogniscape.Change{Field: "Sprint", From: from, To: to, FromID: from, ToID: to}
}

func (w *world) worklog(id, issueKey, started string, seconds int) {
	w.seq++
	ref := cogniscape.NodeRef{Kind: cogniscape.KindWorklog, ID: id}
	w.muts = append(w.muts, &cogniscape.Mutation{Source: "jira", Site: site, Event: "worklog_created", EventID: w.seq,
		Version: cogniscape.Version{At: at(started).UnixMilli(), Seq: w.seq}, Actor: "marco",
		Nodes: []cogniscape.NodeUpdate{{Ref: ref, Attrs: map[string]json.RawMessage{
			"time_spent_seconds": cogniscape.Attr(seconds), "started": cogniscape.Attr(at(started).Format(time.RFC3339))}}},
		Edges: []cogniscape.EdgeUpdate{
			{From: ref, Rel: cogniscape.RelIssue, To: []cogniscape.NodeRef{{Kind: cogniscape.KindIssue, ID: "9" + issueKey[len("FLOW-"):]}}},
			{From: ref, Rel: cogniscape.RelAuthor, To: []cogniscape.NodeRef{{Kind: cogniscape.KindPerson, ID: "marco"}}},
		}})
}

func (w *world) sprint(when, state, start, complete string) {
	w.seq++
	attrs := map[string]json.RawMessage{"name": cogniscape.Attr("FLOW Sprint 1"), "state": cogniscape.Attr(state),
		"start_date": cogniscape.Attr(at(start).Format(time.RFC3339))}
	if complete != "" {
		attrs["complete_date"] = cogniscape.Attr(at(complete).Format(time.RFC3339))
	}
	w.muts = append(w.muts, &cogniscape.Mutation{Source: "jira", Site: site, Event: "sprint_" + state, EventID: w.seq,
		Version: cogniscape.Version{At: at(when).UnixMilli(), Seq: w.seq},
		Nodes:   []cogniscape.NodeUpdate{{Ref: cogniscape.NodeRef{Kind: cogniscape.KindSprint, ID: "50"}, Attrs: attrs}}})
}

func buildWorld() *world {
	w := &world{}
	none := []string(nil)
	s50 := []string{"50"}
	// FLOW-1: created 2 Mar 09:00 in sprint 50; In Progress 3 Mar 09:00 (assigned to Marco), In Review 5 Mar, Done 6 Mar 09:00.
	w.issue("2026-03-02 09:00", "FLOW-1", "2026-03-02 09:00", "1", s50, "")
	w.issue("2026-03-03 09:00", "FLOW-1", "2026-03-02 09:00", "3", s50, "marco", status("1", "3"),
		cogniscape.Change{Field: "assignee", To: "Marco", ToID: "marco"})
	w.issue("2026-03-05 09:00", "FLOW-1", "2026-03-02 09:00", "4", s50, "marco", status("3", "4"))
	w.issue("2026-03-06 09:00", "FLOW-1", "2026-03-02 09:00", "5", s50, "marco", status("4", "5"))
	// FLOW-2: reopened. In sprint 50 at the start, taken out 4 Mar 00:00.
	w.issue("2026-03-02 09:00", "FLOW-2", "2026-03-02 09:00", "1", s50, "")
	w.issue("2026-03-02 12:00", "FLOW-2", "2026-03-02 09:00", "3", s50, "", status("1", "3"))
	w.issue("2026-03-04 00:00", "FLOW-2", "2026-03-02 09:00", "3", none, "", sprintChange("50", ""))
	w.issue("2026-03-04 12:00", "FLOW-2", "2026-03-02 09:00", "5", none, "", status("3", "5"))
	w.issue("2026-03-05 12:00", "FLOW-2", "2026-03-02 09:00", "3", none, "", status("5", "3"))
	w.issue("2026-03-09 12:00", "FLOW-2", "2026-03-02 09:00", "5", none, "", status("3", "5"))
	// FLOW-3: straight from To Do to Done.
	w.issue("2026-03-03 00:00", "FLOW-3", "2026-03-03 00:00", "1", none, "")
	w.issue("2026-03-04 00:00", "FLOW-3", "2026-03-03 00:00", "5", none, "", status("1", "5"))
	// FLOW-4: added to the running sprint 3 Mar 10:00, started 8 Mar, carried over into sprint 51 at the close.
	w.issue("2026-03-01 00:00", "FLOW-4", "2026-03-01 00:00", "1", none, "")
	w.issue("2026-03-03 10:00", "FLOW-4", "2026-03-01 00:00", "1", s50, "", sprintChange("", "50"))
	w.issue("2026-03-08 00:00", "FLOW-4", "2026-03-01 00:00", "3", s50, "", status("1", "3"))
	w.issue("2026-03-09 09:01", "FLOW-4", "2026-03-01 00:00", "3", []string{"50", "51"}, "", sprintChange("50", "50, 51"))
	// FLOW-6: created straight into the running sprint on 4 Mar: scope added, not committed.
	w.issue("2026-03-04 00:00", "FLOW-6", "2026-03-04 00:00", "1", s50, "")
	// FLOW-5: still in the backlog.
	w.issue("2026-03-05 00:00", "FLOW-5", "2026-03-05 00:00", "1", none, "")
	w.sprint("2026-03-02 09:00", "active", "2026-03-02 09:00", "")
	w.sprint("2026-03-09 09:00", "closed", "2026-03-02 09:00", "2026-03-09 09:00")
	w.worklog("801", "FLOW-1", "2026-03-03 10:00", 7200)
	w.worklog("802", "FLOW-4", "2026-03-08 10:00", 1800)
	w.worklog("803", "FLOW-1", "2026-02-20 10:00", 3600) // before the sprint: not counted
	// Release 1.0 ships FLOW-1 and FLOW-2; FLOW-5 was planned for it but is not done.
	w.fixVersion("2026-03-02 10:00", "900", "1.0", "FLOW-1", "FLOW-2", "FLOW-5")
	return w
}

func (w *world) fixVersion(when, id, name string, keys ...string) {
	w.seq++
	v := cogniscape.NodeRef{Kind: cogniscape.KindVersion, ID: id}
	m := &cogniscape.Mutation{Source: "jira", Site: site, Event: "jira:issue_updated", EventID: w.seq,
		Version: cogniscape.Version{At: at(when).UnixMilli(), Seq: w.seq},
		Nodes:   []cogniscape.NodeUpdate{{Ref: v, Attrs: map[string]json.RawMessage{"name": cogniscape.Attr(name)}}},
		Edges:   []cogniscape.EdgeUpdate{{From: v, Rel: cogniscape.RelProject, To: []cogniscape.NodeRef{{Kind: cogniscape.KindProject, ID: "700"}}}}}
	for _, key := range keys {
		m.Edges = append(m.Edges, cogniscape.EdgeUpdate{From: cogniscape.NodeRef{Kind: cogniscape.KindIssue, ID: "9" + key[len("FLOW-"):]},
			Rel: cogniscape.RelFixVersion, To: []cogniscape.NodeRef{v}})
	}
	w.muts = append(w.muts, m)
}

// openWorld projects the world into a fresh SQLite store. The mutations are
// applied in reverse, which the projection must not notice.
func openWorld(t *testing.T) (cogniscape.Reader, int64) {
	t.Helper()
	return openWorldOf(t, buildWorld())
}

// openWorldOf projects w into a fresh SQLite store.
func openWorldOf(t *testing.T, w *world) (cogniscape.Reader, int64) {
	t.Helper()
	dir := t.TempDir()
	key, err := secret.LoadKey("", dir)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(dir, key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	c, _, err := db.CreateCustomer(ctx, "Flow")
	if err != nil {
		t.Fatal(err)
	}
	// ApplyBatch needs the events in the log for the checkpoint; append stand-ins.
	for i := range w.muts {
		if _, err := db.Append(ctx, &cogniscape.Event{CustomerID: c.ID, ReceivedAt: time.Now(), Source: "jira", Type: "x", Site: site,
			DedupKey: strconv.Itoa(i), Timestamp: time.Now()}, 0); err != nil {
			t.Fatal(err)
		}
	}
	rev := slices.Clone(w.muts)
	slices.Reverse(rev)
	if err := db.ApplyBatch(ctx, c.ID, 0, int64(len(rev)), rev); err != nil {
		t.Fatal(err)
	}
	return cogniscape.Reader{Store: db}, c.ID
}

var now = at("2026-03-10 00:00")

const day = int64(24 * 3600)

func ptr(v int64) *int64 { return &v }

func eqPtr(a, b *int64) bool { return (a == nil && b == nil) || (a != nil && b != nil && *a == *b) }

func TestLifecycleHandChecked(t *testing.T) {
	r, cust := openWorld(t)
	ctx := context.Background()
	for _, tc := range []struct {
		key           string
		lead, cycle   *int64
		reopened      bool
		done          string
		statusSeconds map[string]int64 // for the closed spans
	}{
		// 2 Mar 09:00 → 6 Mar 09:00 is 4 days; 3 Mar 09:00 → 6 Mar 09:00 is 3 days.
		{"FLOW-1", ptr(4 * day), ptr(3 * day), false, "2026-03-06T09:00:00Z", map[string]int64{"To Do": day, "In Progress": 2 * day, "In Review": day}},
		// Reopened: done again 9 Mar 12:00. Lead 2 Mar 09:00 → 9 Mar 12:00 = 7 d 3 h; cycle 2 Mar 12:00 → 9 Mar 12:00 = 7 d.
		// In Progress: 2 Mar 12:00 → 4 Mar 12:00 (2 d) plus 5 Mar 12:00 → 9 Mar 12:00 (4 d).
		{"FLOW-2", ptr(7*day + 3*3600), ptr(7 * day), true, "2026-03-09T12:00:00Z", map[string]int64{"To Do": 3 * 3600, "In Progress": 6 * day}},
		// Skips in progress: lead 1 day, no cycle time.
		{"FLOW-3", ptr(day), nil, false, "2026-03-04T00:00:00Z", map[string]int64{"To Do": day}},
		// Not delivered.
		{"FLOW-4", nil, nil, false, "", map[string]int64{"To Do": 7 * day, "In Progress": 2 * day}},
	} {
		lc, err := r.Lifecycle(ctx, cust, tc.key, now)
		if err != nil {
			t.Fatalf("%s: %v", tc.key, err)
		}
		if !eqPtr(lc.LeadTimeSeconds, tc.lead) || !eqPtr(lc.CycleTimeSeconds, tc.cycle) || lc.Reopened != tc.reopened || lc.Done != tc.done {
			t.Errorf("%s: lead %v cycle %v reopened %v done %q", tc.key, deref(lc.LeadTimeSeconds), deref(lc.CycleTimeSeconds), lc.Reopened, lc.Done)
		}
		for status, secs := range tc.statusSeconds {
			if lc.TimeInStatus[status] != secs {
				t.Errorf("%s: time in %s = %d, want %d", tc.key, status, lc.TimeInStatus[status], secs)
			}
		}
		if len(lc.Definitions) == 0 || len(lc.Sources) == 0 {
			t.Errorf("%s: answer lacks definitions or sources", tc.key)
		}
	}
	lc, _ := r.Lifecycle(ctx, cust, "FLOW-1", now)
	if len(lc.Assignees) != 1 || lc.Assignees[0].Person.Name != "Marco" || lc.Assignees[0].From != "2026-03-03T09:00:00Z" || lc.Assignees[0].To != "" {
		t.Errorf("FLOW-1 assignees = %+v", lc.Assignees)
	}
	if len(lc.Statuses) != 4 || lc.Statuses[3].Status != "Done" || lc.Statuses[3].To != "" {
		t.Errorf("FLOW-1 statuses = %+v", lc.Statuses)
	}
	if !slices.ContainsFunc(lc.People, func(i cogniscape.Involvement) bool {
		return i.Person.ID == "marco" && slices.Contains(i.Roles, "assignee") && slices.Contains(i.Roles, "worklog")
	}) {
		t.Errorf("FLOW-1 people = %+v", lc.People)
	}
	lc, _ = r.Lifecycle(ctx, cust, "FLOW-3", now)
	if len(lc.Notes) == 0 {
		t.Error("FLOW-3 skipped in progress but says nothing")
	}
}

func deref(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestFlowHandChecked(t *testing.T) {
	r, cust := openWorld(t)
	f, err := r.Flow(context.Background(), cust, "FLOW", at("2026-03-01 00:00"), now)
	if err != nil {
		t.Fatal(err)
	}
	// Delivered in the period: FLOW-3 (4 Mar), FLOW-1 (6 Mar), FLOW-2 (9 Mar).
	// Lead times 1 d, 4 d, 7 d 3 h: nearest rank p50 = 2nd = 4 d, p85 = p95 = 3rd.
	if f.LeadTime.Count != 3 || *f.LeadTime.P50 != 4*day || *f.LeadTime.P85 != 7*day+3*3600 || *f.LeadTime.P95 != 7*day+3*3600 {
		t.Errorf("lead time = %+v p50 %v", f.LeadTime, deref(f.LeadTime.P50))
	}
	// Cycle times 3 d (FLOW-1) and 7 d (FLOW-2); FLOW-3 has none. p50 = 1st of 2, p85 = 2nd.
	if f.CycleTime.Count != 2 || *f.CycleTime.P50 != 3*day || *f.CycleTime.P85 != 7*day {
		t.Errorf("cycle time = %+v", f.CycleTime)
	}
	// 1 Mar 2026 is a Sunday: its ISO week is W09; W10 runs 2–8 Mar; 9 Mar starts W11.
	want := []cogniscape.WeekCount{{Week: "2026-W09", Start: "2026-02-23", Count: 0}, {Week: "2026-W10", Start: "2026-03-02", Count: 2}, {Week: "2026-W11", Start: "2026-03-09", Count: 1}}
	if !slices.Equal(f.Throughput, want) {
		t.Errorf("throughput = %+v", f.Throughput)
	}
	// In progress now: FLOW-4 only, since 8 Mar 00:00: two days old.
	if len(f.WIP) != 1 || f.WIP[0].Issue != "FLOW-4" || f.WIP[0].AgeSeconds != 2*day {
		t.Errorf("wip = %+v", f.WIP)
	}
	// End of 4 Mar: FLOW-4 and FLOW-6 new; FLOW-1 in progress; FLOW-2 and FLOW-3 done; FLOW-5 not created yet.
	// End of 1 Mar: only FLOW-4 exists.
	byDate := map[string]cogniscape.CFDPoint{}
	for _, p := range f.CumulativeFlow {
		byDate[p.Date] = p
	}
	if p := byDate["2026-03-04"]; p != (cogniscape.CFDPoint{Date: "2026-03-04", New: 2, Indeterminate: 1, Done: 2}) {
		t.Errorf("CFD 4 Mar = %+v", p)
	}
	if p := byDate["2026-03-01"]; p != (cogniscape.CFDPoint{Date: "2026-03-01", New: 1}) {
		t.Errorf("CFD 1 Mar = %+v", p)
	}
	if len(f.CumulativeFlow) != 10 {
		t.Errorf("CFD has %d days, want 10 (1–10 Mar)", len(f.CumulativeFlow))
	}
	// In Review: FLOW-1 only, for one day.
	for _, st := range f.TimeInStatus {
		if st.Status == "In Review" && (st.TotalSeconds != day || st.Issues != 1) {
			t.Errorf("time in review = %+v", st)
		}
	}
	if len(f.Sources) == 0 || f.Definitions["cycle_time"] == "" {
		t.Error("flow answer lacks sources or definitions")
	}
}

// Flow has a point per day of its period, so the period is bounded for
// every caller (REST, MCP, portal).
func TestFlowPeriodIsBounded(t *testing.T) {
	r, cust := openWorld(t)
	for _, tc := range []struct {
		since time.Time
		ok    bool
	}{
		{now.Add(-cogniscape.MaxFlowPeriod), true},
		{now.Add(-cogniscape.MaxFlowPeriod - time.Hour), false},
		{time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), false},
	} {
		_, err := r.Flow(context.Background(), cust, "FLOW", tc.since, now)
		if tc.ok && err != nil || !tc.ok && cogniscape.ErrorCode(err) != cogniscape.EINVALID {
			t.Errorf("since %s: err = %v", tc.since.Format(time.RFC3339), err)
		}
	}
}

func TestSprintReportHandChecked(t *testing.T) {
	r, cust := openWorld(t)
	rep, err := r.SprintReport(context.Background(), cust, "50", now)
	if err != nil {
		t.Fatal(err)
	}
	check := func(name string, got, want []string) {
		if !slices.Equal(got, want) {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	check("committed", rep.Committed, []string{"FLOW-1", "FLOW-2"})
	check("added", rep.Added, []string{"FLOW-4", "FLOW-6"})
	check("removed", rep.Removed, []string{"FLOW-2"})
	check("completed", rep.Completed, []string{"FLOW-1"})
	check("carried over", rep.CarriedOver, []string{"FLOW-4", "FLOW-6"})
	// 2 h on FLOW-1 on 3 Mar and 30 min on FLOW-4 on 8 Mar; the 20 Feb worklog predates the sprint.
	if rep.TimeLoggedSecond != 9000 {
		t.Errorf("time logged = %d, want 9000", rep.TimeLoggedSecond)
	}
	if rep.Sprint.State != "closed" || len(rep.Sources) == 0 {
		t.Errorf("report = %+v", rep)
	}
	v, err := r.Sprint(context.Background(), cust, "50")
	if err != nil {
		t.Fatal(err)
	}
	check("sprint view added", v.Added, []string{"FLOW-4", "FLOW-6"})
	check("sprint view removed", v.Removed, []string{"FLOW-2"})
}

func TestVersionReportHandChecked(t *testing.T) {
	r, cust := openWorld(t)
	ctx := context.Background()
	rep, err := r.VersionReport(ctx, cust, "900", now)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rep.NotDone, []string{"FLOW-5"}) || len(rep.Shipped) != 2 || rep.Shipped[0].Issue != "FLOW-1" || rep.Shipped[1].Issue != "FLOW-2" {
		t.Fatalf("report = %+v", rep)
	}
	// FLOW-1: created 2 Mar 09:00, In Progress 3 Mar 09:00, Done 6 Mar 09:00.
	f1 := rep.Shipped[0]
	if f1.Done != "2026-03-06T09:00:00Z" || f1.LeadTimeSeconds == nil || *f1.LeadTimeSeconds != 4*day ||
		f1.CycleTimeSeconds == nil || *f1.CycleTimeSeconds != 3*day || f1.Reopened {
		t.Errorf("FLOW-1 = %+v", f1)
	}
	// FLOW-2 was reopened: the report says so, with the figures of its lifecycle.
	lc, err := r.Lifecycle(ctx, cust, "FLOW-2", now)
	if err != nil {
		t.Fatal(err)
	}
	f2 := rep.Shipped[1]
	if !f2.Reopened || f2.Done != lc.Done || *f2.LeadTimeSeconds != *lc.LeadTimeSeconds || *f2.CycleTimeSeconds != *lc.CycleTimeSeconds {
		t.Errorf("FLOW-2 = %+v, lifecycle done %s lead %d cycle %d", f2, lc.Done, *lc.LeadTimeSeconds, *lc.CycleTimeSeconds)
	}
	if rep.LeadTime.Count != 2 || rep.CycleTime.Count != 2 || len(rep.Sources) == 0 {
		t.Errorf("report lacks percentiles or sources: %+v", rep)
	}
}

func TestPersonWorkAndSearch(t *testing.T) {
	r, cust := openWorld(t)
	ctx := context.Background()
	w, err := r.PersonWork(ctx, cust, "marco", at("2026-03-01 00:00"))
	if err != nil {
		t.Fatal(err)
	}
	// Marco made every change in this world: 9 status moves (FLOW-1 three, FLOW-2 four,
	// FLOW-3 and FLOW-4 one each); he logged 2 h + 30 min since 1 Mar.
	if len(w.Moved) != 9 || w.LoggedSeconds != 9000 || len(w.Logged) != 2 || !slices.Contains(w.Assigned, "FLOW-1") {
		t.Errorf("work = moved %d logged %d (%d) assigned %v", len(w.Moved), w.LoggedSeconds, len(w.Logged), w.Assigned)
	}
	res, err := r.Search(ctx, cust, "FLOW-3", cogniscape.KindIssue, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) == 0 || res[0].ID != "FLOW-3" {
		t.Errorf("search FLOW-3 = %+v", res)
	}
	res, _ = r.Search(ctx, cust, "marc*", "", 10)
	if len(res) != 1 || res[0].ID != "person:marco" {
		t.Errorf("search marc* = %+v", res)
	}
	if res, _ := r.Search(ctx, cust, `"); DROP TABLE nodes; --`, "", 10); len(res) != 0 {
		t.Errorf("hostile query found %+v", res)
	}
}

// Deleting an issue deletes its worklogs and comments in Jira, but Jira
// Cloud sends no worklog_deleted for them and Data Center sends nothing:
// time logged on a deleted issue is not counted, and a comment on one is
// found as deleted.
func TestWorkOnDeletedIssues(t *testing.T) {
	w := buildWorld()
	w.issue("2026-03-05 09:00", "FLOW-9", "2026-03-05 09:00", "1", nil, "")
	w.worklog("809", "FLOW-9", "2026-03-05 10:00", 5400)
	w.seq++
	comment := cogniscape.NodeRef{Kind: cogniscape.KindComment, ID: "709"}
	w.muts = append(w.muts, &cogniscape.Mutation{Source: "jira", Site: site, Event: "comment_created", EventID: w.seq,
		Version: cogniscape.Version{At: at("2026-03-05 11:00").UnixMilli(), Seq: w.seq}, Actor: "marco",
		Nodes: []cogniscape.NodeUpdate{{Ref: comment, Attrs: map[string]json.RawMessage{"body": cogniscape.Attr("zanzibar rollout notes"),
			"created": cogniscape.Attr(at("2026-03-05 11:00").Format(time.RFC3339))}}},
		Edges: []cogniscape.EdgeUpdate{{From: comment, Rel: cogniscape.RelIssue, To: []cogniscape.NodeRef{{Kind: cogniscape.KindIssue, ID: "99"}}},
			{From: comment, Rel: cogniscape.RelAuthor, To: []cogniscape.NodeRef{{Kind: cogniscape.KindPerson, ID: "marco"}}}}})
	w.seq++
	deleted := true
	w.muts = append(w.muts, &cogniscape.Mutation{Source: "jira", Site: site, Event: "jira:issue_deleted", EventID: w.seq,
		Version: cogniscape.Version{At: at("2026-03-06 09:00").UnixMilli(), Seq: w.seq}, Actor: "marco",
		Nodes: []cogniscape.NodeUpdate{{Ref: cogniscape.NodeRef{Kind: cogniscape.KindIssue, ID: "99"}, Deleted: &deleted}}})
	r, cust := openWorldOf(t, w)
	ctx := context.Background()
	work, err := r.PersonWork(ctx, cust, "marco", at("2026-03-01 00:00"))
	if err != nil {
		t.Fatal(err)
	}
	if work.LoggedSeconds != 9000 || len(work.Logged) != 2 || len(work.Commented) != 0 {
		t.Errorf("work on a deleted issue counted: logged %d s in %d worklogs, %d comments", work.LoggedSeconds, len(work.Logged), len(work.Commented))
	}
	res, err := r.Search(ctx, cust, "zanzibar", "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || !res[0].Deleted {
		t.Errorf("search for a comment on a deleted issue = %+v", res)
	}
}

// One issue cannot make an answer of many megabytes: the issue view keeps
// the latest comments and history items and cuts long changed values, and
// says so; the lifecycle still reads the whole history.
func TestIssueViewIsBounded(t *testing.T) {
	w := &world{}
	long := strings.Repeat("lorem ipsum ", 2500) // 30 KB, as a long description
	for i := range 600 {
		when := at("2026-03-02 09:00").Add(time.Duration(i) * time.Minute).Format("2006-01-02 15:04")
		w.issue(when, "FLOW-1", "2026-03-02 09:00", "1", nil, "",
			cogniscape.Change{Field: "description", From: long + fmt.Sprint(i), To: long + fmt.Sprint(i+1)})
	}
	for i := range 250 {
		w.seq++
		c := cogniscape.NodeRef{Kind: cogniscape.KindComment, ID: fmt.Sprint(5000 + i)}
		created := at("2026-03-03 09:00").Add(time.Duration(i) * time.Minute).Format(time.RFC3339)
		w.muts = append(w.muts, &cogniscape.Mutation{Source: "jira", Site: site, Event: "comment_created", EventID: w.seq,
			Version: cogniscape.Version{At: at("2026-03-03 09:00").UnixMilli() + int64(i)*60000, Seq: w.seq},
			Nodes:   []cogniscape.NodeUpdate{{Ref: c, Attrs: map[string]json.RawMessage{"body": cogniscape.Attr("comment"), "created": cogniscape.Attr(created)}}},
			Edges:   []cogniscape.EdgeUpdate{{From: c, Rel: cogniscape.RelIssue, To: []cogniscape.NodeRef{{Kind: cogniscape.KindIssue, ID: "91"}}}}})
	}
	r, cust := openWorldOf(t, w)
	v, err := r.Issue(context.Background(), cust, "FLOW-1")
	if err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(v)
	if !v.Truncated || len(v.History) != 500 || len(v.Comments) != 200 || len(data) > 3<<20 {
		t.Errorf("view: truncated %v, %d history items, %d comments, %d bytes", v.Truncated, len(v.History), len(v.Comments), len(data))
	}
	if last := v.History[len(v.History)-1]; !strings.HasSuffix(last.To, "…") || len(last.To) > 2010 {
		t.Errorf("latest change kept %d bytes", len(last.To))
	}
	if last := v.Comments[len(v.Comments)-1]; last.ID != "5249" {
		t.Errorf("latest comment kept: %s", last.ID)
	}
}

// A person's work lists keep the latest items of the period; the time
// logged still counts them all.
func TestPersonWorkIsBounded(t *testing.T) {
	w := &world{}
	for i := range 600 {
		when := at("2026-03-02 09:00").Add(time.Duration(i) * time.Minute).Format("2006-01-02 15:04")
		w.issue(when, "FLOW-1", "2026-03-02 09:00", "3", nil, "marco", status("1", "3"))
		w.worklog(fmt.Sprint(10000+i), "FLOW-1", when, 60)
	}
	r, cust := openWorldOf(t, w)
	work, err := r.PersonWork(context.Background(), cust, "marco", at("2026-03-01 00:00"))
	if err != nil {
		t.Fatal(err)
	}
	if !work.Truncated || len(work.Moved) != 500 || len(work.Logged) != 500 || work.LoggedSeconds != 600*60 {
		t.Errorf("work: truncated %v, %d moves, %d worklogs, %d s", work.Truncated, len(work.Moved), len(work.Logged), work.LoggedSeconds)
	}
	if latest := work.Logged[0].ID; latest != "10599" {
		t.Errorf("newest worklog kept first: %s", latest)
	}
}

// A flow answer's issue lists are bounded; its percentiles count every
// issue delivered in the period.
func TestFlowListsAreBounded(t *testing.T) {
	w := &world{}
	for i := range 1100 {
		key := fmt.Sprintf("FLOW-%d", 1000+i)
		created := at("2026-03-02 09:00").Add(time.Duration(i) * time.Minute).Format("2006-01-02 15:04")
		done := at("2026-03-03 09:00").Add(time.Duration(i) * time.Minute).Format("2006-01-02 15:04")
		w.issue(created, key, created, "1", nil, "")
		w.issue(done, key, created, "5", nil, "", status("1", "5"))
	}
	r, cust := openWorldOf(t, w)
	f, err := r.Flow(context.Background(), cust, "FLOW", at("2026-03-01 00:00"), now)
	if err != nil {
		t.Fatal(err)
	}
	if !f.Truncated || len(f.Delivered) != 1000 || f.LeadTime.Count != 1100 {
		t.Errorf("flow: truncated %v, %d delivered listed, lead time over %d", f.Truncated, len(f.Delivered), f.LeadTime.Count)
	}
}
