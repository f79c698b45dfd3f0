package mcp

import (
	"context"
	"fmt"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// prompt is a reusable workflow: a message that tells the assistant which
// tools answer the question.
type prompt struct {
	name, title, description string
	args                     []*sdk.PromptArgument
	text                     func(args map[string]string) string
}

var prompts = []prompt{
	{
		name: "daily_standup", title: "Daily stand-up summary",
		description: "What the team did since yesterday, what is in progress, and what is stuck.",
		args:        []*sdk.PromptArgument{{Name: "project", Description: "project key (optional)"}},
		text: func(a map[string]string) string {
			return fmt.Sprintf("Prepare today's stand-up%s. Call get_activity_timeline with since=24h%s to see what happened, "+
				"then get_flow_metrics%s for the work in progress and its age. Group by person: done yesterday, doing today, blocked "+
				"(use search_facts with query \"blocks\" for blockers). Name issues by key and cite the event times.",
				forProject(a), projectArg(a, ", project="), projectArg(a, " with project="))
		},
	},
	{
		name: "sprint_review", title: "Sprint review",
		description: "What a sprint committed to, what changed after it started, what was completed and carried over.",
		args:        []*sdk.PromptArgument{{Name: "sprint", Description: "sprint id", Required: true}},
		text: func(a map[string]string) string {
			return fmt.Sprintf("Prepare the review of sprint %s. Call get_sprint_report with sprint=%s. Report the commitment at start, "+
				"scope added and removed after the start (with get_lifecycle_timeline for anything surprising), completed work, carried-over "+
				"work and time logged. Say what the definitions in the answer mean where it matters.", a["sprint"], a["sprint"])
		},
	},
	{
		name: "what_is_blocking", title: "What is blocking an issue",
		description: "Why an issue is stuck: blocking links, status history, who has touched it.",
		args:        []*sdk.PromptArgument{{Name: "issue", Description: "issue key, e.g. PAY-101", Required: true}},
		text: func(a map[string]string) string {
			return fmt.Sprintf("Find out what is blocking %s. Call get_lifecycle_timeline with issue=%s for its path and time in each status, "+
				"search_facts with entity=%s for blocking links (current and past), and get_entity on each blocker. "+
				"Say who is involved and how long it has been waiting.", a["issue"], a["issue"], a["issue"])
		},
	},
	{
		name: "weekly_delivery_report", title: "Weekly delivery report",
		description: "What was delivered in the last week and how long it took.",
		args:        []*sdk.PromptArgument{{Name: "project", Description: "project key", Required: true}},
		text: func(a map[string]string) string {
			return fmt.Sprintf("Write the weekly delivery report for project %s. Call get_flow_metrics with project=%s and since=7d for what was "+
				"delivered, lead and cycle times (percentiles), throughput and work in progress; compare with since=30d. "+
				"Call out reopened work and the oldest work in progress.", a["project"], a["project"])
		},
	},
	{
		name: "project_onboarding", title: "Onboarding to a project",
		description: "Who works on a project, what it is doing now, and how work flows through it.",
		args:        []*sdk.PromptArgument{{Name: "project", Description: "project key", Required: true}},
		text: func(a map[string]string) string {
			return fmt.Sprintf("Help a newcomer get to know project %s. Call get_entity with id=project:%s, get_flow_metrics with project=%s "+
				"and since=90d, get_activity_timeline with since=2w and project=%s, and search_nodes for its current sprint. Explain who "+
				"does what, what is in progress, and how long work usually takes.", a["project"], a["project"], a["project"], a["project"])
		},
	},
}

func forProject(a map[string]string) string {
	if a["project"] == "" {
		return ""
	}
	return " for project " + a["project"]
}

func projectArg(a map[string]string, prefix string) string {
	if a["project"] == "" {
		return ""
	}
	return prefix + a["project"]
}

func addPrompts(srv *sdk.Server) {
	for _, p := range prompts {
		srv.AddPrompt(&sdk.Prompt{Name: p.name, Title: p.title, Description: p.description, Arguments: p.args},
			func(_ context.Context, req *sdk.GetPromptRequest) (*sdk.GetPromptResult, error) {
				args := req.Params.Arguments
				for _, a := range p.args {
					if a.Required && args[a.Name] == "" {
						return nil, fmt.Errorf("prompt %s needs argument %s", p.name, a.Name)
					}
				}
				return &sdk.GetPromptResult{Description: p.description, Messages: []*sdk.PromptMessage{
					{Role: "user", Content: &sdk.TextContent{Text: p.text(args)}},
				}}, nil
			})
	}
}
