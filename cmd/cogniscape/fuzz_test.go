package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/cogniscape/cogniscape/internal/httpd"
	"github.com/cogniscape/cogniscape/internal/jira"
	"github.com/cogniscape/cogniscape/internal/secret"
	"github.com/cogniscape/cogniscape/internal/sqlite"
)

// FuzzWebhook drives the whole request path (limits, authentication,
// inspection, append) with arbitrary bodies and headers. Whatever arrives,
// the answer is never a 5xx, and a 200 always means the event is stored.
func FuzzWebhook(f *testing.F) {
	for _, dir := range []string{"cloud", "datacenter", "ignored"} {
		files, _ := filepath.Glob(filepath.Join("testdata", "jira", dir, "*.json"))
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b, uint8(0), "")
			f.Add(b, uint8(1), "sha256=00")
		}
	}
	f.Add([]byte(`{"webhookEvent":"jira:issue_created","timestamp":"x","issue":{"self":"::"}}`), uint8(0), "")
	f.Add([]byte(`{"webhookEvent":null}`), uint8(2), "")

	dir := f.TempDir()
	key, err := secret.LoadKey("", dir)
	if err != nil {
		f.Fatal(err)
	}
	db, err := sqlite.Open(dir, key)
	if err != nil {
		f.Fatal(err)
	}
	defer db.Close()
	cust, creds, err := db.CreateCustomer(context.Background(), "Fuzz")
	if err != nil {
		f.Fatal(err)
	}
	srv := &httpd.Server{Customers: db, Events: db, Jira: jira.Source{}, MaxBody: 1 << 20,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	h := srv.Handler()

	f.Fuzz(func(t *testing.T, body []byte, mode uint8, header string) {
		req := httptest.NewRequest("POST", "/api/v1/events/jira/"+cust.Key, bytes.NewReader(body))
		switch mode % 4 {
		case 0: // correctly signed: exercises everything after authentication
			req.Header.Set(jira.HeaderSignature, jira.Sign(body, []byte(creds.JiraSecret)))
			req.Header.Set(jira.HeaderIdentifier, header)
		case 1: // an arbitrary signature header
			req.Header.Set(jira.HeaderSignature, header)
		case 2:
			req.Header.Set(jira.HeaderToken, creds.JiraSecret)
			req.Header.Set(jira.HeaderRetry, header)
		case 3:
			req.Header.Set("Authorization", header)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d for bad input: %s", rec.Code, rec.Body)
		}
		if rec.Code == http.StatusOK {
			var out map[string]string
			if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out["status"] == "" {
				t.Fatalf("200 without a status: %s", rec.Body)
			}
		}
		if mode%4 == 1 && rec.Code == http.StatusOK && header != jira.Sign(body, []byte(creds.JiraSecret)) {
			t.Fatalf("accepted a forged signature %q", header)
		}
	})
}
