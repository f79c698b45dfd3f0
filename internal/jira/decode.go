package jira

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"unicode/utf8"

	"github.com/cogniscape/cogniscape/internal/jsonscan"
)

// decodeBody decodes a JSON body into maps, slices, strings, json.Numbers,
// bools and nils, as encoding/json does into an interface with UseNumber.
// Normalising spent most of its time in encoding/json's reflection-driven
// interface decoding (after a separate validation pass over the whole body);
// this decoder makes one pass. Strings with escapes or invalid UTF-8 are
// handed to encoding/json one by one, and any body it does not decode
// (invalid, trailing data, nested deeper than jsonscan.MaxDepth) as a whole, so
// that the result is always encoding/json's (FuzzDecodeBodyAgrees holds them
// to it).
func decodeBody(body []byte) (any, error) {
	d := bodyDecoder{jsonscan.Scanner{Data: body}}
	d.SkipSpace()
	if v, ok := d.value(0); ok {
		if d.SkipSpace(); d.Pos == len(d.Data) {
			return v, nil
		}
	}
	// Invalid, trailing data, or too deep: encoding/json decides, and says why.
	return decodeBodyJSON(body)
}

var errTrailingData = errors.New("jira: body has data after its JSON value")

// decodeBodyJSON is decodeBody by encoding/json.
func decodeBodyJSON(body []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, errors.New("jira: body is not valid JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errTrailingData
	}
	return v, nil
}

// bodyDecoder builds values on the envelope scanner's validation.
type bodyDecoder struct{ jsonscan.Scanner }

func (d *bodyDecoder) value(depth int) (any, bool) {
	if depth > jsonscan.MaxDepth {
		return nil, false
	}
	if d.Pos >= len(d.Data) {
		return nil, false
	}
	switch c := d.Data[d.Pos]; {
	case c == '"':
		return d.str()
	case c == '{':
		d.Pos++
		m := map[string]any{}
		d.SkipSpace()
		if d.Consume('}') {
			return m, true
		}
		for {
			d.SkipSpace()
			if d.Pos >= len(d.Data) || d.Data[d.Pos] != '"' {
				return nil, false
			}
			k, ok := d.str()
			if !ok {
				return nil, false
			}
			d.SkipSpace()
			if !d.Consume(':') {
				return nil, false
			}
			d.SkipSpace()
			v, ok := d.value(depth + 1)
			if !ok {
				return nil, false
			}
			m[k.(string)] = v
			d.SkipSpace()
			if d.Consume(',') {
				continue
			}
			return m, d.Consume('}')
		}
	case c == '[':
		d.Pos++
		a := []any{}
		d.SkipSpace()
		if d.Consume(']') {
			return a, true
		}
		for {
			d.SkipSpace()
			v, ok := d.value(depth + 1)
			if !ok {
				return nil, false
			}
			a = append(a, v)
			d.SkipSpace()
			if d.Consume(',') {
				continue
			}
			return a, d.Consume(']')
		}
	case c == '-' || (c >= '0' && c <= '9'):
		start := d.Pos
		if !d.Number() {
			return nil, false
		}
		return json.Number(d.Data[start:d.Pos]), true
	case c == 't':
		return true, d.Literal("true")
	case c == 'f':
		return false, d.Literal("false")
	case c == 'n':
		return nil, d.Literal("null")
	}
	return nil, false
}

// str decodes a string at its opening quote.
func (d *bodyDecoder) str() (any, bool) {
	start := d.Pos
	if !d.Str() {
		return nil, false
	}
	quoted := d.Data[start:d.Pos]
	raw := quoted[1 : len(quoted)-1]
	if bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		return string(raw), true
	}
	var v string
	if err := json.Unmarshal(quoted, &v); err != nil {
		return nil, false
	}
	return v, true
}
