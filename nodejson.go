package cogniscape

import (
	"encoding/json"
	"strconv"

	"github.com/cogniscape/cogniscape/internal/jsonscan"
)

// Every answer reads nodes, and encoding/json spent two passes over each
// (validation, then decoding) and a copy of every attribute. scanReadNode
// decodes a stored node in one pass, its attributes as slices of the input.
// It answers only for the JSON json.Marshal writes for a Node — the known
// members, in lower case, without whitespace, relation targets as
// {"kind":…,"id":…} without escapes — and reports anything else as not
// handled, for encoding/json to decide (FuzzDecodeNodeAgrees holds the two
// to the same answers).

// scanReadNode decodes data into rn, or reports ok=false.
func scanReadNode(data []byte) (rn readNode, ok bool) {
	s := &jsonscan.Scanner{Data: data}
	if !s.Consume('{') {
		return rn, false
	}
	var seen [8]bool // a repeated member merges in encoding/json: leave it to it
	ok = s.Members(func(key []byte) bool {
		i := -1
		for j, name := range readNodeMembers {
			if string(key) == name {
				i = j
			}
		}
		if i < 0 || seen[i] {
			return false
		}
		seen[i] = true
		switch readNodeMembers[i] {
		case "attrs":
			return scanAttrs(s, &rn.Attrs)
		case "rels":
			return scanRels(s, &rn.Rels)
		case "deleted":
			switch {
			case s.Literal("true"):
				rn.Deleted = true
			case s.Literal("false"):
			default:
				return false
			}
			return true
		case "deleted_at":
			return scanVersion(s, &rn.DeletedAt)
		case "first":
			return scanVersion(s, &rn.First)
		case "last":
			return scanVersion(s, &rn.Last)
		}
		return s.Value(1) // versions, since: not part of a read
	})
	return rn, ok && s.Pos == len(data)
}

var readNodeMembers = [8]string{"attrs", "rels", "deleted", "deleted_at", "first", "last", "versions", "since"}

// scanAttrs scans {"name":value,…} keeping each value's bytes.
func scanAttrs(s *jsonscan.Scanner, attrs *map[string]json.RawMessage) bool {
	if !s.Consume('{') {
		return false
	}
	m := map[string]json.RawMessage{}
	*attrs = m
	return s.Members(func(key []byte) bool {
		if key == nil {
			return false
		}
		start := s.Pos
		if !s.Value(2) {
			return false
		}
		m[string(key)] = s.Data[start:s.Pos:s.Pos]
		return true
	})
}

// scanRels scans {"rel":[{"kind":…,"id":…},…] or null,…}.
func scanRels(s *jsonscan.Scanner, rels *map[string][]NodeRef) bool {
	if !s.Consume('{') {
		return false
	}
	m := map[string][]NodeRef{}
	*rels = m
	return s.Members(func(key []byte) bool {
		if key == nil {
			return false
		}
		if s.Literal("null") {
			m[string(key)] = nil
			return true
		}
		if !s.Consume('[') {
			return false
		}
		refs := []NodeRef{}
		if !s.Consume(']') {
			for {
				var r NodeRef
				if !s.Consume('{') || !s.Literal(`"kind":`) || !plainString(s, (*string)(&r.Kind)) ||
					!s.Literal(`,"id":`) || !plainString(s, &r.ID) || !s.Consume('}') {
					return false
				}
				refs = append(refs, r)
				if s.Consume(',') {
					continue
				}
				if !s.Consume(']') {
					return false
				}
				break
			}
		}
		m[string(key)] = refs
		return true
	})
}

// scanVersion scans {"at":int,"seq":int}.
func scanVersion(s *jsonscan.Scanner, v *Version) bool {
	return s.Literal(`{"at":`) && scanInt(s, &v.At) && s.Literal(`,"seq":`) && scanInt(s, &v.Seq) && s.Consume('}')
}

// scanInt scans an integer that fits an int64; anything else (fractions,
// exponents, overflow) is left to encoding/json.
func scanInt(s *jsonscan.Scanner, v *int64) bool {
	start := s.Pos
	if !s.Number() {
		return false
	}
	n, err := strconv.ParseInt(string(s.Data[start:s.Pos]), 10, 64)
	*v = n
	return err == nil
}

// plainString scans a string of printable ASCII without escapes.
func plainString(s *jsonscan.Scanner, v *string) bool {
	start := s.Pos
	if start >= len(s.Data) || s.Data[start] != '"' || !s.Str() {
		return false
	}
	raw := s.Data[start+1 : s.Pos-1]
	for _, c := range raw {
		if c == '\\' || c >= 0x80 {
			return false
		}
	}
	*v = string(raw)
	return true
}
