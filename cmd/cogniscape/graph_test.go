package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cogniscape/cogniscape"
	"github.com/cogniscape/cogniscape/internal/httpd"
	"github.com/cogniscape/cogniscape/internal/jira"
	"github.com/cogniscape/cogniscape/internal/projector"
)

// newGraphApp is an app that also projects and serves the read API.
func newGraphApp(t testing.TB) (*app, *projector.Projector) { return newGraphAppWith(t) }

// newGraphAppWith is newGraphApp with more configuration, applied last.
func newGraphAppWith(t testing.TB, configure ...func(*httpd.Server)) (*app, *projector.Projector) {
	var proj *projector.Projector
	a := newApp(t, append([]func(*httpd.Server){func(s *httpd.Server) {
		db := s.Customers.(interface {
			cogniscape.ProjectionStore
			cogniscape.GraphReader
		})
		proj = projector.New(db, jira.Normalize, s.Logger)
		s.Graph = &cogniscape.Reader{Store: db}
		s.Lag = db.ProjectionLag
	}}, configure...)...)
	return a, proj
}

// cloudStory lists the Cloud fixtures in the order Jira sent them.
func cloudStory(t testing.TB) []string {
	files, err := filepath.Glob(filepath.Join("testdata", "jira", "cloud", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	type ev struct {
		name string
		ts   int64
	}
	var evs []ev
	for _, f := range files {
		name := "cloud/" + filepath.Base(f)
		env, err := jira.Inspect(fixture(t, name))
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev{name, env.Timestamp.UnixMilli()})
	}
	slices.SortStableFunc(evs, func(a, b ev) int { return int(a.ts - b.ts) })
	names := make([]string, len(evs))
	for i, e := range evs {
		names[i] = e.name
	}
	return names
}

func deliverAll(t testing.TB, a *app, names []string) {
	t.Helper()
	for i, name := range names {
		body := fixture(t, name)
		status, out := deliver(t, a.url, a.key, body, signed(body, a.secret, fmt.Sprintf("%d", 1000+i)))
		if status != 200 {
			t.Fatalf("%s: %d %v", name, status, out)
		}
	}
}

func catchUp(t testing.TB, proj *projector.Projector) {
	t.Helper()
	if _, err := proj.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestPAYStoryThroughHTTP(t *testing.T) {
	a, proj := newGraphApp(t)
	story := cloudStory(t)
	withoutUnlink := slices.DeleteFunc(slices.Clone(story), func(s string) bool { return s == "cloud/issuelink_deleted.json" })
	deliverAll(t, a, withoutUnlink)
	var ready map[string]any
	getJSON(t, a.url, "", "/readyz", &ready)
	if ready["projection_lag"].(float64) != float64(len(withoutUnlink)) {
		t.Fatalf("readyz before projection = %v, want lag %d", ready, len(withoutUnlink))
	}
	catchUp(t, proj)
	getJSON(t, a.url, "", "/readyz", &ready)
	if ready["projection_lag"].(float64) != 0 {
		t.Fatalf("readyz after projection = %v", ready)
	}

	var issue cogniscape.IssueView
	if code := getJSON(t, a.url, a.token, "/api/v1/issues/PAY-101", &issue); code != 200 {
		t.Fatalf("GET PAY-101: %d", code)
	}
	if issue.ID != "10101" || issue.Site != "https://acme-pay.atlassian.net" || issue.Status != "In Progress" || issue.StatusCategory != "indeterminate" {
		t.Errorf("PAY-101 = id %s site %s status %s/%s", issue.ID, issue.Site, issue.Status, issue.StatusCategory)
	}
	if issue.Assignee == nil || issue.Assignee.ID != "5f8a2c7d9e1b4a0068c3d2e1" || issue.Assignee.Name != "Marco Bellini" {
		t.Errorf("assignee = %+v", issue.Assignee)
	}
	if len(issue.Sprints) != 1 || issue.Sprints[0].ID != "37" || issue.Sprints[0].Name != "PAY Sprint 14" || issue.Sprints[0].State != "closed" {
		t.Errorf("sprints = %+v (sprint 37 was closed later in the story)", issue.Sprints)
	}
	if len(issue.FixVersions) != 1 || issue.FixVersions[0].ID != "10021" || issue.FixVersions[0].Name != "2.4.0" {
		t.Errorf("fix versions = %+v", issue.FixVersions)
	}
	if issue.Project == nil || issue.Project.Key != "PAY" || issue.Project.Name != "Payments" {
		t.Errorf("project = %+v", issue.Project)
	}
	if len(issue.Links) != 1 || issue.Links[0] != (cogniscape.LinkView{Type: "Blocks", Direction: "inward", Issue: "PAY-102", Since: issue.Links[0].Since}) {
		t.Errorf("links = %+v", issue.Links)
	}
	// Worklog 10212 was logged at 2h30m and edited to 3h.
	if len(issue.Worklogs) != 1 || issue.Worklogs[0].ID != "10212" || issue.Worklogs[0].TimeSpentSeconds != 10800 {
		t.Errorf("worklogs = %+v", issue.Worklogs)
	}
	var statuses []string
	for _, h := range issue.History {
		if h.Field == "status" {
			statuses = append(statuses, h.From+"→"+h.To+"("+h.Category+")")
		}
	}
	if !slices.Equal(statuses, []string{"To Do→In Progress(indeterminate)"}) {
		t.Errorf("status history = %v", statuses)
	}
	for i := 1; i < len(issue.History); i++ {
		if issue.History[i].At < issue.History[i-1].At {
			t.Errorf("history not oldest first: %v", issue.History)
		}
	}

	var linked cogniscape.IssueView
	getJSON(t, a.url, a.token, "/api/v1/issues/10102", &linked)
	if linked.Key != "PAY-102" || len(linked.Links) != 1 || linked.Links[0].Direction != "outward" || linked.Links[0].Issue != "PAY-101" {
		t.Errorf("PAY-102 by id: key %s links %+v", linked.Key, linked.Links)
	}
	if len(linked.Comments) != 1 || linked.Comments[0].ID != "10551" {
		t.Fatalf("PAY-102 comments = %+v", linked.Comments)
	}
	if body := linked.Comments[0].Body; strings.Contains(body, "RefundNotifier.retry()") || !strings.Contains(body, "pooled transport") {
		t.Errorf("comment body keeps code or lost text: %q", body)
	}
	if linked.Comments[0].Author == nil || linked.Comments[0].Author.Name == "" {
		t.Errorf("comment author = %+v", linked.Comments[0].Author)
	}

	// The link is deleted later in the story.
	deliverAll(t, a, []string{"cloud/issuelink_deleted.json"})
	catchUp(t, proj)
	getJSON(t, a.url, a.token, "/api/v1/issues/PAY-101", &issue)
	if len(issue.Links) != 0 {
		t.Errorf("links after issuelink_deleted = %+v", issue.Links)
	}

	var deleted cogniscape.IssueView
	if code := getJSON(t, a.url, a.token, "/api/v1/issues/PAY-106", &deleted); code != 200 || !deleted.Deleted {
		t.Errorf("deleted PAY-106: %d deleted=%v", code, deleted.Deleted)
	}
}

func TestReadAPIShapesAndScoping(t *testing.T) {
	a, proj := newGraphApp(t)
	deliverAll(t, a, cloudStory(t))
	catchUp(t, proj)

	var sprint cogniscape.SprintView
	if code := getJSON(t, a.url, a.token, "/api/v1/sprints/37", &sprint); code != 200 {
		t.Fatalf("sprint: %d", code)
	}
	if sprint.Name != "PAY Sprint 14" || sprint.State != "closed" || sprint.StartDate == "" || !slices.Contains(sprint.Issues, "PAY-103") {
		t.Errorf("sprint 37 = %+v", sprint)
	}
	var version cogniscape.VersionView
	getJSON(t, a.url, a.token, "/api/v1/versions/10021", &version)
	if version.Name != "2.4.0" || version.Project == nil || version.Project.Key != "PAY" || !slices.Contains(version.Issues, "PAY-102") {
		t.Errorf("version 10021 = %+v", version)
	}
	var project cogniscape.ProjectView
	getJSON(t, a.url, a.token, "/api/v1/projects/PAY", &project)
	if project.ID != "10000" || project.Name != "Payments" || project.Lead == nil {
		t.Errorf("project = %+v", project)
	}
	var person cogniscape.PersonView
	getJSON(t, a.url, a.token, "/api/v1/people/5f8a2c7d9e1b4a0068c3d2e1", &person)
	if person.Name != "Marco Bellini" || !slices.Contains(person.Assigned, "PAY-101") {
		t.Errorf("person = %+v", person)
	}
	var list struct {
		Issues     []cogniscape.IssueSummary `json:"issues"`
		NextCursor string                    `json:"next_cursor"`
	}
	getJSON(t, a.url, a.token, "/api/v1/issues?project=PAY&status_category=indeterminate&limit=100", &list)
	for _, is := range list.Issues {
		if is.StatusCategory != "indeterminate" {
			t.Errorf("filter leaked %+v", is)
		}
	}
	if !slices.ContainsFunc(list.Issues, func(s cogniscape.IssueSummary) bool { return s.Key == "PAY-101" }) {
		t.Errorf("PAY-101 missing from in-progress list: %+v", list.Issues)
	}
	// Paging walks every issue once.
	seen := map[string]bool{}
	cursor := ""
	for page := 0; page < 20; page++ {
		getJSON(t, a.url, a.token, "/api/v1/issues?limit=2&cursor="+cursor, &list)
		for _, is := range list.Issues {
			if seen[is.Key] {
				t.Fatalf("%s on two pages", is.Key)
			}
			seen[is.Key] = true
		}
		if cursor = list.NextCursor; cursor == "" {
			break
		}
	}
	if len(seen) < 6 {
		t.Errorf("paging saw %d issues", len(seen))
	}
	var activity struct {
		Items []cogniscape.ActivityItem `json:"items"`
	}
	getJSON(t, a.url, a.token, "/api/v1/activity?since=2026-01-01T00:00:00Z&limit=200", &activity)
	if !slices.ContainsFunc(activity.Items, func(it cogniscape.ActivityItem) bool {
		return it.Summary == "Marco Bellini moved PAY-101 from To Do to In Progress"
	}) {
		t.Errorf("activity lacks the status move: %+v", activity.Items)
	}
	for i := 1; i < len(activity.Items); i++ {
		if activity.Items[i].At > activity.Items[i-1].At {
			t.Fatalf("activity not newest first")
		}
	}
	var hood cogniscape.Neighborhood
	if code := getJSON(t, a.url, a.token, "/api/v1/graph/neighbors?node=issue:PAY-101&depth=1", &hood); code != 200 {
		t.Fatalf("neighbors: %d", code)
	}
	if !slices.ContainsFunc(hood.Edges, func(e cogniscape.GraphEdge) bool { return e.From == "PAY-101" && e.Rel == "assignee" }) {
		t.Errorf("neighbors lack the assignee edge: %+v", hood.Edges)
	}
	if code := getJSON(t, a.url, a.token, "/api/v1/graph/neighbors?node=issue:PAY-101&depth=9", nil); code != 400 {
		t.Errorf("depth 9: %d", code)
	}

	// Another customer sees none of it: every endpoint answers 404 or empty.
	_, other, err := a.db.CreateCustomer(context.Background(), "Other")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/api/v1/issues/PAY-101", "/api/v1/issues/10101", "/api/v1/sprints/37", "/api/v1/versions/10021",
		"/api/v1/projects/PAY", "/api/v1/people/5f8a2c7d9e1b4a0068c3d2e1", "/api/v1/graph/neighbors?node=issue:PAY-101"} {
		if code := getJSON(t, a.url, other.APIToken, path, nil); code != 404 {
			t.Errorf("customer B GET %s: %d, want 404", path, code)
		}
		if code := getJSON(t, a.url, "", path, nil); code != 401 {
			t.Errorf("no token GET %s: %d, want 401", path, code)
		}
	}
	getJSON(t, a.url, other.APIToken, "/api/v1/issues", &list)
	getJSON(t, a.url, other.APIToken, "/api/v1/activity?since=2000-01-01T00:00:00Z", &activity)
	if len(list.Issues) != 0 || len(activity.Items) != 0 {
		t.Errorf("customer B lists %d issues, %d activity items", len(list.Issues), len(activity.Items))
	}
}
