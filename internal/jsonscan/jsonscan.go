// Package jsonscan validates JSON in one pass over the bytes. It is the
// building block of decoders that answer only for input they are sure about
// (plain ASCII keys, values of the expected types) and leave anything else to
// encoding/json, so that the fast path and encoding/json always agree; each
// such decoder has a differential fuzz target holding it to that.
package jsonscan

// MaxDepth is well inside encoding/json's nesting limit (10,000); deeper
// input goes to it.
const MaxDepth = 1000

// Scanner scans Data from Pos.
type Scanner struct {
	Data []byte
	Pos  int
}

// Members scans the members of an object whose '{' was consumed, calling
// field with each key positioned at the start of its value.
func (s *Scanner) Members(field func(key []byte) bool) bool {
	s.SkipSpace()
	if s.Consume('}') {
		return true
	}
	for {
		s.SkipSpace()
		key, ok := s.Key()
		if !ok {
			return false
		}
		s.SkipSpace()
		if !s.Consume(':') {
			return false
		}
		s.SkipSpace()
		if !field(key) {
			return false
		}
		s.SkipSpace()
		if s.Consume(',') {
			continue
		}
		return s.Consume('}')
	}
}

// Key scans an object key. It returns the key when it is printable ASCII
// without escapes, and nil for any other valid key: encoding/json might
// match those to a field by unescaping or Unicode case folding, so callers
// that look for fields give up on them.
func (s *Scanner) Key() ([]byte, bool) {
	if s.Pos >= len(s.Data) || s.Data[s.Pos] != '"' {
		return nil, false
	}
	start := s.Pos
	if !s.Str() {
		return nil, false
	}
	key := s.Data[start+1 : s.Pos-1]
	for _, c := range key { // str has refused control characters
		if c >= 0x80 || c == '\\' {
			return nil, true
		}
	}
	return key, true
}

// Value scans and validates any JSON value nested depth deep.
func (s *Scanner) Value(depth int) bool {
	if depth > MaxDepth || s.Pos >= len(s.Data) {
		return false
	}
	switch c := s.Data[s.Pos]; {
	case c == '"':
		return s.Str()
	case c == '{':
		s.Pos++
		return s.Members(func([]byte) bool { return s.Value(depth + 1) })
	case c == '[':
		s.Pos++
		s.SkipSpace()
		if s.Consume(']') {
			return true
		}
		for {
			s.SkipSpace()
			if !s.Value(depth + 1) {
				return false
			}
			s.SkipSpace()
			if s.Consume(',') {
				continue
			}
			return s.Consume(']')
		}
	case c == '-' || (c >= '0' && c <= '9'):
		return s.Number()
	case c == 't':
		return s.Literal("true")
	case c == 'f':
		return s.Literal("false")
	case c == 'n':
		return s.Literal("null")
	}
	return false
}

// Str scans a string starting at its opening quote, validating escapes.
func (s *Scanner) Str() bool {
	d := s.Data
	i := s.Pos + 1
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
			s.Pos = i + 1
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

// Number scans -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *Scanner) Number() bool {
	d, i := s.Data, s.Pos
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
	s.Pos = i
	return true
}

// Literal consumes lit if the input continues with it.
func (s *Scanner) Literal(lit string) bool {
	if len(s.Data)-s.Pos >= len(lit) && string(s.Data[s.Pos:s.Pos+len(lit)]) == lit {
		s.Pos += len(lit)
		return true
	}
	return false
}

// Consume consumes c if it is the next byte.
func (s *Scanner) Consume(c byte) bool {
	if s.Pos < len(s.Data) && s.Data[s.Pos] == c {
		s.Pos++
		return true
	}
	return false
}

// SkipSpace skips JSON whitespace.
func (s *Scanner) SkipSpace() {
	for s.Pos < len(s.Data) {
		switch s.Data[s.Pos] {
		case ' ', '\t', '\n', '\r':
			s.Pos++
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

// ASCIIFold reports whether key equals name ignoring ASCII case, as
// encoding/json matches struct fields (keys are plain ASCII here).
func ASCIIFold(key []byte, name string) bool {
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
