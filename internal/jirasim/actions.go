package jirasim

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// ---- World effects ----

func issueEff(iss ...*issue) func(*World) {
	states := make([]IssueState, len(iss))
	for i, is := range iss {
		states[i] = is.state()
	}
	return func(w *World) {
		for _, st := range states {
			w.setIssue(st)
		}
	}
}

func sprintEff(sp *sprint) func(*World) {
	site, id, name, state, del := sp.t.s.base, sp.id, sp.name, sp.state, sp.deleted
	return func(w *World) { w.setSprint(site, id, name, state, del) }
}

func versionEff(v *version, mergedTo *version) func(*World) {
	vs := VersionState{Site: v.t.s.base, ID: itoa(v.id), Name: v.name, Project: v.t.key, Released: v.released, Deleted: v.deleted}
	if mergedTo != nil {
		vs.MergedTo = itoa(mergedTo.id)
	}
	return func(w *World) { w.setVersion(vs) }
}

// ---- issue events ----

// updated emits a jira:issue_updated with the issue's current (post-change)
// state. The caller has applied the change, using ts for its times.
func (s *Simulator) updated(ts int64, is *issue, actor *person, typeName string, items ...item) {
	is.updated = ts
	body := s.issueBody(ts, "jira:issue_updated", typeName, actor, is, s.nextChangelogID(), items, nil)
	s.emit(is.t.s, "jira:issue_updated", false, body, issueEff(is))
}

func (s *Simulator) nextRank() string {
	s.rank += 1 + s.r.Int64N(40)
	r := strconv.FormatInt(s.rank+1_500_000, 36)
	return "0|i" + strings.Repeat("0", max(0, 5-len(r))) + r + ":"
}

func (s *Simulator) randomPriority() int {
	switch x := s.r.IntN(20); {
	case x == 0:
		return 1
	case x < 5:
		return 2
	case x < 16:
		return 3
	case x < 19:
		return 4
	default:
		return 5
	}
}

var storyPoints = []float64{1, 2, 3, 5, 8, 13}

// createIssue creates an issue and emits jira:issue_created.
func (s *Simulator) createIssue(t *team, typ int, actor *person, parent *issue) *issue {
	st := t.s
	ts := s.ts()
	s.ids.issue++
	is := &issue{
		t: t, id: s.ids.issue, key: fmt.Sprintf("%s-%d", t.key, t.nextNum), typ: typ,
		priority: s.randomPriority(), status: stTodo, reporter: actor, creator: actor,
		rank: s.nextRank(), created: ts, updated: ts, catSince: ts, watchers: 1 + s.r.IntN(3),
	}
	t.nextNum++
	is.summary = summaryFor(s.r, typ)
	if typ == typeSubtask {
		is.summary = is.summary + ": " + strings.ToLower(parent.summary[:1]) + parent.summary[1:]
		is.desc = "Part of " + parent.key + ". " + pick(s.r, acceptance) + "."
	} else {
		is.desc = descriptionFor(s.r, is.summary)
	}
	for range s.r.IntN(3) {
		l := pick(s.r, t.labels)
		if !slices.Contains(is.labels, l) {
			is.labels = append(is.labels, l)
		}
	}
	slices.Sort(is.labels)
	if s.r.IntN(4) != 0 {
		is.comps = []int{s.r.IntN(len(t.comps))}
	}
	if (typ == typeStory || typ == typeTask) && s.r.IntN(10) < 6 {
		is.points = pick(s.r, storyPoints)
	}
	if typ != typeEpic && s.r.IntN(10) < 3 {
		is.assignee = pick(s.r, t.people)
	}
	if parent != nil {
		is.parent = parent
		if typ == typeSubtask {
			parent.subtasks = append(parent.subtasks, is)
			parent.size += briefSize
			is.sprints = slices.Clone(parent.sprints)
			for _, sp := range is.sprints {
				sp.members = append(sp.members, is)
			}
		} else {
			parent.kids = append(parent.kids, is)
		}
	}
	is.liveIdx = len(t.live)
	t.live = append(t.live, is)
	if typ == typeEpic {
		t.epics = append(t.epics, is)
	}

	var clID int64
	var items []item
	if st.flavor == FlavorCloud {
		clID = s.nextChangelogID()
		if is.assignee != nil {
			items = append(items, item{field: "assignee", fieldID: "assignee", from: null, fromS: null, to: ns(is.assignee.id), toS: ns(is.assignee.display), user: true})
		}
		items = append(items, item{field: "description", fieldID: "description", toS: ns(is.desc)})
		if parent != nil {
			items = append(items, item{field: "IssueParentAssociation", to: ns(itoa(parent.id)), toS: ns(parent.key)})
		}
		if len(is.labels) > 0 {
			items = append(items, item{field: "labels", fieldID: "labels", toS: ns(strings.Join(is.labels, " "))})
		}
		items = append(items,
			item{field: "priority", fieldID: "priority", to: ns(strconv.Itoa(is.priority)), toS: ns(priorityNames[is.priority])},
			item{field: "reporter", fieldID: "reporter", to: ns(actor.id), toS: ns(actor.display), user: true},
			item{field: "Status", fieldID: "status", to: ns(statuses[stTodo].id), toS: ns(statuses[stTodo].name)},
			item{field: "summary", fieldID: "summary", toS: ns(is.summary)},
		)
	}
	body := s.issueBody(ts, "jira:issue_created", "issue_created", actor, is, clID, items, nil)
	s.emit(st, "jira:issue_created", false, body, issueEff(is))
	return is
}

func userItem(from, to *person) item {
	it := item{field: "assignee", fieldID: "assignee", user: true}
	if from != nil {
		it.from, it.fromS = ns(from.id), ns(from.display)
	}
	if to != nil {
		it.to, it.toS = ns(to.id), ns(to.display)
	}
	return it
}

func (s *Simulator) assign(is *issue, to, actor *person) {
	ts := s.ts()
	it := userItem(is.assignee, to)
	is.assignee = to
	s.updated(ts, is, actor, "issue_assigned", it)
}

// transition moves the issue to status to; extra items ride on the same
// changelog (e.g. a Fix Version set on the transition screen).
func (s *Simulator) transition(is *issue, to int, actor *person, typeName string, extra ...item) {
	ts := s.ts()
	from := is.status
	var items []item
	if to == stDone && from != stDone {
		items = append(items, item{field: "resolution", fieldID: "resolution", to: ns("10000"), toS: ns("Done")})
		is.resolved = ts
	} else if from == stDone && to != stDone {
		items = append(items, item{field: "resolution", fieldID: "resolution", from: ns("10000"), fromS: ns("Done")})
		is.resolved = 0
	}
	items = append(items, item{field: "status", fieldID: "status",
		from: ns(statuses[from].id), fromS: ns(statuses[from].name), to: ns(statuses[to].id), toS: ns(statuses[to].name)})
	items = append(items, extra...)
	if statuses[from].cat != statuses[to].cat {
		is.catSince = ts
	}
	is.status = to
	s.updated(ts, is, actor, typeName, items...)
	s.afterTransition(is, actor)
}

// afterTransition keeps epics in step with their children.
func (s *Simulator) afterTransition(is *issue, actor *person) {
	ep := is.parent
	if ep == nil || ep.typ != typeEpic || ep.deleted {
		return
	}
	switch {
	case ep.status == stTodo && is.status == stProgress:
		s.transition(ep, stProgress, actor, "issue_generic")
	case ep.status != stDone && is.status == stDone && s.r.IntN(2) == 0:
		for _, k := range ep.kids {
			if !k.deleted && !k.done() {
				return
			}
		}
		s.transition(ep, stDone, actor, "issue_generic")
	case ep.status == stDone && is.status != stDone:
		s.transition(ep, stProgress, actor, "issue_reopened")
	}
}

func sprintIDs(sps []*sprint) (ids, names string) {
	a := make([]string, len(sps))
	b := make([]string, len(sps))
	for i, sp := range sps {
		a[i], b[i] = itoa(sp.id), sp.name
	}
	return strings.Join(a, ", "), strings.Join(b, ", ")
}

// setSprints changes the issue's Sprint field; sub-tasks follow their parent.
func (s *Simulator) setSprints(is *issue, to []*sprint, actor *person, ranked bool) {
	st := is.t.s
	ts := s.ts()
	fromIDs, fromNames := sprintIDs(is.sprints)
	for _, sp := range is.sprints {
		if !slices.Contains(to, sp) {
			sp.members = slices.DeleteFunc(sp.members, func(x *issue) bool { return x == is })
		}
	}
	for _, sp := range to {
		if !slices.Contains(is.sprints, sp) {
			sp.members = append(sp.members, is)
		}
	}
	is.sprints = slices.Clone(to)
	toIDs, toNames := sprintIDs(is.sprints)
	items := []item{{field: "Sprint", fieldtype: "custom", fieldID: st.sprintCF,
		from: ns(fromIDs), fromS: ns(fromNames), to: ns(toIDs), toS: ns(toNames)}}
	if ranked {
		is.rank = s.nextRank()
		items = append(items, item{field: "Rank", fieldtype: "custom", fieldID: st.rankCF,
			from: ns(""), fromS: ns(""), to: ns(""), toS: ns("Ranked higher")})
	}
	s.updated(ts, is, actor, "issue_updated", items...)
	for _, sub := range is.subtasks {
		if !sub.deleted {
			s.setSprints(sub, to, actor, false)
		}
	}
}

func (s *Simulator) addLink(src, dst *issue, typ int, actor *person) {
	st := src.t.s
	s.ids.link += 1 + s.r.Int64N(3)
	l := &link{id: s.ids.link, typ: typ, src: src, dst: dst}
	src.links = append(src.links, l)
	dst.links = append(dst.links, l)
	src.size += briefSize
	dst.size += briefSize
	ts := s.ts()
	s.emit(st, "issuelink_created", false, s.linkBody(ts, "issuelink_created", l), issueEff(src, dst))
	ts = s.ts()
	s.updated(ts, src, actor, "issue_updated", item{field: "Link",
		to: ns(dst.key), toS: ns("This issue " + linkTypes[typ].outward + " " + dst.key)})
}

func (s *Simulator) removeLink(l *link, actor *person, cascade bool) {
	st := l.src.t.s
	l.src.links = slices.DeleteFunc(l.src.links, func(x *link) bool { return x == l })
	l.dst.links = slices.DeleteFunc(l.dst.links, func(x *link) bool { return x == l })
	ts := s.ts()
	s.emit(st, "issuelink_deleted", cascade, s.linkBody(ts, "issuelink_deleted", l), issueEff(l.src, l.dst))
	if !cascade {
		ts = s.ts()
		s.updated(ts, l.src, actor, "issue_updated", item{field: "Link",
			from: ns(l.dst.key), fromS: ns("This issue " + linkTypes[l.typ].outward + " " + l.dst.key)})
	}
}

// ---- comments and worklogs ----

func (s *Simulator) addComment(is *issue, author *person) {
	ts := s.ts()
	s.ids.comment += 1 + s.r.Int64N(3)
	mention := pick(s.r, is.t.people).mention
	c := &comment{id: s.ids.comment, author: author, updater: author, body: commentFor(s.r, mention), created: ts, updated: ts}
	is.comments = append(is.comments, c)
	is.updated = ts
	s.commentEvents(ts, is, c, "comment_created", "issue_commented", author)
}

func (s *Simulator) commentEvents(ts int64, is *issue, c *comment, event, dcType string, actor *person) {
	st := is.t.s
	s.emit(st, event, false, s.commentBody(ts, event, is, c), issueEff(is))
	if st.flavor == FlavorDC {
		// Data Center sends the change a second time, as an issue event.
		body := s.issueBody(ts, "jira:issue_updated", dcType, actor, is, 0, nil, c)
		s.emit(st, "jira:issue_updated", false, body, issueEff(is))
	}
}

func (s *Simulator) editComment(is *issue, c *comment) {
	ts := s.ts()
	c.updated = ts
	c.updater = c.author
	if s.r.IntN(2) == 0 {
		c.body += "\n\nEdit: " + pick(s.r, commentSentences)
	} else {
		c.body = commentFor(s.r, "")
	}
	is.updated = ts
	s.commentEvents(ts, is, c, "comment_updated", "issue_comment_edited", c.author)
}

func (s *Simulator) deleteComment(is *issue, c *comment, actor *person) {
	ts := s.ts()
	is.comments = slices.DeleteFunc(is.comments, func(x *comment) bool { return x == c })
	is.updated = ts
	s.commentEvents(ts, is, c, "comment_deleted", "issue_comment_deleted", actor)
}

func timeItem(from, to int64) item {
	it := item{field: "timespent", fieldID: "timespent"}
	if from > 0 {
		it.from, it.fromS = ns(itoa(from)), ns(itoa(from))
	}
	if to > 0 {
		it.to, it.toS = ns(itoa(to)), ns(itoa(to))
	}
	return it
}

func (s *Simulator) addWorklog(is *issue, author *person) {
	st := is.t.s
	ts := s.ts()
	s.ids.worklog += 1 + s.r.Int64N(3)
	secs := int64(1+s.r.IntN(16)) * 900
	wl := &worklog{id: s.ids.worklog, author: author, updater: author, comment: pick(s.r, worklogComments),
		created: ts, updated: ts, started: ts - secs*1000 - s.r.Int64N(3)*msHour, seconds: secs}
	wl.started -= mod(wl.started, msMinute)
	old := is.timeSpent
	is.worklogs = append(is.worklogs, wl)
	is.timeSpent += secs
	s.emit(st, "worklog_created", false, s.worklogBody(ts, "worklog_created", is, wl), issueEff(is))
	ts = s.ts()
	s.updated(ts, is, author, "issue_worklogged", timeItem(old, is.timeSpent),
		item{field: "WorklogId", to: ns(itoa(wl.id)), toS: ns(itoa(wl.id))})
}

func (s *Simulator) editWorklog(is *issue, wl *worklog) {
	st := is.t.s
	ts := s.ts()
	old := is.timeSpent
	secs := int64(1+s.r.IntN(16)) * 900
	is.timeSpent += secs - wl.seconds
	wl.seconds, wl.updated, wl.updater = secs, ts, wl.author
	if wl.comment == "" {
		wl.comment = pick(s.r, worklogComments)
	}
	s.emit(st, "worklog_updated", false, s.worklogBody(ts, "worklog_updated", is, wl), issueEff(is))
	ts = s.ts()
	s.updated(ts, is, wl.author, "issue_worklog_updated", timeItem(old, is.timeSpent))
}

func (s *Simulator) deleteWorklog(is *issue, wl *worklog, actor *person) {
	st := is.t.s
	ts := s.ts()
	old := is.timeSpent
	is.worklogs = slices.DeleteFunc(is.worklogs, func(x *worklog) bool { return x == wl })
	is.timeSpent -= wl.seconds
	s.emit(st, "worklog_deleted", false, s.worklogBody(ts, "worklog_deleted", is, wl), issueEff(is))
	ts = s.ts()
	s.updated(ts, is, actor, "issue_worklog_deleted", timeItem(old, is.timeSpent),
		item{field: "WorklogId", from: ns(itoa(wl.id)), fromS: ns(itoa(wl.id))})
}

// ---- deletion ----

func (s *Simulator) deleteIssue(is *issue, actor *person) {
	t := is.t
	st := t.s
	ts := s.ts()
	body := s.issueBody(ts, "jira:issue_deleted", "issue_deleted", actor, is, 0, nil, nil)
	is.deleted = true
	is.updated = ts
	last := t.live[len(t.live)-1]
	last.liveIdx = is.liveIdx
	t.live[is.liveIdx] = last
	t.live = t.live[:len(t.live)-1]
	for _, sp := range is.sprints {
		sp.members = slices.DeleteFunc(sp.members, func(x *issue) bool { return x == is })
	}
	if p := is.parent; p != nil {
		p.subtasks = slices.DeleteFunc(p.subtasks, func(x *issue) bool { return x == is })
		p.kids = slices.DeleteFunc(p.kids, func(x *issue) bool { return x == is })
	}
	s.emit(st, "jira:issue_deleted", false, body, issueEff(is))
	// Cascade (Jira's Secondary flow): the issue's comments and links go too.
	if st.flavor == FlavorCloud {
		for len(is.comments) > 0 {
			c := is.comments[len(is.comments)-1]
			is.comments = is.comments[:len(is.comments)-1]
			ts = s.ts()
			s.emit(st, "comment_deleted", true, s.commentBody(ts, "comment_deleted", is, c), issueEff(is))
		}
	}
	for len(is.links) > 0 {
		s.removeLink(is.links[0], actor, true)
	}
}

// ---- sprints ----

func (s *Simulator) createSprint(t *team, name string) *sprint {
	ts := s.ts()
	s.ids.sprint++
	sp := &sprint{t: t, id: s.ids.sprint, name: name, state: "future", created: ts, hash: s.hex(8)}
	s.emit(t.s, "sprint_created", false, s.sprintBody(ts, "sprint_created", sp, nil), sprintEff(sp))
	return sp
}

// sprintPrepare creates the next sprint (dates, goal), plans backlog issues
// into it and merges a release candidate.
func (s *Simulator) sprintPrepare(t *team) {
	if t.next == nil {
		sp := s.createSprint(t, fmt.Sprintf("%s Sprint %d", t.key, t.sprintNum))
		t.sprintNum++
		old := *sp
		start := s.clock + msHour
		if t.active != nil {
			start = t.active.end
		}
		start -= mod(start, msHour)
		sp.start, sp.end = start, start+14*msDay
		sp.goal = fmt.Sprintf(pick(s.r, sprintGoals), pick(s.r, nouns))
		ts := s.ts()
		s.emit(t.s, "sprint_updated", false, s.sprintBody(ts, "sprint_updated", sp, &old), sprintEff(sp))
		t.next = sp
	}
	// Planning: pull backlog issues into the next sprint.
	want := 4 + int(t.actionsPerDay*10*0.06)
	var backlog []*issue
	for _, is := range t.live {
		if is.typ != typeEpic && is.typ != typeSubtask && !is.done() && is.openSprint() == nil {
			backlog = append(backlog, is)
		}
	}
	s.r.Shuffle(len(backlog), func(i, j int) { backlog[i], backlog[j] = backlog[j], backlog[i] })
	for _, is := range backlog[:min(want, len(backlog))] {
		s.setSprints(is, append(slices.Clone(is.sprints), t.next), t.lead, true)
	}
	if t.rc != nil && t.main != nil {
		s.mergeRC(t)
	}
	if s.r.IntN(12) == 0 {
		// A sprint created by mistake and deleted again.
		sp := s.createSprint(t, fmt.Sprintf("%s Hardening", t.key))
		ts := s.ts()
		sp.deleted = true
		s.emit(t.s, "sprint_deleted", false, s.sprintBody(ts, "sprint_deleted", sp, nil), sprintEff(sp))
	}
}

func (s *Simulator) sprintStart(t *team, sp *sprint) {
	if sp == nil || sp.state != "future" {
		return
	}
	ts := s.ts()
	sp.state = "active"
	sp.start = ts - mod(ts, msMinute)
	sp.end = sp.start + 14*msDay
	sp.activated = ts
	if sp.goal == "" {
		sp.goal = fmt.Sprintf(pick(s.r, sprintGoals), pick(s.r, nouns))
	}
	s.emit(t.s, "sprint_started", false, s.sprintBody(ts, "sprint_started", sp, nil), sprintEff(sp))
	t.active, t.next = sp, nil
	s.schedule(toWork(sp.start+9*msDay+s.r.Int64N(msDay)), taskSprintPrepare, t, nil)
	s.schedule(toWork(sp.end+5*msHour+s.r.Int64N(2*msHour)), taskSprintClose, t, sp)
}

func (s *Simulator) sprintClose(t *team, sp *sprint) {
	if t.next == nil {
		s.sprintPrepare(t)
	}
	next := t.next
	ts := s.ts()
	sp.state = "closed"
	sp.complete = ts
	s.emit(t.s, "sprint_closed", false, s.sprintBody(ts, "sprint_closed", sp, nil), sprintEff(sp))
	// Carry-over: unfinished work moves on, the closed sprint stays in the field.
	for _, is := range slices.Clone(sp.members) {
		if is.deleted || is.done() || is.typ == typeSubtask || !slices.Contains(is.sprints, sp) {
			continue
		}
		if is.openSprint() != nil {
			continue
		}
		s.setSprints(is, append(slices.Clone(is.sprints), next), t.lead, false)
	}
	t.active = nil
	s.releaseOrPostpone(t, ts)
	if s.r.IntN(10) == 0 && len(t.people) > 1 {
		t.lead = t.people[1+s.r.IntN(len(t.people)-1)]
		ts = s.ts()
		s.emit(t.s, "project_updated", false, s.projectBody(ts, "project_updated", t), nil)
	}
	s.schedule(toWork(ts+15*msMinute+s.r.Int64N(30*msMinute)), taskSprintStart, t, next)
}

// ---- versions ----

func (s *Simulator) createVersion(t *team, name string, release int64) *version {
	ts := s.ts()
	s.ids.version += 1 + s.r.Int64N(2)
	start := ts - mod(ts, msDay)
	v := &version{t: t, id: s.ids.version, name: name, desc: pick(s.r, versionDescs), start: start, release: release - mod(release, msDay)}
	s.emit(t.s, "jira:version_created", false, s.versionBody(ts, "jira:version_created", v, nil), versionEff(v, nil))
	return v
}

func (s *Simulator) newMainVersion(t *team) {
	t.verMinor++
	t.main = s.createVersion(t, fmt.Sprintf("%d.%d.0", t.verMajor, t.verMinor), s.clock+14*msDay)
	if s.r.IntN(3) == 0 {
		t.rc = s.createVersion(t, fmt.Sprintf("%d.%d.0-rc1", t.verMajor, t.verMinor), s.clock+10*msDay)
	}
}

func (s *Simulator) releaseOrPostpone(t *team, now int64) {
	v := t.main
	if v == nil {
		s.newMainVersion(t)
		return
	}
	if t.rc != nil {
		s.mergeRC(t)
	}
	ts := s.ts()
	if v.release <= now+3*msDay && s.r.IntN(10) < 7 {
		v.released = true
		v.release = ts - mod(ts, msDay)
		s.emit(t.s, "jira:version_released", false, s.versionBody(ts, "jira:version_released", v, nil), versionEff(v, nil))
		s.newMainVersion(t)
		return
	}
	v.release += 14 * msDay
	s.emit(t.s, "jira:version_updated", false, s.versionBody(ts, "jira:version_updated", v, nil), versionEff(v, nil))
}

// mergeRC moves the issues of the release candidate to the main version, then
// merges the candidate into it (jira:version_deleted with mergedTo).
func (s *Simulator) mergeRC(t *team) {
	rc, main := t.rc, t.main
	for _, is := range t.live {
		if !is.hasFix(rc) {
			continue
		}
		ts := s.ts()
		items := []item{{field: "Fix Version", fieldID: "fixVersions", from: ns(itoa(rc.id)), fromS: ns(rc.name)}}
		is.fix = slices.DeleteFunc(is.fix, func(x *version) bool { return x == rc })
		if !is.hasFix(main) && len(is.fix) < 2 {
			is.fix = append(is.fix, main)
			items = append(items, item{field: "Fix Version", fieldID: "fixVersions", to: ns(itoa(main.id)), toS: ns(main.name)})
		}
		s.updated(ts, is, t.lead, "issue_updated", items...)
	}
	ts := s.ts()
	rc.deleted = true
	s.emit(t.s, "jira:version_deleted", false, s.versionBody(ts, "jira:version_deleted", rc, main), versionEff(rc, main))
	t.rc = nil
}

// ---- team setup and daily work ----

func (s *Simulator) teamSetup(t *team) {
	ts := s.ts()
	s.emit(t.s, "project_created", false, s.projectBody(ts, "project_created", t), nil)
	ts = s.ts()
	s.emit(t.s, "board_created", false, s.boardBody(ts, t), nil)
	s.newMainVersion(t)
	for range 2 + s.r.IntN(2) {
		s.createIssue(t, typeEpic, t.lead, nil)
	}
	for range 10 + s.r.IntN(7) {
		var ep *issue
		if s.r.IntN(10) < 4 {
			ep = pick(s.r, t.epics)
		}
		s.createIssue(t, s.workType(), pick(s.r, t.people), ep)
	}
	s.sprintPrepare(t)
	s.schedule(toWork(s.clock+30*msMinute+s.r.Int64N(60*msMinute)), taskSprintStart, t, t.next)
	s.schedule(s.nextActionTime(t, s.clock+2*msHour), taskAction, t, nil)
}

func (s *Simulator) workType() int {
	switch x := s.r.IntN(10); {
	case x < 5:
		return typeStory
	case x < 8:
		return typeBug
	default:
		return typeTask
	}
}

// pickIssue returns a random live issue matching ok, preferring the active
// sprint, or nil.
func (s *Simulator) pickIssue(t *team, sprintFirst bool, ok func(*issue) bool) *issue {
	if sprintFirst && t.active != nil && len(t.active.members) > 0 {
		m := t.active.members
		for range 12 {
			if is := m[s.r.IntN(len(m))]; !is.deleted && ok(is) {
				return is
			}
		}
	}
	if len(t.live) > 0 {
		for range 12 {
			if is := t.live[s.r.IntN(len(t.live))]; ok(is) {
				return is
			}
		}
	}
	return nil
}

func isWork(is *issue) bool { return is.typ != typeEpic }

// Relative weights of the team actions.
var actionWeights = []struct {
	w  float64
	fn func(s *Simulator, t *team, actor *person) bool
}{
	{9, (*Simulator).actCreate},
	{3, (*Simulator).actCreateSubtask},
	{30, (*Simulator).actProgress},
	{2, (*Simulator).actReopen},
	{6, (*Simulator).actAssign},
	{14, (*Simulator).actComment},
	{3, (*Simulator).actEditComment},
	{1.5, (*Simulator).actDeleteComment},
	{8, (*Simulator).actWorklog},
	{1.5, (*Simulator).actEditWorklog},
	{0.8, (*Simulator).actDeleteWorklog},
	{3, (*Simulator).actLink},
	{1.2, (*Simulator).actUnlink},
	{5, (*Simulator).actEditFields},
	{2, (*Simulator).actEpic},
	{2, (*Simulator).actFixVersion},
	{2.5, (*Simulator).actScopeAdd},
	{0.7, (*Simulator).actScopeRemove},
	{1, (*Simulator).actDelete},
}

var actionTotal = func() float64 {
	var sum float64
	for _, a := range actionWeights {
		sum += a.w
	}
	return sum
}()

func (s *Simulator) teamAction(t *team) {
	actor := pick(s.r, t.people)
	x := s.r.Float64() * actionTotal
	for _, a := range actionWeights {
		if x < a.w {
			if a.fn(s, t, actor) {
				return
			}
			break
		}
		x -= a.w
	}
	// Fallbacks when the chosen action had nothing to act on.
	if s.actProgress(t, actor) || s.actScopeAdd(t, actor) {
		return
	}
	s.actCreate(t, actor)
}

func (s *Simulator) actCreate(t *team, actor *person) bool {
	typ := s.workType()
	if s.r.IntN(25) == 0 {
		typ = typeEpic
	}
	var ep *issue
	if typ != typeEpic && len(t.epics) > 0 && s.r.IntN(10) < 4 {
		ep = s.pickEpic(t)
	}
	is := s.createIssue(t, typ, actor, ep)
	// Bugs found during a sprint are often pulled in at once: scope added.
	if typ == typeBug && t.active != nil && s.r.IntN(3) == 0 {
		s.setSprints(is, []*sprint{t.active}, actor, true)
	}
	return true
}

func (s *Simulator) pickEpic(t *team) *issue {
	for range 6 {
		if ep := pick(s.r, t.epics); !ep.deleted && !ep.done() {
			return ep
		}
	}
	return nil
}

func (s *Simulator) actCreateSubtask(t *team, actor *person) bool {
	parent := s.pickIssue(t, true, func(is *issue) bool {
		return (is.typ == typeStory || is.typ == typeTask) && !is.done() && is.room()
	})
	if parent == nil {
		return false
	}
	s.createIssue(t, typeSubtask, actor, parent)
	return true
}

func (s *Simulator) actProgress(t *team, actor *person) bool {
	is := s.pickIssue(t, true, func(is *issue) bool {
		return isWork(is) && !is.done() && (is.typ == typeSubtask || is.openSprint() != nil)
	})
	if is == nil {
		return false
	}
	if is.assignee != nil {
		actor = is.assignee
	}
	switch is.status {
	case stTodo:
		if is.assignee == nil {
			s.assign(is, actor, actor)
		}
		s.transition(is, stProgress, actor, "issue_generic")
		if s.r.IntN(7) == 0 && is.room() {
			// Blocked work: something else has to land first.
			if b := s.pickIssue(t, false, func(x *issue) bool {
				return x != is && isWork(x) && !x.done() && x.room() && !linked(x, is)
			}); b != nil {
				s.addLink(b, is, linkBlocks, actor)
			}
		}
	case stProgress:
		if s.r.IntN(20) == 0 {
			s.transition(is, stTodo, actor, "issue_work_stopped")
		} else {
			s.transition(is, stReview, actor, "issue_generic")
		}
	case stReview:
		reviewer := pick(s.r, t.people)
		if s.r.IntN(5) == 0 {
			s.transition(is, stProgress, reviewer, "issue_generic")
			return true
		}
		var extra []item
		if t.main != nil && !is.hasFix(t.main) && len(is.fix) < 2 && is.typ != typeSubtask && s.r.IntN(2) == 0 {
			is.fix = append(is.fix, t.main)
			extra = append(extra, item{field: "Fix Version", fieldID: "fixVersions", to: ns(itoa(t.main.id)), toS: ns(t.main.name)})
		}
		s.transition(is, stDone, reviewer, "issue_generic", extra...)
		// Unblocked: the Blocks link is often cleaned up.
		for _, l := range is.links {
			if l.src == is && l.typ == linkBlocks && s.r.IntN(2) == 0 {
				s.removeLink(l, reviewer, false)
				break
			}
		}
	}
	return true
}

func linked(a, b *issue) bool {
	for _, l := range a.links {
		if l.src == b || l.dst == b {
			return true
		}
	}
	return false
}

func (s *Simulator) actReopen(t *team, actor *person) bool {
	is := s.pickIssue(t, true, func(is *issue) bool { return isWork(is) && is.done() })
	if is == nil {
		return false
	}
	if s.r.IntN(2) == 0 {
		s.transition(is, stTodo, actor, "issue_reopened")
	} else {
		s.transition(is, stProgress, actor, "issue_reopened")
	}
	return true
}

func (s *Simulator) actAssign(t *team, actor *person) bool {
	is := s.pickIssue(t, true, func(is *issue) bool { return isWork(is) && !is.done() })
	if is == nil {
		return false
	}
	to := pick(s.r, t.people)
	switch {
	case to == is.assignee && s.r.IntN(3) == 0:
		to = nil // unassigned
	case to == is.assignee:
		return false
	}
	s.assign(is, to, actor)
	return true
}

func (s *Simulator) actComment(t *team, actor *person) bool {
	is := s.pickIssue(t, true, func(*issue) bool { return true })
	if is == nil {
		return false
	}
	s.addComment(is, actor)
	return true
}

func (s *Simulator) actEditComment(t *team, _ *person) bool {
	is := s.pickIssue(t, true, func(is *issue) bool { return len(is.comments) > 0 })
	if is == nil {
		return false
	}
	s.editComment(is, pick(s.r, is.comments))
	return true
}

func (s *Simulator) actDeleteComment(t *team, _ *person) bool {
	is := s.pickIssue(t, true, func(is *issue) bool { return len(is.comments) > 0 })
	if is == nil {
		return false
	}
	c := pick(s.r, is.comments)
	s.deleteComment(is, c, c.author)
	return true
}

func (s *Simulator) actWorklog(t *team, actor *person) bool {
	is := s.pickIssue(t, true, func(is *issue) bool { return isWork(is) && is.status != stTodo })
	if is == nil {
		return false
	}
	if is.assignee != nil && s.r.IntN(4) != 0 {
		actor = is.assignee
	}
	s.addWorklog(is, actor)
	return true
}

func (s *Simulator) actEditWorklog(t *team, _ *person) bool {
	is := s.pickIssue(t, true, func(is *issue) bool { return len(is.worklogs) > 0 })
	if is == nil {
		return false
	}
	s.editWorklog(is, pick(s.r, is.worklogs))
	return true
}

func (s *Simulator) actDeleteWorklog(t *team, _ *person) bool {
	is := s.pickIssue(t, true, func(is *issue) bool { return len(is.worklogs) > 0 })
	if is == nil {
		return false
	}
	wl := pick(s.r, is.worklogs)
	s.deleteWorklog(is, wl, wl.author)
	return true
}

func (s *Simulator) actLink(t *team, actor *person) bool {
	a := s.pickIssue(t, true, func(is *issue) bool { return isWork(is) && is.room() })
	if a == nil {
		return false
	}
	b := s.pickIssue(t, false, func(is *issue) bool {
		return is != a && isWork(is) && is.room() && !linked(a, is)
	})
	if b == nil {
		return false
	}
	typ := linkRelates
	switch x := s.r.IntN(10); {
	case x < 4:
		typ = linkBlocks
	case x < 5:
		typ = linkDuplicate
	case x < 6:
		typ = linkClones
	}
	s.addLink(a, b, typ, actor)
	return true
}

func (s *Simulator) actUnlink(t *team, actor *person) bool {
	is := s.pickIssue(t, true, func(is *issue) bool { return len(is.links) > 0 })
	if is == nil {
		return false
	}
	s.removeLink(pick(s.r, is.links), actor, false)
	return true
}

func (s *Simulator) actEditFields(t *team, actor *person) bool {
	is := s.pickIssue(t, true, func(is *issue) bool { return !is.done() })
	if is == nil {
		return false
	}
	ts := s.ts()
	var it item
	switch s.r.IntN(5) {
	case 0:
		p := s.randomPriority()
		if p == is.priority {
			p = 1 + (p % 5)
		}
		it = item{field: "priority", fieldID: "priority", from: ns(strconv.Itoa(is.priority)), fromS: ns(priorityNames[is.priority]),
			to: ns(strconv.Itoa(p)), toS: ns(priorityNames[p])}
		is.priority = p
	case 1:
		l := pick(s.r, labelPool)
		if slices.Contains(is.labels, l) {
			return false
		}
		from := strings.Join(is.labels, " ")
		is.labels = append(is.labels, l)
		slices.Sort(is.labels)
		it = item{field: "labels", fieldID: "labels", fromS: ns(from), toS: ns(strings.Join(is.labels, " "))}
	case 2:
		old := is.summary
		is.summary = summaryFor(s.r, is.typ)
		if is.typ == typeSubtask && is.parent != nil {
			is.summary += " (" + is.parent.key + ")"
		}
		it = item{field: "summary", fieldID: "summary", fromS: ns(old), toS: ns(is.summary)}
	case 3:
		if is.size > roomForText {
			return false // the changelog holds both texts: keep the body small
		}
		old := is.desc
		is.desc = descriptionFor(s.r, is.summary)
		it = item{field: "description", fieldID: "description", fromS: ns(old), toS: ns(is.desc)}
	default:
		if is.typ == typeEpic || is.typ == typeSubtask {
			return false
		}
		old := is.points
		is.points = pick(s.r, storyPoints)
		if old == is.points {
			return false
		}
		it = item{field: "Story Points", fieldtype: "custom", fieldID: is.t.s.pointsCF, to: ns(fmtPoints(is.points)), toS: ns(fmtPoints(is.points))}
		if old != 0 {
			it.from, it.fromS = ns(fmtPoints(old)), ns(fmtPoints(old))
		}
	}
	s.updated(ts, is, actor, "issue_updated", it)
	return true
}

func fmtPoints(p float64) string { return strconv.FormatFloat(p, 'f', -1, 64) }

func (s *Simulator) actEpic(t *team, actor *person) bool {
	ep := s.pickEpic(t)
	if ep == nil {
		return false
	}
	is := s.pickIssue(t, true, func(is *issue) bool {
		return (is.typ == typeStory || is.typ == typeBug || is.typ == typeTask) && is.parent != ep &&
			(is.parent != nil || is.room())
	})
	if is == nil {
		return false
	}
	ts := s.ts()
	var it item
	if t.s.flavor == FlavorCloud {
		it = item{field: "IssueParentAssociation", to: ns(itoa(ep.id)), toS: ns(ep.key)}
	} else {
		it = item{field: "Epic Link", fieldtype: "custom", to: ns(itoa(ep.id)), toS: ns(ep.key)}
	}
	if old := is.parent; old != nil {
		it.from, it.fromS = ns(itoa(old.id)), ns(old.key)
		old.kids = slices.DeleteFunc(old.kids, func(x *issue) bool { return x == is })
	}
	is.parent = ep
	ep.kids = append(ep.kids, is)
	s.updated(ts, is, actor, "issue_updated", it)
	return true
}

func (s *Simulator) actFixVersion(t *team, actor *person) bool {
	v := t.main
	if t.rc != nil && s.r.IntN(2) == 0 {
		v = t.rc
	}
	if v == nil {
		return false
	}
	is := s.pickIssue(t, true, func(is *issue) bool {
		return isWork(is) && is.typ != typeSubtask && !is.hasFix(v) && len(is.fix) < 2
	})
	if is == nil {
		return false
	}
	ts := s.ts()
	is.fix = append(is.fix, v)
	s.updated(ts, is, actor, "issue_updated", item{field: "Fix Version", fieldID: "fixVersions", to: ns(itoa(v.id)), toS: ns(v.name)})
	return true
}

func (s *Simulator) actScopeAdd(t *team, actor *person) bool {
	if t.active == nil {
		return false
	}
	is := s.pickIssue(t, false, func(is *issue) bool {
		return isWork(is) && is.typ != typeSubtask && !is.done() && is.openSprint() == nil
	})
	if is == nil {
		return false
	}
	s.setSprints(is, append(slices.Clone(is.sprints), t.active), actor, true)
	return true
}

func (s *Simulator) actScopeRemove(t *team, actor *person) bool {
	if t.active == nil {
		return false
	}
	sp := t.active
	is := s.pickIssue(t, true, func(is *issue) bool {
		return is.typ != typeSubtask && is.status == stTodo && slices.Contains(is.sprints, sp)
	})
	if is == nil {
		return false
	}
	s.setSprints(is, slices.DeleteFunc(slices.Clone(is.sprints), func(x *sprint) bool { return x == sp }), actor, false)
	return true
}

func (s *Simulator) actDelete(t *team, actor *person) bool {
	is := s.pickIssue(t, false, func(is *issue) bool {
		return isWork(is) && is.status == stTodo && len(is.subtasks) == 0
	})
	if is == nil {
		return false
	}
	s.deleteIssue(is, actor)
	return true
}
