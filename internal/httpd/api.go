package httpd

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/cogniscape/cogniscape"
)

// CustomerFrom returns the customer a request was authenticated as.
func CustomerFrom(ctx context.Context) *cogniscape.Customer { return cogniscape.CustomerFrom(ctx) }

// requireToken authenticates "Authorization: Bearer <api_token>" and puts the
// customer in the request context; everything behind it is scoped to that
// customer.
func (s *Server) requireToken(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, token, found := strings.Cut(r.Header.Get("Authorization"), " ")
		if !found || !strings.EqualFold(scheme, "Bearer") || token == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="cogniscape"`)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "missing bearer token"})
			return
		}
		c, err := s.Customers.CustomerByAPIToken(r.Context(), strings.TrimSpace(token))
		if err != nil {
			if cogniscape.ErrorCode(err) == cogniscape.EUNAUTHORIZED {
				w.Header().Set("WWW-Authenticate", `Bearer realm="cogniscape", error="invalid_token"`)
			}
			s.writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(cogniscape.WithCustomer(r.Context(), c)))
	})
}

func (s *Server) handleDeliveries(w http.ResponseWriter, r *http.Request) {
	c := CustomerFrom(r.Context())
	q := r.URL.Query()
	f := cogniscape.DeliveryFilter{Outcome: cogniscape.Outcome(q.Get("outcome")), Event: q.Get("event")}
	var err error
	if f.Limit, err = intParam(q.Get("limit"), 50, 1, 1000); err != nil {
		s.writeError(w, r, err)
		return
	}
	if v := q.Get("before"); v != "" {
		if f.Before, err = strconv.ParseInt(v, 10, 64); err != nil {
			s.writeError(w, r, cogniscape.Errorf(cogniscape.EINVALID, "before must be a delivery id"))
			return
		}
	}
	ds, err := s.Events.Deliveries(r.Context(), c.ID, f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"deliveries": ds})
}

// intParam parses an optional integer query parameter within [min, max].
func intParam(v string, def, min, max int) (int, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		return 0, cogniscape.Errorf(cogniscape.EINVALID, "parameter must be a whole number from %d to %d", min, max)
	}
	return n, nil
}
