package jira

import "strings"

// StripCode turns Jira wiki markup or Markdown text into text with all code
// removed: {code}/{code:…} blocks, {noformat} blocks, ``` fences, inline
// {{monospace}} and `inline code`. Everything else (prose, mentions, links,
// other markup) is kept as written. It is a privacy promise: Cogniscape stores
// what people say about their work, never their source code.
//
// Removal is deliberately greedy: a block that is never closed runs to the end
// of the text, an unclosed {{ to the end of its line. Where something was
// removed, the whitespace around the gap is collapsed to a single space, a
// line break or one blank line, as the surrounding text had it. Text without
// any code markup is returned unchanged, and StripCode(StripCode(s)) ==
// StripCode(s).
func StripCode(s string) string {
	// Blocks first, so that a backtick or {{ inside a block cannot end
	// anything early; then inline code in what is left.
	return stripInline(stripBlocks(s))
}

// stripBlocks removes {code}, {noformat} and ``` blocks.
func stripBlocks(s string) string {
	var out []byte
	last := 0 // s[last:i] is text not yet copied to out
	i := 0
	for i < len(s) {
		switch s[i] {
		case '{':
			end, ok := blockMacro(s, i)
			if !ok {
				i++
				continue
			}
			out = append(out, s[last:i]...)
			out, i = join(out, s, end)
			last = i
		case '`':
			n := run(s, i, '`')
			if n < 3 {
				i += n
				continue
			}
			out = append(out, s[last:i]...)
			end := i + n
			for end < len(s) {
				if s[end] != '`' {
					end++
					continue
				}
				m := run(s, end, '`')
				end += m
				if m >= 3 {
					break
				}
			}
			out, i = join(out, s, end)
			last = i
		default:
			i++
		}
	}
	if out == nil {
		return s // nothing removed: keep the text byte for byte
	}
	return string(append(out, s[last:]...))
}

// stripInline removes {{monospace}} spans and inline code in single or double
// backticks from text that has no block markup left. Every search only moves
// forward (the paragraph end and the next "}}" are remembered), so the work
// is linear in the length of s.
func stripInline(s string) string {
	var out []byte
	last := 0
	para := -1    // end of the paragraph around i (see paragraphEnd), once known
	closeAt := -2 // index of the next "}}" at or after i+2, -1 if none; -2 unknown
	i := 0
	for i < len(s) {
		if para < i {
			para = paragraphEnd(s, i)
		}
		switch {
		case strings.HasPrefix(s[i:], "{{"):
			if closeAt != -1 && closeAt < i+2 {
				if j := strings.Index(s[i+2:], "}}"); j >= 0 {
					closeAt = i + 2 + j
				} else {
					closeAt = -1
				}
			}
			end := len(s)
			if closeAt >= 0 && closeAt < para {
				end = closeAt + 2
			} else if j := strings.IndexByte(s[i:], '\n'); j >= 0 {
				end = i + j // unclosed: drop the rest of the line
			}
			out = append(out, s[last:i]...)
			out, i = join(out, s, end)
			last = i
		case s[i] == '`':
			n := run(s, i, '`')
			end, ok := closingRun(s, i+n, n, para)
			if !ok {
				i += n // a lone backtick is just a character
				continue
			}
			out = append(out, s[last:i]...)
			out, i = join(out, s, end)
			last = i
		default:
			i++
		}
	}
	if out == nil {
		return s
	}
	return string(append(out, s[last:]...))
}

// blockMacro reports whether a {code} or {noformat} block starts at s[i] and
// returns the index just past its closing tag, or len(s) if it is never
// closed. A brace right after another brace is the inner one of a {{…}}
// monospace span ("{{code}}" is the word "code"), not a macro.
func blockMacro(s string, i int) (int, bool) {
	if i > 0 && s[i-1] == '{' {
		return 0, false
	}
	for _, name := range [...]string{"code", "noformat"} {
		if end, ok := macroOpen(s, i, name); ok {
			return skipPast(s, end, "{"+name+"}"), true
		}
	}
	return 0, false
}

// macroOpen reports whether s[i:] starts the opening tag of the wiki macro
// name ("{code}", "{code:java}", "{code:title=A.java|borderStyle=solid}", any
// letter case), and returns the index just past it. An opening tag whose
// parameters never close ends with its line.
func macroOpen(s string, i int, name string) (int, bool) {
	j := i + 1 + len(name)
	if j >= len(s) || !strings.EqualFold(s[i+1:j], name) {
		return 0, false
	}
	switch s[j] {
	case '}':
		return j + 1, true
	case ':':
		for k := j + 1; k < len(s); k++ {
			switch s[k] {
			case '}':
				return k + 1, true
			case '\n':
				return k, true
			}
		}
		return len(s), true
	}
	return 0, false
}

// skipPast returns the index just past the first tag at or after i, matched
// without regard to letter case, or len(s) if there is none.
func skipPast(s string, i int, tag string) int {
	for j := i; j+len(tag) <= len(s); j++ {
		if s[j] == '{' && strings.EqualFold(s[j:j+len(tag)], tag) {
			return j + len(tag)
		}
	}
	return len(s)
}

// run returns the number of consecutive bytes c starting at s[i].
func run(s string, i int, c byte) int {
	n := 0
	for i+n < len(s) && s[i+n] == c {
		n++
	}
	return n
}

// closingRun finds, in s[i:limit], a run of exactly n backticks and returns the
// index just past it.
func closingRun(s string, i, n, limit int) (int, bool) {
	for i < limit {
		if s[i] != '`' {
			i++
			continue
		}
		m := run(s, i, '`')
		if m == n && i+m <= limit {
			return i + m, true
		}
		i += m
	}
	return 0, false
}

// paragraphEnd returns the index of the first blank line at or after i (a
// line break followed by optional spaces and another line break), or len(s).
// Inline code never spans paragraphs.
func paragraphEnd(s string, i int) int {
	for j := i; j < len(s); j++ {
		if s[j] != '\n' {
			continue
		}
		for k := j + 1; k < len(s); k++ {
			if s[k] == '\n' {
				return j
			}
			if !isSpace(s[k]) {
				break
			}
		}
	}
	return len(s)
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' }

// join closes the gap left by removing text up to s[end] after out: it drops
// the whitespace on both sides of the gap and puts back one separator. That is
// a blank line if the whitespace on either side held one, else a line break if
// either side held one (a block on lines of its own), else a single space —
// or nothing before closing punctuation and at the start or end of the text.
// The indentation of the line after the gap is kept. It returns the new out
// and the index in s where copying resumes.
//
// The separator is never empty between two kept characters unless the second
// is one of ".,;!?)", none of which occurs in any code marker, so removal can
// never form a new marker: that is what makes StripCode idempotent.
func join(out []byte, s string, end int) ([]byte, int) {
	before := 0 // line breaks in the whitespace before the gap
	k := len(out)
	for k > 0 && (isSpace(out[k-1]) || out[k-1] == '\n') {
		if out[k-1] == '\n' {
			before++
		}
		k--
	}
	out = out[:k]

	after := 0 // and after it
	resume := end
	for j := end; j < len(s) && (isSpace(s[j]) || s[j] == '\n'); j++ {
		if s[j] == '\n' {
			after++
			resume = j + 1 // keep the next line's indentation
		}
	}
	breaks := max(before, after)
	if resume == end { // no line break: drop the spaces too
		for resume < len(s) && isSpace(s[resume]) {
			resume++
		}
	}

	switch {
	case len(out) == 0 || resume == len(s):
		// At the start or the end of the text: no separator.
	case breaks >= 2:
		out = append(out, '\n', '\n')
	case breaks == 1:
		out = append(out, '\n')
	case strings.IndexByte(".,;!?)", s[resume]) >= 0:
	default:
		out = append(out, ' ')
	}
	if out == nil {
		out = []byte{} // non-nil tells the caller that something was removed
	}
	return out, resume
}
