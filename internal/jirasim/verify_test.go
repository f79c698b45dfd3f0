package jirasim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeAPI serves the issue-3 read API from a World, as a correct server
// would after projecting the world's deliveries.
type fakeAPI struct {
	w      *World
	token  string
	lagged int  // /readyz reports this lag, one less per read, until 0
	noLag  bool // /readyz without projection_lag
	mu     sync.Mutex
	tamper func(key string, m map[string]any)
	sprint func(id int64, m map[string]any)
}

func (f *fakeAPI) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	write := func(v any) {
		rw.Header().Set("Content-Type", "application/json")
		json.NewEncoder(rw).Encode(v)
	}
	if r.URL.Path == "/readyz" {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.noLag {
			write(map[string]any{"status": "ok"})
			return
		}
		write(map[string]any{"status": "ok", "projection_lag": f.lagged})
		f.lagged = max(0, f.lagged-1)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+f.token {
		rw.WriteHeader(http.StatusUnauthorized)
		return
	}
	if key, ok := strings.CutPrefix(r.URL.Path, "/api/v1/issues/"); ok {
		st := f.w.IssueByKey(key)
		if st == nil {
			rw.WriteHeader(http.StatusNotFound)
			return
		}
		m := map[string]any{
			"id": st.ID, "key": st.Key, "site": st.Site, "summary": "…", "status": st.Status,
			"status_category": st.StatusCategory, "assignee": nil, "parent": nil, "deleted": st.Deleted,
			"sprints": []any{}, "fix_versions": []any{}, "links": []any{}, "comments": []any{}, "worklogs": []any{},
		}
		if st.Assignee != "" {
			m["assignee"] = map[string]any{"id": st.Assignee, "name": "Someone"}
		}
		switch {
		case st.Parent != "":
			m["parent"] = st.Parent
		case st.Epic != "" && len(st.Key)%2 == 0:
			m["parent"] = st.Epic // a server may or may not project Epic Links
		}
		var sprints, fix, links, comments, worklogs []any
		for _, id := range st.Sprints {
			sprints = append(sprints, map[string]any{"id": strconv.FormatInt(id, 10), "name": "S", "state": "closed"})
		}
		for _, id := range st.FixVersions {
			fix = append(fix, map[string]any{"id": id, "name": "1.0", "released": false})
		}
		for _, l := range st.Links {
			links = append(links, map[string]any{"type": l.Type, "direction": l.Direction, "issue": l.Issue})
		}
		for i := range st.Comments {
			comments = append(comments, map[string]any{"id": strconv.Itoa(i), "body": "x"})
		}
		for i := range st.Worklogs {
			secs := int64(0)
			if i == 0 {
				secs = st.WorklogSeconds
			}
			worklogs = append(worklogs, map[string]any{"id": strconv.Itoa(i), "time_spent_seconds": secs})
		}
		for k, v := range map[string][]any{"sprints": sprints, "fix_versions": fix, "links": links, "comments": comments, "worklogs": worklogs} {
			if v != nil {
				m[k] = v
			}
		}
		if f.tamper != nil {
			f.tamper(key, m)
		}
		write(m)
		return
	}
	if idStr, ok := strings.CutPrefix(r.URL.Path, "/api/v1/sprints/"); ok {
		id, _ := strconv.ParseInt(idStr, 10, 64)
		sp := f.w.Sprint(id)
		if sp == nil {
			rw.WriteHeader(http.StatusNotFound)
			return
		}
		issues := sp.Issues()
		// A server may keep deleted issues in a sprint: Verify ignores them.
		for _, st := range f.w.Issues() {
			if st.Deleted && len(st.Sprints) > 0 && st.Sprints[0] == id {
				issues = append(issues, st.Key)
			}
		}
		m := map[string]any{"id": idStr, "name": sp.Name, "state": sp.State, "issues": issues}
		if f.sprint != nil {
			f.sprint(id, m)
		}
		write(m)
		return
	}
	rw.WriteHeader(http.StatusNotFound)
}

func shortVerifyTimings(t *testing.T) {
	old := []time.Duration{verifyPoll, verifyStableWait, verifyRecheck}
	verifyPoll, verifyStableWait, verifyRecheck = time.Millisecond, 5*time.Millisecond, time.Millisecond
	t.Cleanup(func() { verifyPoll, verifyStableWait, verifyRecheck = old[0], old[1], old[2] })
}

func TestVerify(t *testing.T) {
	shortVerifyTimings(t)
	s, _ := generate(t, Config{Seed: 21, Teams: 2, Days: 20, Flavor: FlavorMix})
	w := s.World()
	api := &fakeAPI{w: w, token: "tok", lagged: 3}
	srv := httptest.NewServer(api)
	defer srv.Close()
	ctx := context.Background()

	var out bytes.Buffer
	n, err := Verify(ctx, srv.URL, "tok", w, &out)
	if err != nil || n != 0 {
		t.Fatalf("a faithful server: %d mismatches, %v\n%s", n, err, out.String())
	}
	if api.lagged != 0 {
		t.Errorf("did not wait for the projection lag to reach 0")
	}

	// Wrong answers are reported, one line each.
	var victim, linked *IssueState
	for _, st := range w.Issues() {
		if !st.Deleted && victim == nil && st.Comments > 0 {
			victim = st
		}
		if !st.Deleted && linked == nil && len(st.Links) > 0 && st != victim {
			linked = st
		}
	}
	var sp *SprintState
	for _, x := range w.Sprints() {
		if !x.Deleted && len(x.Issues()) > 0 {
			sp = x
			break
		}
	}
	api.tamper = func(key string, m map[string]any) {
		switch key {
		case victim.Key:
			m["status"] = "Nope"
			m["comments"] = []any{}
		case linked.Key:
			m["links"] = []any{}
		}
	}
	api.sprint = func(id int64, m map[string]any) {
		if id == sp.ID {
			m["issues"] = m["issues"].([]string)[1:]
		}
	}
	out.Reset()
	api.noLag = true
	n, err = Verify(ctx, srv.URL, "tok", w, &out)
	if err != nil || n != 4 {
		t.Fatalf("want 4 mismatches, got %d, %v:\n%s", n, err, out.String())
	}
	for _, want := range []string{victim.Key + " status: want", victim.Key + " comments: want", linked.Key + " links: want", "issues: missing [" + sp.Issues()[0] + "]"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in:\n%s", want, out.String())
		}
	}

	if _, err := Verify(ctx, srv.URL, "wrong", w, &out); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("wrong token: %v", err)
	}
}
