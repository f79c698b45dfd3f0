package portal

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"sort"
	"strings"
	"time"
)

// svg builds one inline chart. Colours come from the stylesheet through
// classes; every series also differs in pattern, dash or shape and is
// labelled in words, so that no chart depends on colour alone. Each chart
// has a title for screen readers and a table next to it on the page.
type svg struct {
	b    strings.Builder
	id   string
	w, h float64
}

func newSVG(id string, w, h float64, class, label string) *svg {
	s := &svg{id: id, w: w, h: h}
	fmt.Fprintf(&s.b, `<svg id="%s" class="chart %s" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" role="img" aria-labelledby="%s-t" preserveAspectRatio="xMinYMin meet">`,
		id, class, w, h, w, h, id)
	fmt.Fprintf(&s.b, `<title id="%s-t">%s</title>`, id, esc(label))
	return s
}

func esc(s string) string { return html.EscapeString(s) }

func (s *svg) raw(format string, args ...any) { fmt.Fprintf(&s.b, format, args...) }

func (s *svg) text(x, y float64, class, anchor, t string) {
	if anchor == "" {
		anchor = "start"
	}
	fmt.Fprintf(&s.b, `<text x="%.1f" y="%.1f" class="%s" text-anchor="%s">%s</text>`, x, y, class, anchor, esc(t))
}

func (s *svg) line(x1, y1, x2, y2 float64, class string) {
	fmt.Fprintf(&s.b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="%s"/>`, x1, y1, x2, y2, class)
}

func (s *svg) rect(x, y, w, h float64, class, title string) {
	if w < 0.5 {
		w = 0.5
	}
	if title != "" {
		fmt.Fprintf(&s.b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" class="%s"><title>%s</title></rect>`, x, y, w, h, class, esc(title))
		return
	}
	fmt.Fprintf(&s.b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" class="%s"/>`, x, y, w, h, class)
}

// patterns defines the fills that tell series apart without colour.
func (s *svg) patterns() {
	s.raw(`<defs>`)
	s.raw(`<pattern id="%s-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" class="pat-bg-progress"/><line x1="0" y1="0" x2="0" y2="6" class="pat-line"/></pattern>`, s.id)
	s.raw(`<pattern id="%s-dots" width="6" height="6" patternUnits="userSpaceOnUse"><rect width="6" height="6" class="pat-bg-new"/><circle cx="3" cy="3" r="1.1" class="pat-dot"/></pattern>`, s.id)
	s.raw(`</defs>`)
}

// fillFor returns the fill attribute for a status category.
func (s *svg) fillFor(category string) string {
	switch category {
	case "new":
		return fmt.Sprintf(`fill="url(#%s-dots)"`, s.id)
	case "indeterminate":
		return fmt.Sprintf(`fill="url(#%s-hatch)"`, s.id)
	}
	return ""
}

func (s *svg) html() template.HTML {
	s.b.WriteString(`</svg>`)
	return template.HTML(s.b.String())
}

// timeScale maps times onto [x0, x1].
type timeScale struct {
	t0, t1 time.Time
	x0, x1 float64
}

func (ts timeScale) x(t time.Time) float64 {
	span := ts.t1.Sub(ts.t0)
	if span <= 0 {
		return ts.x0
	}
	f := float64(t.Sub(ts.t0)) / float64(span)
	return ts.x0 + math.Max(0, math.Min(1, f))*(ts.x1-ts.x0)
}

// dateTicks picks about n tick times between t0 and t1 at whole days, weeks
// or months, with their labels.
func dateTicks(t0, t1 time.Time, n int) ([]time.Time, string) {
	span := t1.Sub(t0)
	if span <= 0 {
		return []time.Time{t0}, "2 Jan"
	}
	day := 24 * time.Hour
	steps := []time.Duration{time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, day, 2 * day, 7 * day, 14 * day, 28 * day, 91 * day, 182 * day, 364 * day}
	step := steps[len(steps)-1]
	for _, s := range steps {
		if span/s <= time.Duration(n) {
			step = s
			break
		}
	}
	format := "2 Jan"
	if step < day {
		format = "2 Jan 15:04"
	} else if step >= 91*day {
		format = "Jan 2006"
	}
	start := t0.UTC().Truncate(step)
	if step >= day {
		start = t0.UTC().Truncate(day)
		if step == 7*day || step == 14*day {
			// Mondays.
			start = start.AddDate(0, 0, -((int(start.Weekday()) + 6) % 7))
		}
		if step >= 28*day {
			start = time.Date(start.Year(), start.Month(), 1, 0, 0, 0, 0, time.UTC)
		}
	}
	var out []time.Time
	for t := start; !t.After(t1); {
		if !t.Before(t0) {
			out = append(out, t)
		}
		switch {
		case step >= 364*day:
			t = t.AddDate(1, 0, 0)
		case step >= 182*day:
			t = t.AddDate(0, 6, 0)
		case step >= 91*day:
			t = t.AddDate(0, 3, 0)
		case step >= 28*day:
			t = t.AddDate(0, 1, 0)
		default:
			t = t.Add(step)
		}
	}
	return out, format
}

// niceMax rounds v up to a value that divides into whole ticks, and returns
// the tick step.
func niceMax(v float64, ticks int) (float64, float64) {
	if v <= 0 {
		return 1, 1
	}
	raw := v / float64(ticks)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	if step < 1 && v >= 1 {
		step = 1
	}
	return math.Ceil(v/step) * step, step
}

func fmtNum(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	if v < 10 {
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.0f", v)
}

// yAxis draws horizontal grid lines and labels from 0 to max.
func (s *svg) yAxis(x0, x1, y0, y1, max, step float64, unit string) func(float64) float64 {
	y := func(v float64) float64 { return y0 - (v/max)*(y0-y1) }
	for v := 0.0; v <= max+step/2; v += step {
		s.line(x0, y(v), x1, y(v), "grid")
		s.text(x0-6, y(v)+4, "tick", "end", fmtNum(v))
	}
	if unit != "" {
		s.text(x0-6, y1-8, "axis-label", "end", unit)
	}
	return y
}

func (s *svg) xDates(ts timeScale, y float64, n int) {
	ticks, format := dateTicks(ts.t0, ts.t1, n)
	for _, t := range ticks {
		x := ts.x(t)
		s.line(x, y, x, y+4, "axis")
		s.text(x, y+16, "tick", "middle", t.Format(format))
	}
	s.line(ts.x0, y, ts.x1, y, "axis")
}

// ---- the issue's lifecycle -------------------------------------------------

type lane struct {
	Label    string
	Category string // for status lanes
	Bars     []bar
}

type bar struct {
	From, To time.Time
	Label    string // shown inside when it fits
	Title    string // tooltip
	Class    string
}

type marker struct {
	At    time.Time
	Label string
}

// timelineChart draws lanes of bars over time: the issue's statuses, then
// its assignees and sprints.
func timelineChart(id, label string, t0, t1 time.Time, lanes []lane, markers []marker) template.HTML {
	const (
		left   = 150.0
		right  = 20.0
		top    = 26.0
		laneH  = 30.0
		width  = 900.0
		bottom = 30.0
	)
	h := top + float64(len(lanes))*laneH + bottom
	s := newSVG(id, width, h, "timeline", label)
	s.patterns()
	ts := timeScale{t0: t0, t1: t1, x0: left, x1: width - right}
	for i, l := range lanes {
		y := top + float64(i)*laneH
		if i%2 == 0 {
			s.rect(0, y, width, laneH, "lane-bg", "")
		}
		s.text(left-10, y+laneH/2+4, "lane-label", "end", truncate(l.Label, 22))
		for _, b := range l.Bars {
			x0, x1 := ts.x(b.From), ts.x(b.To)
			if x1-x0 < 2 {
				x1 = x0 + 2
			}
			fill := ""
			if b.Class == "" {
				fill = s.fillFor(l.Category)
			}
			class := b.Class
			if class == "" {
				class = "bar cat-" + esc(l.Category) // from webhook data
			}
			s.raw(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" rx="3" class="%s" %s><title>%s</title></rect>`,
				x0, y+5, x1-x0, laneH-10, class, fill, esc(b.Title))
			if b.Label != "" && x1-x0 > float64(len(b.Label))*6.5+8 {
				s.text(x0+5, y+laneH/2+4, "bar-label", "start", b.Label)
			}
		}
	}
	base := top + float64(len(lanes))*laneH
	s.xDates(ts, base, 7)
	for _, m := range markers {
		x := ts.x(m.At)
		s.line(x, top-6, x, base, "marker")
		s.text(x, top-10, "marker-label", "middle", m.Label)
	}
	return s.html()
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// ---- sprint burn-up ---------------------------------------------------------

type burnPoint struct {
	At          time.Time
	Scope, Done int
}

func burnupChart(id string, pts []burnPoint, planEnd time.Time) template.HTML {
	const width, height, left, right, top, bottom = 860.0, 300.0, 48.0, 90.0, 24.0, 34.0
	s := newSVG(id, width, height, "burnup", "Burn-up: issues in the sprint (scope) and issues done, per day")
	if len(pts) == 0 {
		return s.html()
	}
	maxV := 0
	for _, p := range pts {
		maxV = max(maxV, p.Scope, p.Done)
	}
	ymax, step := niceMax(float64(maxV), 5)
	t0, t1 := pts[0].At, pts[len(pts)-1].At
	if !planEnd.IsZero() && planEnd.After(t1) {
		t1 = planEnd
	}
	ts := timeScale{t0: t0, t1: t1, x0: left, x1: width - right}
	y := s.yAxis(left, width-right, height-bottom, top, ymax, step, "issues")
	s.xDates(ts, height-bottom, 8)
	// Done: a filled step area; scope: a dashed step line.
	var done, scope strings.Builder
	fmt.Fprintf(&done, "M%.1f %.1f", ts.x(t0), y(0))
	for i, p := range pts {
		x := ts.x(p.At)
		if i == 0 {
			fmt.Fprintf(&scope, "M%.1f %.1f", x, y(float64(p.Scope)))
		} else {
			fmt.Fprintf(&scope, " H%.1f V%.1f", x, y(float64(p.Scope)))
		}
		fmt.Fprintf(&done, " V%.1f H%.1f", y(float64(p.Done)), x)
		if i+1 < len(pts) {
			fmt.Fprintf(&done, " H%.1f", ts.x(pts[i+1].At))
		}
	}
	last := pts[len(pts)-1]
	fmt.Fprintf(&done, " V%.1f Z", y(0))
	s.raw(`<path d="%s" class="area-done"/>`, done.String())
	s.raw(`<path d="%s" class="line-scope"/>`, scope.String())
	if !planEnd.IsZero() {
		x := ts.x(planEnd)
		s.line(x, top, x, height-bottom, "marker")
		s.text(x, top-8, "marker-label", "middle", "planned end")
	}
	lx := ts.x(last.At) + 6
	s.text(lx, y(float64(last.Scope))+4, "direct-label", "start", fmt.Sprintf("scope %d", last.Scope))
	dy := y(float64(last.Done)) + 4
	if math.Abs(dy-y(float64(last.Scope))) < 14 {
		dy += 14
	}
	s.text(lx, dy, "direct-label", "start", fmt.Sprintf("done %d", last.Done))
	return s.html()
}

// ---- cumulative flow ----------------------------------------------------------

type cfdPoint struct {
	Day                 time.Time
	New, Progress, Done int
}

func cfdChart(id string, pts []cfdPoint) template.HTML {
	const width, height, left, right, top, bottom = 860.0, 320.0, 48.0, 130.0, 20.0, 34.0
	s := newSVG(id, width, height, "cfd", "Cumulative flow: issues done, in progress and in the backlog at the end of each day")
	s.patterns()
	if len(pts) == 0 {
		return s.html()
	}
	maxV := 0
	for _, p := range pts {
		maxV = max(maxV, p.New+p.Progress+p.Done)
	}
	ymax, step := niceMax(float64(maxV), 5)
	t0, t1 := pts[0].Day, pts[len(pts)-1].Day
	if !t1.After(t0) {
		t1 = t0.Add(24 * time.Hour)
	}
	ts := timeScale{t0: t0, t1: t1, x0: left, x1: width - right}
	y := s.yAxis(left, width-right, height-bottom, top, ymax, step, "issues")
	band := func(lo, hi func(cfdPoint) int, class, fill string) {
		var b strings.Builder
		for i, p := range pts {
			cmd := "L"
			if i == 0 {
				cmd = "M"
			}
			fmt.Fprintf(&b, "%s%.1f %.1f ", cmd, ts.x(p.Day), y(float64(hi(p))))
		}
		for i := len(pts) - 1; i >= 0; i-- {
			fmt.Fprintf(&b, "L%.1f %.1f ", ts.x(pts[i].Day), y(float64(lo(pts[i]))))
		}
		s.raw(`<path d="%sZ" class="%s" %s/>`, b.String(), class, fill)
	}
	band(func(cfdPoint) int { return 0 }, func(p cfdPoint) int { return p.Done }, "band cat-done", "")
	band(func(p cfdPoint) int { return p.Done }, func(p cfdPoint) int { return p.Done + p.Progress }, "band cat-indeterminate", s.fillFor("indeterminate"))
	band(func(p cfdPoint) int { return p.Done + p.Progress }, func(p cfdPoint) int { return p.Done + p.Progress + p.New }, "band cat-new", s.fillFor("new"))
	s.xDates(ts, height-bottom, 8)
	last := pts[len(pts)-1]
	lx := width - right + 6
	mid := func(lo, hi int) float64 { return (y(float64(lo)) + y(float64(hi))) / 2 }
	labels := []struct {
		y float64
		t string
	}{
		{mid(0, last.Done), fmt.Sprintf("Done %d", last.Done)},
		{mid(last.Done, last.Done+last.Progress), fmt.Sprintf("In progress %d", last.Progress)},
		{mid(last.Done+last.Progress, last.Done+last.Progress+last.New), fmt.Sprintf("Backlog %d", last.New)},
	}
	// Keep the labels apart.
	for i := 1; i < len(labels); i++ {
		if labels[i-1].y-labels[i].y < 14 {
			labels[i].y = labels[i-1].y - 14
		}
	}
	for _, l := range labels {
		s.text(lx, l.y+4, "direct-label", "start", l.t)
	}
	return s.html()
}

// ---- cycle time scatter -------------------------------------------------------

type scatterPoint struct {
	At    time.Time
	Days  float64
	Label string
	Href  string
}

type refLine struct {
	Value float64
	Label string
}

func scatterChart(id string, t0, t1 time.Time, pts []scatterPoint, refs []refLine) template.HTML {
	const width, height, left, right, top, bottom = 860.0, 300.0, 48.0, 130.0, 20.0, 34.0
	s := newSVG(id, width, height, "scatter", "Cycle time of each delivered issue, in days, by the day it was done, with percentile lines")
	maxV := 0.0
	for _, p := range pts {
		maxV = math.Max(maxV, p.Days)
	}
	for _, r := range refs {
		maxV = math.Max(maxV, r.Value)
	}
	ymax, step := niceMax(maxV*1.05, 5)
	if !t1.After(t0) {
		t1 = t0.Add(24 * time.Hour)
	}
	ts := timeScale{t0: t0, t1: t1, x0: left, x1: width - right}
	y := s.yAxis(left, width-right, height-bottom, top, ymax, step, "days")
	s.xDates(ts, height-bottom, 8)
	dashes := []string{"ref-50", "ref-85", "ref-95"}
	lastY := math.Inf(1)
	for i, r := range refs {
		yy := y(r.Value)
		s.line(left, yy, width-right, yy, "ref "+dashes[i%len(dashes)])
		ly := yy + 4
		if lastY-ly < 13 {
			ly = lastY - 13
		}
		lastY = ly
		s.text(width-right+6, ly, "direct-label", "start", r.Label)
	}
	for _, p := range pts {
		x, yy := ts.x(p.At), y(p.Days)
		title := fmt.Sprintf("%s: %s days, done %s", p.Label, fmtNum(math.Round(p.Days*10)/10), p.At.Format("2 Jan 2006"))
		if p.Href != "" {
			s.raw(`<a href="%s">`, esc(p.Href))
		}
		s.raw(`<circle cx="%.1f" cy="%.1f" r="5" class="dot"><title>%s</title></circle>`, x, yy, esc(title))
		if p.Href != "" {
			s.raw(`</a>`)
		}
	}
	return s.html()
}

// ---- throughput ------------------------------------------------------------------

type weekBar struct {
	Label string // 2026-W10
	Start time.Time
	Count int
}

func throughputChart(id string, weeks []weekBar) template.HTML {
	const width, height, left, right, top, bottom = 860.0, 240.0, 48.0, 20.0, 20.0, 40.0
	s := newSVG(id, width, height, "throughput", "Throughput: issues delivered per week")
	if len(weeks) == 0 {
		return s.html()
	}
	maxV := 0
	for _, w := range weeks {
		maxV = max(maxV, w.Count)
	}
	ymax, step := niceMax(float64(maxV), 4)
	y := s.yAxis(left, width-right, height-bottom, top, ymax, step, "issues")
	slot := (width - left - right) / float64(len(weeks))
	every := int(math.Ceil(float64(len(weeks)) / 12))
	for i, w := range weeks {
		x := left + float64(i)*slot
		bw := math.Max(2, slot*0.7)
		bx := x + (slot-bw)/2
		if w.Count > 0 {
			s.rect(bx, y(float64(w.Count)), bw, y(0)-y(float64(w.Count)), "bar cat-done",
				fmt.Sprintf("%s (week of %s): %d delivered", w.Label, w.Start.Format("2 Jan"), w.Count))
			s.text(bx+bw/2, y(float64(w.Count))-4, "bar-value", "middle", fmt.Sprint(w.Count))
		}
		if i%every == 0 {
			s.text(x+slot/2, height-bottom+15, "tick", "middle", w.Start.Format("2 Jan"))
		}
	}
	s.line(left, y(0), width-right, y(0), "axis")
	s.text(left, height-6, "axis-label", "start", "week starting")
	return s.html()
}

// ---- aging work in progress ----------------------------------------------------------

type agingItem struct {
	Issue  string
	Status string
	Days   float64
	Href   string
}

func agingChart(id string, items []agingItem, statuses []string, refs []refLine) template.HTML {
	const width, left, right, top, bottom = 860.0, 48.0, 130.0, 20.0, 40.0
	height := 300.0
	s := newSVG(id, width, height, "aging", "Aging work in progress: days since each open issue started, by status")
	maxV := 0.0
	for _, it := range items {
		maxV = math.Max(maxV, it.Days)
	}
	for _, r := range refs {
		maxV = math.Max(maxV, r.Value)
	}
	ymax, step := niceMax(maxV*1.05, 5)
	y := s.yAxis(left, width-right, height-bottom, top, ymax, step, "days")
	if len(statuses) == 0 {
		return s.html()
	}
	col := (width - left - right) / float64(len(statuses))
	for i, st := range statuses {
		x := left + float64(i)*col
		if i%2 == 0 {
			s.rect(x, top, col, height-bottom-top, "lane-bg", "")
		}
		s.text(x+col/2, height-bottom+16, "tick", "middle", truncate(st, 18))
	}
	dashes := []string{"ref-50", "ref-85", "ref-95"}
	for i, r := range refs {
		yy := y(r.Value)
		s.line(left, yy, width-right, yy, "ref "+dashes[i%len(dashes)])
		s.text(width-right+6, yy+4, "direct-label", "start", r.Label)
	}
	// Items of one status side by side, so that equal ages do not hide each other.
	byStatus := map[string][]agingItem{}
	for _, it := range items {
		byStatus[it.Status] = append(byStatus[it.Status], it)
	}
	for i, st := range statuses {
		list := byStatus[st]
		sort.Slice(list, func(a, b int) bool { return list[a].Days > list[b].Days })
		for j, it := range list {
			n := float64(len(list))
			x := left + float64(i)*col + col*(float64(j)+1)/(n+1)
			yy := y(it.Days)
			s.raw(`<a href="%s"><circle cx="%.1f" cy="%.1f" r="6" class="dot dot-wip"><title>%s</title></circle></a>`,
				esc(it.Href), x, yy, esc(fmt.Sprintf("%s: %s days in progress (%s)", it.Issue, fmtNum(math.Round(it.Days*10)/10), it.Status)))
			if len(list) <= 6 {
				s.text(x+9, yy+4, "point-label", "start", it.Issue)
			}
		}
	}
	return s.html()
}

// ---- the neighbourhood graph -----------------------------------------------------

type graphNode struct {
	ID, Kind, Label, Href string
	Center                bool
	x, y                  float64
}

type graphEdge struct {
	From, To, Rel string
}

// graphChart lays the centre in the middle and its neighbours on rings,
// grouped by kind. The page's script pans and zooms it.
func graphChart(id string, nodes []graphNode, edges []graphEdge) template.HTML {
	const width, height = 900.0, 560.0
	cx, cy := width/2, height/2
	// Order by kind so that each kind forms an arc.
	others := []int{}
	for i := range nodes {
		if nodes[i].Center {
			nodes[i].x, nodes[i].y = cx, cy
		} else {
			others = append(others, i)
		}
	}
	sort.SliceStable(others, func(a, b int) bool { return nodes[others[a]].Kind < nodes[others[b]].Kind })
	perRing := 14
	for k, i := range others {
		ring := k / perRing
		inRing := min(perRing, len(others)-ring*perRing)
		pos := k % perRing
		r := 170.0 + float64(ring)*110
		a := 2*math.Pi*float64(pos)/float64(inRing) - math.Pi/2 + float64(ring)*0.2
		nodes[i].x, nodes[i].y = cx+r*math.Cos(a)*1.35, cy+r*math.Sin(a)
	}
	at := map[string]*graphNode{}
	for i := range nodes {
		at[nodes[i].ID] = &nodes[i]
	}
	// Frame the nodes and their labels, no wider than needed.
	minX, minY, maxX, maxY := cx-160, cy-60, cx+160, cy+70
	for _, n := range nodes {
		minX, maxX = math.Min(minX, n.x-110), math.Max(maxX, n.x+110)
		minY, maxY = math.Min(minY, n.y-30), math.Max(maxY, n.y+45)
	}
	s := &svg{id: id, w: maxX - minX, h: maxY - minY}
	fmt.Fprintf(&s.b, `<svg id="%s" class="chart graph" viewBox="%.0f %.0f %.0f %.0f" width="%.0f" height="%.0f" role="img" aria-labelledby="%s-t" data-pannable="true">`,
		id, minX, minY, maxX-minX, maxY-minY, maxX-minX, maxY-minY, id)
	fmt.Fprintf(&s.b, `<title id="%s-t">The neighbourhood of this entity in the knowledge graph</title>`, id)
	s.raw(`<g class="edges">`)
	for _, e := range edges {
		a, b := at[e.From], at[e.To]
		if a == nil || b == nil {
			continue
		}
		s.line(a.x, a.y, b.x, b.y, "edge")
		mx, my := (a.x+b.x)/2, (a.y+b.y)/2
		s.text(mx, my-3, "edge-label", "middle", strings.ReplaceAll(e.Rel, "_", " "))
	}
	s.raw(`</g><g class="nodes">`)
	for _, n := range nodes {
		if n.Href != "" {
			s.raw(`<a href="%s">`, esc(n.Href))
		}
		class := "node kind-" + n.Kind
		if n.Center {
			class += " center"
		}
		s.raw(`<g class="%s">`, class)
		switch n.Kind {
		case "person":
			s.raw(`<circle cx="%.1f" cy="%.1f" r="13"/>`, n.x, n.y)
		case "sprint", "version":
			s.raw(`<polygon points="%.1f,%.1f %.1f,%.1f %.1f,%.1f %.1f,%.1f"/>`, n.x, n.y-14, n.x+14, n.y, n.x, n.y+14, n.x-14, n.y)
		case "project":
			s.raw(`<rect x="%.1f" y="%.1f" width="26" height="26"/>`, n.x-13, n.y-13)
		default:
			s.raw(`<rect x="%.1f" y="%.1f" width="28" height="20" rx="6"/>`, n.x-14, n.y-10)
		}
		s.raw(`<title>%s</title>`, esc(n.Kind+": "+n.Label))
		s.text(n.x, n.y+28, "node-label", "middle", truncate(n.Label, 34))
		s.text(n.x, n.y+4, "node-kind", "middle", kindLetter(n.Kind))
		s.raw(`</g>`)
		if n.Href != "" {
			s.raw(`</a>`)
		}
	}
	s.raw(`</g>`)
	return s.html()
}

func kindLetter(kind string) string {
	switch kind {
	case "issue":
		return "I"
	case "person":
		return "P"
	case "project":
		return "Pr"
	case "sprint":
		return "S"
	case "version":
		return "V"
	case "comment":
		return "C"
	case "worklog":
		return "W"
	}
	return "·"
}
