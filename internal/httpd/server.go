// Package httpd serves Cogniscape over HTTP: the webhook receivers, the REST
// read API, health and metrics.
package httpd

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cogniscape/cogniscape"
)

// DefaultMaxBody is Jira Cloud's own cap on webhook payloads.
const DefaultMaxBody = 25 << 20

// WebhookSource is how the server understands one provider's webhooks.
type WebhookSource interface {
	// Authenticate reports whether the request proves knowledge of secret.
	Authenticate(h http.Header, body, secret []byte) bool
	// Inspect reads the envelope of an authenticated body, or says why the
	// body is not an acceptable webhook (a caller-safe reason).
	Inspect(body []byte) (cogniscape.Envelope, error)
	// DeliveryID returns the provider's delivery identifier and retry count.
	DeliveryID(h http.Header) (identifier string, retry int)
}

// Server is the HTTP server. Set the fields, then call Open.
type Server struct {
	Addr      string // listen address, e.g. 127.0.0.1:8080
	PublicURL string // external base URL, for links shown to people
	MaxBody   int64  // largest accepted body; DefaultMaxBody if 0
	// BodyMemory bounds the memory held at once by webhook bodies larger
	// than 64 KiB while they are read; past it a delivery gets 503 and
	// Jira retries it. Default: 64 MiB or twice MaxBody, whichever is more.
	BodyMemory int64
	TLSCert    string // PEM files; when both are set the server speaks HTTPS
	TLSKey     string
	// ReadHeaderTimeout and IdleTimeout bound slow and idle clients so that
	// a handful of them cannot hold the server's connections (defaults 10 s
	// and 2 min).
	ReadHeaderTimeout time.Duration
	IdleTimeout       time.Duration

	Customers cogniscape.CustomerService
	Events    cogniscape.EventLog
	Jira      WebhookSource
	Graph     *cogniscape.Reader // the read API; nil serves none
	// MCP serves the Model Context Protocol at /mcp, behind the API token.
	MCP http.Handler
	// Appended, if set, is called after an event is stored (to wake the projector).
	Appended func()
	// Ready reports whether the store is reachable, for /readyz; Lag, if set,
	// the number of events not projected yet.
	Ready func(ctx context.Context) error
	Lag   func(ctx context.Context) (int64, error)
	// LogSize reports the number of events in the log, for /metrics.
	LogSize func(ctx context.Context) (int64, error)
	// Skipped, if set, counts events the projector left out because the
	// store refused them, for /metrics.
	Skipped func() int64
	// Extra lets other parts (graph API, MCP, portal) add routes.
	Extra func(mux *http.ServeMux, auth func(http.Handler) http.Handler)

	Logger *slog.Logger
	Now    func() time.Time

	metrics  *metrics
	bodies   bodyBudget // memory held by large bodies being read
	rejects  rejectLog  // webhook requests that failed authentication, per known customer
	ln       net.Listener
	srv      *http.Server
	certs    *certReloader
	serveErr chan error
}

// Open starts listening and serving in the background.
func (s *Server) Open() error {
	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return err
	}
	if s.ReadHeaderTimeout <= 0 {
		s.ReadHeaderTimeout = 10 * time.Second
	}
	if s.IdleTimeout <= 0 {
		s.IdleTimeout = 2 * time.Minute
	}
	s.srv = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: s.ReadHeaderTimeout,
		ReadTimeout:       2 * time.Minute, // a 25 MiB body at 200 KB/s
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       s.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.Logger.Handler(), slog.LevelWarn),
	}
	if s.TLSCert != "" || s.TLSKey != "" {
		if s.certs, err = newCertReloader(s.TLSCert, s.TLSKey, s.Logger); err != nil {
			ln.Close()
			return err
		}
		s.srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: s.certs.GetCertificate}
		ln = tls.NewListener(ln, s.srv.TLSConfig)
	}
	s.ln = ln
	s.serveErr = make(chan error, 1)
	go func() { s.serveErr <- s.srv.Serve(ln) }()
	return nil
}

// URL returns the base URL the server listens on.
func (s *Server) URL() string {
	scheme := "http"
	if s.certs != nil {
		scheme = "https"
	}
	return scheme + "://" + s.ln.Addr().String()
}

// Shutdown stops accepting connections and waits for in-flight requests.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.srv == nil {
		return nil
	}
	err := s.srv.Shutdown(ctx)
	if serr := <-s.serveErr; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

// Handler returns the server's routes; Open uses it, and tests may too.
func (s *Server) Handler() http.Handler {
	if s.MaxBody <= 0 {
		s.MaxBody = DefaultMaxBody
	}
	if s.BodyMemory <= 0 {
		s.BodyMemory = max(64<<20, 2*s.MaxBody)
	}
	s.bodies.limit = s.BodyMemory
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	s.metrics = newMetrics(s.LogSize, s.Lag, s.Skipped)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/events/jira/{customerKey}", s.handleJiraWebhook)
	mux.Handle("GET /api/v1/deliveries", s.requireToken(http.HandlerFunc(s.handleDeliveries)))
	s.graphRoutes(mux)
	if s.MCP != nil {
		mux.Handle("/mcp", s.requireToken(s.publicHost(s.MCP)))
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", s.handleReady)
	mux.Handle("GET /metrics", s.metrics.handler())
	if s.Extra != nil {
		s.Extra(mux, s.requireToken)
	}
	return mux
}

// publicHost lets requests for the --public-url host through the MCP SDK's
// DNS-rebinding protection, which refuses requests that reach a loopback
// listener with a non-local Host: behind a reverse proxy on the same machine
// every request looks like that. Requests naming any other host are still
// refused.
func (s *Server) publicHost(next http.Handler) http.Handler {
	u, err := url.Parse(s.PublicURL)
	if s.PublicURL == "" || err != nil || u.Host == "" {
		return next
	}
	public := strings.ToLower(u.Host)
	defaultPort := map[string]string{"http": "80", "https": "443"}[u.Scheme]
	isPublic := func(host string) bool {
		if strings.EqualFold(host, public) || strings.EqualFold(host, u.Hostname()) {
			return true
		}
		// Some proxies name the scheme's default port: example.com:443.
		h, port, err := net.SplitHostPort(host)
		return err == nil && strings.EqualFold(h, u.Hostname()) && port == defaultPort && (u.Port() == "" || u.Port() == port)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isPublic(r.Host) {
			r = r.Clone(r.Context())
			r.Host = "localhost"
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	body := map[string]any{"status": "ok"}
	if s.Ready != nil {
		if err := s.Ready(ctx); err != nil {
			s.Logger.Warn("not ready", "err", err)
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": "store unreachable"})
			return
		}
	}
	if s.Lag != nil {
		if lag, err := s.Lag(ctx); err == nil {
			body["projection_lag"] = lag
		}
	}
	writeJSON(w, http.StatusOK, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// writeError answers with the status that err's code maps to and a
// caller-safe message; internal details go to the log only.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := cogniscape.ErrorCode(err)
	status := map[string]int{
		cogniscape.EINVALID:      http.StatusBadRequest,
		cogniscape.ENOTFOUND:     http.StatusNotFound,
		cogniscape.ECONFLICT:     http.StatusConflict,
		cogniscape.EUNAUTHORIZED: http.StatusUnauthorized,
		cogniscape.EUNAVAILABLE:  http.StatusServiceUnavailable,
	}[code]
	if status == 0 {
		status = http.StatusInternalServerError
	}
	if status >= 500 {
		s.Logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeJSON(w, status, map[string]string{"error": cogniscape.ErrorMessage(err)})
}
