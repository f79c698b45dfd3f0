package jira

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"unicode/utf8"
)

// decodeBody decodes a JSON body into maps, slices, strings, json.Numbers,
// bools and nils, as encoding/json does into an interface with UseNumber.
// Normalising spent most of its time in encoding/json's reflection-driven
// interface decoding (after a separate validation pass over the whole body);
// this decoder makes one pass. Strings with escapes or invalid UTF-8 are
// handed to encoding/json one by one, and any body it does not decode
// (invalid, trailing data, nested deeper than maxScanDepth) as a whole, so
// that the result is always encoding/json's (FuzzDecodeBodyAgrees holds them
// to it).
func decodeBody(body []byte) (any, error) {
	d := bodyDecoder{envelopeScan{data: body}}
	d.skipSpace()
	if v, ok := d.value(0); ok {
		if d.skipSpace(); d.pos == len(d.data) {
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
type bodyDecoder struct{ envelopeScan }

func (d *bodyDecoder) value(depth int) (any, bool) {
	if depth > maxScanDepth {
		return nil, false
	}
	if d.pos >= len(d.data) {
		return nil, false
	}
	switch c := d.data[d.pos]; {
	case c == '"':
		return d.str()
	case c == '{':
		d.pos++
		m := map[string]any{}
		d.skipSpace()
		if d.consume('}') {
			return m, true
		}
		for {
			d.skipSpace()
			if d.pos >= len(d.data) || d.data[d.pos] != '"' {
				return nil, false
			}
			k, ok := d.str()
			if !ok {
				return nil, false
			}
			d.skipSpace()
			if !d.consume(':') {
				return nil, false
			}
			d.skipSpace()
			v, ok := d.value(depth + 1)
			if !ok {
				return nil, false
			}
			m[k.(string)] = v
			d.skipSpace()
			if d.consume(',') {
				continue
			}
			return m, d.consume('}')
		}
	case c == '[':
		d.pos++
		a := []any{}
		d.skipSpace()
		if d.consume(']') {
			return a, true
		}
		for {
			d.skipSpace()
			v, ok := d.value(depth + 1)
			if !ok {
				return nil, false
			}
			a = append(a, v)
			d.skipSpace()
			if d.consume(',') {
				continue
			}
			return a, d.consume(']')
		}
	case c == '-' || (c >= '0' && c <= '9'):
		start := d.pos
		if !d.number() {
			return nil, false
		}
		return json.Number(d.data[start:d.pos]), true
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	}
	return nil, false
}

// str decodes a string at its opening quote.
func (d *bodyDecoder) str() (any, bool) {
	start := d.pos
	if !d.envelopeScan.str() {
		return nil, false
	}
	quoted := d.data[start:d.pos]
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
