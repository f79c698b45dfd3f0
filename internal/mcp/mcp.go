// Package mcp serves the graph to AI assistants over the Model Context
// Protocol (Streamable HTTP), read-only and scoped to the customer whose API
// token authenticated the request.
package mcp

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/cogniscape/cogniscape"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// Version is reported to MCP clients.
const Version = "1.0.0"

// Server builds an MCP server per request for the request's customer.
type Server struct {
	Graph  *cogniscape.Reader
	Now    func() time.Time
	Logger *slog.Logger
}

// Handler returns the Streamable HTTP handler. It must run behind
// authentication that puts the customer in the request context
// (cogniscape.WithCustomer); a request without one is refused. The handler is
// stateless: every request gets a server bound to its own token's customer,
// so no session can be carried over to another customer.
func (s *Server) Handler() http.Handler {
	if s.Now == nil {
		s.Now = time.Now
	}
	return sdk.NewStreamableHTTPHandler(func(r *http.Request) *sdk.Server {
		c := cogniscape.CustomerFrom(r.Context())
		if c == nil {
			return nil // the SDK answers 400; requireToken answers 401 before we get here
		}
		return s.newServer(c.ID)
	}, &sdk.StreamableHTTPOptions{Stateless: true, JSONResponse: true, Logger: s.Logger})
}

func (s *Server) newServer(customerID int64) *sdk.Server {
	srv := sdk.NewServer(&sdk.Implementation{Name: "cogniscape", Title: "Cogniscape", Version: Version}, &sdk.ServerOptions{
		Instructions: "Cogniscape knows what a software team works on, who is involved and how work moves from backlog to delivery, " +
			"from the team's Jira. Issues are named by key (PAY-101); other entities as kind:id (person:<id>, sprint:37, version:10021, project:PAY). " +
			"Every answer lists the Jira events it came from under sources.",
	})
	t := tools{s: s, customerID: customerID}
	t.register(srv)
	addPrompts(srv)
	return srv
}

type tools struct {
	s          *Server
	customerID int64
}

// result renders v as the tool's structured result and as text: a headline
// for people, then the same JSON for clients that read text only, compact
// (indenting a large answer adds a third to its size).
func result(headline string, v any) (*sdk.CallToolResult, any, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, nil, err
	}
	return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: headline + "\n\n" + string(data)}}, StructuredContent: v}, nil, nil
}

// toolError reports a caller mistake (unknown entity, bad argument) as a tool
// result the model can read, rather than a protocol error. A failure of the
// server's own (the store) is logged too, as the REST API logs its 5xx: the
// model only ever sees the safe message.
func (t tools) toolError(err error) (*sdk.CallToolResult, any, error) {
	switch cogniscape.ErrorCode(err) {
	case cogniscape.ENOTFOUND, cogniscape.EINVALID, cogniscape.ECONFLICT, cogniscape.EUNAUTHORIZED:
	default:
		if t.s.Logger != nil {
			t.s.Logger.Error("mcp tool", "err", err)
		}
	}
	msg := cogniscape.ErrorMessage(err)
	if cogniscape.ErrorCode(err) == cogniscape.ENOTFOUND {
		msg = "not found: no such entity for this customer"
	}
	return &sdk.CallToolResult{IsError: true, Content: []sdk.Content{&sdk.TextContent{Text: msg}}}, nil, nil
}

// ActivityArgs are get_activity_timeline's parameters.
type ActivityArgs struct {
	Since    string `json:"since,omitempty" jsonschema:"period: 24h, 7d, 2w or an RFC 3339 time (default 24h)"`
	Source   string `json:"source,omitempty" jsonschema:"all or jira (default all)"`
	Project  string `json:"project,omitempty" jsonschema:"only this project's key"`
	Person   string `json:"person,omitempty" jsonschema:"only what this person did (id, or person:<id>)"`
	MaxItems int    `json:"max_items,omitempty" jsonschema:"most entities to return (default 30, at most 200)"`
}

// SearchNodesArgs are search_nodes' parameters.
type SearchNodesArgs struct {
	Query      string `json:"query" jsonschema:"words to find in keys, titles, descriptions and comments; word* matches a prefix"`
	Kind       string `json:"kind,omitempty" jsonschema:"issue, person, project, sprint, version or comment"`
	NumResults int    `json:"num_results,omitempty" jsonschema:"default 10, at most 100"`
}

// SearchFactsArgs are search_facts' parameters.
type SearchFactsArgs struct {
	Query      string `json:"query,omitempty" jsonschema:"words the facts must mention"`
	Entity     string `json:"entity,omitempty" jsonschema:"PAY-101, person:<id>, sprint:37, …"`
	Since      string `json:"since,omitempty" jsonschema:"only facts still true at or after this time: 24h, 7d, 2w or RFC 3339"`
	NumResults int    `json:"num_results,omitempty" jsonschema:"default 20, at most 200"`
}

// EntityArgs names one entity.
type EntityArgs struct {
	ID string `json:"id" jsonschema:"PAY-101, person:<id>, sprint:37, version:10021, project:PAY"`
}

// IssueArgs names one issue.
type IssueArgs struct {
	Issue string `json:"issue" jsonschema:"issue key (PAY-101) or Jira id"`
}

// FlowArgs are get_flow_metrics' parameters.
type FlowArgs struct {
	Project string `json:"project" jsonschema:"project key"`
	Since   string `json:"since,omitempty" jsonschema:"period: 30d (default), 90d, 2w or RFC 3339"`
}

// SprintArgs names one sprint.
type SprintArgs struct {
	Sprint string `json:"sprint" jsonschema:"sprint id (37 or sprint:37)"`
}

func (t tools) register(srv *sdk.Server) {
	ro := &sdk.ToolAnnotations{ReadOnlyHint: true}
	sdk.AddTool(srv, &sdk.Tool{Name: "get_activity_timeline", Annotations: ro,
		Description: "Entities active in a period with what happened to them, newest first."}, t.activity)
	sdk.AddTool(srv, &sdk.Tool{Name: "search_nodes", Annotations: ro,
		Description: "Find issues, people, projects, sprints, versions and comments matching a text query, best first."}, t.searchNodes)
	sdk.AddTool(srv, &sdk.Tool{Name: "search_facts", Annotations: ro,
		Description: "Relations and changes as sentences, each with when it became true and when it stopped (\"PAY-102 blocks PAY-101, since 2026-03-04\")."}, t.searchFacts)
	sdk.AddTool(srv, &sdk.Tool{Name: "get_entity", Annotations: ro,
		Description: "One node (PAY-101, person:<id>, sprint:37, version:10021, project:PAY) with its current relations."}, t.entity)
	sdk.AddTool(srv, &sdk.Tool{Name: "get_lifecycle_timeline", Annotations: ro,
		Description: "An issue's path through statuses with time in each, assignees and sprints over time, lead and cycle time, everyone involved, and the release that shipped it."}, t.lifecycle)
	sdk.AddTool(srv, &sdk.Tool{Name: "get_flow_metrics", Annotations: ro,
		Description: "Cycle and lead time percentiles, weekly throughput, work in progress with its age, time in each status and a daily cumulative flow for a project."}, t.flow)
	sdk.AddTool(srv, &sdk.Tool{Name: "get_sprint_report", Annotations: ro,
		Description: "A sprint's commitment at start, scope added and removed after start, completed and carried-over work, and time logged."}, t.sprintReport)
}

// EntityActivity is one entity of the activity timeline.
type EntityActivity struct {
	Entity string                    `json:"entity"`
	Events []cogniscape.ActivityItem `json:"events"`
}

func (t tools) activity(ctx context.Context, _ *sdk.CallToolRequest, a ActivityArgs) (*sdk.CallToolResult, any, error) {
	now := t.s.Now()
	since, err := cogniscape.ParseSince(a.Since, 24*time.Hour, now)
	if err != nil {
		return t.toolError(err)
	}
	switch a.Source {
	case "", "all", "jira":
	default:
		return t.toolError(cogniscape.Errorf(cogniscape.EINVALID, "source must be all or jira"))
	}
	max := a.MaxItems
	if max <= 0 {
		max = 30
	}
	max = min(max, 200)
	items, err := t.s.Graph.Activity(ctx, t.customerID, since, 2000)
	if err != nil {
		return t.toolError(err)
	}
	person := strings.TrimPrefix(a.Person, "person:")
	project := strings.ToUpper(strings.TrimPrefix(a.Project, "project:"))
	var out []EntityActivity
	index := map[string]int{}
	for _, it := range items {
		if person != "" && (it.Actor == nil || it.Actor.ID != person) {
			continue
		}
		if project != "" && !strings.HasPrefix(it.Entity, project+"-") && it.Entity != "project:"+project && !strings.Contains(it.Summary, " "+project+"-") {
			continue
		}
		i, ok := index[it.Entity]
		if !ok {
			if len(out) == max {
				continue
			}
			i = len(out)
			index[it.Entity] = i
			out = append(out, EntityActivity{Entity: it.Entity})
		}
		out[i].Events = append(out[i].Events, it)
	}
	if out == nil {
		out = []EntityActivity{}
	}
	return result(fmt.Sprintf("%d entities active since %s (newest first).", len(out), since.Format(time.RFC3339)),
		map[string]any{"since": since.Format(time.RFC3339), "source": "jira", "entities": out})
}

func (t tools) searchNodes(ctx context.Context, _ *sdk.CallToolRequest, a SearchNodesArgs) (*sdk.CallToolResult, any, error) {
	if strings.TrimSpace(a.Query) == "" {
		return t.toolError(cogniscape.Errorf(cogniscape.EINVALID, "query is required"))
	}
	n := a.NumResults
	if n <= 0 {
		n = 10
	}
	res, err := t.s.Graph.Search(ctx, t.customerID, limit(a.Query, 200), cogniscape.Kind(a.Kind), min(n, 100))
	if err != nil {
		return t.toolError(err)
	}
	return result(fmt.Sprintf("%d results for %q.", len(res), a.Query), map[string]any{"query": a.Query, "results": res})
}

func (t tools) searchFacts(ctx context.Context, _ *sdk.CallToolRequest, a SearchFactsArgs) (*sdk.CallToolResult, any, error) {
	now := t.s.Now()
	n := a.NumResults
	if n <= 0 {
		n = 20
	}
	n = min(n, 200)
	var since time.Time
	if a.Since != "" {
		var err error
		if since, err = cogniscape.ParseSince(a.Since, 0, now); err != nil {
			return t.toolError(err)
		}
	}
	entities := []string{}
	if a.Entity != "" {
		entities = append(entities, a.Entity)
	} else if a.Query != "" {
		hits, err := t.s.Graph.Search(ctx, t.customerID, limit(a.Query, 200), "", 5)
		if err != nil {
			return t.toolError(err)
		}
		for _, h := range hits {
			if h.Kind != cogniscape.KindComment {
				entities = append(entities, h.ID)
			}
		}
	} else {
		return t.toolError(cogniscape.Errorf(cogniscape.EINVALID, "give a query or an entity"))
	}
	words := strings.Fields(strings.ToLower(a.Query))
	type factOut struct {
		cogniscape.Fact
		Text string `json:"text"`
	}
	facts := []factOut{}
	for _, e := range entities {
		fs, err := t.s.Graph.Facts(ctx, t.customerID, e, now)
		if err != nil {
			if a.Entity != "" {
				return t.toolError(err)
			}
			continue
		}
		for _, f := range fs {
			if !since.IsZero() && f.ValidTo != "" && f.ValidTo < since.Format(time.RFC3339) {
				continue
			}
			if a.Entity != "" && len(words) > 0 && !containsAll(strings.ToLower(f.Statement), words) {
				continue
			}
			facts = append(facts, factOut{Fact: f, Text: f.Text()})
		}
	}
	// Newest first, so that the cut keeps what is most current.
	slices.SortStableFunc(facts, func(x, y factOut) int { return strings.Compare(y.ValidFrom, x.ValidFrom) })
	if len(facts) > n {
		facts = facts[:n]
	}
	lines := make([]string, len(facts))
	for i, f := range facts {
		lines[i] = f.Text
	}
	return result(strings.Join(lines, "\n"), map[string]any{"facts": facts})
}

func containsAll(s string, words []string) bool {
	for _, w := range words {
		if !strings.Contains(s, w) {
			return false
		}
	}
	return true
}

func (t tools) entity(ctx context.Context, _ *sdk.CallToolRequest, a EntityArgs) (*sdk.CallToolResult, any, error) {
	id := strings.TrimSpace(a.ID)
	kind, rest, _ := strings.Cut(id, ":")
	var v any
	var err error
	switch cogniscape.Kind(kind) {
	case cogniscape.KindPerson:
		v, err = t.s.Graph.PersonByID(ctx, t.customerID, rest)
	case cogniscape.KindSprint:
		v, err = t.s.Graph.Sprint(ctx, t.customerID, rest)
	case cogniscape.KindVersion:
		v, err = t.s.Graph.Version(ctx, t.customerID, rest)
	case cogniscape.KindProject:
		v, err = t.s.Graph.Project(ctx, t.customerID, rest)
	case cogniscape.KindIssue:
		v, err = t.s.Graph.Issue(ctx, t.customerID, rest)
	default:
		if strings.Contains(id, ":") {
			hood, herr := t.s.Graph.Neighbors(ctx, t.customerID, id, 1)
			v, err = hood, herr
		} else {
			v, err = t.s.Graph.Issue(ctx, t.customerID, id)
		}
	}
	if err != nil {
		return t.toolError(err)
	}
	return result("Entity "+id+".", v)
}

func (t tools) lifecycle(ctx context.Context, _ *sdk.CallToolRequest, a IssueArgs) (*sdk.CallToolResult, any, error) {
	lc, err := t.s.Graph.Lifecycle(ctx, t.customerID, strings.TrimPrefix(a.Issue, "issue:"), t.s.Now())
	if err != nil {
		return t.toolError(err)
	}
	head := fmt.Sprintf("%s is %s (%s).", lc.Issue, lc.Status, lc.StatusCategory)
	if lc.LeadTimeSeconds != nil {
		head += " Lead time " + cogniscape.FormatDuration(time.Duration(*lc.LeadTimeSeconds)*time.Second) + "."
	}
	if lc.CycleTimeSeconds != nil {
		head += " Cycle time " + cogniscape.FormatDuration(time.Duration(*lc.CycleTimeSeconds)*time.Second) + "."
	}
	for _, n := range lc.Notes {
		head += " Note: " + n + "."
	}
	return result(head, lc)
}

func (t tools) flow(ctx context.Context, _ *sdk.CallToolRequest, a FlowArgs) (*sdk.CallToolResult, any, error) {
	if a.Project == "" {
		return t.toolError(cogniscape.Errorf(cogniscape.EINVALID, "project is required"))
	}
	now := t.s.Now()
	since, err := cogniscape.ParseSince(a.Since, 30*24*time.Hour, now)
	if err != nil {
		return t.toolError(err)
	}
	f, err := t.s.Graph.Flow(ctx, t.customerID, strings.TrimPrefix(a.Project, "project:"), since, now)
	if err != nil {
		return t.toolError(err)
	}
	return result(fmt.Sprintf("%s since %s: %d delivered, %d in progress. Definitions are in the answer.",
		f.Project.Key, f.Since, len(f.Delivered), len(f.WIP)), f)
}

func (t tools) sprintReport(ctx context.Context, _ *sdk.CallToolRequest, a SprintArgs) (*sdk.CallToolResult, any, error) {
	rep, err := t.s.Graph.SprintReport(ctx, t.customerID, strings.TrimPrefix(a.Sprint, "sprint:"), t.s.Now())
	if err != nil {
		return t.toolError(err)
	}
	return result(fmt.Sprintf("%s (%s): %d committed, %d added, %d removed, %d completed, %d carried over.",
		rep.Sprint.Name, rep.Sprint.State, len(rep.Committed), len(rep.Added), len(rep.Removed), len(rep.Completed), len(rep.CarriedOver)), rep)
}

func limit(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
