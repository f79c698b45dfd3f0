// Package portal serves Cogniscape's web portal: sign-in, the Jira setup
// guide with the customer's own values, the delivery log and the explorer of
// the knowledge graph. Pages are rendered on the server from embedded
// templates; charts are SVG drawn on the server; the little JavaScript there
// is (copy buttons, revealing the secret, refreshing the Verify panel, panning
// the graph) is embedded too, so the portal works on a closed network.
//
// Everything a user sees is scoped to the customer of their session: every
// lookup goes through the root package's interfaces with that customer's id,
// so another customer's object is "not found", exactly as if it did not exist.
package portal

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/cogniscape/cogniscape"
)

//go:embed templates/*.html static/*
var assets embed.FS

// Prefix is where the portal lives.
const Prefix = "/portal"

// Cookie names.
const (
	sessionCookie = "cogniscape_session"
	signinCookie  = "cogniscape_signin" // binds the sign-in form's CSRF token to the browser
)

// Portal is the web portal. Set the fields, then call Routes.
type Portal struct {
	Customers cogniscape.CustomerService // secret reveal and rotation
	Events    cogniscape.EventLog        // deliveries and quarantined bodies
	Users     cogniscape.UserService     // accounts, sessions, audit log
	Graph     *cogniscape.Reader         // the explorer
	// PublicURL is the external base URL, used for the webhook URL shown to
	// admins and to decide on Secure cookies; "" derives both from each
	// request.
	PublicURL string
	// Rejected, if set, reports how many webhook requests of a customer failed
	// authentication since a time, and when the last one came.
	Rejected func(customerID int64, since time.Time) (int, time.Time)
	// TrustedProxies are the reverse proxies in front of the portal whose
	// X-Forwarded-For names the client (sign-in throttling per address and
	// the audit log use it); empty trusts none, and every request counts as
	// coming from its direct peer.
	TrustedProxies []netip.Prefix
	// SessionTTL is how long a sign-in lasts; 12 h if 0.
	SessionTTL time.Duration
	Logger     *slog.Logger
	Now        func() time.Time

	initOnce  sync.Once
	pages     map[string]*template.Template
	staticVer string
	throttle  *throttle
	catalogs  catalogCache
	hashSem   chan struct{}
	dummyHash string

	crossOrigin *http.CrossOriginProtection
}

func (p *Portal) init() {
	p.initOnce.Do(func() {
		if p.Logger == nil {
			p.Logger = slog.Default()
		}
		if p.Now == nil {
			p.Now = time.Now
		}
		if p.SessionTTL <= 0 {
			p.SessionTTL = 12 * time.Hour
		}
		p.throttle = newThrottle()
		p.hashSem = make(chan struct{}, 4)
		p.dummyHash = mustHash("cogniscape-dummy-password")
		p.staticVer = staticVersion()
		p.pages = parseTemplates(p.funcs())
		p.crossOrigin = http.NewCrossOriginProtection()
		p.crossOrigin.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p.renderError(w, r, nil, http.StatusForbidden, "This form was sent from another site and was refused.")
		}))
	})
}

// Routes adds the portal's pages to mux. The API and webhook routes are
// someone else's; the portal takes GET / (a redirect) and everything under
// /portal/.
func (p *Portal) Routes(mux *http.ServeMux) {
	p.init()
	mux.Handle("GET /{$}", secure(http.RedirectHandler(Prefix+"/", http.StatusSeeOther)))
	mux.Handle("GET /portal", secure(http.RedirectHandler(Prefix+"/", http.StatusSeeOther)))
	mux.Handle("GET /portal/static/{file}", secure(http.HandlerFunc(p.handleStatic)))
	mux.Handle("GET /portal/signin", secure(http.HandlerFunc(p.handleSigninForm)))
	mux.Handle("POST /portal/signin", p.post(http.HandlerFunc(p.handleSignin)))
	mux.Handle("POST /portal/signout", p.post(p.page("", p.handleSignout)))

	mux.Handle("GET /portal/{$}", p.page("", p.handleHome))
	mux.Handle("GET /portal/account", p.page("", p.handleAccount))
	mux.Handle("POST /portal/account/password", p.post(p.page("", p.handlePassword)))

	mux.Handle("GET /portal/setup/jira", p.page(cogniscape.RoleAdmin, p.handleSetup))
	mux.Handle("GET /portal/setup/jira/verify", p.page(cogniscape.RoleAdmin, p.handleVerify))
	mux.Handle("POST /portal/setup/jira/secret", p.post(p.page(cogniscape.RoleAdmin, p.handleReveal)))
	mux.Handle("GET /portal/setup/jira/rotate", p.page(cogniscape.RoleAdmin, p.handleRotateConfirm))
	mux.Handle("POST /portal/setup/jira/rotate", p.post(p.page(cogniscape.RoleAdmin, p.handleRotate)))

	mux.Handle("GET /portal/deliveries", p.page("", p.handleDeliveries))
	mux.Handle("GET /portal/deliveries/{id}", p.page(cogniscape.RoleAdmin, p.handleQuarantined))

	mux.Handle("GET /portal/activity", p.page("", p.handleActivity))
	mux.Handle("GET /portal/issues", p.page("", p.handleIssues))
	mux.Handle("GET /portal/issues/{key}", p.page("", p.handleIssue))
	mux.Handle("GET /portal/people", p.page("", p.handlePeople))
	mux.Handle("GET /portal/people/{id}", p.page("", p.handlePerson))
	mux.Handle("GET /portal/sprints", p.page("", p.handleSprints))
	mux.Handle("GET /portal/sprints/{id}", p.page("", p.handleSprint))
	mux.Handle("GET /portal/releases", p.page("", p.handleReleases))
	mux.Handle("GET /portal/releases/{id}", p.page("", p.handleRelease))
	mux.Handle("GET /portal/flow", p.page("", p.handleFlow))
	mux.Handle("GET /portal/graph", p.page("", p.handleGraph))
	// Anything else under /portal/ is a page that does not exist.
	mux.Handle("/portal/", p.page("", func(w http.ResponseWriter, r *http.Request, s *cogniscape.Session) error {
		return errNotFound
	}))
}

// Handler returns a handler serving only the portal, for tests and for
// servers that mount it on their own.
func (p *Portal) Handler() http.Handler {
	mux := http.NewServeMux()
	p.Routes(mux)
	return mux
}

// secure sets the headers every portal answer carries.
func secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; "+
			"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		if !strings.HasPrefix(r.URL.Path, Prefix+"/static/") {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// maxFormBytes bounds the body of every form the portal takes: they hold a
// few short fields, and without a bound a multipart body would be parsed
// into memory and temporary files of any size.
const maxFormBytes = 16 << 10

// post guards a state-changing route: besides the CSRF token, requests that
// a browser marks as coming from another site are refused, and bodies are
// bounded.
func (p *Portal) post(next http.Handler) http.Handler {
	return secure(p.crossOrigin.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		next.ServeHTTP(w, r)
	})))
}

// handler is a page that needs a signed-in user.
type handler func(w http.ResponseWriter, r *http.Request, s *cogniscape.Session) error

// page wraps h with the session check, the role check and, for anything but
// GET, the CSRF check; it renders h's error as a page.
func (p *Portal) page(role string, h handler) http.Handler {
	return secure(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := p.session(r)
		if err != nil {
			if cogniscape.ErrorCode(err) == cogniscape.EUNAUTHORIZED {
				p.toSignin(w, r)
				return
			}
			p.fail(w, r, nil, err)
			return
		}
		if role == cogniscape.RoleAdmin && s.User.Role != cogniscape.RoleAdmin {
			p.renderError(w, r, s, http.StatusForbidden, "This page is for administrators of your organisation.")
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead && !p.validCSRF(r, s) {
			p.renderError(w, r, s, http.StatusForbidden, "The form was out of date or did not come from this page. Go back, reload and try again.")
			return
		}
		if err := h(w, r, s); err != nil {
			p.fail(w, r, s, err)
		}
	}))
}

// session returns the request's live session, or EUNAUTHORIZED.
func (p *Portal) session(r *http.Request) (*cogniscape.Session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" || len(c.Value) > 200 {
		return nil, cogniscape.Errorf(cogniscape.EUNAUTHORIZED, "not signed in")
	}
	return p.Users.SessionByToken(r.Context(), c.Value)
}

func (p *Portal) toSignin(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet || r.Header.Get("Accept") == "application/json" || r.URL.Query().Has("fragment") {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte("sign in again\n"))
		return
	}
	next := r.URL.RequestURI()
	http.Redirect(w, r, Prefix+"/signin?next="+url.QueryEscape(next), http.StatusSeeOther)
}

// csrfToken is the CSRF token of a session: an HMAC of the session token,
// which only this browser (HttpOnly cookie) and the server know.
func csrfToken(sessionToken string) string {
	m := hmac.New(sha256.New, []byte(sessionToken))
	m.Write([]byte("cogniscape csrf v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (p *Portal) csrfFor(r *http.Request) string {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return ""
	}
	return csrfToken(c.Value)
}

func (p *Portal) validCSRF(r *http.Request, s *cogniscape.Session) bool {
	want := p.csrfFor(r)
	if want == "" {
		return false
	}
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		got = r.PostFormValue("csrf")
	}
	return hmac.Equal([]byte(got), []byte(want))
}

// secureCookies reports whether cookies must carry Secure: when the request
// came over TLS or the public URL is https.
func (p *Portal) secureCookies(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(strings.ToLower(p.PublicURL), "https://")
}

// baseURL is where Jira reaches this server.
func (p *Portal) baseURL(r *http.Request) string {
	if p.PublicURL != "" {
		return strings.TrimRight(p.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// clientAddr is the client's IP address, for throttling and the audit log.
// Behind a trusted reverse proxy it is the right-most address of
// X-Forwarded-For that is not itself a trusted proxy: the left part of that
// header is whatever the client chose to send, so it never counts.
func (p *Portal) clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil || !p.trusted(addr) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a malformed hop: trust nothing further left
		}
		addr = hop.Unmap()
		if !p.trusted(addr) {
			break
		}
	}
	return addr.String()
}

func (p *Portal) trusted(addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, proxy := range p.TrustedProxies {
		if proxy.Contains(addr) {
			return true
		}
	}
	return false
}

// audit records an action of the session's user; a failure is logged, and
// reported to the caller, who decides whether the action may go on.
func (p *Portal) audit(ctx context.Context, r *http.Request, s *cogniscape.Session, action, detail string) error {
	err := p.Users.AppendAudit(ctx, &cogniscape.AuditEntry{CustomerID: s.Customer.ID, UserID: s.User.ID, Email: s.User.Email,
		Action: action, Detail: detail, Addr: p.clientAddr(r)})
	if err != nil {
		p.Logger.Error("audit", "action", action, "err", err)
	}
	return err
}

var errNotFound = cogniscape.Errorf(cogniscape.ENOTFOUND, "not found")

// fail renders err as an error page with the status its code maps to.
func (p *Portal) fail(w http.ResponseWriter, r *http.Request, s *cogniscape.Session, err error) {
	switch cogniscape.ErrorCode(err) {
	case cogniscape.ENOTFOUND:
		p.renderError(w, r, s, http.StatusNotFound, "There is nothing here. It may have been deleted, or the address may be wrong.")
	case cogniscape.EINVALID:
		p.renderError(w, r, s, http.StatusBadRequest, cogniscape.ErrorMessage(err))
	case cogniscape.EUNAUTHORIZED:
		p.toSignin(w, r)
	case cogniscape.EUNAVAILABLE:
		p.Logger.Error("portal request failed", "path", r.URL.Path, "err", err)
		p.renderError(w, r, s, http.StatusServiceUnavailable, "The store is not answering right now. Try again in a moment.")
	default:
		if errors.Is(err, context.Canceled) {
			return
		}
		p.Logger.Error("portal request failed", "path", r.URL.Path, "err", err)
		p.renderError(w, r, s, http.StatusInternalServerError, "Something went wrong on our side.")
	}
}

// view is what every page template gets.
type view struct {
	Title  string
	Nav    string // the active section
	S      *cogniscape.Session
	CSRF   string
	Admin  bool
	Static string // cache-busting version of the static files
	Flash  string
	D      any // the page's own data
}

func (p *Portal) render(w http.ResponseWriter, r *http.Request, s *cogniscape.Session, status int, page, title, nav string, d any) {
	t := p.pages[page]
	if t == nil {
		panic("portal: no template " + page)
	}
	v := view{Title: title, Nav: nav, S: s, Static: p.staticVer, D: d}
	if s != nil {
		v.CSRF = p.csrfFor(r)
		v.Admin = s.User.Role == cogniscape.RoleAdmin
	}
	var buf strings.Builder
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		p.Logger.Error("render", "page", page, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write([]byte(buf.String()))
}

// fragment renders one named template without the layout.
func (p *Portal) fragment(w http.ResponseWriter, name string, d any) {
	var buf strings.Builder
	if err := p.pages["setup.html"].ExecuteTemplate(&buf, name, d); err != nil {
		p.Logger.Error("render fragment", "name", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write([]byte(buf.String()))
}

type errorPage struct {
	Status  int
	Heading string
	Message string
}

func (p *Portal) renderError(w http.ResponseWriter, r *http.Request, s *cogniscape.Session, status int, msg string) {
	heading := map[int]string{400: "That did not work", 403: "Not allowed", 404: "Not found", 429: "Too many attempts",
		503: "Temporarily unavailable"}[status]
	if heading == "" {
		heading = "Something went wrong"
	}
	p.render(w, r, s, status, "error.html", heading, "", errorPage{Status: status, Heading: heading, Message: msg})
}

func (p *Portal) handleStatic(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	b, err := fs.ReadFile(assets, "static/"+name)
	if err != nil || strings.Contains(name, "/") {
		http.NotFound(w, r)
		return
	}
	switch {
	case strings.HasSuffix(name, ".css"):
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	case strings.HasSuffix(name, ".js"):
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	case strings.HasSuffix(name, ".svg"):
		w.Header().Set("Content-Type", "image/svg+xml")
	}
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Write(b)
}

func staticVersion() string {
	h := sha256.New()
	fs.WalkDir(assets, "static", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := fs.ReadFile(assets, path)
			h.Write(b)
		}
		return nil
	})
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))[:10]
}

func parseTemplates(funcs template.FuncMap) map[string]*template.Template {
	base := template.Must(template.New("").Funcs(funcs).ParseFS(assets, "templates/layout.html"))
	names, err := fs.Glob(assets, "templates/*.html")
	if err != nil {
		panic(err)
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimPrefix(n, "templates/")
		if name == "layout.html" {
			continue
		}
		out[name] = template.Must(template.Must(base.Clone()).ParseFS(assets, n))
	}
	return out
}

func (p *Portal) handleHome(w http.ResponseWriter, r *http.Request, s *cogniscape.Session) error {
	dest := Prefix + "/activity"
	if s.User.Role == cogniscape.RoleAdmin {
		// Until Jira has delivered something, the admin's place is the setup.
		ds, err := p.Events.Deliveries(r.Context(), s.Customer.ID, cogniscape.DeliveryFilter{Limit: 1})
		if err != nil {
			return err
		}
		if len(ds) == 0 {
			dest = Prefix + "/setup/jira"
		}
	}
	http.Redirect(w, r, dest, http.StatusSeeOther)
	return nil
}
