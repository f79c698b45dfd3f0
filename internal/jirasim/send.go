package jirasim

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Source yields deliveries one at a time: a Simulator, a Reader, or a wrapper.
type Source interface {
	Next() (Delivery, bool)
}

type sliceSource struct {
	ds []Delivery
	i  int
}

func (s *sliceSource) Next() (Delivery, bool) {
	if s.i >= len(s.ds) {
		return Delivery{}, false
	}
	s.i++
	return s.ds[s.i-1], true
}

// FromSlice returns a Source over ds.
func FromSlice(ds []Delivery) Source { return &sliceSource{ds: ds} }

// Limit returns a Source that stops after n deliveries of src.
func Limit(src Source, n int) Source { return &limitSource{src: src, left: n} }

type limitSource struct {
	src  Source
	left int
}

func (l *limitSource) Next() (Delivery, bool) {
	if l.left <= 0 {
		return Delivery{}, false
	}
	l.left--
	return l.src.Next()
}

// Tee returns a Source that hands each delivery of src to fn as it passes.
func Tee(src Source, fn func(Delivery) error) Source { return &teeSource{src: src, fn: fn} }

type teeSource struct {
	src Source
	fn  func(Delivery) error
	err error
}

func (t *teeSource) Next() (Delivery, bool) {
	if t.err != nil {
		return Delivery{}, false
	}
	d, ok := t.src.Next()
	if ok {
		if t.err = t.fn(d); t.err != nil {
			return Delivery{}, false
		}
	}
	return d, ok
}

// Shuffled returns a Source that reorders src within a sliding window of
// window deliveries (like Jira's concurrent, unordered delivery): each
// delivery leaves at most window-1 places away from where it was. Every
// delivery of src comes out exactly once.
func Shuffled(src Source, window int, seed uint64) Source {
	if window <= 1 {
		return src
	}
	return &shuffler{src: src, window: window, r: rand.New(rand.NewPCG(seed, 0x73687566))}
}

type shuffler struct {
	src    Source
	window int
	r      *rand.Rand
	buf    []Delivery // in arrival order
	pos    []int      // arrival position of each buffered delivery
	in     int        // deliveries read from src
	out    int        // deliveries handed out
	eof    bool
}

func (s *shuffler) Next() (Delivery, bool) {
	for !s.eof && len(s.buf) < s.window {
		d, ok := s.src.Next()
		if !ok {
			s.eof = true
			break
		}
		s.buf = append(s.buf, d)
		s.pos = append(s.pos, s.in)
		s.in++
	}
	if len(s.buf) == 0 {
		return Delivery{}, false
	}
	i := s.r.IntN(len(s.buf))
	if s.out-s.pos[0] >= s.window-1 {
		i = 0 // the oldest has waited long enough
	}
	d := s.buf[i]
	s.buf = slices.Delete(s.buf, i, i+1)
	s.pos = slices.Delete(s.pos, i, i+1)
	s.out++
	return d, true
}

// SendConfig configures Send.
type SendConfig struct {
	URL         string  // base URL of the server; deliveries go to URL/api/v1/events/jira/{CustomerKey}
	CustomerKey string  // the customer's key in the webhook URL
	Secret      string  // Cloud: HMAC key of X-Hub-Signature; Data Center: X-Cogniscape-Token
	Rate        float64 // deliveries per second, 0 = as fast as the workers go
	Concurrency int     // parallel requests, default 8
	Duplicates  float64 // fraction of deliveries sent again, same identifier, X-Atlassian-Webhook-Retry: 1
	Shuffle     int     // reorder within a window of this many deliveries (0, 1: in order)
	Bad         float64 // fraction of extra bad deliveries: wrong signature/token (401) or broken JSON (400)
	Seed        uint64  // randomness of the faults

	MaxRetries int           // retries after 5xx, 408, 409, 425, 429 or a connection error; default 6
	RetryBase  time.Duration // first back-off, doubled each retry up to 5 s; default 250 ms
	Timeout    time.Duration // per request; default 30 s
	Client     *http.Client  // default: a client sized for Concurrency

	Progress io.Writer // progress bar (one line redrawn with \r); nil for none
	Total    int       // expected number of source deliveries, for the progress bar; 0 if unknown
}

// Report is the outcome of Send.
type Report struct {
	Deliveries int // distinct deliveries sent: originals, duplicates and bad ones
	Originals  int
	Duplicates int
	Bad        int
	Attempts   int // HTTP requests, retries included
	Retries    int

	// Outcomes counts the final answer to each delivery: "accepted",
	// "duplicate", "ignored" (200 with that status), "2xx" (another 2xx),
	// a status code ("400", "401", "413", "503", …) or "error" (no answer).
	Outcomes map[string]int

	Acknowledged int // deliveries answered 2xx
	Lost         int // originals that were never acknowledged
	BadRejected  int // bad deliveries answered 400 or 401, as they should
	BadAccepted  int // bad deliveries answered 2xx: the server took what it should not
	ErrorCount   int
	Errors       []string // the first few errors

	Elapsed   time.Duration
	AckPerSec float64
	P50       time.Duration // latency of answered requests
	P95       time.Duration
	P99       time.Duration
	Max       time.Duration

	ProjectionLag int64 // from GET /readyz once sending is done; -1 if not reported
}

// OK reports whether every original was acknowledged and no bad delivery was.
func (r *Report) OK() bool { return r.Lost == 0 && r.BadAccepted == 0 }

// WriteText writes the report for people.
func (r *Report) WriteText(w io.Writer) {
	fmt.Fprintf(w, "deliveries  %d (originals %d, duplicates %d, bad %d), requests %d, retries %d\n",
		r.Deliveries, r.Originals, r.Duplicates, r.Bad, r.Attempts, r.Retries)
	keys := make([]string, 0, len(r.Outcomes))
	for k := range r.Outcomes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, r.Outcomes[k]))
	}
	fmt.Fprintf(w, "outcomes    %s\n", strings.Join(parts, ", "))
	fmt.Fprintf(w, "acknowledged %d in %s: %.0f/s; lost %d; bad rejected %d, bad accepted %d\n",
		r.Acknowledged, r.Elapsed.Round(time.Millisecond), r.AckPerSec, r.Lost, r.BadRejected, r.BadAccepted)
	fmt.Fprintf(w, "latency     p50 %s, p95 %s, p99 %s, max %s\n", fmtDur(r.P50), fmtDur(r.P95), fmtDur(r.P99), fmtDur(r.Max))
	if r.ProjectionLag >= 0 {
		fmt.Fprintf(w, "projection  lag %d events after sending\n", r.ProjectionLag)
	} else {
		fmt.Fprintf(w, "projection  lag not reported by /readyz\n")
	}
	if r.ErrorCount > 0 {
		fmt.Fprintf(w, "errors      %d, first: %s\n", r.ErrorCount, strings.Join(r.Errors, "; "))
	}
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	}
	return d.Round(time.Microsecond).String()
}

const (
	kindOriginal = iota
	kindDuplicate
	kindBadSignature
	kindBadJSON
)

type job struct {
	d     Delivery
	kind  int
	retry int
}

// Send posts the deliveries of src to the server, with the faults asked for,
// and reports what came back. It retries like Jira (5xx, 408, 409, 425, 429
// and connection errors, a bounded number of times). Cloud deliveries are
// signed with X-Hub-Signature, Data Center ones carry X-Cogniscape-Token. The
// error is that of ctx or of the configuration; failed deliveries are in the
// report.
func Send(ctx context.Context, src Source, cfg SendConfig) (Report, error) {
	if cfg.URL == "" || cfg.CustomerKey == "" {
		return Report{}, errors.New("jirasim: send needs a URL and a customer key")
	}
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return Report{}, fmt.Errorf("jirasim: bad URL %q", cfg.URL)
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 8
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = 6
	}
	if cfg.RetryBase <= 0 {
		cfg.RetryBase = 250 * time.Millisecond
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	client := cfg.Client
	if client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConns = cfg.Concurrency * 2
		tr.MaxIdleConnsPerHost = cfg.Concurrency * 2
		client = &http.Client{Transport: tr, Timeout: cfg.Timeout}
		defer tr.CloseIdleConnections()
	}
	base := strings.TrimRight(cfg.URL, "/")
	endpoint := base + "/api/v1/events/jira/" + url.PathEscape(cfg.CustomerKey)

	src = Shuffled(src, cfg.Shuffle, cfg.Seed)
	jobs := make(chan job, cfg.Concurrency*2)
	st := &sendState{outcomes: map[string]int{}}
	start := time.Now()

	stopProgress := func() {}
	if cfg.Progress != nil {
		stopProgress = st.progress(cfg.Progress, cfg.Total, start)
	}

	var wg sync.WaitGroup
	lats := make([][]time.Duration, cfg.Concurrency)
	for i := range cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				lats[i] = st.deliver(ctx, client, endpoint, cfg, j, lats[i])
			}
		}()
	}

	produce(ctx, src, cfg, jobs, st)
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)
	stopProgress()

	var all []time.Duration
	for _, l := range lats {
		all = append(all, l...)
	}
	slices.Sort(all)
	rep := Report{
		Deliveries: st.originals + st.duplicates + st.bad,
		Originals:  st.originals, Duplicates: st.duplicates, Bad: st.bad,
		Attempts: int(st.attempts.Load()), Retries: int(st.retries.Load()),
		Outcomes: st.outcomes, Acknowledged: st.acked, Lost: st.lost,
		BadRejected: st.badRejected, BadAccepted: st.badAccepted,
		ErrorCount: st.errCount, Errors: st.errs,
		Elapsed: elapsed, ProjectionLag: -1,
		P50: quantile(all, 0.50), P95: quantile(all, 0.95), P99: quantile(all, 0.99),
	}
	if len(all) > 0 {
		rep.Max = all[len(all)-1]
	}
	if elapsed > 0 {
		rep.AckPerSec = float64(rep.Acknowledged) / elapsed.Seconds()
	}
	if ctx.Err() != nil {
		return rep, ctx.Err()
	}
	lctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	if lag, ok, err := projectionLag(lctx, client, base, ""); err == nil && ok {
		rep.ProjectionLag = lag
	}
	cancel()
	return rep, nil
}

func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q * float64(len(sorted)-1))
	return sorted[i]
}

// produce feeds jobs: every delivery of src, plus duplicates a little later
// and bad deliveries, paced to cfg.Rate.
func produce(ctx context.Context, src Source, cfg SendConfig, jobs chan<- job, st *sendState) {
	r := rand.New(rand.NewPCG(cfg.Seed, 0x6661756c74))
	type delayed struct {
		due int
		j   job
	}
	var later []delayed
	n := 0
	start := time.Now()
	put := func(j job) bool {
		if cfg.Rate > 0 {
			due := start.Add(time.Duration(float64(n) / cfg.Rate * float64(time.Second)))
			if wait := time.Until(due); wait > 0 {
				t := time.NewTimer(wait)
				select {
				case <-ctx.Done():
					t.Stop()
					return false
				case <-t.C:
				}
			}
		}
		n++
		st.count(j.kind)
		select {
		case jobs <- j:
			return true
		case <-ctx.Done():
			return false
		}
	}
	for orig := 0; ; orig++ {
		if ctx.Err() != nil {
			return
		}
		for len(later) > 0 && later[0].due <= orig {
			if !put(later[0].j) {
				return
			}
			later = later[1:]
		}
		d, ok := src.Next()
		if !ok {
			break
		}
		if cfg.Bad > 0 && r.Float64() < cfg.Bad {
			kind := kindBadSignature
			if r.IntN(2) == 0 {
				kind = kindBadJSON
			}
			bad := d
			bad.Identifier = d.Identifier + "9"
			bad.Headers = cloneHeaders(d.Headers)
			bad.Headers[HeaderIdentifier] = bad.Identifier
			if kind == kindBadJSON {
				bad.Body = d.Body[:len(d.Body)/2]
			}
			if !put(job{d: bad, kind: kind}) {
				return
			}
		}
		if !put(job{d: d, kind: kindOriginal}) {
			return
		}
		if cfg.Duplicates > 0 && r.Float64() < cfg.Duplicates {
			later = append(later, delayed{due: orig + 1 + r.IntN(20), j: job{d: d, kind: kindDuplicate, retry: 1}})
			slices.SortStableFunc(later, func(a, b delayed) int { return a.due - b.due })
		}
	}
	for _, l := range later {
		if !put(l.j) {
			return
		}
	}
}

func cloneHeaders(h map[string]string) map[string]string {
	out := make(map[string]string, len(h)+2)
	for k, v := range h {
		out[k] = v
	}
	return out
}

type sendState struct {
	attempts, retries atomic.Int64
	done              atomic.Int64
	ackedN            atomic.Int64

	mu                                    sync.Mutex
	originals, duplicates, bad            int
	outcomes                              map[string]int
	acked, lost, badRejected, badAccepted int
	errCount                              int
	errs                                  []string
}

func (st *sendState) count(kind int) {
	st.mu.Lock()
	defer st.mu.Unlock()
	switch kind {
	case kindOriginal:
		st.originals++
	case kindDuplicate:
		st.duplicates++
	default:
		st.bad++
	}
}

func (st *sendState) fail(msg string) {
	st.errCount++
	if len(st.errs) < 5 {
		st.errs = append(st.errs, msg)
	}
}

// Sign returns the X-Hub-Signature value of body under secret.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func retryable(code int) bool {
	return code == 408 || code == 409 || code == 425 || code == 429 || code >= 500
}

// deliver sends one job, retrying like Jira, and records the outcome.
func (st *sendState) deliver(ctx context.Context, c *http.Client, endpoint string, cfg SendConfig, j job, lats []time.Duration) []time.Duration {
	var (
		code    int
		status  string
		lastErr error
	)
	for attempt := 0; ; attempt++ {
		if ctx.Err() != nil {
			lastErr = ctx.Err()
			break
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(j.d.Body))
		if err != nil {
			lastErr = err
			break
		}
		for k, v := range j.d.Headers {
			req.Header.Set(k, v)
		}
		if n := j.retry + attempt; n > 0 {
			req.Header.Set(HeaderRetry, strconv.Itoa(n))
		}
		secret := cfg.Secret
		if j.kind == kindBadSignature {
			secret = "not-" + secret + "-the-secret"
		}
		if j.d.Flavor == FlavorDC {
			req.Header.Set(HeaderToken, secret)
		} else if cfg.Secret != "" || j.kind == kindBadSignature {
			req.Header.Set(HeaderSignature, Sign(secret, j.d.Body))
		}
		st.attempts.Add(1)
		if attempt > 0 {
			st.retries.Add(1)
		}
		t0 := time.Now()
		resp, err := c.Do(req)
		if err == nil {
			var ans struct {
				Status string `json:"status"`
			}
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			lats = append(lats, time.Since(t0))
			code, lastErr = resp.StatusCode, nil
			status = ""
			if code/100 == 2 && json.Unmarshal(b, &ans) == nil {
				status = ans.Status
			}
			if !retryable(code) {
				break
			}
		} else {
			code, lastErr = 0, err
		}
		if attempt >= cfg.MaxRetries {
			break
		}
		backoff := min(cfg.RetryBase<<attempt, 5*time.Second)
		backoff += time.Duration(rand.Int64N(int64(backoff)/4 + 1))
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
	}

	outcome := "error"
	switch {
	case code/100 == 2:
		switch status {
		case "accepted", "duplicate", "ignored":
			outcome = status
		default:
			outcome = "2xx"
		}
	case code != 0:
		outcome = strconv.Itoa(code)
	}
	st.done.Add(1)
	st.mu.Lock()
	defer st.mu.Unlock()
	st.outcomes[outcome]++
	acked := code/100 == 2
	if acked {
		st.acked++
		st.ackedN.Add(1)
	}
	switch j.kind {
	case kindOriginal:
		if !acked {
			st.lost++
			if lastErr != nil {
				st.fail(fmt.Sprintf("%s %s: %v", j.d.Event, j.d.Identifier, lastErr))
			} else {
				st.fail(fmt.Sprintf("%s %s: HTTP %d", j.d.Event, j.d.Identifier, code))
			}
		}
	case kindBadSignature, kindBadJSON:
		switch {
		case acked:
			st.badAccepted++
			st.fail(fmt.Sprintf("bad delivery %s acknowledged (HTTP %d)", j.d.Identifier, code))
		case code == 400 || code == 401:
			st.badRejected++
		}
	default:
		if !acked && lastErr != nil {
			st.fail(fmt.Sprintf("duplicate %s: %v", j.d.Identifier, lastErr))
		}
	}
	return lats
}

// progress draws a progress line on w every 250 ms until the returned
// function is called.
func (st *sendState) progress(w io.Writer, total int, start time.Time) func() {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	draw := func() {
		done := st.done.Load()
		secs := time.Since(start).Seconds()
		rate := 0.0
		if secs > 0 {
			rate = float64(st.ackedN.Load()) / secs
		}
		if total > 0 {
			frac := min(1, float64(done)/float64(total))
			const width = 30
			bar := strings.Repeat("=", int(frac*width)) + strings.Repeat(" ", width-int(frac*width))
			fmt.Fprintf(w, "\r[%s] %3.0f%% %d/%d  %.0f ack/s ", bar, frac*100, done, total, rate)
		} else {
			fmt.Fprintf(w, "\r%d sent  %.0f ack/s ", done, rate)
		}
	}
	go func() {
		defer wg.Done()
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				draw()
				fmt.Fprintln(w)
				return
			case <-t.C:
				draw()
			}
		}
	}()
	return func() { close(stop); wg.Wait() }
}

// projectionLag reads GET /readyz and returns the sum of the numeric
// "projection_lag" fields found in its JSON (ok false if there is none).
func projectionLag(ctx context.Context, c *http.Client, base, token string) (lag int64, ok bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/readyz", nil)
	if err != nil {
		return 0, false, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, false, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, false, err
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if dec.Decode(&v) != nil {
		return 0, false, nil
	}
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if k == "projection_lag" {
					if n, isNum := e.(json.Number); isNum {
						if i, err := n.Int64(); err == nil {
							lag += i
							ok = true
						} else if f, err := n.Float64(); err == nil {
							lag += int64(f)
							ok = true
						}
						continue
					}
				}
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return lag, ok, nil
}
