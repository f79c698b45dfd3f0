package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/cogniscape/cogniscape"
	"github.com/cogniscape/cogniscape/internal/httpd"
	"github.com/cogniscape/cogniscape/internal/jira"
	"github.com/cogniscape/cogniscape/internal/mcp"
	"github.com/cogniscape/cogniscape/internal/projector"
	"github.com/cogniscape/cogniscape/internal/secret"
	"github.com/cogniscape/cogniscape/internal/sqlite"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	var c common
	fs := newFlagSet("serve", stderr, getenv, &c)
	maxBody := fs.Int64("max-body", httpd.DefaultMaxBody, "largest accepted webhook body in bytes (env COGNISCAPE_MAX_BODY)")
	tlsCert := fs.String("tls-cert", getenv("COGNISCAPE_TLS_CERT"), "PEM certificate file: serve HTTPS, reloading the file when it changes (env COGNISCAPE_TLS_CERT)")
	tlsKey := fs.String("tls-key", getenv("COGNISCAPE_TLS_KEY"), "PEM private key file for --tls-cert (env COGNISCAPE_TLS_KEY)")
	project := fs.Bool("projection", true, "project events into the graph in this process; false makes an ingest-only server (env COGNISCAPE_PROJECTION)")
	retention := fs.Duration("raw-retention", 7*24*time.Hour, "how long raw webhook bodies are kept after projection; 0 drops them at once (env COGNISCAPE_RAW_RETENTION)")
	trustedProxies := fs.String("trusted-proxies", getenv("COGNISCAPE_TRUSTED_PROXIES"), "comma-separated addresses or CIDR ranges of reverse proxies in front of Cogniscape whose X-Forwarded-For names the client, e.g. 127.0.0.1,::1; empty trusts none (env COGNISCAPE_TRUSTED_PROXIES)")
	debugAddr := fs.String("debug-addr", getenv("COGNISCAPE_DEBUG_ADDR"), "listen address for Go's profiler (/debug/pprof/), e.g. 127.0.0.1:6060; off when empty. Keep it on loopback: profiles reveal memory (env COGNISCAPE_DEBUG_ADDR)")
	demo := fs.Bool("demo", false, "start with a demo customer filled with 90 days of simulated Jira activity")
	if err := envFlags(fs, getenv, "max-body", "projection", "raw-retention"); err != nil {
		return err
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	proxies, err := parseProxies(*trustedProxies)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if getenv("GOMEMLIMIT") == "" {
		// A soft limit makes the collector work harder before the process
		// grows past what a small machine should give it; GOMEMLIMIT overrides.
		debug.SetMemoryLimit(256 << 20)
	}

	c.tls = *tlsCert != "" || *tlsKey != ""
	db, err := c.openStore()
	if err != nil {
		return err
	}
	defer db.Close()
	if c.database == "" {
		warnOpenPermissions(c.data, logger)
	}

	db.SetRawRetention(*retention)
	var fillDemo func(context.Context, func(), *slog.Logger)
	if *demo {
		if fillDemo, err = demoStart(ctx, &c, db, stdout); err != nil {
			return err
		}
	} else if err := firstStart(ctx, &c, db, stdout); err != nil {
		return err
	}

	proj := projector.New(db, jira.Normalize, logger)
	graph := &cogniscape.Reader{Store: db}
	srv := &httpd.Server{
		Addr: c.addr, PublicURL: c.publicURL, MaxBody: *maxBody, TLSCert: *tlsCert, TLSKey: *tlsKey,
		Customers: db, Events: db, Jira: jira.Source{}, Graph: graph, Appended: proj.Notify,
		MCP:   (&mcp.Server{Graph: graph, Logger: logger}).Handler(),
		Ready: db.Ping, Lag: db.ProjectionLag, LogSize: db.LogSize, Skipped: proj.Skipped, Logger: logger,
	}
	wirePortal(srv, db, graph, c.publicURL, logger).TrustedProxies = proxies
	if len(proxies) > 0 && *tlsCert == "" && !strings.HasPrefix(strings.ToLower(c.publicURL), "https://") {
		// Behind a proxy that terminates TLS the server sees plain HTTP: only
		// an https public URL tells it to mark session cookies Secure.
		logger.Warn("behind a reverse proxy without an https --public-url: portal session cookies are not marked Secure")
	}
	if err := srv.Open(); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	logger.Info("serving", "url", srv.URL(), "data", c.data)
	if *debugAddr != "" {
		stopDebug, err := serveDebug(*debugAddr, logger)
		if err != nil {
			return fmt.Errorf("debug listener: %w", err)
		}
		defer stopDebug()
	}

	workCtx, stopWork := context.WithCancel(context.Background())
	var workers sync.WaitGroup
	if *project {
		workers.Go(func() { proj.Run(workCtx) })
		// A shared database wakes the projector when any replica appends.
		if w, ok := db.(waker); ok {
			workers.Go(func() {
				for range w.Wake(workCtx) {
					proj.Notify()
				}
			})
		}
	}
	workers.Go(func() { sweepRawBodies(workCtx, db, *retention, logger) })
	if fillDemo != nil {
		workers.Go(func() { fillDemo(workCtx, proj.Wake, logger) }) // no webhooks to yield to
	}

	<-ctx.Done()
	logger.Info("shutting down: draining in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	stopWork()
	workers.Wait()
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	logger.Info("stopped")
	return nil
}

// firstStart creates a first customer on an empty data directory and prints
// its credentials once to the terminal (never to the log), so that one
// command is enough to try Cogniscape.
func firstStart(ctx context.Context, c *common, db cogniscape.Store, stdout io.Writer) error {
	// Replicas starting together on one empty database create one customer.
	cust, creds, err := db.CreateFirstCustomer(ctx, "Default")
	if err != nil || cust == nil {
		return err
	}
	return showNewCustomer(ctx, c, db, stdout, cust, creds)
}

// showNewCustomer prints a customer's credentials, which are shown only
// once and so before anything else can fail, then creates its first portal
// admin (COGNISCAPE_ADMIN_EMAIL) and prints how to sign in. An address that
// is already another customer's admin is not an error: the customer gets
// none, and the terminal says how to add one.
func showNewCustomer(ctx context.Context, c *common, db cogniscape.Store, stdout io.Writer, cust *cogniscape.Customer, creds cogniscape.Credentials) error {
	printCredentials(stdout, tenantJSON{CustomerKey: cust.Key, Name: cust.Name, JiraSecret: creds.JiraSecret,
		APIToken: creds.APIToken, WebhookURL: c.webhookURL(cust.Key)}, c.baseURL())
	email := envOr(c.getenv, "COGNISCAPE_ADMIN_EMAIL", firstAdminEmail)
	addAdmin := fmt.Sprintf("cogniscape user add --customer-key %s --email E --role admin", cust.Key)
	password, err := createFirstAdmin(ctx, db, cust.ID, email)
	switch {
	case cogniscape.ErrorCode(err) == cogniscape.ECONFLICT:
		fmt.Fprintf(stdout, "\nPortal: %s belongs to another customer; add an admin with: %s\n", email, addAdmin)
	case err != nil:
		return fmt.Errorf("%w (the customer above exists; add a portal admin with: %s)", err, addAdmin)
	default:
		printFirstAdmin(stdout, c.baseURL(), email, password)
	}
	return nil
}

// warnOpenPermissions warns when the data directory, or a file in it, is
// open to other users: Cogniscape creates them for the owner only, but a
// directory made beforehand or files restored from elsewhere keep their own
// modes, and the database holds every webhook body.
func warnOpenPermissions(dir string, logger *slog.Logger) {
	paths := []string{dir}
	for _, name := range []string{sqlite.FileName, sqlite.FileName + "-wal", secret.KeyFile} {
		paths = append(paths, filepath.Join(dir, name))
	}
	for _, p := range paths {
		if fi, err := os.Stat(p); err == nil && fi.Mode().Perm()&0o077 != 0 {
			logger.Warn("readable by other users; restrict it to the owner", "path", p, "mode", fi.Mode().Perm().String())
		}
	}
}

// sweepRawBodies drops raw bodies of projected events older than the
// retention, once an hour.
func sweepRawBodies(ctx context.Context, db cogniscape.Store, retention time.Duration, logger *slog.Logger) {
	if retention <= 0 {
		return // dropped at projection time
	}
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := db.DropRawBodies(ctx, time.Now().Add(-retention)); err != nil {
			logger.Warn("drop raw bodies", "err", err)
		} else if n > 0 {
			logger.Info("dropped raw bodies past retention", "events", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// serveDebug serves the Go profiler on its own listener, away from the
// public routes, so that it is never exposed with the webhook URL.
func serveDebug(addr string, logger *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	logger.Info("profiler listening", "addr", ln.Addr().String())
	return func() { srv.Close() }, nil
}

// parseProxies reads --trusted-proxies: addresses and CIDR ranges,
// separated by commas.
func parseProxies(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		var p netip.Prefix
		a, err := netip.ParseAddr(item)
		if err == nil {
			a = a.Unmap()
			p = netip.PrefixFrom(a, a.BitLen())
		} else if p, err = netip.ParsePrefix(item); err == nil {
			p = p.Masked()
		}
		if err != nil {
			return nil, fmt.Errorf("--trusted-proxies: %q is not an address or CIDR range", item)
		}
		out = append(out, p)
	}
	return out, nil
}
