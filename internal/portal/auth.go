package portal

import (
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cogniscape/cogniscape"
)

// Sign-in throttling: failures within the window, per account and per
// client address. A blocked attempt does not even check the password.
const (
	throttleWindow     = 15 * time.Minute
	maxFailsPerAccount = 5
	maxFailsPerAddr    = 20
	maxThrottleKeys    = 10000
)

// throttle counts failed sign-ins in memory. An attempt is counted as a
// failure before its password is checked and taken back if it succeeds, so
// that concurrent guesses cannot all slip past the limit while the slow
// check runs. It is bounded: beyond maxThrottleKeys, expired entries, then
// keys under their limit, then arbitrary ones are dropped.
type throttle struct {
	mu    sync.Mutex
	fails map[string][]time.Time // "a:<email>" or "i:<address>" → failure times, oldest first
}

func newThrottle() *throttle { return &throttle{fails: map[string][]time.Time{}} }

func limitOf(key string) int {
	if strings.HasPrefix(key, "a:") {
		return maxFailsPerAccount
	}
	return maxFailsPerAddr
}

// attempt reserves one try for keys: it returns how long the caller must
// wait, or 0 and a success func to call if the password turns out right.
// Until then the attempt counts as a failure.
func (t *throttle) attempt(now time.Time, keys ...string) (wait time.Duration, success func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range keys {
		fs := t.prune(k, now)
		if n := len(fs); n >= limitOf(k) {
			// Free again once enough of the failures have left the window.
			wait = max(wait, fs[n-limitOf(k)].Add(throttleWindow).Sub(now))
		}
	}
	if wait > 0 {
		return wait, nil
	}
	t.makeRoom(now, len(keys))
	for _, k := range keys {
		t.fails[k] = append(t.fails[k], now)
	}
	return 0, func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		for _, k := range keys {
			fs := t.fails[k]
			if i := slices.Index(fs, now); i >= 0 {
				fs = slices.Delete(fs, i, i+1)
			}
			if len(fs) == 0 {
				delete(t.fails, k)
			} else {
				t.fails[k] = fs
			}
		}
	}
}

func (t *throttle) prune(k string, now time.Time) []time.Time {
	fs := t.fails[k]
	i := 0
	for i < len(fs) && !fs[i].After(now.Add(-throttleWindow)) {
		i++
	}
	if i > 0 {
		fs = fs[i:]
		if len(fs) == 0 {
			delete(t.fails, k)
		} else {
			t.fails[k] = fs
		}
	}
	return fs
}

// makeRoom keeps the map within maxThrottleKeys with n keys to come. Keys
// at their limit go last: dropping one would lift a block.
func (t *throttle) makeRoom(now time.Time, n int) {
	if len(t.fails)+n <= maxThrottleKeys {
		return
	}
	for k := range t.fails {
		t.prune(k, now)
	}
	for _, blocked := range []bool{false, true} {
		for k, fs := range t.fails {
			if len(t.fails)+n <= maxThrottleKeys {
				return
			}
			if blocked || len(fs) < limitOf(k) {
				delete(t.fails, k)
			}
		}
	}
}

func (t *throttle) clear(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.fails, key)
}

// throttleAddr is the client address a throttle key names: the address
// itself, or its /64 for IPv6, where one client holds a whole /64.
func throttleAddr(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil || !a.Is6() || a.Is4In6() {
		return addr
	}
	p, _ := a.Prefix(64)
	return p.String()
}

func normEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }

// safeNext keeps a redirect target inside the portal.
func safeNext(next string) string {
	if !strings.HasPrefix(next, Prefix+"/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") ||
		strings.HasPrefix(next, Prefix+"/signin") {
		return Prefix + "/"
	}
	return next
}

type signinPage struct {
	Email, Next, Error, Notice string
	CSRF                       string
}

// signinToken returns the sign-in form's CSRF token, setting the cookie that
// it must match when the form comes back.
func (p *Portal) signinToken(w http.ResponseWriter, r *http.Request, fresh bool) string {
	if c, err := r.Cookie(signinCookie); err == nil && len(c.Value) >= 20 && len(c.Value) < 100 && !fresh {
		return c.Value
	}
	b := make([]byte, 24)
	rand.Read(b)
	tok := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: signinCookie, Value: tok, Path: Prefix, HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: p.secureCookies(r), MaxAge: 3600})
	return tok
}

func (p *Portal) handleSigninForm(w http.ResponseWriter, r *http.Request) {
	if _, err := p.session(r); err == nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	d := signinPage{Next: safeNext(r.URL.Query().Get("next")), CSRF: p.signinToken(w, r, false)}
	if r.URL.Query().Has("signedout") {
		d.Notice = "You are signed out."
	}
	p.render(w, r, nil, http.StatusOK, "signin.html", "Sign in", "", d)
}

func (p *Portal) handleSignin(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		p.renderError(w, r, nil, http.StatusBadRequest, "The form could not be read.")
		return
	}
	email := normEmail(r.PostFormValue("email"))
	d := signinPage{Email: email, Next: safeNext(r.PostFormValue("next"))}
	c, err := r.Cookie(signinCookie)
	if err != nil || c.Value == "" || !hmac.Equal([]byte(c.Value), []byte(r.PostFormValue("csrf"))) {
		d.CSRF = p.signinToken(w, r, true)
		d.Error = "The sign-in form had expired. Please try again."
		p.render(w, r, nil, http.StatusForbidden, "signin.html", "Sign in", "", d)
		return
	}
	d.CSRF = c.Value
	now := p.Now()
	keys := []string{"a:" + email, "i:" + throttleAddr(p.clientAddr(r))}
	wait, succeeded := p.throttle.attempt(now, keys...)
	if wait > 0 {
		mins := int(math.Ceil(wait.Minutes()))
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		d.Error = fmt.Sprintf("Too many failed sign-in attempts. Try again in %d minute%s.", mins, plural(mins))
		p.render(w, r, nil, http.StatusTooManyRequests, "signin.html", "Sign in", "", d)
		return
	}
	pw := r.PostFormValue("password")
	user, hash, err := p.Users.UserByEmail(r.Context(), email)
	if err != nil && cogniscape.ErrorCode(err) != cogniscape.ENOTFOUND {
		p.fail(w, r, nil, err)
		return
	}
	if user == nil {
		hash = p.dummyHash // the same work whether or not the account exists
	}
	ok := p.verify(hash, pw) && user != nil && email != "" && pw != ""
	if !ok {
		if user != nil {
			p.Users.AppendAudit(r.Context(), &cogniscape.AuditEntry{CustomerID: user.CustomerID, UserID: user.ID, Email: user.Email,
				Action: "signin.failed", Addr: p.clientAddr(r)})
		}
		d.Error = "The email address or the password is not right."
		p.render(w, r, nil, http.StatusUnauthorized, "signin.html", "Sign in", "", d)
		return
	}
	succeeded()
	p.throttle.clear(keys[0])
	if err := p.startSession(w, r, user); err != nil {
		p.fail(w, r, nil, err)
		return
	}
	p.Users.AppendAudit(r.Context(), &cogniscape.AuditEntry{CustomerID: user.CustomerID, UserID: user.ID, Email: user.Email,
		Action: "signin", Addr: p.clientAddr(r)})
	http.SetCookie(w, &http.Cookie{Name: signinCookie, Path: Prefix, MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: p.secureCookies(r)})
	http.Redirect(w, r, d.Next, http.StatusSeeOther)
}

// verify checks a password, bounding how many hashes run at once (each
// takes 19 MiB).
func (p *Portal) verify(hash, pw string) bool {
	p.hashSem <- struct{}{}
	defer func() { <-p.hashSem }()
	return VerifyPassword(hash, pw)
}

func (p *Portal) startSession(w http.ResponseWriter, r *http.Request, user *cogniscape.User) error {
	expires := p.Now().Add(p.SessionTTL)
	token, err := p.Users.CreateSession(r.Context(), user.ID, expires)
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: Prefix, HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: p.secureCookies(r), Expires: expires, MaxAge: int(p.SessionTTL / time.Second)})
	return nil
}

func (p *Portal) handleSignout(w http.ResponseWriter, r *http.Request, s *cogniscape.Session) error {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := p.Users.DeleteSession(r.Context(), c.Value); err != nil {
			return err
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Path: Prefix, MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: p.secureCookies(r)})
	http.Redirect(w, r, Prefix+"/signin?signedout=1", http.StatusSeeOther)
	return nil
}

type accountPage struct {
	Error, Notice string
	Audit         []cogniscape.AuditEntry
	MinLength     int
}

func (p *Portal) handleAccount(w http.ResponseWriter, r *http.Request, s *cogniscape.Session) error {
	d := accountPage{}
	if r.URL.Query().Has("changed") {
		d.Notice = "Your password was changed. Every other session was signed out."
	}
	return p.renderAccount(w, r, s, http.StatusOK, d)
}

func (p *Portal) renderAccount(w http.ResponseWriter, r *http.Request, s *cogniscape.Session, status int, d accountPage) error {
	d.MinLength = MinPasswordLength
	log, err := p.Users.AuditLog(r.Context(), s.Customer.ID, 200)
	if err != nil {
		return err
	}
	for _, e := range log {
		if e.UserID == s.User.ID && len(d.Audit) < 15 {
			d.Audit = append(d.Audit, e)
		}
	}
	p.render(w, r, s, status, "account.html", "Your account", "account", d)
	return nil
}

func (p *Portal) handlePassword(w http.ResponseWriter, r *http.Request, s *cogniscape.Session) error {
	now := p.Now()
	keys := []string{"a:" + s.User.Email, "i:" + throttleAddr(p.clientAddr(r))}
	wait, succeeded := p.throttle.attempt(now, keys...)
	if wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		return p.renderAccount(w, r, s, http.StatusTooManyRequests, accountPage{Error: "Too many wrong passwords. Try again later."})
	}
	_, hash, err := p.Users.UserByEmail(r.Context(), s.User.Email)
	if err != nil {
		return err
	}
	if !p.verify(hash, r.PostFormValue("current")) {
		return p.renderAccount(w, r, s, http.StatusBadRequest, accountPage{Error: "The current password is not right."})
	}
	succeeded()
	pw := r.PostFormValue("new")
	if err := CheckPassword(pw); err != nil {
		return p.renderAccount(w, r, s, http.StatusBadRequest, accountPage{Error: capitalise(err.Error()) + "."})
	}
	if pw != r.PostFormValue("confirm") {
		return p.renderAccount(w, r, s, http.StatusBadRequest, accountPage{Error: "The two new passwords differ."})
	}
	newHash, err := HashPassword(pw)
	if err != nil {
		return err
	}
	if err := p.Users.SetPassword(r.Context(), s.User.ID, newHash); err != nil {
		return err
	}
	p.audit(r.Context(), r, s, "password.change", "")
	// Every session ended with the change; this browser gets a new one.
	if err := p.startSession(w, r, &s.User); err != nil {
		return err
	}
	http.Redirect(w, r, Prefix+"/account?changed=1", http.StatusSeeOther)
	return nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
