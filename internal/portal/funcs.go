package portal

import (
	"fmt"
	"html/template"
	"net/url"
	"strings"
	"time"

	"github.com/cogniscape/cogniscape"
)

func asTime(v any) time.Time {
	switch t := v.(type) {
	case time.Time:
		return t
	case *time.Time:
		if t != nil {
			return *t
		}
	case string:
		return parseT(t)
	}
	return time.Time{}
}

// ago says how long before now t was, in words.
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	switch {
	case d < 0:
		return "just now"
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plainCount(int(d/time.Minute), "minute ago", "minutes ago")
	case d < 24*time.Hour:
		return plainCount(int(d/time.Hour), "hour ago", "hours ago")
	case d < 60*24*time.Hour:
		return plainCount(int(d/(24*time.Hour)), "day ago", "days ago")
	}
	return "on " + t.UTC().Format("2 Jan 2006")
}

func (p *Portal) funcs() template.FuncMap {
	return template.FuncMap{
		"fmtTime": func(v any) string {
			t := asTime(v)
			if t.IsZero() {
				return "—"
			}
			return t.UTC().Format("2 Jan 2006, 15:04 UTC")
		},
		"fmtDate": func(v any) string {
			t := asTime(v)
			if t.IsZero() {
				return "—"
			}
			return t.UTC().Format("2 Jan 2006")
		},
		"fmtClock": func(v any) string {
			t := asTime(v)
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format("15:04")
		},
		"iso": func(v any) string {
			t := asTime(v)
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format(time.RFC3339)
		},
		"ago": func(v any) string { return ago(p.Now(), asTime(v)) },
		"dur": func(v any) string {
			switch x := v.(type) {
			case int64:
				return fmtDuration(x)
			case *int64:
				if x == nil {
					return "—"
				}
				return fmtDuration(*x)
			case int:
				return fmtDuration(int64(x))
			}
			return "—"
		},
		"href": entityHref,
		"personHref": func(id string) string {
			return Prefix + "/people/" + url.PathEscape(id)
		},
		"catLabel": categoryLabel,
		"catIcon":  categoryIcon,
		"outcomeIcon": func(o cogniscape.Outcome) string {
			switch o {
			case cogniscape.OutcomeAccepted:
				return "✓"
			case cogniscape.OutcomeDuplicate:
				return "↻"
			case cogniscape.OutcomeIgnored:
				return "–"
			case cogniscape.OutcomeQuarantined:
				return "⚠"
			}
			return "•"
		},
		"bytes": func(n int) string {
			switch {
			case n < 1024:
				return fmt.Sprintf("%d B", n)
			case n < 1<<20:
				return fmt.Sprintf("%.1f KB", float64(n)/1024)
			}
			return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
		},
		"pct": func(a, b int) int {
			if b <= 0 {
				return 0
			}
			return a * 100 / b
		},
		"initials": func(name string) string {
			var out []rune
			for _, f := range strings.Fields(name) {
				r := []rune(f)
				if len(r) > 0 && len(out) < 2 {
					out = append(out, r[0])
				}
			}
			if len(out) == 0 {
				return "?"
			}
			return strings.ToUpper(string(out))
		},
		"deref": func(s *string) string {
			if s == nil {
				return ""
			}
			return *s
		},
		"join":     strings.Join,
		"lower":    strings.ToLower,
		"hasTitle": func(s string) bool { return s != "" },
		"plural": func(n int, one, many string) string {
			return plainCount(n, one, many)
		},
		"stateLabel": func(s string) string {
			switch s {
			case "active":
				return "Active"
			case "closed":
				return "Closed"
			case "future":
				return "Future"
			case "":
				return "—"
			}
			return capitalise(s)
		},
		"kindLabel": func(k cogniscape.Kind) string { return capitalise(string(k)) },
		"shortEvent": func(e string) string {
			return strings.ReplaceAll(strings.TrimPrefix(e, "jira:"), "_", " ")
		},
		"days": func(v *int64) string {
			if v == nil {
				return "—"
			}
			return fmtDays(days(*v))
		},
		"pctl": func(p cogniscape.Percentiles, which int) string {
			var v *int64
			switch which {
			case 50:
				v = p.P50
			case 85:
				v = p.P85
			case 95:
				v = p.P95
			}
			if v == nil {
				return "—"
			}
			return fmtDays(days(*v))
		},
		"ageDays": func(secs int64) string { return fmtDays(days(secs)) },
	}
}

func categoryLabel(c string) string {
	switch c {
	case cogniscape.CategoryNew:
		return "To do"
	case cogniscape.CategoryIndeterminate:
		return "In progress"
	case cogniscape.CategoryDone:
		return "Done"
	}
	return "Unknown"
}

func categoryIcon(c string) string {
	switch c {
	case cogniscape.CategoryNew:
		return "○"
	case cogniscape.CategoryIndeterminate:
		return "◐"
	case cogniscape.CategoryDone:
		return "●"
	}
	return "·"
}
