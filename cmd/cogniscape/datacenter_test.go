package main

import (
	"slices"
	"testing"

	"github.com/cogniscape/cogniscape"
	"github.com/cogniscape/cogniscape/internal/jira"
)

// Data Center bodies differ from Cloud's (user keys, GreenHopper sprint
// strings, comments sent twice, no issue in comment events); the graph they
// make must read the same.
func TestDataCenterStory(t *testing.T) {
	a, proj := newGraphApp(t)
	for _, name := range []string{
		"datacenter/dc_issue_created.json", "datacenter/dc_issue_updated_status.json", "datacenter/dc_sprint_started.json",
		"datacenter/dc_comment_created.json", "datacenter/dc_issue_updated_commented.json", "datacenter/dc_worklog_created.json",
		"datacenter/dc_version_released.json",
	} {
		if status, out := deliver(t, a.url, a.key, fixture(t, name), map[string]string{jira.HeaderToken: a.secret}); status != 200 || out["status"] != "accepted" {
			t.Fatalf("%s: %d %v", name, status, out)
		}
	}
	catchUp(t, proj)

	var pay101 cogniscape.IssueView
	if code := getJSON(t, a.url, a.token, "/api/v1/issues/PAY-101", &pay101); code != 200 {
		t.Fatalf("PAY-101: %d", code)
	}
	if pay101.Site != "https://jira.acme-pay.internal" || pay101.Status != "In Progress" || pay101.StatusCategory != "indeterminate" {
		t.Errorf("PAY-101 = %s %s/%s", pay101.Site, pay101.Status, pay101.StatusCategory)
	}
	if pay101.Assignee == nil || pay101.Assignee.ID != "JIRAUSER10101" || pay101.Assignee.Name != "Marco Bellini" {
		t.Errorf("assignee = %+v, want the DC user key", pay101.Assignee)
	}
	if len(pay101.Sprints) != 1 || pay101.Sprints[0].ID != "37" || pay101.Sprints[0].State != "active" {
		t.Errorf("sprints from the GreenHopper string = %+v", pay101.Sprints)
	}
	if len(pay101.Worklogs) != 1 || pay101.Worklogs[0].Author == nil || pay101.Worklogs[0].TimeSpentSeconds == 0 {
		t.Errorf("worklogs = %+v", pay101.Worklogs)
	}
	if !slices.ContainsFunc(pay101.History, func(h cogniscape.HistoryItem) bool {
		return h.Field == "status" && h.From == "To Do" && h.To == "In Progress" && h.Category == "indeterminate"
	}) {
		t.Errorf("history = %+v", pay101.History)
	}
	// The comment arrived twice (comment_created and issue_commented): it is one comment.
	var pay102 cogniscape.IssueView
	getJSON(t, a.url, a.token, "/api/v1/issues/PAY-102", &pay102)
	if len(pay102.Comments) != 1 || pay102.Comments[0].ID != "20551" || pay102.Comments[0].Author == nil {
		t.Fatalf("PAY-102 comments = %+v", pay102.Comments)
	}
	var activity struct {
		Items []cogniscape.ActivityItem `json:"items"`
	}
	getJSON(t, a.url, a.token, "/api/v1/activity?since=2000-01-01T00:00:00Z", &activity)
	commented := 0
	for _, it := range activity.Items {
		if it.Entity == "comment:20551" || (it.Entity == "PAY-102" && it.Kind == "jira:issue_updated") {
			commented++
		}
	}
	if commented != 1 {
		t.Errorf("the twin comment events show %d times in the activity: %+v", commented, activity.Items)
	}
	var sprint cogniscape.SprintView
	getJSON(t, a.url, a.token, "/api/v1/sprints/37", &sprint)
	if sprint.State != "active" || !slices.Contains(sprint.Issues, "PAY-101") {
		t.Errorf("sprint = %+v", sprint)
	}
}
