package jirasim

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// jw appends compact JSON to a byte slice. Every value is followed by a comma;
// end and bytes trim the comma before a closing bracket and at the very end,
// so writers never track "first element" state. Field order is the order of
// the calls, which keeps bodies byte-identical for a seed.
type jw struct{ b []byte }

func (w *jw) obj() { w.b = append(w.b, '{') }
func (w *jw) arr() { w.b = append(w.b, '[') }

// end closes the innermost object or array with c ('}' or ']').
func (w *jw) end(c byte) {
	if n := len(w.b); n > 0 && w.b[n-1] == ',' {
		w.b[n-1] = c
	} else {
		w.b = append(w.b, c)
	}
	w.b = append(w.b, ',')
}

// k writes an object key. Keys are plain ASCII identifiers, never escaped.
func (w *jw) k(key string) {
	w.b = append(w.b, '"')
	w.b = append(w.b, key...)
	w.b = append(w.b, '"', ':')
}

func (w *jw) s(v string) { w.b = appendQuoted(w.b, v); w.b = append(w.b, ',') }
func (w *jw) i(v int64)  { w.b = strconv.AppendInt(w.b, v, 10); w.b = append(w.b, ',') }
func (w *jw) null()      { w.b = append(w.b, "null,"...) }

func (w *jw) bool(v bool) {
	if v {
		w.b = append(w.b, "true,"...)
	} else {
		w.b = append(w.b, "false,"...)
	}
}

// f writes a float with one decimal (story points: 5.0).
func (w *jw) f(v float64) {
	w.b = strconv.AppendFloat(w.b, v, 'f', 1, 64)
	w.b = append(w.b, ',')
}

// raw writes a complete JSON value rendered earlier (without trailing comma).
func (w *jw) raw(v []byte) { w.b = append(w.b, v...); w.b = append(w.b, ',') }

// ns writes a nullable string.
func (w *jw) ns(v nstr) {
	if !v.ok {
		w.null()
		return
	}
	w.s(v.v)
}

func (w *jw) ks(key, v string)        { w.k(key); w.s(v) }
func (w *jw) ki(key string, v int64)  { w.k(key); w.i(v) }
func (w *jw) kb(key string, v bool)   { w.k(key); w.bool(v) }
func (w *jw) kn(key string)           { w.k(key); w.null() }
func (w *jw) kr(key string, v []byte) { w.k(key); w.raw(v) }

// bytes returns the rendered value without its trailing comma.
func (w *jw) bytes() []byte {
	if n := len(w.b); n > 0 && w.b[n-1] == ',' {
		return w.b[:n-1]
	}
	return w.b
}

// render runs fn on a fresh writer and returns the finished value.
func render(fn func(w *jw)) []byte {
	w := &jw{b: make([]byte, 0, 256)}
	fn(w)
	out := w.bytes()
	return out[:len(out):len(out)]
}

// nstr is a string that may be JSON null.
type nstr struct {
	v  string
	ok bool
}

func ns(v string) nstr { return nstr{v: v, ok: true} }

var null nstr

const hexDigits = "0123456789abcdef"

// appendQuoted appends s as a JSON string.
func appendQuoted(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// Time formats used by Jira payloads.
const (
	jiraTime    = "2006-01-02T15:04:05.000-0700"  // issue, comment, worklog fields
	agileUTC    = "2006-01-02T15:04:05.000Z"      // Cloud sprint dates
	agileOffset = "2006-01-02T15:04:05.000-07:00" // Data Center sprint dates
	dateOnly    = "2006-01-02"
	userDate    = "02/Jan/06"
)

func fmtMs(ms int64, loc *time.Location, layout string) string {
	return time.UnixMilli(ms).In(loc).Format(layout)
}
