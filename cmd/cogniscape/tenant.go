package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/cogniscape/cogniscape"
)

type tenantJSON struct {
	CustomerKey string    `json:"customer_key"`
	Name        string    `json:"name"`
	JiraSecret  string    `json:"jira_secret,omitempty"`
	APIToken    string    `json:"api_token,omitempty"`
	WebhookURL  string    `json:"webhook_url"`
	CreatedAt   time.Time `json:"created_at"`
}

func runTenantCreate(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	var c common
	fs := newFlagSet("tenant create", stderr, getenv, &c)
	name := fs.String("name", "", "customer name (required)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *name == "" {
		return usageError{"tenant create: --name is required"}
	}
	db, err := c.openStore()
	if err != nil {
		return err
	}
	defer db.Close()
	cust, creds, err := db.CreateCustomer(ctx, *name)
	if err != nil {
		return err
	}
	t := tenantJSON{CustomerKey: cust.Key, Name: cust.Name, JiraSecret: creds.JiraSecret, APIToken: creds.APIToken,
		WebhookURL: c.webhookURL(cust.Key), CreatedAt: cust.CreatedAt}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(t)
	}
	printCredentials(stdout, t, c.baseURL())
	return nil
}

// printCredentials shows a new customer's secrets once, on the terminal only.
func printCredentials(w io.Writer, t tenantJSON, baseURL string) {
	fmt.Fprintf(w, `Customer %q created. These secrets are shown once; store them now.

  Webhook URL:  %s
  Jira secret:  %s
  API token:    %s

Jira Cloud: System → WebHooks → Create, paste the URL and the secret.
Jira Data Center/Server: paste the URL and add the header  X-Cogniscape-Token: <Jira secret>
Check deliveries:  curl -H 'Authorization: Bearer <API token>' %s/api/v1/deliveries
`, t.Name, t.WebhookURL, t.JiraSecret, t.APIToken, baseURL)
}

func runTenantList(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	var c common
	fs := newFlagSet("tenant list", stderr, getenv, &c)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	db, err := c.openStore()
	if err != nil {
		return err
	}
	defer db.Close()
	customers, err := db.Customers(ctx)
	if err != nil {
		return err
	}
	list := make([]tenantJSON, 0, len(customers))
	for _, cu := range customers {
		list = append(list, tenantJSON{CustomerKey: cu.Key, Name: cu.Name, WebhookURL: c.webhookURL(cu.Key), CreatedAt: cu.CreatedAt})
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(map[string]any{"customers": list})
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tCUSTOMER KEY\tCREATED\tWEBHOOK URL")
	for _, t := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Name, t.CustomerKey, t.CreatedAt.Format(time.RFC3339), t.WebhookURL)
	}
	return tw.Flush()
}

func runTenantRotate(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	var c common
	fs := newFlagSet("tenant rotate-secret", stderr, getenv, &c)
	key := fs.String("customer-key", "", "the customer's key (required)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *key == "" {
		return usageError{"tenant rotate-secret: --customer-key is required"}
	}
	db, err := c.openStore()
	if err != nil {
		return err
	}
	defer db.Close()
	s, err := db.RotateJiraSecret(ctx, *key)
	if err != nil {
		return fmt.Errorf("rotate secret: %w", err)
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(map[string]string{"customer_key": *key, "jira_secret": s, "webhook_url": c.webhookURL(*key)})
	}
	fmt.Fprintf(stdout, "New Jira secret: %s\nThe old secret no longer works: update the webhook in Jira now.\n", s)
	return nil
}

func runTenantRotateToken(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	var c common
	fs := newFlagSet("tenant rotate-token", stderr, getenv, &c)
	key := fs.String("customer-key", "", "the customer's key (required)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *key == "" {
		return usageError{"tenant rotate-token: --customer-key is required"}
	}
	db, err := c.openStore()
	if err != nil {
		return err
	}
	defer db.Close()
	tok, err := db.RotateAPIToken(ctx, *key)
	if err != nil {
		return fmt.Errorf("rotate token: %w", err)
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(map[string]string{"customer_key": *key, "api_token": tok})
	}
	fmt.Fprintf(stdout, "New API token: %s\nEvery earlier API token of this customer no longer works.\n", tok)
	return nil
}

func runDeliveries(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	var c common
	fs := newFlagSet("deliveries", stderr, getenv, &c)
	key := fs.String("customer-key", "", "the customer's key (required)")
	limit := fs.Int("limit", 50, "how many rows, newest first")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *key == "" {
		return usageError{"deliveries: --customer-key is required"}
	}
	db, err := c.openStore()
	if err != nil {
		return err
	}
	defer db.Close()
	cust, err := db.CustomerByKey(ctx, *key)
	if err != nil {
		return err
	}
	ds, err := db.Deliveries(ctx, cust.ID, cogniscape.DeliveryFilter{Limit: *limit})
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(map[string]any{"deliveries": ds})
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RECEIVED\tEVENT\tOUTCOME\tIDENTIFIER\tRETRY\tSIZE\tREASON")
	for _, d := range ds {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%s\n", d.ReceivedAt.Format(time.RFC3339), d.Event, d.Outcome, d.Identifier, d.Retry, d.Size, d.Reason)
	}
	return tw.Flush()
}
