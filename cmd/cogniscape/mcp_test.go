package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cogniscape/cogniscape"
	"github.com/cogniscape/cogniscape/internal/httpd"
	cmcp "github.com/cogniscape/cogniscape/internal/mcp"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

type bearer struct {
	token string
	base  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.base.RoundTrip(r)
}

// mcpSession connects the SDK's own client to the server's /mcp endpoint.
func mcpSession(t *testing.T, baseURL, token string) *sdk.ClientSession {
	t.Helper()
	client := sdk.NewClient(&sdk.Implementation{Name: "cogniscape-test", Version: "1"}, nil)
	transport := &sdk.StreamableClientTransport{Endpoint: baseURL + "/mcp", DisableStandaloneSSE: true, MaxRetries: -1,
		HTTPClient: &http.Client{Transport: bearer{token, http.DefaultTransport}, Timeout: 30 * time.Second}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cs, err := client.Connect(ctx, transport, nil)
	if err != nil {
		t.Fatalf("connect MCP: %v", err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

func callTool(t *testing.T, cs *sdk.ClientSession, name string, args map[string]any) (map[string]any, string, bool) {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &sdk.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	text := ""
	for _, c := range res.Content {
		if tc, ok := c.(*sdk.TextContent); ok {
			text += tc.Text
		}
	}
	var structured map[string]any
	if res.StructuredContent != nil {
		raw, _ := json.Marshal(res.StructuredContent)
		json.Unmarshal(raw, &structured)
	}
	return structured, text, res.IsError
}

func TestMCPEndToEnd(t *testing.T) {
	var a *app
	var graph *cogniscape.Reader
	a, proj := newGraphAppWith(t, func(s *httpd.Server) {
		graph = s.Graph
		// The story happened in March 2026; look at it from just after.
		now := func() time.Time { return time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC) }
		s.Now = now
		s.MCP = (&cmcp.Server{Graph: graph, Now: now}).Handler()
	})
	deliverAll(t, a, cloudStory(t))
	catchUp(t, proj)

	// No token, or a wrong one: 401 before the MCP handler.
	for _, tok := range []string{"", "cgs_wrong"} {
		req, _ := http.NewRequest("POST", a.url+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Fatalf("token %q: %d, want 401", tok, resp.StatusCode)
		}
	}

	cs := mcpSession(t, a.url, a.token)
	tools, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tl := range tools.Tools {
		names = append(names, tl.Name)
	}
	for _, want := range []string{"get_activity_timeline", "search_nodes", "search_facts", "get_entity", "get_lifecycle_timeline", "get_flow_metrics", "get_sprint_report"} {
		if !slices.Contains(names, want) {
			t.Errorf("tool %s missing from %v", want, names)
		}
	}
	prompts, err := cs.ListPrompts(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(prompts.Prompts) < 5 {
		t.Errorf("prompts = %d", len(prompts.Prompts))
	}
	p, err := cs.GetPrompt(context.Background(), &sdk.GetPromptParams{Name: "what_is_blocking", Arguments: map[string]string{"issue": "PAY-101"}})
	if err != nil || len(p.Messages) != 1 || !strings.Contains(p.Messages[0].Content.(*sdk.TextContent).Text, "PAY-101") {
		t.Fatalf("prompt: %v %+v", err, p)
	}

	out, text, isErr := callTool(t, cs, "get_activity_timeline", map[string]any{"since": "30d", "project": "PAY"})
	if isErr || !strings.Contains(text, "PAY-101") || len(out["entities"].([]any)) == 0 {
		t.Errorf("activity: err=%v %s", isErr, text[:min(len(text), 300)])
	}
	out, text, isErr = callTool(t, cs, "search_nodes", map[string]any{"query": "refund", "kind": "issue"})
	if isErr || len(out["results"].([]any)) == 0 {
		t.Errorf("search_nodes: %s", text)
	}
	_, text, isErr = callTool(t, cs, "search_facts", map[string]any{"entity": "PAY-101"})
	if isErr || !strings.Contains(text, "PAY-102 blocks PAY-101, from 2026-03-04 until 2026-03-09") || !strings.Contains(text, "PAY-101 is In Progress (indeterminate), since") {
		t.Errorf("search_facts:\n%s", text)
	}
	_, text, isErr = callTool(t, cs, "search_facts", map[string]any{"entity": "PAY-101", "query": "assigned"})
	if isErr || !strings.Contains(text, "assigned to Marco Bellini") || strings.Contains(text, "blocks") {
		t.Errorf("search_facts with query:\n%s", text)
	}
	out, _, isErr = callTool(t, cs, "get_entity", map[string]any{"id": "PAY-101"})
	if isErr || out["key"] != "PAY-101" || out["status"] != "In Progress" {
		t.Errorf("get_entity PAY-101 = %v", out)
	}
	out, _, isErr = callTool(t, cs, "get_entity", map[string]any{"id": "sprint:37"})
	if isErr || out["name"] != "PAY Sprint 14" {
		t.Errorf("get_entity sprint:37 = %v", out)
	}
	out, _, isErr = callTool(t, cs, "get_lifecycle_timeline", map[string]any{"issue": "PAY-101"})
	if isErr || out["issue"] != "PAY-101" || len(out["statuses"].([]any)) != 2 || len(out["sources"].([]any)) == 0 {
		t.Errorf("lifecycle = %v", out)
	}
	out, _, isErr = callTool(t, cs, "get_flow_metrics", map[string]any{"project": "PAY", "since": "30d"})
	if isErr || out["project"].(map[string]any)["key"] != "PAY" || out["definitions"] == nil {
		t.Errorf("flow = %v", out)
	}
	out, _, isErr = callTool(t, cs, "get_sprint_report", map[string]any{"sprint": "37"})
	if isErr || !slices.Contains(out["carried_over"].([]any), any("PAY-103")) {
		t.Errorf("sprint report = %v", out)
	}
	if _, text, isErr := callTool(t, cs, "get_entity", map[string]any{"id": "PAY-999"}); !isErr || !strings.Contains(text, "not found") {
		t.Errorf("unknown entity: %v %s", isErr, text)
	}

	// Customer B's token sees nothing of customer A.
	_, other, err := a.db.CreateCustomer(context.Background(), "Other")
	if err != nil {
		t.Fatal(err)
	}
	csB := mcpSession(t, a.url, other.APIToken)
	for _, call := range []struct {
		tool string
		args map[string]any
	}{
		{"get_entity", map[string]any{"id": "PAY-101"}},
		{"get_lifecycle_timeline", map[string]any{"issue": "PAY-101"}},
		{"get_sprint_report", map[string]any{"sprint": "37"}},
		{"get_flow_metrics", map[string]any{"project": "PAY"}},
		{"search_facts", map[string]any{"entity": "PAY-101"}},
	} {
		if _, text, isErr := callTool(t, csB, call.tool, call.args); !isErr || strings.Contains(text, "PAY-101 is") {
			t.Errorf("customer B %s: %v %s", call.tool, isErr, text)
		}
	}
	out, _, _ = callTool(t, csB, "search_nodes", map[string]any{"query": "refund"})
	if len(out["results"].([]any)) != 0 {
		t.Errorf("customer B finds A's nodes: %v", out)
	}
	out, _, _ = callTool(t, csB, "get_activity_timeline", map[string]any{"since": "3650d"})
	if len(out["entities"].([]any)) != 0 {
		t.Errorf("customer B sees A's activity: %v", out)
	}
}

// A reverse proxy on the same machine forwards requests for the public host
// to the loopback listener: those pass, any other host is refused.
func TestMCPBehindReverseProxyKeepsRebindingProtection(t *testing.T) {
	a, _ := newGraphAppWith(t, func(s *httpd.Server) {
		s.PublicURL = "https://cogniscape.example.com"
		s.MCP = (&cmcp.Server{Graph: s.Graph}).Handler()
	})
	for host, want := range map[string]int{"cogniscape.example.com": 200, "cogniscape.example.com:443": 200, "evil.example.net": 403,
		"evil.example.net:443": 403, "cogniscape.example.com:8443": 403, "127.0.0.1": 200} {
		req, _ := http.NewRequest("POST", a.url+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`))
		req.Host = host
		req.Header.Set("Authorization", "Bearer "+a.token)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("Host %s: %d, want %d", host, resp.StatusCode, want)
		}
	}
}

// A tool that fails for the server's own reason (the store) tells the model
// only the safe message, and the log gets the cause, as for the REST API.
func TestMCPToolFailuresAreLogged(t *testing.T) {
	var log lockedLog
	a, _ := newGraphAppWith(t, func(s *httpd.Server) {
		s.Logger = slog.New(slog.NewTextHandler(&log, nil))
		s.MCP = (&cmcp.Server{Graph: &cogniscape.Reader{Store: failingGraph{}}, Logger: s.Logger}).Handler()
	})
	cs := mcpSession(t, a.url, a.token)
	_, text, isErr := callTool(t, cs, "get_entity", map[string]any{"id": "PAY-101"})
	if !isErr || strings.Contains(text, "sql") {
		t.Errorf("tool answer with the store closed: %v %q", isErr, text)
	}
	if !strings.Contains(log.String(), "mcp tool") {
		t.Errorf("the failure is not in the log:\n%s", log.String())
	}
}

// failingGraph is a graph store whose reads fail as a store that is down does.
type failingGraph struct{ cogniscape.GraphReader }

func (failingGraph) FindNode(context.Context, int64, cogniscape.Kind, string) (*cogniscape.Node, error) {
	return nil, &cogniscape.Error{Code: cogniscape.EUNAVAILABLE, Message: "storage unavailable", Err: errors.New("sql: database is closed")}
}
