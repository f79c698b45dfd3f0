package jirasim

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// ---- static catalogs (same ids as the fixture corpus) ----

const (
	typeStory = iota
	typeBug
	typeTask
	typeEpic
	typeSubtask
)

type issueType struct {
	id, name, descCloud, descDC string
	avatar, level               int
	subtask                     bool
}

var issueTypes = [...]issueType{
	typeStory:   {"10001", "Story", "Stories track functionality or features expressed as user goals.", "Created by Jira Software - do not edit or delete. Issue type for a user story.", 10315, 0, false},
	typeBug:     {"10004", "Bug", "Bugs track problems or errors.", "A problem which impairs or prevents the functions of the product.", 10303, 0, false},
	typeTask:    {"10002", "Task", "Tasks track small, distinct pieces of work.", "A task that needs to be done.", 10318, 0, false},
	typeEpic:    {"10000", "Epic", "Epics track collections of related bugs, stories, and tasks.", "Created by Jira Software - do not edit or delete. Issue type for a big user story that needs to be broken down.", 10307, 1, false},
	typeSubtask: {"10003", "Sub-task", "Subtasks track small pieces of work that are part of a larger task.", "The sub-task of the issue", 10316, -1, true},
}

const (
	stTodo = iota
	stProgress
	stReview
	stDone
)

type status struct {
	id, name, desc, icon string // icon is a path under the site, "" for the site root
	cat                  int
}

type category struct {
	id               int
	key, color, name string
}

var statuses = [...]status{
	stTodo:     {"10000", "To Do", "", "", 0},
	stProgress: {"3", "In Progress", "This issue is being actively worked on at the moment by the assignee.", "/images/icons/statuses/inprogress.png", 1},
	stReview:   {"10002", "In Review", "Code review and QA sign-off.", "", 1},
	stDone:     {"10001", "Done", "", "", 2},
}

var categories = [...]category{
	{2, "new", "blue-gray", "To Do"},
	{4, "indeterminate", "yellow", "In Progress"},
	{3, "done", "green", "Done"},
}

var priorityNames = [...]string{"", "Highest", "High", "Medium", "Low", "Lowest"}

type linkType struct {
	id                    int64
	name, outward, inward string
}

const (
	linkBlocks = iota
	linkClones
	linkDuplicate
	linkRelates
)

var linkTypes = [...]linkType{
	linkBlocks:    {10000, "Blocks", "blocks", "is blocked by"},
	linkClones:    {10001, "Cloners", "clones", "is cloned by"},
	linkDuplicate: {10002, "Duplicate", "duplicates", "is duplicated by"},
	linkRelates:   {10003, "Relates", "relates to", "relates to"},
}

// ---- the simulated world ----

type site struct {
	idx    int
	flavor Flavor
	name   string
	base   string
	loc    *time.Location

	sprintCF, epicLinkCF, rankCF, pointsCF string

	people []*person
	teams  []*team
	names  map[string]bool
	users  int

	statusJSON   [4][]byte
	priorityJSON [6][]byte
	typeJSON     [5][]byte
	resolution   []byte
	linkTypeJSON [4][]byte

	times [4096]struct {
		ms int64
		s  string
	}
}

type person struct {
	id      string // accountId (Cloud) or user key (DC)
	name    string // DC username
	display string
	json    []byte
	mention string
}

type component struct {
	id   int64
	name string
	json []byte
}

type team struct {
	s    *site
	idx  int
	key  string
	name string
	cat  string

	projectID  int64
	boardID    int64
	avatarID   int
	lead       *person
	people     []*person
	comps      []component
	projectRef []byte // project as embedded in issue fields

	nextNum int
	live    []*issue // not deleted
	epics   []*issue

	active    *sprint
	next      *sprint
	sprintNum int

	main      *version // the unreleased release the team works towards
	rc        *version // a release candidate to be merged into main
	verMajor  int
	verMinor  int
	labels    []string
	themeNoun string

	actionsPerDay float64
}

type sprint struct {
	t                                        *team
	id                                       int64
	name, goal, state                        string
	created, start, end, activated, complete int64
	hash                                     string
	members                                  []*issue
	deleted                                  bool
}

type version struct {
	t                 *team
	id                int64
	name, desc        string
	start, release    int64 // ms, 0 if unset
	released, deleted bool
}

type link struct {
	id       int64
	typ      int
	src, dst *issue
}

type comment struct {
	id               int64
	author, updater  *person
	body             string
	created, updated int64
}

type worklog struct {
	id                        int64
	author, updater           *person
	comment                   string
	created, updated, started int64
	seconds                   int64
}

type issue struct {
	t        *team
	id       int64
	key      string
	typ      int
	summary  string
	desc     string
	priority int
	labels   []string
	comps    []int
	status   int
	resolved int64 // resolution date, 0 if unresolved
	catSince int64
	points   float64

	assignee, reporter, creator *person
	sprints                     []*sprint
	fix                         []*version
	parent                      *issue
	subtasks                    []*issue
	links                       []*link
	comments                    []*comment
	worklogs                    []*worklog
	kids                        []*issue // an epic's children
	timeSpent                   int64
	rank                        string
	created, updated            int64
	watchers                    int
	deleted                     bool
	liveIdx                     int
	size                        int // bytes of the latest rendered snapshot
}

func (is *issue) done() bool { return is.status == stDone }

// Size budget of issue bodies: an issue event is the issue's snapshot plus
// the acting user (~1 KB) and a changelog (up to ~1.5 KB), and Jira's bodies
// are 5-12 KB. Links, sub-tasks and parents each embed another issue
// (~1.3 KB), so they are added only while the snapshot leaves room, with a
// margin for the Sprint field growing at carry-overs.
const (
	roomFor     = 7900 // largest snapshot that may take one more embedded issue
	roomForText = 8300 // largest snapshot that may take a description edit
	briefSize   = 1300 // an embedded issue, counted until the next rendering
)

// room reports whether the issue can take one more link, sub-task or parent.
func (is *issue) room() bool { return is.size <= roomFor }

// openSprint returns the issue's future or active sprint, if any.
func (is *issue) openSprint() *sprint {
	for _, sp := range is.sprints {
		if sp.state != "closed" {
			return sp
		}
	}
	return nil
}

func (is *issue) hasFix(v *version) bool {
	for _, x := range is.fix {
		if x == v {
			return true
		}
	}
	return false
}

// state is the World's view of the issue.
func (is *issue) state() IssueState {
	st := IssueState{
		Site:           is.t.s.base,
		Key:            is.key,
		ID:             fmt.Sprint(is.id),
		Type:           issueTypes[is.typ].name,
		Status:         statuses[is.status].name,
		StatusID:       statuses[is.status].id,
		StatusCategory: categories[statuses[is.status].cat].key,
		Comments:       len(is.comments),
		Worklogs:       len(is.worklogs),
		WorklogSeconds: is.timeSpent,
		Deleted:        is.deleted,
	}
	if is.assignee != nil {
		st.Assignee = is.assignee.id
	}
	if is.parent != nil {
		if is.t.s.flavor == FlavorDC && is.typ != typeSubtask {
			st.Epic = is.parent.key
		} else {
			st.Parent = is.parent.key
		}
	}
	if len(is.sprints) > 0 {
		st.Sprints = make([]int64, len(is.sprints))
		for i, sp := range is.sprints {
			st.Sprints[i] = sp.id
		}
	}
	if len(is.fix) > 0 {
		st.FixVersions = make([]string, len(is.fix))
		for i, v := range is.fix {
			st.FixVersions[i] = fmt.Sprint(v.id)
		}
	}
	if len(is.links) > 0 {
		st.Links = make([]Link, len(is.links))
		for i, l := range is.links {
			if l.src == is {
				st.Links[i] = Link{Type: linkTypes[l.typ].name, Direction: "outward", Issue: l.dst.key}
			} else {
				st.Links[i] = Link{Type: linkTypes[l.typ].name, Direction: "inward", Issue: l.src.key}
			}
		}
		sortLinks(st.Links)
	}
	return st
}

// ---- setup ----

func (s *Simulator) setup() {
	flavors := []Flavor{s.cfg.Flavor}
	if s.cfg.Flavor == FlavorMix {
		flavors = []Flavor{FlavorCloud, FlavorDC}
	}
	for i, f := range flavors {
		s.sites = append(s.sites, s.newSite(i, f))
	}
	nTeams := s.cfg.Teams
	if nTeams < len(s.sites) {
		nTeams = len(s.sites)
	}
	for i := range nTeams {
		st := s.sites[i%len(s.sites)]
		t := s.newTeam(st, i)
		st.teams = append(st.teams, t)
		s.teams = append(s.teams, t)
	}

	// Activity: enough for the Target to fit in Days, never less than asked.
	start := s.cfg.Start.UnixMilli()
	s.endMs = start + int64(s.cfg.Days)*msDay
	workdays := 0
	for d := range s.cfg.Days {
		wd := s.cfg.Start.AddDate(0, 0, d).Weekday()
		if wd != time.Saturday && wd != time.Sunday {
			workdays++
		}
	}
	workdays = max(workdays, 1)
	apd := s.cfg.ActionsPerDay
	if s.cfg.Target > 0 {
		need := float64(s.cfg.Target) / (float64(len(s.teams)*workdays) * 1.45) * 1.3
		apd = max(apd, need)
	}
	for _, t := range s.teams {
		t.actionsPerDay = apd * (0.75 + 0.5*s.r.Float64())
	}
	// Gaps between the deliveries of one action: a few hundred ms, less
	// when the simulated site is very busy.
	meanGap := float64(workTo-workFrom) / (apd * float64(len(s.teams)))
	s.maxInc = int64(min(400, max(1, meanGap/8)))

	for i, t := range s.teams {
		at := toWork(start + 8*msHour + 30*msMinute + int64(i)*4*msMinute)
		s.schedule(at, taskSetup, t, nil)
	}
}

var cloudSprintCFs = []string{"customfield_10020", "customfield_10020", "customfield_10010", "customfield_10007"}
var dcSprintCFs = []string{"customfield_10104", "customfield_10100", "customfield_10005", "customfield_10200"}

func (s *Simulator) newSite(idx int, f Flavor) *site {
	st := &site{idx: idx, flavor: f, name: s.cfg.Site, names: map[string]bool{}}
	if f == FlavorCloud {
		st.base = "https://" + s.cfg.Site + ".atlassian.net"
		st.loc = time.FixedZone("", 3600)
		st.sprintCF = pick(s.r, cloudSprintCFs)
		st.rankCF, st.pointsCF = "customfield_10019", "customfield_10016"
	} else {
		st.base = "https://jira." + s.cfg.Site + ".internal"
		st.loc = time.FixedZone("", 3600)
		st.sprintCF = pick(s.r, dcSprintCFs)
		st.epicLinkCF, st.rankCF, st.pointsCF = "customfield_10101", "customfield_10105", "customfield_10106"
	}
	s.renderSiteCatalog(st)
	return st
}

func (s *Simulator) newTeam(st *site, i int) *team {
	key, name, cat := teamKeyName(i)
	s.ids.board++
	t := &team{
		s: st, idx: i, key: key, name: name, cat: cat,
		projectID: s.ids.project + int64(i),
		boardID:   s.ids.board + s.r.Int64N(3),
		avatarID:  10400 + s.r.IntN(30),
		nextNum:   1,
		verMajor:  1 + s.r.IntN(4),
		verMinor:  s.r.IntN(8),
		sprintNum: 1 + s.r.IntN(20),
		themeNoun: pick(s.r, nouns),
	}
	s.ids.board = t.boardID
	n := 4 + s.r.IntN(4)
	for range n {
		t.people = append(t.people, s.newPerson(st))
	}
	t.lead = t.people[0]
	for j := range 2 + s.r.IntN(3) {
		id := 10030 + int64(i)*10 + int64(j)
		name := strings.ReplaceAll(strings.ToLower(pick(s.r, nouns)), " ", "-")
		c := component{id: id, name: name}
		c.json = render(func(w *jw) {
			w.obj()
			w.ks("self", st.base+"/rest/api/2/component/"+fmt.Sprint(id))
			w.ks("id", fmt.Sprint(id))
			w.ks("name", name)
			w.end('}')
		})
		t.comps = append(t.comps, c)
	}
	for range 4 {
		t.labels = append(t.labels, pick(s.r, labelPool))
	}
	t.projectRef = s.renderProjectRef(t)
	st.people = append(st.people, t.people...)
	return t
}

func (s *Simulator) newPerson(st *site) *person {
	var first, last, display string
	for try := 0; ; try++ {
		first, last = pick(s.r, firstNames), pick(s.r, lastNames)
		display = first + " " + last
		if try > 40 {
			display = fmt.Sprintf("%s %s %d", first, last, try)
		}
		if !st.names[display] {
			break
		}
	}
	st.names[display] = true
	st.users++
	p := &person{display: display}
	tz := pick(s.r, timeZones)
	avatarHash := s.hex(32)
	if st.flavor == FlavorCloud {
		if s.r.IntN(4) == 0 {
			p.id = "5" + s.hex(23)
		} else {
			p.id = "712020:" + s.uuid()
		}
		p.mention = "[~accountid:" + p.id + "]"
		initials := fmt.Sprintf("%c%c-%d", first[0], last[0], s.r.IntN(6))
		av := "https://secure.gravatar.com/avatar/" + avatarHash +
			"?d=https%3A%2F%2Favatar-management--avatars.us-west-2.prod.public.atl-paas.net%2Finitials%2F" + initials + ".png"
		p.json = render(func(w *jw) {
			w.obj()
			w.ks("self", st.base+"/rest/api/2/user?accountId="+url.QueryEscape(p.id))
			w.ks("accountId", p.id)
			w.k("avatarUrls")
			w.obj()
			for _, size := range []string{"48x48", "24x24", "16x16", "32x32"} {
				w.ks(size, av)
			}
			w.end('}')
			w.ks("displayName", display)
			w.kb("active", true)
			w.ks("timeZone", tz)
			w.ks("accountType", "atlassian")
			w.end('}')
		})
	} else {
		p.name = fold(first) + "." + fold(last)
		if st.users > 1 && st.names[p.name] {
			p.name += fmt.Sprint(st.users)
		}
		st.names[p.name] = true
		p.id = fmt.Sprintf("JIRAUSER%d", 10099+st.users)
		p.mention = "[~" + p.name + "]"
		avatarID := 10500 + s.r.IntN(20)
		p.json = render(func(w *jw) {
			w.obj()
			w.ks("self", st.base+"/rest/api/2/user?username="+p.name)
			w.ks("name", p.name)
			w.ks("key", p.id)
			w.ks("emailAddress", p.name+"@"+st.name+".example")
			w.k("avatarUrls")
			w.obj()
			for _, sz := range [][2]string{{"48x48", ""}, {"24x24", "size=small&"}, {"16x16", "size=xsmall&"}, {"32x32", "size=medium&"}} {
				w.ks(sz[0], fmt.Sprintf("%s/secure/useravatar?%sownerId=%s&avatarId=%d", st.base, sz[1], p.id, avatarID))
			}
			w.end('}')
			w.ks("displayName", display)
			w.kb("active", true)
			w.ks("timeZone", tz)
			w.end('}')
		})
	}
	return p
}

// fold lower-cases a name and keeps ASCII letters, dropping accents.
func fold(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch r {
		case 'á', 'à', 'ä', 'â':
			r = 'a'
		case 'é', 'è', 'ë', 'ê':
			r = 'e'
		case 'í', 'ï':
			r = 'i'
		case 'ó', 'ö', 'ô':
			r = 'o'
		case 'ú', 'ü':
			r = 'u'
		case 'ç':
			r = 'c'
		case 'ñ':
			r = 'n'
		}
		if r >= 'a' && r <= 'z' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func (s *Simulator) hex(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = hexDigits[s.r.IntN(16)]
	}
	return string(b)
}

func (s *Simulator) uuid() string {
	h := []byte(s.hex(32))
	h[12] = '4'
	h[16] = "89ab"[s.r.IntN(4)]
	return fmt.Sprintf("%s-%s-%s-%s-%s", h[0:8], h[8:12], h[12:16], h[16:20], h[20:32])
}
