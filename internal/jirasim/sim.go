// Package jirasim simulates the webhook traffic of Jira sites: teams with
// projects, boards, people, two-week sprints, issues moving through a
// workflow, comments, worklogs, links and versions. It generates the
// deliveries as Jira Cloud or Data Center would send them (headers and
// bodies of the real shapes), keeps its own model of the world they describe
// (World), sends them to a Cogniscape server with Jira-like faults (Send),
// writes and reads them as files (WriteFile, NewReader) and checks a server's
// read API against the model (Verify).
//
// Generation is reproducible: the same Config gives a byte-identical stream.
// It streams: deliveries are produced on demand, so a stream of millions of
// events is never held in memory.
package jirasim

import (
	"container/heap"
	"fmt"
	"iter"
	"math"
	"math/rand/v2"
	"strconv"
	"time"
)

// Flavor is the kind of Jira that sends the webhooks.
type Flavor string

// Flavors.
const (
	FlavorCloud Flavor = "cloud" // Jira Cloud: accountIds, Sprint objects, X-Hub-Signature
	FlavorDC    Flavor = "dc"    // Data Center: user keys, GreenHopper sprint strings, comments sent twice
	FlavorMix   Flavor = "mix"   // two sites, one Cloud and one Data Center
)

// ParseFlavor parses "cloud", "dc" (or "datacenter") and "mix".
func ParseFlavor(s string) (Flavor, error) {
	switch s {
	case "cloud", "":
		return FlavorCloud, nil
	case "dc", "datacenter", "data-center":
		return FlavorDC, nil
	case "mix", "mixed":
		return FlavorMix, nil
	}
	return "", fmt.Errorf("jirasim: unknown flavor %q (want cloud, dc or mix)", s)
}

// DefaultStart is the simulated time at which a simulation starts unless
// Config.Start says otherwise (a Monday, 00:00 UTC).
var DefaultStart = time.Date(2026, time.January, 5, 0, 0, 0, 0, time.UTC)

// Config describes a simulation.
type Config struct {
	Seed   uint64 // same seed, same stream
	Teams  int    // teams (each a project, a board, people, sprints); default 3
	Days   int    // simulated days; default 30
	Target int    // stop after this many deliveries (0: no cap); the stream then runs past Days if needed
	Flavor Flavor // default cloud
	Start  time.Time
	Site   string // site name: https://<Site>.atlassian.net, https://jira.<Site>.internal; default "acme"
	// ActionsPerDay is the mean number of user actions per team and working
	// day (one action sends one to a few deliveries). Default 40; raised
	// automatically when Target needs more activity to fit in Days.
	ActionsPerDay float64
}

// Delivery is one webhook delivery: what Jira would POST.
type Delivery struct {
	Identifier string            // X-Atlassian-Webhook-Identifier: unique decimal string
	Event      string            // the body's webhookEvent
	Site       string            // base URL of the sending site
	Flavor     Flavor            // FlavorCloud or FlavorDC
	Headers    map[string]string // without signature or token
	Body       []byte
}

// Header names used by deliveries.
const (
	HeaderIdentifier = "X-Atlassian-Webhook-Identifier"
	HeaderRetry      = "X-Atlassian-Webhook-Retry"
	HeaderFlow       = "X-Atlassian-Webhook-Flow"
	HeaderSignature  = "X-Hub-Signature"
	HeaderToken      = "X-Cogniscape-Token"
	userAgentCloud   = "Atlassian Webhook HTTP Client"
	userAgentDC      = "Atlassian HttpClient 4.4.1 / JIRA-9.12.12 (9120012) / Default"
)

// Simulator generates the deliveries of a simulation, one at a time.
type Simulator struct {
	cfg   Config
	r     *rand.Rand
	world *World
	sites []*site
	teams []*team

	tasks   taskHeap
	taskSeq int64

	queue []pending
	head  int

	emitted  int
	clock    int64 // simulated time of the action being generated (ms)
	lastTs   int64 // timestamp of the latest generated delivery
	maxInc   int64 // largest gap between two deliveries of one action
	endMs    int64
	finished bool

	ident     uint64
	changelog int64
	ids       idCounters
	rank      int64
	counts    map[string]int
}

type idCounters struct {
	issue, comment, worklog, link, sprint, version, project, board int64
}

type pending struct {
	d   Delivery
	eff func(*World)
}

// New returns a simulator for cfg, filling in defaults.
func New(cfg Config) *Simulator {
	if cfg.Teams <= 0 {
		cfg.Teams = 3
	}
	if cfg.Days <= 0 {
		cfg.Days = 30
	}
	if cfg.Flavor == "" {
		cfg.Flavor = FlavorCloud
	}
	if cfg.Start.IsZero() {
		cfg.Start = DefaultStart
	}
	if cfg.Site == "" {
		cfg.Site = "acme"
	}
	if cfg.ActionsPerDay <= 0 {
		cfg.ActionsPerDay = 40
	}
	s := &Simulator{
		cfg:    cfg,
		r:      rand.New(rand.NewPCG(cfg.Seed, 0x6a697261_73696d31)),
		world:  newWorld(),
		counts: make(map[string]int),
	}
	s.ident = 69_000_000_000_000_000 + s.r.Uint64N(900_000_000_000_000)
	s.changelog = 10_000 + s.r.Int64N(5_000)
	s.ids = idCounters{
		issue: 10_000, comment: 10_500 + s.r.Int64N(100), worklog: 10_200 + s.r.Int64N(50),
		link: 10_400 + s.r.Int64N(50), sprint: 1 + s.r.Int64N(40), version: 10_000 + s.r.Int64N(30),
		project: 10_000, board: 1,
	}
	s.setup()
	return s
}

// Config returns the configuration in use, defaults filled in.
func (s *Simulator) Config() Config { return s.cfg }

// World returns the simulator's model of the world as of the deliveries
// emitted so far. It is updated by Next; read it between calls.
func (s *Simulator) World() *World { return s.world }

// Emitted returns the number of deliveries handed out so far.
func (s *Simulator) Emitted() int { return s.emitted }

// Counts returns the number of deliveries emitted so far per webhookEvent.
func (s *Simulator) Counts() map[string]int {
	out := make(map[string]int, len(s.counts))
	for k, v := range s.counts {
		out[k] = v
	}
	return out
}

// Next returns the next delivery, or false when the simulation is over.
func (s *Simulator) Next() (Delivery, bool) {
	if s.cfg.Target > 0 && s.emitted >= s.cfg.Target {
		return Delivery{}, false
	}
	for s.head >= len(s.queue) {
		if s.finished {
			return Delivery{}, false
		}
		clear(s.queue)
		s.queue, s.head = s.queue[:0], 0
		s.step()
	}
	p := s.queue[s.head]
	s.queue[s.head] = pending{}
	s.head++
	if p.eff != nil {
		p.eff(s.world)
	}
	s.emitted++
	s.counts[p.d.Event]++
	return p.d, true
}

// All returns the remaining deliveries as an iterator.
func (s *Simulator) All() iter.Seq[Delivery] {
	return func(yield func(Delivery) bool) {
		for {
			d, ok := s.Next()
			if !ok || !yield(d) {
				return
			}
		}
	}
}

// ---- scheduling ----

const (
	taskSetup = iota
	taskAction
	taskSprintStart
	taskSprintPrepare
	taskSprintClose
)

type task struct {
	at   int64
	seq  int64
	kind int
	t    *team
	sp   *sprint
}

type taskHeap []task

func (h taskHeap) Len() int { return len(h) }
func (h taskHeap) Less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	return h[i].seq < h[j].seq
}
func (h taskHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *taskHeap) Push(x any)   { *h = append(*h, x.(task)) }
func (h *taskHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func (s *Simulator) schedule(at int64, kind int, t *team, sp *sprint) {
	s.taskSeq++
	heap.Push(&s.tasks, task{at: at, seq: s.taskSeq, kind: kind, t: t, sp: sp})
}

// step runs the earliest task, which queues zero or more deliveries.
func (s *Simulator) step() {
	if len(s.tasks) == 0 {
		s.finished = true
		return
	}
	tk := heap.Pop(&s.tasks).(task)
	if s.cfg.Target == 0 && tk.at >= s.endMs {
		s.finished = true
		return
	}
	s.clock = max(tk.at, s.lastTs+1)
	switch tk.kind {
	case taskSetup:
		s.teamSetup(tk.t)
	case taskAction:
		s.teamAction(tk.t)
		s.schedule(s.nextActionTime(tk.t, tk.at), taskAction, tk.t, nil)
	case taskSprintStart:
		s.sprintStart(tk.t, tk.sp)
	case taskSprintPrepare:
		s.sprintPrepare(tk.t)
	case taskSprintClose:
		s.sprintClose(tk.t, tk.sp)
	}
}

const (
	msMinute = int64(60_000)
	msHour   = 60 * msMinute
	msDay    = 24 * msHour
	workFrom = 8 * msHour
	workTo   = 18 * msHour
)

// toWork moves t forward into working hours (08:00–18:00 UTC, Mon–Fri).
func toWork(t int64) int64 {
	for {
		day := t - mod(t, msDay)
		wd := time.UnixMilli(day).UTC().Weekday()
		switch {
		case wd == time.Saturday || wd == time.Sunday:
			t = day + msDay + workFrom
		case t-day < workFrom:
			return day + workFrom
		case t-day >= workTo:
			t = day + msDay + workFrom
		default:
			return t
		}
	}
}

func mod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

// workAdd advances t by d milliseconds of working time.
func workAdd(t, d int64) int64 {
	t = toWork(t)
	for {
		end := t - mod(t, msDay) + workTo
		if t+d < end {
			return t + d
		}
		d -= end - t
		t = toWork(end)
	}
}

func (s *Simulator) nextActionTime(t *team, from int64) int64 {
	mean := float64(workTo-workFrom) / t.actionsPerDay
	gap := int64(-math.Log(1-s.r.Float64())*mean) + 1
	return workAdd(from, gap)
}

// ---- emitting ----

// ts returns the timestamp of the next delivery of the current action: a
// little after the previous one, never before it.
func (s *Simulator) ts() int64 {
	t := max(s.clock, s.lastTs+1+s.r.Int64N(s.maxInc))
	s.lastTs = t
	s.clock = t
	return t
}

func (s *Simulator) nextIdentifier() string {
	s.ident += 1 + s.r.Uint64N(4096)
	return strconv.FormatUint(s.ident, 10)
}

func (s *Simulator) nextChangelogID() int64 {
	s.changelog += 1 + s.r.Int64N(3)
	return s.changelog
}

// emit queues a delivery; eff updates the World when it is handed out.
func (s *Simulator) emit(st *site, event string, secondary bool, body []byte, eff func(*World)) {
	id := s.nextIdentifier()
	h := map[string]string{
		"Content-Type":   "application/json; charset=UTF-8",
		HeaderIdentifier: id,
	}
	if st.flavor == FlavorCloud {
		h["User-Agent"] = userAgentCloud
		if secondary {
			h[HeaderFlow] = "Secondary"
		} else {
			h[HeaderFlow] = "Primary"
		}
	} else {
		h["User-Agent"] = userAgentDC
	}
	s.queue = append(s.queue, pending{
		d:   Delivery{Identifier: id, Event: event, Site: st.base, Flavor: st.flavor, Headers: h, Body: body},
		eff: eff,
	})
}
