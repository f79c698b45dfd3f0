package jirasim

import (
	"strconv"
	"strings"
	"time"
)

// Rendering of bodies in the shapes of the fixture corpus. Parts that never
// change (users, statuses, priorities, issue types, projects) are rendered
// once per site and appended as bytes.

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

func (s *Simulator) renderSiteCatalog(st *site) {
	cloud := st.flavor == FlavorCloud
	for i, x := range statuses {
		c := categories[x.cat]
		st.statusJSON[i] = render(func(w *jw) {
			w.obj()
			w.ks("self", st.base+"/rest/api/2/status/"+x.id)
			w.ks("description", x.desc)
			switch {
			case x.icon != "":
				w.ks("iconUrl", st.base+x.icon)
			case cloud:
				w.ks("iconUrl", st.base+"/")
			default:
				w.ks("iconUrl", st.base+"/images/icons/statuses/generic.png")
			}
			w.ks("name", x.name)
			w.ks("id", x.id)
			w.k("statusCategory")
			w.obj()
			w.ks("self", st.base+"/rest/api/2/statuscategory/"+strconv.Itoa(c.id))
			w.ki("id", int64(c.id))
			w.ks("key", c.key)
			w.ks("colorName", c.color)
			w.ks("name", c.name)
			w.end('}')
			w.end('}')
		})
	}
	for p := 1; p < len(priorityNames); p++ {
		icon := strings.ToLower(priorityNames[p])
		if cloud {
			icon += "_new"
		}
		st.priorityJSON[p] = render(func(w *jw) {
			w.obj()
			w.ks("self", st.base+"/rest/api/2/priority/"+strconv.Itoa(p))
			w.ks("iconUrl", st.base+"/images/icons/priorities/"+icon+".svg")
			w.ks("name", priorityNames[p])
			w.ks("id", strconv.Itoa(p))
			w.end('}')
		})
	}
	for i, it := range issueTypes {
		st.typeJSON[i] = render(func(w *jw) {
			w.obj()
			w.ks("self", st.base+"/rest/api/2/issuetype/"+it.id)
			w.ks("id", it.id)
			if cloud {
				w.ks("description", it.descCloud)
				w.ks("iconUrl", st.base+"/rest/api/2/universal_avatar/view/type/issuetype/avatar/"+strconv.Itoa(it.avatar)+"?size=medium")
			} else {
				w.ks("description", it.descDC)
				w.ks("iconUrl", st.base+"/secure/viewavatar?size=xsmall&avatarId="+strconv.Itoa(it.avatar)+"&avatarType=issuetype")
			}
			w.ks("name", it.name)
			w.kb("subtask", it.subtask)
			w.ki("avatarId", int64(it.avatar))
			if cloud {
				w.ki("hierarchyLevel", int64(it.level))
			}
			w.end('}')
		})
	}
	st.resolution = render(func(w *jw) {
		w.obj()
		w.ks("self", st.base+"/rest/api/2/resolution/10000")
		w.ks("id", "10000")
		w.ks("description", "Work has been completed on this issue.")
		w.ks("name", "Done")
		w.end('}')
	})
	for i, lt := range linkTypes {
		st.linkTypeJSON[i] = render(func(w *jw) {
			w.obj()
			w.ks("id", itoa(lt.id))
			w.ks("name", lt.name)
			w.ks("inward", lt.inward)
			w.ks("outward", lt.outward)
			w.ks("self", st.base+"/rest/api/2/issueLinkType/"+itoa(lt.id))
			w.end('}')
		})
	}
}

func (t *team) projectAvatars(w *jw) {
	st := t.s
	w.k("avatarUrls")
	w.obj()
	if st.flavor == FlavorCloud {
		u := st.base + "/rest/api/2/universal_avatar/view/type/project/avatar/" + strconv.Itoa(t.avatarID)
		w.ks("48x48", u)
		w.ks("24x24", u+"?size=small")
		w.ks("16x16", u+"?size=xsmall")
		w.ks("32x32", u+"?size=medium")
	} else {
		a := "avatarId=" + strconv.Itoa(t.avatarID)
		w.ks("48x48", st.base+"/secure/projectavatar?"+a)
		w.ks("24x24", st.base+"/secure/projectavatar?size=small&"+a)
		w.ks("16x16", st.base+"/secure/projectavatar?size=xsmall&"+a)
		w.ks("32x32", st.base+"/secure/projectavatar?size=medium&"+a)
	}
	w.end('}')
}

// renderProjectRef renders the project as embedded in issue fields.
func (s *Simulator) renderProjectRef(t *team) []byte {
	return render(func(w *jw) {
		w.obj()
		w.ks("self", t.s.base+"/rest/api/2/project/"+itoa(t.projectID))
		w.ks("id", itoa(t.projectID))
		w.ks("key", t.key)
		w.ks("name", t.name)
		w.ks("projectTypeKey", "software")
		if t.s.flavor == FlavorCloud {
			w.kb("simplified", false)
		}
		t.projectAvatars(w)
		w.end('}')
	})
}

// ---- helpers shared by bodies ----

// jt formats an issue-field time. The same times (created, status category
// change, comment dates) come back in many bodies, so formats are cached.
func (st *site) jt(ms int64) string {
	e := &st.times[uint64(ms)%uint64(len(st.times))]
	if e.ms != ms || e.s == "" {
		e.ms, e.s = ms, fmtMs(ms, st.loc, jiraTime)
	}
	return e.s
}

func (st *site) agileTime(ms int64) string {
	if st.flavor == FlavorCloud {
		return fmtMs(ms, time.UTC, agileUTC)
	}
	return fmtMs(ms, st.loc, agileOffset)
}

func (s *Simulator) open(w *jw, ts int64, event string) {
	w.obj()
	w.ki("timestamp", ts)
	w.ks("webhookEvent", event)
}

func (s *Simulator) user(w *jw, key string, p *person) {
	w.k(key)
	if p == nil {
		w.null()
		return
	}
	w.raw(p.json)
}

// brief renders {id,key,self,fields{summary,status,priority,issuetype}}, the
// form of parents, sub-tasks and linked issues.
func (s *Simulator) brief(w *jw, is *issue) {
	st := is.t.s
	id := itoa(is.id)
	w.obj()
	w.ks("id", id)
	w.ks("key", is.key)
	w.ks("self", st.base+"/rest/api/2/issue/"+id)
	w.k("fields")
	w.obj()
	w.ks("summary", is.summary)
	w.kr("status", st.statusJSON[is.status])
	w.kr("priority", st.priorityJSON[is.priority])
	w.kr("issuetype", st.typeJSON[is.typ])
	w.end('}')
	w.end('}')
}

func (s *Simulator) versionRef(w *jw, v *version) {
	st := v.t.s
	w.obj()
	w.ks("self", st.base+"/rest/api/2/version/"+itoa(v.id))
	w.ks("id", itoa(v.id))
	w.ks("description", v.desc)
	w.ks("name", v.name)
	w.kb("archived", false)
	w.kb("released", v.released)
	if v.release != 0 {
		w.ks("releaseDate", fmtMs(v.release, time.UTC, dateOnly))
	}
	w.end('}')
}

func (s *Simulator) sprintField(w *jw, is *issue) {
	st := is.t.s
	w.k(st.sprintCF)
	if len(is.sprints) == 0 {
		w.null()
		return
	}
	w.arr()
	for _, sp := range is.sprints {
		if st.flavor == FlavorCloud {
			w.obj()
			w.ki("id", sp.id)
			w.ks("name", sp.name)
			w.ks("state", sp.state)
			w.ki("boardId", sp.t.boardID)
			w.ks("goal", sp.goal)
			if sp.start != 0 {
				w.ks("startDate", st.agileTime(sp.start))
				w.ks("endDate", st.agileTime(sp.end))
			}
			if sp.complete != 0 {
				w.ks("completeDate", st.agileTime(sp.complete))
			}
			w.end('}')
		} else {
			w.s(greenhopper(sp))
		}
	}
	w.end(']')
}

// greenhopper renders a Data Center Sprint field value.
func greenhopper(sp *sprint) string {
	st := sp.t.s
	d := func(ms int64) string {
		if ms == 0 {
			return "<null>"
		}
		return st.agileTime(ms)
	}
	var b strings.Builder
	b.Grow(320)
	b.WriteString("com.atlassian.greenhopper.service.sprint.Sprint@")
	b.WriteString(sp.hash)
	b.WriteString("[id=")
	b.WriteString(itoa(sp.id))
	b.WriteString(",rapidViewId=")
	b.WriteString(itoa(sp.t.boardID))
	b.WriteString(",state=")
	b.WriteString(strings.ToUpper(sp.state))
	b.WriteString(",name=")
	b.WriteString(sp.name)
	b.WriteString(",startDate=")
	b.WriteString(d(sp.start))
	b.WriteString(",endDate=")
	b.WriteString(d(sp.end))
	b.WriteString(",completeDate=")
	b.WriteString(d(sp.complete))
	b.WriteString(",activatedDate=")
	b.WriteString(d(sp.activated))
	b.WriteString(",sequence=")
	b.WriteString(itoa(sp.id))
	b.WriteString(",goal=")
	b.WriteString(sp.goal)
	b.WriteString(",autoStartStop=false,synced=false]")
	return b.String()
}

func (s *Simulator) issueLinks(w *jw, is *issue) {
	st := is.t.s
	w.k("issuelinks")
	w.arr()
	for _, l := range is.links {
		w.obj()
		w.ks("id", itoa(l.id))
		w.ks("self", st.base+"/rest/api/2/issueLink/"+itoa(l.id))
		w.kr("type", st.linkTypeJSON[l.typ])
		if l.src == is {
			w.k("outwardIssue")
			s.brief(w, l.dst)
		} else {
			w.k("inwardIssue")
			s.brief(w, l.src)
		}
		w.end('}')
	}
	w.end(']')
}

func (s *Simulator) timeFields(w *jw, key string, is *issue) {
	w.k(key)
	if is.timeSpent == 0 {
		w.null()
	} else {
		w.i(is.timeSpent)
	}
}

func (s *Simulator) progress(w *jw, key string, is *issue) {
	w.k(key)
	w.obj()
	w.ki("progress", is.timeSpent)
	w.ki("total", is.timeSpent)
	w.end('}')
}

func (s *Simulator) timetracking(w *jw, is *issue) {
	w.k("timetracking")
	w.obj()
	if is.timeSpent > 0 {
		w.ks("timeSpent", jiraDuration(is.timeSpent))
		w.ki("timeSpentSeconds", is.timeSpent)
	}
	w.end('}')
}

func (s *Simulator) strList(w *jw, key string, xs []string) {
	w.k(key)
	w.arr()
	for _, x := range xs {
		w.s(x)
	}
	w.end(']')
}

// ---- issue snapshot ----

// maxIssueBody is the size issue bodies are kept under: Data Center pages
// its comment and worklog containers down to fit.
const maxIssueBody = 12 << 10

func (s *Simulator) renderIssue(w *jw, is *issue, page int) {
	st := is.t.s
	from := len(w.b)
	defer func() {
		if page > 0 {
			is.size = len(w.b) - from
		}
	}()
	id := itoa(is.id)
	w.obj()
	w.ks("id", id)
	w.ks("self", st.base+"/rest/api/2/issue/"+id)
	w.ks("key", is.key)
	w.k("fields")
	w.obj()
	if st.flavor == FlavorCloud {
		s.cloudFields(w, is)
	} else {
		s.dcFields(w, is, page)
	}
	w.end('}')
	w.end('}')
}

func (s *Simulator) cloudFields(w *jw, is *issue) {
	st := is.t.s
	w.ks("statuscategorychangedate", st.jt(is.catSince))
	w.kr("issuetype", st.typeJSON[is.typ])
	s.timeFields(w, "timespent", is)
	w.kr("project", is.t.projectRef)
	s.fixVersions(w, is)
	s.timeFields(w, "aggregatetimespent", is)
	s.resolution(w, is)
	w.ki("workratio", -1)
	w.k("issuerestriction")
	w.obj()
	w.k("issuerestrictions")
	w.obj()
	w.end('}')
	w.kb("shouldDisplay", true)
	w.end('}')
	s.watches(w, is)
	w.ks("lastViewed", st.jt(is.updated))
	w.ks("created", st.jt(is.created))
	s.sprintField(w, is)
	w.kn("customfield_10021")
	w.ks("customfield_10000", "{}")
	w.kr("priority", st.priorityJSON[is.priority])
	s.strList(w, "labels", is.labels)
	s.points(w, is)
	w.ks(st.rankCF, is.rank)
	w.kn("customfield_10014")
	w.kn("customfield_10015")
	w.kn("timeestimate")
	w.kn("aggregatetimeoriginalestimate")
	w.k("versions")
	w.arr()
	w.end(']')
	s.issueLinks(w, is)
	s.user(w, "assignee", is.assignee)
	w.ks("updated", st.jt(is.updated))
	w.kr("status", st.statusJSON[is.status])
	s.components(w, is)
	w.kn("timeoriginalestimate")
	w.ks("description", is.desc)
	s.timetracking(w, is)
	w.kn("security")
	w.k("attachment")
	w.arr()
	w.end(']')
	w.kn("aggregatetimeestimate")
	w.ks("summary", is.summary)
	s.user(w, "creator", is.creator)
	s.subtasks(w, is)
	s.user(w, "reporter", is.reporter)
	s.progress(w, "aggregateprogress", is)
	w.kn("environment")
	w.kn("duedate")
	s.progress(w, "progress", is)
	s.votes(w, is)
	if is.parent != nil {
		w.k("parent")
		s.brief(w, is.parent)
	}
}

func (s *Simulator) dcFields(w *jw, is *issue, page int) {
	st := is.t.s
	w.kr("issuetype", st.typeJSON[is.typ])
	s.components(w, is)
	s.timeFields(w, "timespent", is)
	w.kn("timeoriginalestimate")
	w.ks("description", is.desc)
	w.kr("project", is.t.projectRef)
	s.fixVersions(w, is)
	s.timeFields(w, "aggregatetimespent", is)
	s.resolution(w, is)
	s.sprintField(w, is)
	w.k(st.epicLinkCF)
	if is.parent != nil && is.typ != typeSubtask {
		w.s(is.parent.key)
	} else {
		w.null()
	}
	w.ks(st.rankCF, is.rank)
	s.points(w, is)
	w.k("customfield_10102")
	if is.typ == typeEpic {
		w.s(is.summary)
	} else {
		w.null()
	}
	w.ks("customfield_10000", "{}")
	s.timetracking(w, is)
	w.k("attachment")
	w.arr()
	w.end(']')
	w.kn("aggregatetimeestimate")
	s.resolutionDate(w, is)
	w.ki("workratio", -1)
	w.ks("summary", is.summary)
	w.ks("lastViewed", st.jt(is.updated))
	s.watches(w, is)
	s.user(w, "creator", is.creator)
	s.subtasks(w, is)
	w.ks("created", st.jt(is.created))
	s.user(w, "reporter", is.reporter)
	s.progress(w, "aggregateprogress", is)
	w.kr("priority", st.priorityJSON[is.priority])
	s.strList(w, "labels", is.labels)
	w.kn("environment")
	w.kn("timeestimate")
	w.kn("aggregatetimeoriginalestimate")
	w.k("versions")
	w.arr()
	w.end(']')
	w.kn("duedate")
	s.progress(w, "progress", is)
	// Comment and worklog containers: the latest of each (a page).
	w.k("comment")
	w.obj()
	w.k("comments")
	w.arr()
	from := max(0, len(is.comments)-page)
	for _, c := range is.comments[from:] {
		s.commentObj(w, is, c)
	}
	w.end(']')
	w.ki("maxResults", int64(len(is.comments)-from))
	w.ki("total", int64(len(is.comments)))
	w.ki("startAt", int64(from))
	w.end('}')
	s.issueLinks(w, is)
	s.votes(w, is)
	w.k("worklog")
	w.obj()
	wfrom := max(0, len(is.worklogs)-page)
	w.ki("startAt", int64(wfrom))
	w.ki("maxResults", 20)
	w.ki("total", int64(len(is.worklogs)))
	w.k("worklogs")
	w.arr()
	for _, wl := range is.worklogs[wfrom:] {
		s.worklogObj(w, is, wl)
	}
	w.end(']')
	w.end('}')
	s.user(w, "assignee", is.assignee)
	w.ks("updated", st.jt(is.updated))
	w.kr("status", st.statusJSON[is.status])
	if is.parent != nil && is.typ == typeSubtask {
		w.k("parent")
		s.brief(w, is.parent)
	}
}

func (s *Simulator) fixVersions(w *jw, is *issue) {
	w.k("fixVersions")
	w.arr()
	for _, v := range is.fix {
		s.versionRef(w, v)
	}
	w.end(']')
}

func (s *Simulator) resolution(w *jw, is *issue) {
	w.k("resolution")
	if is.resolved == 0 {
		w.null()
	} else {
		w.raw(is.t.s.resolution)
	}
	if is.t.s.flavor == FlavorCloud {
		s.resolutionDate(w, is)
	}
}

func (s *Simulator) resolutionDate(w *jw, is *issue) {
	w.k("resolutiondate")
	if is.resolved == 0 {
		w.null()
	} else {
		w.s(is.t.s.jt(is.resolved))
	}
}

func (s *Simulator) watches(w *jw, is *issue) {
	w.k("watches")
	w.obj()
	w.ks("self", is.t.s.base+"/rest/api/2/issue/"+is.key+"/watchers")
	w.ki("watchCount", int64(is.watchers))
	w.kb("isWatching", true)
	w.end('}')
}

func (s *Simulator) votes(w *jw, is *issue) {
	w.k("votes")
	w.obj()
	w.ks("self", is.t.s.base+"/rest/api/2/issue/"+is.key+"/votes")
	w.ki("votes", 0)
	w.kb("hasVoted", false)
	w.end('}')
}

func (s *Simulator) points(w *jw, is *issue) {
	w.k(is.t.s.pointsCF)
	if is.points == 0 {
		w.null()
	} else {
		w.f(is.points)
	}
}

func (s *Simulator) components(w *jw, is *issue) {
	w.k("components")
	w.arr()
	for _, c := range is.comps {
		w.raw(is.t.comps[c].json)
	}
	w.end(']')
}

func (s *Simulator) subtasks(w *jw, is *issue) {
	w.k("subtasks")
	w.arr()
	for _, sub := range is.subtasks {
		s.brief(w, sub)
	}
	w.end(']')
}

func (s *Simulator) commentObj(w *jw, is *issue, c *comment) {
	st := is.t.s
	w.obj()
	w.ks("self", st.base+"/rest/api/2/issue/"+itoa(is.id)+"/comment/"+itoa(c.id))
	w.ks("id", itoa(c.id))
	s.user(w, "author", c.author)
	w.ks("body", c.body)
	s.user(w, "updateAuthor", c.updater)
	w.ks("created", st.jt(c.created))
	w.ks("updated", st.jt(c.updated))
	if st.flavor == FlavorCloud {
		w.kb("jsdPublic", true)
	}
	w.end('}')
}

func (s *Simulator) worklogObj(w *jw, is *issue, wl *worklog) {
	st := is.t.s
	w.obj()
	w.ks("self", st.base+"/rest/api/2/issue/"+itoa(is.id)+"/worklog/"+itoa(wl.id))
	s.user(w, "author", wl.author)
	s.user(w, "updateAuthor", wl.updater)
	w.ks("comment", wl.comment)
	w.ks("created", st.jt(wl.created))
	w.ks("updated", st.jt(wl.updated))
	w.ks("started", st.jt(wl.started))
	w.ks("timeSpent", jiraDuration(wl.seconds))
	w.ki("timeSpentSeconds", wl.seconds)
	w.ks("id", itoa(wl.id))
	w.ks("issueId", itoa(is.id))
	w.end('}')
}

// ---- changelog ----

type item struct {
	field, fieldtype, fieldID string
	from, fromS, to, toS      nstr
	user                      bool // a user field: Cloud adds tmpFromAccountId/tmpToAccountId
}

func (s *Simulator) changelogObj(w *jw, st *site, id int64, items []item) {
	cloud := st.flavor == FlavorCloud
	w.k("changelog")
	w.obj()
	w.ks("id", itoa(id))
	w.k("items")
	w.arr()
	for _, it := range items {
		w.obj()
		w.ks("field", it.field)
		ft := it.fieldtype
		if ft == "" {
			ft = "jira"
		}
		w.ks("fieldtype", ft)
		if cloud && it.fieldID != "" {
			w.ks("fieldId", it.fieldID)
		}
		w.k("from")
		w.ns(it.from)
		w.k("fromString")
		w.ns(it.fromS)
		w.k("to")
		w.ns(it.to)
		w.k("toString")
		w.ns(it.toS)
		if cloud && it.user {
			w.k("tmpFromAccountId")
			w.ns(it.from)
			w.k("tmpToAccountId")
			w.ns(it.to)
		}
		w.end('}')
	}
	w.end(']')
	w.end('}')
}

// ---- bodies ----

func newBody(hint int) *jw { return &jw{b: make([]byte, 0, hint)} }

// issueBody renders a jira:issue_* event. clID 0 means no changelog; c, if
// set, is the comment of a Data Center issue_comment* event.
func (s *Simulator) issueBody(ts int64, event, typeName string, actor *person, is *issue, clID int64, items []item, c *comment) []byte {
	b := s.issueBodyPage(ts, event, typeName, actor, is, clID, items, c, 1)
	if len(b) > maxIssueBody && is.t.s.flavor == FlavorDC {
		b = s.issueBodyPage(ts, event, typeName, actor, is, clID, items, c, 0)
	}
	return b
}

func (s *Simulator) issueBodyPage(ts int64, event, typeName string, actor *person, is *issue, clID int64, items []item, c *comment, page int) []byte {
	w := newBody(12 << 10)
	s.open(w, ts, event)
	w.ks("issue_event_type_name", typeName)
	s.user(w, "user", actor)
	w.k("issue")
	s.renderIssue(w, is, page)
	if clID != 0 {
		s.changelogObj(w, is.t.s, clID, items)
	}
	if c != nil {
		w.k("comment")
		s.commentObj(w, is, c)
	}
	w.end('}')
	return w.bytes()
}

func (s *Simulator) commentBody(ts int64, event string, is *issue, c *comment) []byte {
	st := is.t.s
	w := newBody(6 << 10)
	s.open(w, ts, event)
	w.k("comment")
	s.commentObj(w, is, c)
	if st.flavor == FlavorCloud {
		id := itoa(is.id)
		w.k("issue")
		w.obj()
		w.ks("id", id)
		w.ks("self", st.base+"/rest/api/2/issue/"+id)
		w.ks("key", is.key)
		w.k("fields")
		w.obj()
		w.ks("summary", is.summary)
		w.kr("issuetype", st.typeJSON[is.typ])
		w.kr("project", is.t.projectRef)
		s.user(w, "assignee", is.assignee)
		w.kr("priority", st.priorityJSON[is.priority])
		w.kr("status", st.statusJSON[is.status])
		w.end('}')
		w.end('}')
	}
	w.end('}')
	return w.bytes()
}

func (s *Simulator) worklogBody(ts int64, event string, is *issue, wl *worklog) []byte {
	w := newBody(3 << 10)
	s.open(w, ts, event)
	w.k("worklog")
	s.worklogObj(w, is, wl)
	if event == "worklog_updated" && is.t.s.flavor == FlavorCloud {
		w.kb("isFromIssueLimitTransformation", false)
	}
	w.end('}')
	return w.bytes()
}

func (s *Simulator) linkBody(ts int64, event string, l *link) []byte {
	lt := linkTypes[l.typ]
	w := newBody(512)
	s.open(w, ts, event)
	w.k("issueLink")
	w.obj()
	w.ki("id", l.id)
	w.ki("sourceIssueId", l.src.id)
	w.ki("destinationIssueId", l.dst.id)
	w.k("issueLinkType")
	w.obj()
	w.ki("id", lt.id)
	w.ks("name", lt.name)
	w.ks("outwardName", lt.outward)
	w.ks("inwardName", lt.inward)
	w.kb("isSubTaskLinkType", false)
	w.kb("isSystemLinkType", false)
	w.end('}')
	w.kb("systemLink", false)
	w.end('}')
	w.end('}')
	return w.bytes()
}

func (s *Simulator) sprintObj(w *jw, sp *sprint) {
	st := sp.t.s
	w.obj()
	w.ki("id", sp.id)
	w.ks("self", st.base+"/rest/agile/1.0/sprint/"+itoa(sp.id))
	w.ks("state", sp.state)
	w.ks("name", sp.name)
	if sp.start != 0 {
		w.ks("startDate", st.agileTime(sp.start))
		w.ks("endDate", st.agileTime(sp.end))
	}
	if st.flavor == FlavorCloud {
		if sp.complete != 0 {
			w.ks("completeDate", st.agileTime(sp.complete))
		}
		w.ks("createdDate", st.agileTime(sp.created))
	} else {
		if sp.activated != 0 {
			w.ks("activatedDate", st.agileTime(sp.activated))
		}
		if sp.complete != 0 {
			w.ks("completeDate", st.agileTime(sp.complete))
		}
	}
	w.ki("originBoardId", sp.t.boardID)
	w.ks("goal", sp.goal)
	if st.flavor != FlavorCloud {
		w.kb("synced", false)
		w.kb("autoStartStop", false)
	}
	w.end('}')
}

func (s *Simulator) sprintBody(ts int64, event string, sp *sprint, old *sprint) []byte {
	w := newBody(1 << 10)
	s.open(w, ts, event)
	w.k("sprint")
	s.sprintObj(w, sp)
	if old != nil {
		w.k("oldValue")
		s.sprintObj(w, old)
	}
	w.end('}')
	return w.bytes()
}

func (s *Simulator) versionObj(w *jw, v *version) {
	st := v.t.s
	w.obj()
	w.ks("self", st.base+"/rest/api/2/version/"+itoa(v.id))
	w.ks("id", itoa(v.id))
	w.ks("description", v.desc)
	w.ks("name", v.name)
	w.kb("archived", false)
	w.kb("released", v.released)
	if v.start != 0 {
		w.ks("startDate", fmtMs(v.start, time.UTC, dateOnly))
	}
	if v.release != 0 {
		w.ks("releaseDate", fmtMs(v.release, time.UTC, dateOnly))
	}
	w.kb("overdue", false)
	if v.start != 0 {
		w.ks("userStartDate", fmtMs(v.start, time.UTC, userDate))
	}
	if v.release != 0 {
		w.ks("userReleaseDate", fmtMs(v.release, time.UTC, userDate))
	}
	w.ki("projectId", v.t.projectID)
	w.end('}')
}

func (s *Simulator) versionBody(ts int64, event string, v, mergedTo *version) []byte {
	w := newBody(1 << 10)
	s.open(w, ts, event)
	w.k("version")
	s.versionObj(w, v)
	if mergedTo != nil {
		w.k("mergedTo")
		s.versionObj(w, mergedTo)
	}
	w.end('}')
	return w.bytes()
}

func (s *Simulator) projectBody(ts int64, event string, t *team) []byte {
	st := t.s
	w := newBody(3 << 10)
	s.open(w, ts, event)
	w.k("project")
	w.obj()
	w.ks("self", st.base+"/rest/api/2/project/"+itoa(t.projectID))
	w.ki("id", t.projectID)
	w.ks("key", t.key)
	w.ks("name", t.name)
	t.projectAvatars(w)
	s.user(w, "projectLead", t.lead)
	w.ks("assigneeType", "admin.assignee.type.unassigned")
	w.k("projectCategory")
	w.obj()
	catID := int64(10000 + len(t.cat)%7)
	w.ks("self", st.base+"/rest/api/2/projectCategory/"+itoa(catID))
	w.ki("id", catID)
	w.ks("name", t.cat)
	w.ks("description", t.cat+" teams")
	w.end('}')
	w.end('}')
	w.end('}')
	return w.bytes()
}

func (s *Simulator) boardBody(ts int64, t *team) []byte {
	w := newBody(256)
	s.open(w, ts, "board_created")
	w.k("board")
	w.obj()
	w.ki("id", t.boardID)
	w.ks("self", t.s.base+"/rest/agile/1.0/board/"+itoa(t.boardID))
	w.ks("name", t.key+" board")
	w.ks("type", "scrum")
	w.end('}')
	w.end('}')
	return w.bytes()
}
