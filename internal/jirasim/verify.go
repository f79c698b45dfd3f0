package jirasim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Timings of Verify; variables so that tests can shorten them.
var (
	verifyPoll        = 250 * time.Millisecond // between two /readyz reads
	verifyLagTimeout  = 10 * time.Minute       // for projection_lag to reach 0
	verifyStableWait  = time.Second            // between two reads of the sample issue
	verifyStableLimit = time.Minute            // for the sample issue to settle
	verifyRecheck     = 2 * time.Second        // before re-reading what mismatched
	verifyRecheckMax  = 1000                   // re-read mismatches only when there are this few
)

// ErrUnauthorized is returned by Verify when the API rejects the token.
var ErrUnauthorized = errors.New("jirasim: the API rejected the token (401/403)")

// Verify waits until the server has projected everything it acknowledged,
// then reads every issue and sprint of w through the REST API and compares
// them with the model: status, status category, assignee, sprints, fix
// versions, parent, links, comment and worklog counts, time spent, deleted
// flags, sprint states and membership. It writes one line per mismatch to
// out and returns their number. The error is for what prevented checking
// (unreachable server, rejected token, projection that never caught up).
func Verify(ctx context.Context, baseURL, apiToken string, w *World, out io.Writer) (mismatches int, err error) {
	v := &verifier{
		base:  strings.TrimRight(baseURL, "/"),
		token: apiToken,
		c:     &http.Client{Timeout: 30 * time.Second},
	}
	if err := v.waitProjection(ctx, w); err != nil {
		return 0, err
	}
	issues := w.Issues()
	deleted := map[string]bool{}
	for _, is := range issues {
		if is.Deleted {
			deleted[is.Key] = true
		}
	}
	var sprints []*SprintState
	for _, sp := range w.Sprints() {
		if !sp.Deleted {
			sprints = append(sprints, sp)
		}
	}
	issueLines, err := rounds(ctx, issues, func(is *IssueState) ([]string, error) { return v.checkIssue(ctx, is) })
	if err != nil {
		return 0, err
	}
	sprintLines, err := rounds(ctx, sprints, func(sp *SprintState) ([]string, error) { return v.checkSprint(ctx, sp, deleted) })
	if err != nil {
		return 0, err
	}
	for _, lines := range append(issueLines, sprintLines...) {
		for _, l := range lines {
			fmt.Fprintln(out, l)
			mismatches++
		}
	}
	fmt.Fprintf(out, "verify: %d issues, %d sprints checked: %d mismatches\n", len(issues), len(sprints), mismatches)
	return mismatches, nil
}

// rounds checks every x, then checks again, after a pause, those that did
// not match (a late event may still have been on its way), twice at most
// and only while they are few. It returns the mismatch lines in the order
// of xs.
func rounds[T any](ctx context.Context, xs []T, check func(T) ([]string, error)) ([][]string, error) {
	res, err := parallel(ctx, xs, check)
	if err != nil {
		return nil, err
	}
	for range 2 {
		var again []int
		for i, lines := range res {
			if len(lines) > 0 {
				again = append(again, i)
			}
		}
		if len(again) == 0 || len(again) > verifyRecheckMax {
			break
		}
		if err := sleep(ctx, verifyRecheck); err != nil {
			return nil, err
		}
		sub := make([]T, len(again))
		for j, i := range again {
			sub[j] = xs[i]
		}
		r, err := parallel(ctx, sub, check)
		if err != nil {
			return nil, err
		}
		for j, i := range again {
			res[i] = r[j]
		}
	}
	return res, nil
}

type verifier struct {
	base, token string
	c           *http.Client
}

// parallel runs fn over xs with a few workers and returns the results in
// the order of xs. The first error stops it.
func parallel[T any](ctx context.Context, xs []T, fn func(T) ([]string, error)) ([][]string, error) {
	out := make([][]string, len(xs))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	next := make(chan int)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				lines, err := fn(xs[i])
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					cancel()
					continue
				}
				out[i] = lines
			}
		}()
	}
loop:
	for i := range xs {
		select {
		case next <- i:
		case <-ctx.Done():
			break loop
		}
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return out, ctx.Err()
}

// get reads path; 5xx and connection errors are tried again a few times.
func (v *verifier) get(ctx context.Context, path string) (int, []byte, error) {
	var lastErr error
	for attempt := range 4 {
		if attempt > 0 {
			if err := sleep(ctx, time.Duration(attempt)*300*time.Millisecond); err != nil {
				return 0, nil, err
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.base+path, nil)
		if err != nil {
			return 0, nil, err
		}
		if v.token != "" {
			req.Header.Set("Authorization", "Bearer "+v.token)
		}
		resp, err := v.c.Do(req)
		if err != nil {
			lastErr = err
			continue
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
		resp.Body.Close()
		if err != nil {
			lastErr = err
			continue
		}
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			return resp.StatusCode, b, ErrUnauthorized
		}
		if resp.StatusCode >= 500 {
			lastErr = fmt.Errorf("GET %s: HTTP %d", path, resp.StatusCode)
			continue
		}
		return resp.StatusCode, b, nil
	}
	return 0, nil, lastErr
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// waitProjection polls /readyz until projection_lag is 0; without that field
// it waits until two reads of the latest touched issue are identical.
func (v *verifier) waitProjection(ctx context.Context, w *World) error {
	deadline := time.Now().Add(verifyLagTimeout)
	var lastLag int64 = -1
	for {
		lag, ok, err := projectionLag(ctx, v.c, v.base, v.token)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil || !ok {
			break
		}
		if lag == 0 {
			return nil
		}
		lastLag = lag
		if time.Now().After(deadline) {
			return fmt.Errorf("jirasim: projection did not catch up in %s: lag %d", verifyLagTimeout, lastLag)
		}
		if err := sleep(ctx, verifyPoll); err != nil {
			return err
		}
	}
	sample := w.LastIssue()
	if sample == nil {
		return nil
	}
	path := "/api/v1/issues/" + url.PathEscape(sample.Key)
	var prev []byte
	limit := time.Now().Add(verifyStableLimit)
	for time.Now().Before(limit) {
		code, b, err := v.get(ctx, path)
		if errors.Is(err, ErrUnauthorized) || ctx.Err() != nil {
			return errors.Join(err, ctx.Err())
		}
		if err == nil && code == http.StatusOK && prev != nil && bytes.Equal(prev, b) {
			return nil
		}
		if err == nil && code == http.StatusOK {
			prev = b
		}
		if err := sleep(ctx, verifyStableWait); err != nil {
			return err
		}
	}
	return nil // compare anyway: mismatches will tell
}

// ---- API shapes (tolerant: ids as strings or numbers, refs as keys or objects) ----

// flexID is a JSON string or number.
type flexID string

func (f *flexID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*f = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexID(s)
	default:
		*f = flexID(b)
	}
	return nil
}

// ref is a JSON string, null, or an object named by key, name or id.
type ref string

func (r *ref) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*r = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*r = ref(s)
	case b[0] == '{':
		var o struct {
			Key  string `json:"key"`
			Name string `json:"name"`
			ID   flexID `json:"id"`
		}
		if err := json.Unmarshal(b, &o); err != nil {
			return err
		}
		switch {
		case o.Key != "":
			*r = ref(o.Key)
		case o.Name != "":
			*r = ref(o.Name)
		default:
			*r = ref(o.ID)
		}
	default:
		*r = ref(b)
	}
	return nil
}

type apiIssue struct {
	Key            string `json:"key"`
	Status         ref    `json:"status"`
	StatusCategory ref    `json:"status_category"`
	Assignee       *struct {
		ID flexID `json:"id"`
	} `json:"assignee"`
	Sprints []struct {
		ID flexID `json:"id"`
	} `json:"sprints"`
	FixVersions []struct {
		ID flexID `json:"id"`
	} `json:"fix_versions"`
	Parent ref `json:"parent"`
	Links  []struct {
		Type      string `json:"type"`
		Direction string `json:"direction"`
		Issue     ref    `json:"issue"`
	} `json:"links"`
	Comments []json.RawMessage `json:"comments"`
	Worklogs []struct {
		TimeSpentSeconds int64 `json:"time_spent_seconds"`
	} `json:"worklogs"`
	Deleted bool `json:"deleted"`
}

type apiSprint struct {
	State  string   `json:"state"`
	Issues []string `json:"issues"`
}

func (v *verifier) checkIssue(ctx context.Context, want *IssueState) ([]string, error) {
	code, b, err := v.get(ctx, "/api/v1/issues/"+url.PathEscape(want.Key))
	switch {
	case errors.Is(err, ErrUnauthorized) || ctx.Err() != nil:
		return nil, errors.Join(err, ctx.Err())
	case err != nil:
		return []string{fmt.Sprintf("%s: %v", want.Key, err)}, nil
	case code == http.StatusNotFound:
		return []string{fmt.Sprintf("%s: not found (404)", want.Key)}, nil
	case code != http.StatusOK:
		return []string{fmt.Sprintf("%s: HTTP %d", want.Key, code)}, nil
	}
	var got apiIssue
	if err := json.Unmarshal(b, &got); err != nil {
		return []string{fmt.Sprintf("%s: undecodable answer: %v", want.Key, err)}, nil
	}
	return compareIssue(want, &got), nil
}

func compareIssue(want *IssueState, got *apiIssue) []string {
	var out []string
	diff := func(field string, w, g any) {
		out = append(out, fmt.Sprintf("%s %s: want %v, got %v", want.Key, field, w, g))
	}
	if got.Deleted != want.Deleted {
		diff("deleted", want.Deleted, got.Deleted)
	}
	if want.Deleted {
		return out // a deleted issue: its last state is history
	}
	if s := string(got.Status); !strings.EqualFold(s, want.Status) && s != want.StatusID {
		diff("status", strconv.Quote(want.Status), strconv.Quote(s))
	}
	if s := string(got.StatusCategory); !strings.EqualFold(s, want.StatusCategory) {
		diff("status_category", strconv.Quote(want.StatusCategory), strconv.Quote(s))
	}
	gotAssignee := ""
	if got.Assignee != nil {
		gotAssignee = string(got.Assignee.ID)
	}
	if gotAssignee != want.Assignee {
		diff("assignee", quoteOrNull(want.Assignee), quoteOrNull(gotAssignee))
	}
	var wantSprints, gotSprints []string
	for _, id := range want.Sprints {
		wantSprints = append(wantSprints, itoa(id))
	}
	for _, s := range got.Sprints {
		gotSprints = append(gotSprints, string(s.ID))
	}
	if !sameSet(wantSprints, gotSprints) {
		diff("sprints", setString(wantSprints), setString(gotSprints))
	}
	var gotFix []string
	for _, f := range got.FixVersions {
		gotFix = append(gotFix, string(f.ID))
	}
	if !sameSet(want.FixVersions, gotFix) {
		diff("fix_versions", setString(want.FixVersions), setString(gotFix))
	}
	// A Data Center Epic Link may or may not be projected as the parent.
	if p := string(got.Parent); p != want.Parent && (want.Epic == "" || p != want.Epic) {
		diff("parent", quoteOrNull(want.Parent), quoteOrNull(string(got.Parent)))
	}
	var wantLinks, gotLinks []string
	for _, l := range want.Links {
		wantLinks = append(wantLinks, strings.ToLower(l.Type)+" "+l.Direction+" "+l.Issue)
	}
	for _, l := range got.Links {
		gotLinks = append(gotLinks, strings.ToLower(l.Type)+" "+strings.ToLower(l.Direction)+" "+string(l.Issue))
	}
	if !sameSet(wantLinks, gotLinks) {
		diff("links", setString(wantLinks), setString(gotLinks))
	}
	if len(got.Comments) != want.Comments {
		diff("comments", want.Comments, len(got.Comments))
	}
	if len(got.Worklogs) != want.Worklogs {
		diff("worklogs", want.Worklogs, len(got.Worklogs))
	}
	var secs int64
	for _, wl := range got.Worklogs {
		secs += wl.TimeSpentSeconds
	}
	if secs != want.WorklogSeconds {
		diff("worklog time_spent_seconds", want.WorklogSeconds, secs)
	}
	return out
}

func (v *verifier) checkSprint(ctx context.Context, want *SprintState, deleted map[string]bool) ([]string, error) {
	code, b, err := v.get(ctx, "/api/v1/sprints/"+itoa(want.ID))
	switch {
	case errors.Is(err, ErrUnauthorized) || ctx.Err() != nil:
		return nil, errors.Join(err, ctx.Err())
	case err != nil:
		return []string{fmt.Sprintf("sprint %d: %v", want.ID, err)}, nil
	case code != http.StatusOK:
		return []string{fmt.Sprintf("sprint %d (%s): HTTP %d", want.ID, want.Name, code)}, nil
	}
	var got apiSprint
	if err := json.Unmarshal(b, &got); err != nil {
		return []string{fmt.Sprintf("sprint %d: undecodable answer: %v", want.ID, err)}, nil
	}
	var lines []string
	if !strings.EqualFold(got.State, want.State) {
		lines = append(lines, fmt.Sprintf("sprint %d (%s) state: want %q, got %q", want.ID, want.Name, want.State, got.State))
	}
	gotKeys := slices.DeleteFunc(slices.Clone(got.Issues), func(k string) bool { return deleted[k] })
	wantKeys := want.Issues()
	if !sameSet(wantKeys, gotKeys) {
		missing, extra := setDiff(wantKeys, gotKeys)
		lines = append(lines, fmt.Sprintf("sprint %d (%s) issues: missing %v, unexpected %v", want.ID, want.Name, missing, extra))
	}
	return lines, nil
}

func quoteOrNull(s string) string {
	if s == "" {
		return "null"
	}
	return strconv.Quote(s)
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

func setString(xs []string) string {
	x := slices.Clone(xs)
	slices.Sort(x)
	return "[" + strings.Join(x, ", ") + "]"
}

// setDiff returns what want has and got lacks, and what got has in excess
// (multisets).
func setDiff(want, got []string) (missing, extra []string) {
	n := map[string]int{}
	for _, k := range got {
		n[k]++
	}
	for _, k := range want {
		if n[k] > 0 {
			n[k]--
		} else {
			missing = append(missing, k)
		}
	}
	for _, k := range got {
		if n[k] > 0 {
			n[k]--
			extra = append(extra, k)
		}
	}
	slices.SortFunc(missing, compareKeys)
	slices.SortFunc(extra, compareKeys)
	return missing, extra
}
