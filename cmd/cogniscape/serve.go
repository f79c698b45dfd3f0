package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"time"

	"github.com/cogniscape/cogniscape/internal/httpd"
	"github.com/cogniscape/cogniscape/internal/jira"
	"github.com/cogniscape/cogniscape/internal/sqlite"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	var c common
	fs := newFlagSet("serve", stderr, getenv, &c)
	maxBody := fs.Int64("max-body", envInt(getenv, "COGNISCAPE_MAX_BODY", httpd.DefaultMaxBody), "largest accepted webhook body in bytes (env COGNISCAPE_MAX_BODY)")
	tlsCert := fs.String("tls-cert", getenv("COGNISCAPE_TLS_CERT"), "PEM certificate file: serve HTTPS, reloading the file when it changes (env COGNISCAPE_TLS_CERT)")
	tlsKey := fs.String("tls-key", getenv("COGNISCAPE_TLS_KEY"), "PEM private key file for --tls-cert (env COGNISCAPE_TLS_KEY)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))

	db, err := c.openStore()
	if err != nil {
		return err
	}
	defer db.Close()

	if err := firstStart(ctx, &c, db, stdout); err != nil {
		return err
	}

	srv := &httpd.Server{
		Addr: c.addr, PublicURL: c.publicURL, MaxBody: *maxBody, TLSCert: *tlsCert, TLSKey: *tlsKey,
		Customers: db, Events: db, Jira: jira.Source{},
		Ready: db.Ping, LogSize: db.LogSize, Logger: logger,
	}
	if err := srv.Open(); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	logger.Info("serving", "url", srv.URL(), "data", c.data)

	<-ctx.Done()
	logger.Info("shutting down: draining in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	logger.Info("stopped")
	return nil
}

// firstStart creates a first customer on an empty data directory and prints
// its credentials once to the terminal (never to the log), so that one
// command is enough to try Cogniscape.
func firstStart(ctx context.Context, c *common, db *sqlite.DB, stdout io.Writer) error {
	existing, err := db.Customers(ctx)
	if err != nil || len(existing) > 0 {
		return err
	}
	cust, creds, err := db.CreateCustomer(ctx, "Default")
	if err != nil {
		return fmt.Errorf("create first customer: %w", err)
	}
	printCredentials(stdout, tenantJSON{CustomerKey: cust.Key, Name: cust.Name, JiraSecret: creds.JiraSecret,
		APIToken: creds.APIToken, WebhookURL: c.webhookURL(cust.Key)}, c.baseURL())
	return nil
}

func envInt(getenv func(string) string, key string, def int64) int64 {
	if v, err := strconv.ParseInt(getenv(key), 10, 64); err == nil {
		return v
	}
	return def
}
