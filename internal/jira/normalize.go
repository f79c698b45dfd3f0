package jira

import (
	"encoding/json"
	"errors"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cogniscape/cogniscape"
)

// Normalize turns one raw Jira webhook body into the Mutation it implies. It
// does no I/O and is deterministic: the same body always gives the same
// Mutation.
//
// It returns (nil, nil) for an event type Cogniscape does not project (board,
// user, filter, issue type, option, entity property, attachment events and
// anything unknown), and an error only for a body that is not a JSON object
// with a webhookEvent string. Anything else odd in the body (a missing field,
// an unexpected type) is skipped, never fatal.
func Normalize(body []byte) (*cogniscape.Mutation, error) {
	v, err := decodeBody(body)
	if err != nil {
		return nil, err
	}
	root, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("jira: body is not a JSON object")
	}
	event, _ := root["webhookEvent"].(string)
	if event == "" {
		return nil, errors.New("jira: body has no webhookEvent")
	}

	b := newBuilder(root, event)
	switch event {
	case "jira:issue_created", "jira:issue_updated", "jira:issue_deleted":
		b.issueEvent()
	case "comment_created", "comment_updated", "comment_deleted":
		b.commentEvent()
	case "worklog_created", "worklog_updated", "worklog_deleted", "jira:worklog_updated":
		b.worklogEvent()
	case "issuelink_created", "issuelink_deleted":
		b.issueLinkEvent()
	case "sprint_created", "sprint_updated", "sprint_started", "sprint_closed", "sprint_deleted":
		b.sprintEvent()
	case "project_created", "project_updated", "project_deleted", "project_soft_deleted",
		"project_restored_deleted", "project_archived", "project_restored_archived":
		b.projectEvent()
	case "jira:version_created", "jira:version_updated", "jira:version_released", "jira:version_unreleased",
		"jira:version_moved", "jira:version_deleted", "jira:version_merged":
		b.versionEvent()
	default:
		return nil, nil
	}
	return b.m, nil
}

// builder accumulates one Mutation. Node updates about the same node are
// merged into one (a reporter who is also the creator and the actor appears
// once), and a later edge update of the same (node, relation) replaces an
// earlier one, so the result never contradicts itself.
type builder struct {
	root  map[string]any
	m     *cogniscape.Mutation
	nodes map[cogniscape.NodeRef]int // index in m.Nodes
	edges map[edgeKey]int            // index in m.Edges
}

type edgeKey struct {
	from cogniscape.NodeRef
	rel  string
}

func newBuilder(root map[string]any, event string) *builder {
	m := &cogniscape.Mutation{
		Source: "jira",
		Site:   siteOfBody(root),
		Event:  event,
	}
	if ms, ok := toInt64(root["timestamp"]); ok {
		m.Version.At = ms
	}
	if seq, ok := toInt64(object(root["changelog"])["id"]); ok {
		m.Version.Seq = seq
	}
	return &builder{
		root:  root,
		m:     m,
		nodes: map[cogniscape.NodeRef]int{},
		edges: map[edgeKey]int{},
	}
}

// node returns the update for ref, adding it if this is its first mention.
func (b *builder) node(ref cogniscape.NodeRef) *cogniscape.NodeUpdate {
	if i, ok := b.nodes[ref]; ok {
		return &b.m.Nodes[i]
	}
	b.nodes[ref] = len(b.m.Nodes)
	b.m.Nodes = append(b.m.Nodes, cogniscape.NodeUpdate{Ref: ref})
	return &b.m.Nodes[len(b.m.Nodes)-1]
}

// set sets one attribute of ref; v must be encodable (strings, bools, int64,
// []string, nil, json.Number from the decoder).
func (b *builder) set(ref cogniscape.NodeRef, name string, v any) {
	n := b.node(ref)
	if n.Attrs == nil {
		n.Attrs = map[string]json.RawMessage{}
	}
	n.Attrs[name] = cogniscape.Attr(v)
}

func (b *builder) setDeleted(ref cogniscape.NodeRef, deleted bool) {
	b.node(ref).Deleted = &deleted
}

// edge replaces the targets of from's relation rel. An empty to clears it.
func (b *builder) edge(from cogniscape.NodeRef, rel string, to ...cogniscape.NodeRef) {
	if to == nil {
		to = []cogniscape.NodeRef{} // encodes as [], not null
	}
	k := edgeKey{from, rel}
	if i, ok := b.edges[k]; ok {
		b.m.Edges[i].To = to
		return
	}
	b.edges[k] = len(b.m.Edges)
	b.m.Edges = append(b.m.Edges, cogniscape.EdgeUpdate{From: from, Rel: rel, To: to})
}

func ref(kind cogniscape.Kind, id string) cogniscape.NodeRef {
	return cogniscape.NodeRef{Kind: kind, ID: id}
}

// ---- issues ----------------------------------------------------------------

// issueEvent handles jira:issue_created/updated/deleted: the issue as a full
// snapshot, its changelog, and on Data Center the comment that rides along
// with issue_commented / issue_comment_edited / issue_comment_deleted.
func (b *builder) issueEvent() {
	if actor, ok := b.person(b.root["user"]); ok {
		b.m.Actor = actor.ID
	}
	iss, ok := b.issue(object(b.root["issue"]), true)
	if ok {
		if b.m.Event == "jira:issue_deleted" {
			b.setDeleted(iss, true)
		}
		b.changes(iss)
	}
	if c := object(b.root["comment"]); c != nil {
		typ, _ := b.root["issue_event_type_name"].(string)
		b.comment(c, iss.ID, typ == "issue_comment_deleted")
	}
}

// issue projects an issue object: its attributes and relations for the
// fields it carries. full says the issue is a complete snapshot (issue
// events), so that a parent missing from it is known to be none; comment
// events carry a trimmed issue that says nothing about what it leaves out.
// (Data Center's Epic Link custom field names the epic by key only, so it is
// not followed: on Data Center only sub-tasks have a parent.)
func (b *builder) issue(iss map[string]any, full bool) (cogniscape.NodeRef, bool) {
	id := idOf(iss["id"])
	if id == "" {
		return cogniscape.NodeRef{}, false
	}
	r := ref(cogniscape.KindIssue, id)
	b.node(r)
	b.keyAttr(r, iss)
	fields := object(iss["fields"])
	if fields == nil {
		return r, true
	}
	has := func(name string) bool { _, ok := fields[name]; return ok }

	b.textAttr(r, "summary", fields, "summary", false)
	b.textAttr(r, "description", fields, "description", true)
	if st := object(fields["status"]); st != nil {
		b.status(r, st)
	}
	b.nameAttr(r, "priority", fields, "priority")
	b.nameAttr(r, "issue_type", fields, "issuetype")
	b.nameAttr(r, "resolution", fields, "resolution")
	if has("labels") {
		if labels, ok := stringList(fields["labels"]); ok {
			b.set(r, "labels", labels)
		}
	}
	if has("components") {
		if names, ok := nameList(fields["components"]); ok {
			b.set(r, "components", names)
		}
	}
	b.timeAttr(r, "created", fields, "created", false)
	b.timeAttr(r, "updated", fields, "updated", false)
	b.timeAttr(r, "resolution_date", fields, "resolutiondate", true)
	if has("duedate") {
		switch d := fields["duedate"].(type) {
		case string:
			b.set(r, "due_date", d)
		case nil:
			b.set(r, "due_date", nil)
		}
	}

	var project cogniscape.NodeRef
	if p := object(fields["project"]); p != nil {
		if id := idOf(p["id"]); id != "" {
			project = ref(cogniscape.KindProject, id)
			b.keyAttr(project, p)
			b.stringAttr(project, "name", p, "name")
			b.edge(r, cogniscape.RelProject, project)
		}
	}
	b.personEdge(r, cogniscape.RelAssignee, fields, "assignee")
	b.personEdge(r, cogniscape.RelReporter, fields, "reporter")
	b.person(fields["creator"])

	switch parent := fields["parent"].(type) {
	case map[string]any:
		if id := idOf(parent["id"]); id != "" {
			p := ref(cogniscape.KindIssue, id)
			b.keyAttr(p, parent)
			b.stringAttr(p, "summary", object(parent["fields"]), "summary")
			b.edge(r, cogniscape.RelParent, p)
		}
	case nil:
		if has("parent") || full {
			b.edge(r, cogniscape.RelParent)
		}
	}

	b.sprints(r, fields)

	if has("fixVersions") {
		switch list := fields["fixVersions"].(type) {
		case []any:
			var to []cogniscape.NodeRef
			known := true
			for _, v := range list {
				vr, ok := b.version(object(v), project, false)
				if !ok {
					known = false // a version without a usable id: the set is not known
				} else if !slices.Contains(to, vr) {
					to = append(to, vr)
				}
			}
			if known {
				b.edge(r, cogniscape.RelFixVersion, to...)
			}
		case nil:
			b.edge(r, cogniscape.RelFixVersion)
		}
	}
	return r, true
}

// status sets the issue's status attributes and describes the status node.
func (b *builder) status(issue cogniscape.NodeRef, st map[string]any) {
	name, hasName := st["name"].(string)
	cat, hasCat := object(st["statusCategory"])["key"].(string)
	if hasName {
		b.set(issue, "status", name)
	}
	if hasCat {
		b.set(issue, "status_category", cat)
	}
	id := idOf(st["id"])
	if id == "" {
		return
	}
	b.set(issue, "status_id", id)
	s := ref(cogniscape.KindStatus, id)
	b.node(s)
	if hasName {
		b.set(s, "name", name)
	}
	if hasCat {
		b.set(s, "category", cat)
	}
}

// changes records one Change per changelog item. Display values go through
// StripCode (a description change carries the whole text before and after)
// except for the summary, which is kept as the summary attribute is.
func (b *builder) changes(issue cogniscape.NodeRef) {
	items, _ := object(b.root["changelog"])["items"].([]any)
	for _, it := range items {
		item := object(it)
		if item == nil {
			continue
		}
		field, _ := item["field"].(string)
		if field == "" {
			field, _ = item["fieldId"].(string)
		}
		if !PlainID(field) { // a field name is indexed: none of Jira's is long
			continue
		}
		from, to := plainString(item["fromString"]), plainString(item["toString"])
		if !strings.EqualFold(field, "summary") {
			from, to = StripCode(from), StripCode(to)
		}
		b.m.Changes = append(b.m.Changes, cogniscape.Change{
			Node:   issue,
			Field:  field,
			From:   from,
			To:     to,
			FromID: plainString(item["from"]),
			ToID:   plainString(item["to"]),
		})
	}
}

// ---- sprints -----------------------------------------------------------------

// sprints sets the issue's sprint relation from its Sprint custom field. The
// field's id differs per site, so it is recognised by the shape of its value:
// sprint objects on Cloud, GreenHopper strings on Data Center. An empty or
// null value has no shape; then a Sprint changelog item tells that the issue
// left its sprints.
func (b *builder) sprints(issue cogniscape.NodeRef, fields map[string]any) {
	var keys []string
	for k := range fields {
		if strings.HasPrefix(k, "customfield_") {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	found, unusable := false, false
	var to []cogniscape.NodeRef
	for _, k := range keys {
		list, ok := sprintList(fields[k])
		if !ok {
			continue
		}
		found = true
		for _, s := range list {
			sr, ok := b.sprint(s, false)
			if !ok {
				unusable = true
			} else if !slices.Contains(to, sr) {
				to = append(to, sr)
			}
		}
	}
	switch {
	case found && unusable:
		// A sprint without a usable id: the set is not known.
	case found || b.sprintCleared(fields):
		b.edge(issue, cogniscape.RelSprint, to...)
	}
}

// sprintCleared reports whether this issue event's changelog says that the
// Sprint field was emptied.
func (b *builder) sprintCleared(fields map[string]any) bool {
	items, _ := object(b.root["changelog"])["items"].([]any)
	for _, it := range items {
		item := object(it)
		if field, _ := item["field"].(string); !strings.EqualFold(field, "sprint") {
			continue
		}
		if fid, _ := item["fieldId"].(string); fid != "" {
			v, ok := fields[fid]
			if list, isList := v.([]any); ok && (v == nil || isList && len(list) == 0) {
				return true
			}
			continue
		}
		if strings.TrimSpace(plainString(item["to"])) == "" {
			return true
		}
	}
	return false
}

// sprintList returns the sprints of a Sprint custom field value, each as a map
// of sprint object fields, if v has that shape.
func sprintList(v any) ([]map[string]any, bool) {
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		return nil, false
	}
	out := make([]map[string]any, 0, len(list))
	for _, e := range list {
		switch e := e.(type) {
		case map[string]any:
			_, hasID := e["id"]
			_, hasName := e["name"].(string)
			_, hasState := e["state"].(string)
			if !hasID || !hasName || !hasState {
				return nil, false
			}
			out = append(out, e)
		case string:
			s, ok := parseGreenHopperSprint(e)
			if !ok {
				return nil, false
			}
			out = append(out, s)
		default:
			return nil, false
		}
	}
	return out, true
}

var ghKey = regexp.MustCompile(`(?:^|,)([A-Za-z][A-Za-z0-9]*)=`)

// parseGreenHopperSprint reads a Data Center sprint string,
// "com.atlassian.greenhopper.service.sprint.Sprint@6f3a[id=37,rapidViewId=3,
// state=ACTIVE,name=PAY Sprint 14,…,completeDate=<null>,…]", into the field
// names of a Cloud sprint object (rapidViewId becomes boardId). "<null>"
// values are left out.
func parseGreenHopperSprint(s string) (map[string]any, bool) {
	open := strings.IndexByte(s, '[')
	if open < 0 || !strings.HasSuffix(s, "]") || !strings.Contains(s[:open], "sprint.Sprint") {
		return nil, false
	}
	inner := s[open+1 : len(s)-1]
	locs := ghKey.FindAllStringSubmatchIndex(inner, -1)
	out := map[string]any{}
	for i, loc := range locs {
		end := len(inner)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		key, val := inner[loc[2]:loc[3]], inner[loc[1]:end]
		if val == "<null>" {
			continue
		}
		if key == "rapidViewId" {
			key = "boardId"
		}
		if _, dup := out[key]; !dup {
			out[key] = val
		}
	}
	if _, ok := out["id"]; !ok {
		return nil, false
	}
	if _, ok := out["name"]; !ok {
		out["name"] = ""
	}
	return out, true
}

// sprint describes a sprint from a sprint object: an element of an issue's
// Sprint field, or the subject of a sprint event (full), which is a complete
// snapshot, so that the dates it does not carry are cleared.
func (b *builder) sprint(s map[string]any, full bool) (cogniscape.NodeRef, bool) {
	id := idOf(s["id"])
	if id == "" {
		return cogniscape.NodeRef{}, false
	}
	r := ref(cogniscape.KindSprint, id)
	b.node(r)
	b.stringAttr(r, "name", s, "name")
	if st, ok := s["state"].(string); ok {
		b.set(r, "state", strings.ToLower(st))
	}
	b.stringAttr(r, "goal", s, "goal")
	for _, d := range [...]struct{ attr, field string }{
		{"start_date", "startDate"}, {"end_date", "endDate"}, {"complete_date", "completeDate"},
	} {
		if t, ok := normTime(s[d.field]); ok {
			b.set(r, d.attr, t)
		} else if _, present := s[d.field]; full && (!present || s[d.field] == nil) {
			b.set(r, d.attr, nil)
		}
	}
	// Set once and never cleared: Data Center events leave it out.
	if t, ok := normTime(s["createdDate"]); ok {
		b.set(r, "created_date", t)
	}
	board := idOf(s["boardId"])
	if board == "" {
		board = idOf(s["originBoardId"])
	}
	if board != "" {
		b.edge(r, cogniscape.RelBoard, ref(cogniscape.KindBoard, board))
	}
	return r, true
}

// ---- comments and worklogs -------------------------------------------------

func (b *builder) commentEvent() {
	c := object(b.root["comment"])
	if actor, ok := b.firstPerson(c["updateAuthor"], c["author"]); ok {
		b.m.Actor = actor.ID
	}
	issueID := ""
	if iss, ok := b.issue(object(b.root["issue"]), false); ok {
		issueID = iss.ID
	}
	b.comment(c, issueID, b.m.Event == "comment_deleted")
}

var (
	commentSelf = regexp.MustCompile(`/issue/([0-9]+)/comment/`)
	worklogSelf = regexp.MustCompile(`/issue/([0-9]+)/worklog/`)
)

// comment describes a comment and links it to its issue (issueID, else the id
// in the comment's self URL, which is all Data Center's comment events give)
// and its author.
func (b *builder) comment(c map[string]any, issueID string, deleted bool) {
	id := idOf(c["id"])
	if id == "" {
		return
	}
	r := ref(cogniscape.KindComment, id)
	b.node(r)
	b.textAttr(r, "body", c, "body", true)
	b.timeAttr(r, "created", c, "created", false)
	b.timeAttr(r, "updated", c, "updated", false)
	if issueID == "" {
		issueID = idFromSelf(c["self"], commentSelf)
	}
	if issueID != "" {
		b.edge(r, cogniscape.RelIssue, ref(cogniscape.KindIssue, issueID))
	}
	if author, ok := b.person(c["author"]); ok {
		b.edge(r, cogniscape.RelAuthor, author)
	}
	b.person(c["updateAuthor"])
	if deleted {
		b.setDeleted(r, true)
	}
}

func (b *builder) worklogEvent() {
	w := object(b.root["worklog"])
	if actor, ok := b.firstPerson(w["updateAuthor"], w["author"]); ok {
		b.m.Actor = actor.ID
	}
	id := idOf(w["id"])
	if id == "" {
		return
	}
	r := ref(cogniscape.KindWorklog, id)
	b.node(r)
	if secs, ok := toNumber(w["timeSpentSeconds"]); ok {
		b.set(r, "time_spent_seconds", secs)
	}
	b.timeAttr(r, "started", w, "started", false)
	b.textAttr(r, "comment", w, "comment", true)
	b.timeAttr(r, "created", w, "created", false)
	b.timeAttr(r, "updated", w, "updated", false)
	issueID := idOf(w["issueId"])
	if issueID == "" {
		issueID = idFromSelf(w["self"], worklogSelf)
	}
	if issueID != "" {
		b.edge(r, cogniscape.RelIssue, ref(cogniscape.KindIssue, issueID))
	}
	if author, ok := b.person(w["author"]); ok {
		b.edge(r, cogniscape.RelAuthor, author)
	}
	b.person(w["updateAuthor"])
	if b.m.Event == "worklog_deleted" {
		b.setDeleted(r, true)
	}
}

// ---- links, sprints, projects, versions ----------------------------------------

func (b *builder) issueLinkEvent() {
	l := object(b.root["issueLink"])
	id := idOf(l["id"])
	if id == "" {
		return
	}
	r := ref(cogniscape.KindLink, id)
	b.node(r)
	typ := object(l["issueLinkType"])
	b.stringAttr(r, "type", typ, "name")
	b.stringAttr(r, "outward", typ, "outwardName")
	b.stringAttr(r, "inward", typ, "inwardName")
	for _, v := range []any{l["systemLink"], typ["isSystemLinkType"], typ["system"]} {
		if sys, ok := v.(bool); ok {
			b.set(r, "system", sys)
			break
		}
	}
	if src := idOf(l["sourceIssueId"]); src != "" {
		b.edge(r, cogniscape.RelSource, ref(cogniscape.KindIssue, src))
	}
	if dst := idOf(l["destinationIssueId"]); dst != "" {
		b.edge(r, cogniscape.RelDestination, ref(cogniscape.KindIssue, dst))
	}
	if b.m.Event == "issuelink_deleted" {
		b.setDeleted(r, true)
	}
}

func (b *builder) sprintEvent() {
	r, ok := b.sprint(object(b.root["sprint"]), true)
	if ok && b.m.Event == "sprint_deleted" {
		b.setDeleted(r, true)
	}
}

func (b *builder) projectEvent() {
	p := object(b.root["project"])
	id := idOf(p["id"])
	if id == "" {
		return
	}
	r := ref(cogniscape.KindProject, id)
	b.node(r)
	b.keyAttr(r, p)
	b.stringAttr(r, "name", p, "name")
	if cat, ok := object(p["projectCategory"])["name"].(string); ok {
		b.set(r, "category", cat)
	} else if v, present := p["projectCategory"]; !present || v == nil {
		b.set(r, "category", nil) // the event carries the whole project
	}
	switch archived, ok := p["archived"].(bool); {
	case ok:
		b.set(r, "archived", archived)
	case b.m.Event == "project_archived":
		b.set(r, "archived", true)
	case b.m.Event == "project_restored_archived":
		b.set(r, "archived", false)
	}
	if lead, ok := b.person(p["projectLead"]); ok {
		b.edge(r, cogniscape.RelLead, lead)
	}
	switch b.m.Event {
	case "project_deleted", "project_soft_deleted":
		b.setDeleted(r, true)
	case "project_restored_deleted":
		b.setDeleted(r, false)
	}
}

func (b *builder) versionEvent() {
	r, ok := b.version(object(b.root["version"]), cogniscape.NodeRef{}, true)
	if !ok {
		return
	}
	deleted := b.m.Event == "jira:version_deleted" || b.m.Event == "jira:version_merged"
	if into, ok := b.version(object(b.root["mergedTo"]), cogniscape.NodeRef{}, true); ok {
		b.set(r, "merged_to", into.ID)
		deleted = true
	}
	if deleted {
		b.setDeleted(r, true)
	}
}

// version describes a version and links it to its project: its own
// projectId, else project (the project of the issue it is a fix version of).
// full says v is the version event's subject, a complete snapshot, so that a
// date it leaves out has been unset.
func (b *builder) version(v map[string]any, project cogniscape.NodeRef, full bool) (cogniscape.NodeRef, bool) {
	id := idOf(v["id"])
	if id == "" {
		return cogniscape.NodeRef{}, false
	}
	r := ref(cogniscape.KindVersion, id)
	b.node(r)
	b.stringAttr(r, "name", v, "name")
	b.stringAttr(r, "description", v, "description")
	for _, flag := range [...]string{"released", "archived"} {
		if x, ok := v[flag].(bool); ok {
			b.set(r, flag, x)
		}
	}
	for _, d := range [...]struct{ attr, field string }{{"release_date", "releaseDate"}, {"start_date", "startDate"}} {
		switch x := v[d.field].(type) {
		case string:
			b.set(r, d.attr, x)
		case nil:
			if full {
				b.set(r, d.attr, nil)
			}
		}
	}
	if pid := idOf(v["projectId"]); pid != "" {
		project = ref(cogniscape.KindProject, pid)
	}
	if project.ID != "" {
		b.edge(r, cogniscape.RelProject, project)
	}
	return r, true
}

// ---- people ----------------------------------------------------------------

// person describes a Jira user object and returns its node: Cloud users are
// known by accountId, Data Center users by key (or name if they have none).
func (b *builder) person(v any) (cogniscape.NodeRef, bool) {
	u := object(v)
	id := ""
	for _, f := range [...]string{"accountId", "key", "name"} {
		if s, ok := u[f].(string); ok && strings.TrimSpace(s) != "" {
			id = strings.TrimSpace(s)
			break
		}
	}
	if !PlainID(id) {
		return cogniscape.NodeRef{}, false
	}
	r := ref(cogniscape.KindPerson, id)
	b.node(r)
	b.stringAttr(r, "name", u, "displayName")
	if email, ok := u["emailAddress"].(string); ok && email != "" {
		b.set(r, "email", email)
	}
	if name, ok := u["name"].(string); ok && name != "" {
		b.set(r, "username", name) // Data Center: what [~mentions] use
	}
	return r, true
}

// firstPerson describes every user object given and returns the first.
func (b *builder) firstPerson(vs ...any) (cogniscape.NodeRef, bool) {
	var first cogniscape.NodeRef
	found := false
	for _, v := range vs {
		if r, ok := b.person(v); ok && !found {
			first, found = r, true
		}
	}
	return first, found
}

// personEdge sets rel of from to the user in fields[name]: cleared when the
// field is null, left alone when it is absent or names nobody we can identify.
func (b *builder) personEdge(from cogniscape.NodeRef, rel string, fields map[string]any, name string) {
	v, present := fields[name]
	if !present {
		return
	}
	if v == nil {
		b.edge(from, rel)
		return
	}
	if p, ok := b.person(v); ok {
		b.edge(from, rel, p)
	}
}

// ---- attribute helpers -------------------------------------------------------

// stringAttr copies a string field; other types and absent fields are skipped.
func (b *builder) stringAttr(r cogniscape.NodeRef, attr string, obj map[string]any, field string) {
	if s, ok := obj[field].(string); ok {
		b.set(r, attr, s)
	}
}

// keyAttr copies an issue's or project's key, which the stores index and
// people look things up by; one no Jira would make (PlainID) is left out.
func (b *builder) keyAttr(r cogniscape.NodeRef, obj map[string]any) {
	if s, ok := obj["key"].(string); ok && PlainID(s) {
		b.set(r, "key", s)
	}
}

// textAttr copies a text field, with code stripped if strip; null clears it.
func (b *builder) textAttr(r cogniscape.NodeRef, attr string, obj map[string]any, field string, strip bool) {
	v, present := obj[field]
	switch s := v.(type) {
	case string:
		if strip {
			s = StripCode(s)
		}
		b.set(r, attr, s)
	case nil:
		if present {
			b.set(r, attr, nil)
		}
	}
}

// nameAttr copies the name of a {name: …} object such as priority; null
// clears it.
func (b *builder) nameAttr(r cogniscape.NodeRef, attr string, obj map[string]any, field string) {
	v, present := obj[field]
	if !present {
		return
	}
	if v == nil {
		b.set(r, attr, nil)
		return
	}
	if name, ok := object(v)["name"].(string); ok {
		b.set(r, attr, name)
	}
}

// timeAttr copies a timestamp as RFC 3339 UTC. With nullable, null clears it;
// a value that is no time is skipped.
func (b *builder) timeAttr(r cogniscape.NodeRef, attr string, obj map[string]any, field string, nullable bool) {
	v, present := obj[field]
	if t, ok := normTime(v); ok {
		b.set(r, attr, t)
	} else if present && v == nil && nullable {
		b.set(r, attr, nil)
	}
}

// ---- decoding helpers --------------------------------------------------------

// object returns v as a JSON object, or nil (which reads as empty).
func object(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// idOf returns a Jira id as a canonical decimal string: Jira sends ids as
// numbers or strings depending on the object. Anything else gives "".
func idOf(v any) string {
	var s string
	switch x := v.(type) {
	case string:
		s = strings.TrimSpace(x)
	case json.Number:
		s = x.String()
		if _, err := strconv.ParseUint(s, 10, 64); err != nil {
			f, err := x.Float64()
			if err != nil || f < 0 || f >= 1<<63 || f != math.Trunc(f) {
				return ""
			}
			return strconv.FormatUint(uint64(f), 10)
		}
	default:
		return ""
	}
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return ""
	}
	if t := strings.TrimLeft(s, "0"); t != "" {
		return t
	}
	return "0"
}

// idFromSelf extracts the issue id from a comment or worklog self URL.
func idFromSelf(v any, re *regexp.Regexp) string {
	s, _ := v.(string)
	if m := re.FindStringSubmatch(s); m != nil {
		return idOf(m[1])
	}
	return ""
}

// toInt64 reads an integer sent as a JSON number or a numeric string.
func toInt64(v any) (int64, bool) {
	var s string
	switch x := v.(type) {
	case json.Number:
		s = x.String()
	case string:
		s = strings.TrimSpace(x)
	default:
		return 0, false
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || f < -(1<<63) || f >= 1<<63 {
		return 0, false
	}
	return int64(f), true
}

// toNumber reads a JSON number (or numeric string) as an int64 when it is
// whole, else as a finite float64.
func toNumber(v any) (any, bool) {
	var s string
	switch x := v.(type) {
	case json.Number:
		s = x.String()
	case string:
		s = strings.TrimSpace(x)
	default:
		return nil, false
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, false
	}
	return f, true
}

// plainString renders a changelog value: strings as they are, numbers in
// their JSON form, null and anything else as "".
func plainString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	}
	return ""
}

// stringList reads a list of strings (labels); null is the empty list.
func stringList(v any) ([]string, bool) {
	if v == nil {
		return []string{}, true
	}
	list, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := []string{}
	for _, e := range list {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out, true
}

// nameList reads the names of a list of {name: …} objects (components).
func nameList(v any) ([]string, bool) {
	if v == nil {
		return []string{}, true
	}
	list, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := []string{}
	for _, e := range list {
		if s, ok := object(e)["name"].(string); ok {
			out = append(out, s)
		}
	}
	return out, true
}

// timeLayout is how times are written: RFC 3339 in UTC with milliseconds, so
// that the strings sort in time order.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// timeLayouts are the forms Jira times come in. Fractional seconds are
// accepted after the seconds by time.Parse even when a layout has none.
var timeLayouts = [...]string{
	"2006-01-02T15:04:05Z07:00", // RFC 3339: Cloud sprints, Data Center sprints
	"2006-01-02T15:04:05Z0700",  // Jira REST: 2026-03-04T09:12:44.123+0000
	"2006-01-02T15:04:05Z07",
	"2006-01-02T15:04:05", // no zone: taken as UTC
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05Z0700",
	"2006-01-02 15:04:05",
	"2006-01-02", // a date alone: midnight UTC
}

// normTime returns a Jira time (a string in one of timeLayouts, or epoch
// milliseconds) as RFC 3339 UTC.
func normTime(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		s := strings.TrimSpace(x)
		for _, layout := range timeLayouts {
			if t, err := time.Parse(layout, s); err == nil {
				return formatTime(t)
			}
		}
	case json.Number:
		if ms, ok := toInt64(x); ok {
			return formatTime(time.UnixMilli(ms))
		}
	}
	return "", false
}

func formatTime(t time.Time) (string, bool) {
	t = t.UTC()
	if y := t.Year(); y < 1 || y > 9999 {
		return "", false
	}
	return t.Format(timeLayout), true
}

// siteOfBody returns scheme://host of the first self URL in the body: the
// main objects' first (in the order Inspect uses), then any nested one in a
// fixed order. Issue link events have none.
func siteOfBody(root map[string]any) string {
	main := [...]string{"issue", "comment", "worklog", "sprint", "version", "project", "user", "board", "mergedTo"}
	for _, k := range main {
		if s, _ := object(root[k])["self"].(string); SiteOf(s) != "" {
			return SiteOf(s)
		}
	}
	return findSite(root, 0)
}

func findSite(v any, depth int) string {
	if depth > 32 {
		return ""
	}
	switch x := v.(type) {
	case map[string]any:
		if s, ok := x["self"].(string); ok && SiteOf(s) != "" {
			return SiteOf(s)
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if site := findSite(x[k], depth+1); site != "" {
				return site
			}
		}
	case []any:
		for _, e := range x {
			if site := findSite(e, depth+1); site != "" {
				return site
			}
		}
	}
	return ""
}
