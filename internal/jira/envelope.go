package jira

// A single-pass scanner for the webhook envelope. Every acknowledged delivery
// is inspected before it is stored, and encoding/json spent two passes over
// the whole body (validation, then decoding with skips) at about a quarter of
// the server's CPU per delivery. This scanner validates the JSON and picks
// out the envelope fields in one pass. It answers only for bodies it is sure
// about — plain ASCII keys, values of the expected types — and reports
// anything else as not handled, for encoding/json to decide and explain, so
// that the two always agree (FuzzInspectAgrees holds them to it).

// maxScanDepth is well inside encoding/json's nesting limit (10,000); deeper
// bodies go to it.
const maxScanDepth = 1000

type envelopeScan struct {
	data []byte
	pos  int

	event     []byte // webhookEvent; nil when absent or null
	timestamp []byte // raw timestamp value
	selves    [8][]byte
	// hasEvent tells an empty string from an absent or null webhookEvent.
	hasEvent bool
}

// envelope fields holding an object whose self URL names the site, in the
// order Inspect prefers them.
var selfFields = [8]string{"issue", "comment", "worklog", "sprint", "version", "project", "user", "board"}

// scanEnvelope reports ok=false when the body is not plainly a valid JSON
// object of the expected shape; the caller then decides with encoding/json.
func scanEnvelope(body []byte) (s envelopeScan, ok bool) {
	s.data = body
	s.skipSpace()
	if !s.consume('{') {
		return s, false
	}
	ok = s.members(func(key []byte) bool {
		switch {
		case key == nil:
			return false
		case asciiFold(key, "webhookEvent"):
			return s.stringOrNull(&s.event, &s.hasEvent)
		case asciiFold(key, "timestamp"):
			start := s.pos
			if !s.value(1) {
				return false
			}
			s.timestamp = s.data[start:s.pos]
			return true
		}
		for i, name := range selfFields {
			if asciiFold(key, name) {
				return s.selfObject(&s.selves[i])
			}
		}
		return s.value(1)
	})
	if !ok {
		return s, false
	}
	s.skipSpace()
	return s, s.pos == len(s.data)
}

// members scans the members of an object whose '{' was consumed, calling
// field with each key positioned at the start of its value.
func (s *envelopeScan) members(field func(key []byte) bool) bool {
	s.skipSpace()
	if s.consume('}') {
		return true
	}
	for {
		s.skipSpace()
		key, ok := s.key()
		if !ok {
			return false
		}
		s.skipSpace()
		if !s.consume(':') {
			return false
		}
		s.skipSpace()
		if !field(key) {
			return false
		}
		s.skipSpace()
		if s.consume(',') {
			continue
		}
		return s.consume('}')
	}
}

// selfObject scans an object value, keeping its "self" string, or null.
func (s *envelopeScan) selfObject(self *[]byte) bool {
	if s.literal("null") {
		*self = nil
		return true
	}
	// A repeated key decodes into the same struct in encoding/json, so an
	// earlier self survives an object without one.
	if !s.consume('{') {
		return false
	}
	return s.members(func(key []byte) bool {
		if key == nil {
			return false
		}
		if asciiFold(key, "self") {
			var present bool
			var v []byte
			if !s.stringOrNull(&v, &present) {
				return false
			}
			if present {
				*self = v
			}
			return true
		}
		return s.value(2)
	})
}

// stringOrNull scans an ASCII string without escapes (into v, present=true) or
// null (leaving v and present as encoding/json would: a null string is a
// no-op, a null pointer resets it).
func (s *envelopeScan) stringOrNull(v *[]byte, present *bool) bool {
	if s.literal("null") {
		*v, *present = nil, false
		return true
	}
	if s.pos >= len(s.data) || s.data[s.pos] != '"' {
		return false
	}
	start := s.pos + 1
	if !s.str() {
		return false
	}
	raw := s.data[start : s.pos-1]
	for _, c := range raw {
		// encoding/json would unescape, or replace invalid UTF-8: let it.
		if c == '\\' || c >= 0x80 {
			return false
		}
	}
	*v, *present = raw, true
	return true
}

// key scans an object key. It returns the key when it is printable ASCII
// without escapes, and nil for any other valid key: encoding/json might
// match those to a field by unescaping or Unicode case folding, so callers
// that look for fields give up on them.
func (s *envelopeScan) key() ([]byte, bool) {
	if s.pos >= len(s.data) || s.data[s.pos] != '"' {
		return nil, false
	}
	start := s.pos
	if !s.str() {
		return nil, false
	}
	key := s.data[start+1 : s.pos-1]
	for _, c := range key { // str has refused control characters
		if c >= 0x80 || c == '\\' {
			return nil, true
		}
	}
	return key, true
}

// value scans and validates any JSON value.
func (s *envelopeScan) value(depth int) bool {
	if depth > maxScanDepth || s.pos >= len(s.data) {
		return false
	}
	switch c := s.data[s.pos]; {
	case c == '"':
		return s.str()
	case c == '{':
		s.pos++
		return s.members(func([]byte) bool { return s.value(depth + 1) })
	case c == '[':
		s.pos++
		s.skipSpace()
		if s.consume(']') {
			return true
		}
		for {
			s.skipSpace()
			if !s.value(depth + 1) {
				return false
			}
			s.skipSpace()
			if s.consume(',') {
				continue
			}
			return s.consume(']')
		}
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	}
	return false
}

// str scans a string starting at its opening quote, validating escapes.
func (s *envelopeScan) str() bool {
	d := s.data
	i := s.pos + 1
	for i < len(d) {
		for i < len(d) && plainStringByte[d[i]] {
			i++
		}
		if i >= len(d) {
			break
		}
		c := d[i]
		switch {
		case c == '"':
			s.pos = i + 1
			return true
		case c == '\\':
			if i+1 >= len(d) {
				return false
			}
			switch d[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(d) {
					return false
				}
				for _, h := range d[i+2 : i+6] {
					if !isHex(h) {
						return false
					}
				}
				i += 6
			default:
				return false
			}
		case c < 0x20:
			return false
		default:
			i++
		}
	}
	return false
}

// number scans -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *envelopeScan) number() bool {
	d, i := s.data, s.pos
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			return false
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			return false
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	s.pos = i
	return true
}

func (s *envelopeScan) literal(lit string) bool {
	if len(s.data)-s.pos >= len(lit) && string(s.data[s.pos:s.pos+len(lit)]) == lit {
		s.pos += len(lit)
		return true
	}
	return false
}

func (s *envelopeScan) consume(c byte) bool {
	if s.pos < len(s.data) && s.data[s.pos] == c {
		s.pos++
		return true
	}
	return false
}

func (s *envelopeScan) skipSpace() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// plainStringByte marks bytes that stand for themselves inside a string.
var plainStringByte = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// asciiFold reports whether key equals name ignoring ASCII case, as
// encoding/json matches struct fields (keys are plain ASCII here).
func asciiFold(key []byte, name string) bool {
	if len(key) != len(name) {
		return false
	}
	for i := range len(key) {
		a, b := key[i], name[i]
		if a|0x20 != b|0x20 || (a|0x20 < 'a' || a|0x20 > 'z') && a != b {
			return false
		}
	}
	return true
}
