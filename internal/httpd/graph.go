package httpd

import (
	"net/http"
	"strings"
	"time"

	"github.com/cogniscape/cogniscape"
)

// graphRoutes serves the read API over the graph. Every handler is behind
// requireToken and scoped to the token's customer: another customer's entity
// is a 404, exactly as if it did not exist.
func (s *Server) graphRoutes(mux *http.ServeMux) {
	if s.Graph == nil {
		return
	}
	h := func(pattern string, fn func(w http.ResponseWriter, r *http.Request, c *cogniscape.Customer) (any, error)) {
		mux.Handle(pattern, s.requireToken(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			v, err := fn(w, r, CustomerFrom(r.Context()))
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, v)
		})))
	}
	h("GET /api/v1/issues/{key}", func(w http.ResponseWriter, r *http.Request, c *cogniscape.Customer) (any, error) {
		return s.Graph.Issue(r.Context(), c.ID, r.PathValue("key"))
	})
	h("GET /api/v1/issues", func(w http.ResponseWriter, r *http.Request, c *cogniscape.Customer) (any, error) {
		q := r.URL.Query()
		limit, err := intParam(q.Get("limit"), 50, 1, 500)
		if err != nil {
			return nil, err
		}
		cat := q.Get("status_category")
		switch cat {
		case "", cogniscape.CategoryNew, cogniscape.CategoryIndeterminate, cogniscape.CategoryDone:
		default:
			return nil, cogniscape.Errorf(cogniscape.EINVALID, "status_category must be new, indeterminate or done")
		}
		issues, next, err := s.Graph.Issues(r.Context(), c.ID, cogniscape.IssueFilter{
			Project: q.Get("project"), StatusCategory: cat, Assignee: q.Get("assignee"), Sprint: q.Get("sprint"),
			Query: limitString(q.Get("q"), 200), Limit: limit, Cursor: q.Get("cursor")})
		if err != nil {
			return nil, err
		}
		return map[string]any{"issues": issues, "next_cursor": next}, nil
	})
	h("GET /api/v1/sprints/{id}", func(w http.ResponseWriter, r *http.Request, c *cogniscape.Customer) (any, error) {
		return s.Graph.Sprint(r.Context(), c.ID, r.PathValue("id"))
	})
	h("GET /api/v1/versions/{id}", func(w http.ResponseWriter, r *http.Request, c *cogniscape.Customer) (any, error) {
		return s.Graph.Version(r.Context(), c.ID, r.PathValue("id"))
	})
	h("GET /api/v1/projects/{key}", func(w http.ResponseWriter, r *http.Request, c *cogniscape.Customer) (any, error) {
		return s.Graph.Project(r.Context(), c.ID, r.PathValue("key"))
	})
	h("GET /api/v1/people/{id}", func(w http.ResponseWriter, r *http.Request, c *cogniscape.Customer) (any, error) {
		return s.Graph.PersonByID(r.Context(), c.ID, r.PathValue("id"))
	})
	h("GET /api/v1/activity", func(w http.ResponseWriter, r *http.Request, c *cogniscape.Customer) (any, error) {
		q := r.URL.Query()
		since, err := cogniscape.ParseSince(q.Get("since"), 7*24*time.Hour, s.Now())
		if err != nil {
			return nil, err
		}
		limit, err := intParam(q.Get("limit"), 50, 1, 1000)
		if err != nil {
			return nil, err
		}
		items, err := s.Graph.Activity(r.Context(), c.ID, since, limit)
		if err != nil {
			return nil, err
		}
		return map[string]any{"items": items}, nil
	})
	h("GET /api/v1/issues/{key}/lifecycle", func(w http.ResponseWriter, r *http.Request, c *cogniscape.Customer) (any, error) {
		return s.Graph.Lifecycle(r.Context(), c.ID, r.PathValue("key"), s.Now())
	})
	h("GET /api/v1/flow", func(w http.ResponseWriter, r *http.Request, c *cogniscape.Customer) (any, error) {
		q := r.URL.Query()
		project := q.Get("project")
		if project == "" {
			return nil, cogniscape.Errorf(cogniscape.EINVALID, "project is required, e.g. project=PAY")
		}
		now := s.Now()
		since, err := cogniscape.ParseSince(q.Get("since"), 30*24*time.Hour, now)
		if err != nil {
			return nil, err
		}
		return s.Graph.Flow(r.Context(), c.ID, limitString(project, 100), since, now)
	})
	h("GET /api/v1/sprints/{id}/report", func(w http.ResponseWriter, r *http.Request, c *cogniscape.Customer) (any, error) {
		return s.Graph.SprintReport(r.Context(), c.ID, r.PathValue("id"), s.Now())
	})
	h("GET /api/v1/versions/{id}/report", func(w http.ResponseWriter, r *http.Request, c *cogniscape.Customer) (any, error) {
		return s.Graph.VersionReport(r.Context(), c.ID, r.PathValue("id"), s.Now())
	})
	h("GET /api/v1/people/{id}/work", func(w http.ResponseWriter, r *http.Request, c *cogniscape.Customer) (any, error) {
		since, err := cogniscape.ParseSince(r.URL.Query().Get("since"), 7*24*time.Hour, s.Now())
		if err != nil {
			return nil, err
		}
		return s.Graph.PersonWork(r.Context(), c.ID, r.PathValue("id"), since)
	})
	h("GET /api/v1/search", func(w http.ResponseWriter, r *http.Request, c *cogniscape.Customer) (any, error) {
		q := r.URL.Query()
		query := limitString(q.Get("q"), 200)
		if query == "" {
			return nil, cogniscape.Errorf(cogniscape.EINVALID, "q is required")
		}
		kind := cogniscape.Kind(q.Get("kind"))
		switch kind {
		case "", cogniscape.KindIssue, cogniscape.KindPerson, cogniscape.KindProject, cogniscape.KindSprint, cogniscape.KindVersion, cogniscape.KindComment:
		default:
			return nil, cogniscape.Errorf(cogniscape.EINVALID, "kind must be issue, person, project, sprint, version or comment")
		}
		limit, err := intParam(q.Get("limit"), 20, 1, 100)
		if err != nil {
			return nil, err
		}
		results, err := s.Graph.Search(r.Context(), c.ID, query, kind, limit)
		if err != nil {
			return nil, err
		}
		return map[string]any{"query": query, "results": results}, nil
	})
	h("GET /api/v1/graph/neighbors", func(w http.ResponseWriter, r *http.Request, c *cogniscape.Customer) (any, error) {
		q := r.URL.Query()
		node := q.Get("node")
		if node == "" {
			return nil, cogniscape.Errorf(cogniscape.EINVALID, "node is required, e.g. node=issue:PAY-101")
		}
		depth, err := intParam(q.Get("depth"), 1, 1, 3)
		if err != nil {
			return nil, err
		}
		return s.Graph.Neighbors(r.Context(), c.ID, limitString(node, 300), depth)
	})
}

func limitString(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return s[:n]
	}
	return s
}
