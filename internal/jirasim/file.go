package jirasim

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// File format: one delivery per line, {"headers":{…},"body":<the body>},
// the body embedded as raw JSON (compact, so one line). Headers carry no
// signature: Send signs with the secret it is given.

// WriteFile writes the deliveries of src to w, one per line, and returns how
// many it wrote.
func WriteFile(w io.Writer, src Source) (int, error) {
	fw := NewWriter(w)
	for {
		d, ok := src.Next()
		if !ok {
			break
		}
		if err := fw.Write(d); err != nil {
			return fw.Count(), err
		}
	}
	if err := fw.Flush(); err != nil {
		return fw.Count(), err
	}
	if e, ok := src.(interface{ Err() error }); ok && e.Err() != nil {
		return fw.Count(), e.Err()
	}
	return fw.Count(), nil
}

// Writer writes deliveries in the file format, one at a time.
type Writer struct {
	bw      *bufio.Writer
	line    []byte
	compact bytes.Buffer
	n       int
	bytes   int64
}

// NewWriter returns a Writer to w; call Flush when done.
func NewWriter(w io.Writer) *Writer { return &Writer{bw: bufio.NewWriterSize(w, 256<<10)} }

// Write writes one delivery as a line.
func (w *Writer) Write(d Delivery) error {
	h, err := json.Marshal(d.Headers)
	if err != nil {
		return err
	}
	body := d.Body
	if bytes.ContainsAny(body, "\r\n") {
		w.compact.Reset()
		if err := json.Compact(&w.compact, body); err != nil {
			return fmt.Errorf("jirasim: delivery %s: body is not JSON: %w", d.Identifier, err)
		}
		body = w.compact.Bytes()
	}
	w.line = append(w.line[:0], `{"headers":`...)
	w.line = append(w.line, h...)
	w.line = append(w.line, `,"body":`...)
	w.line = append(w.line, body...)
	w.line = append(w.line, '}', '\n')
	if _, err := w.bw.Write(w.line); err != nil {
		return err
	}
	w.n++
	w.bytes += int64(len(w.line))
	return nil
}

// Flush writes out what is buffered.
func (w *Writer) Flush() error { return w.bw.Flush() }

// Count returns the number of deliveries written.
func (w *Writer) Count() int { return w.n }

// Bytes returns the number of bytes written.
func (w *Writer) Bytes() int64 { return w.bytes }

// Reader reads deliveries written by WriteFile. It is a Source.
type Reader struct {
	sc   *bufio.Scanner
	line int
	err  error
}

// NewReader returns a Reader of r.
func NewReader(r io.Reader) *Reader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	return &Reader{sc: sc}
}

// Err returns the first error met, if any; Next returns false after it.
func (r *Reader) Err() error { return r.err }

// Next returns the next delivery of the file.
func (r *Reader) Next() (Delivery, bool) {
	if r.err != nil {
		return Delivery{}, false
	}
	for r.sc.Scan() {
		r.line++
		line := bytes.TrimSpace(r.sc.Bytes())
		if len(line) == 0 {
			continue
		}
		d, err := parseLine(line)
		if err != nil {
			r.err = fmt.Errorf("jirasim: line %d: %w", r.line, err)
			return Delivery{}, false
		}
		return d, true
	}
	r.err = r.sc.Err()
	return Delivery{}, false
}

func parseLine(line []byte) (Delivery, error) {
	var rec struct {
		Headers map[string]string `json:"headers"`
		Body    json.RawMessage   `json:"body"`
	}
	// Fast path for the format WriteFile writes: decode the headers only and
	// take the body as the rest of the line.
	const pre, mid = `{"headers":`, `,"body":`
	ok := false
	if bytes.HasPrefix(line, []byte(pre)) && line[len(line)-1] == '}' {
		dec := json.NewDecoder(bytes.NewReader(line[len(pre):]))
		if dec.Decode(&rec.Headers) == nil {
			rest := line[len(pre)+int(dec.InputOffset()):]
			if bytes.HasPrefix(rest, []byte(mid)) {
				rec.Body = bytes.Clone(rest[len(mid) : len(rest)-1])
				ok = len(rec.Body) > 0
			}
		}
	}
	if !ok {
		rec.Headers, rec.Body = nil, nil
		if err := json.Unmarshal(line, &rec); err != nil {
			return Delivery{}, err
		}
	}
	if len(rec.Body) == 0 {
		return Delivery{}, fmt.Errorf("no body")
	}
	d := Delivery{Headers: rec.Headers, Body: rec.Body}
	if d.Headers == nil {
		d.Headers = map[string]string{}
	}
	for k, v := range d.Headers {
		if strings.EqualFold(k, HeaderIdentifier) {
			d.Identifier = v
		}
		if strings.EqualFold(k, "User-Agent") && !strings.HasPrefix(v, userAgentCloud) {
			d.Flavor = FlavorDC
		}
	}
	if d.Flavor == "" {
		d.Flavor = FlavorCloud
	}
	d.Event = stringField(d.Body, `"webhookEvent":"`)
	if self := stringField(d.Body, `"self":"`); self != "" {
		if i := strings.Index(self, "://"); i >= 0 {
			if j := strings.IndexByte(self[i+3:], '/'); j >= 0 {
				d.Site = self[:i+3+j]
			}
		}
	}
	return d, nil
}

// stringField returns the value of the first `"key":"value"` in body (values
// without escapes only), or "".
func stringField(body []byte, prefix string) string {
	i := bytes.Index(body, []byte(prefix))
	if i < 0 {
		return ""
	}
	rest := body[i+len(prefix):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 || bytes.IndexByte(rest[:j], '\\') >= 0 {
		return ""
	}
	return string(rest[:j])
}
