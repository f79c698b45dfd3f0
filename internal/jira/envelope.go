package jira

import "github.com/cogniscape/cogniscape/internal/jsonscan"

// A single-pass scanner for the webhook envelope. Every acknowledged delivery
// is inspected before it is stored, and encoding/json spent two passes over
// the whole body (validation, then decoding with skips) at about a quarter of
// the server's CPU per delivery. This scanner validates the JSON and picks
// out the envelope fields in one pass. It answers only for bodies it is sure
// about — plain ASCII keys, values of the expected types — and reports
// anything else as not handled, for encoding/json to decide and explain, so
// that the two always agree (FuzzInspectAgrees holds them to it).

type envelopeScan struct {
	jsonscan.Scanner

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
	s.Data = body
	s.SkipSpace()
	if !s.Consume('{') {
		return s, false
	}
	ok = s.Members(func(key []byte) bool {
		switch {
		case key == nil:
			return false
		case jsonscan.ASCIIFold(key, "webhookEvent"):
			return s.stringOrNull(&s.event, &s.hasEvent)
		case jsonscan.ASCIIFold(key, "timestamp"):
			start := s.Pos
			if !s.Value(1) {
				return false
			}
			s.timestamp = s.Data[start:s.Pos]
			return true
		}
		for i, name := range selfFields {
			if jsonscan.ASCIIFold(key, name) {
				return s.selfObject(&s.selves[i])
			}
		}
		return s.Value(1)
	})
	if !ok {
		return s, false
	}
	s.SkipSpace()
	return s, s.Pos == len(s.Data)
}

// selfObject scans an object value, keeping its "self" string, or null.
func (s *envelopeScan) selfObject(self *[]byte) bool {
	if s.Literal("null") {
		*self = nil
		return true
	}
	// A repeated key decodes into the same struct in encoding/json, so an
	// earlier self survives an object without one.
	if !s.Consume('{') {
		return false
	}
	return s.Members(func(key []byte) bool {
		if key == nil {
			return false
		}
		if jsonscan.ASCIIFold(key, "self") {
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
		return s.Value(2)
	})
}

// stringOrNull scans an ASCII string without escapes (into v, present=true) or
// null (leaving v and present as encoding/json would: a null string is a
// no-op, a null pointer resets it).
func (s *envelopeScan) stringOrNull(v *[]byte, present *bool) bool {
	if s.Literal("null") {
		*v, *present = nil, false
		return true
	}
	if s.Pos >= len(s.Data) || s.Data[s.Pos] != '"' {
		return false
	}
	start := s.Pos + 1
	if !s.Str() {
		return false
	}
	raw := s.Data[start : s.Pos-1]
	for _, c := range raw {
		// encoding/json would unescape, or replace invalid UTF-8: let it.
		if c == '\\' || c >= 0x80 {
			return false
		}
	}
	*v, *present = raw, true
	return true
}
