package cogniscape

import (
	"context"
	"time"
)

// Customer is one tenant of Cogniscape. Every stored row belongs to exactly
// one customer, and every query is scoped to one.
type Customer struct {
	ID        int64
	Key       string // URL-safe, at least 128 random bits; part of the webhook URL
	Name      string
	CreatedAt time.Time
}

// Credentials are the secrets handed out once when a customer is created or
// rotated. The store keeps the Jira secret encrypted and the API token only as
// a hash, so these values cannot be read back later.
type Credentials struct {
	JiraSecret string
	APIToken   string
}

// CustomerService manages customers and their secrets.
type CustomerService interface {
	// CreateCustomer creates a customer with fresh credentials.
	CreateCustomer(ctx context.Context, name string) (*Customer, Credentials, error)
	// CreateFirstCustomer is CreateCustomer on a store without customers:
	// it returns a nil customer if one exists. Several processes or replicas
	// starting on one empty database create one customer between them.
	CreateFirstCustomer(ctx context.Context, name string) (*Customer, Credentials, error)
	// Customers lists all customers, oldest first.
	Customers(ctx context.Context) ([]Customer, error)
	// CustomerByKey returns ENOTFOUND for an unknown key.
	CustomerByKey(ctx context.Context, key string) (*Customer, error)
	// JiraSecret returns the customer's current webhook secret, read from the
	// store on every call so that a rotation takes effect at once, and its
	// version: an Event carrying it as SecretVersion is stored only while
	// the secret is still current. ENOTFOUND for an unknown key.
	JiraSecret(ctx context.Context, customerKey string) (customerID int64, secret []byte, version string, err error)
	// RotateJiraSecret replaces the secret; the old one stops working at once.
	RotateJiraSecret(ctx context.Context, customerKey string) (string, error)
	// CustomerByAPIToken authenticates a read token. EUNAUTHORIZED if unknown.
	CustomerByAPIToken(ctx context.Context, token string) (*Customer, error)
	// CreateAPIToken issues an additional read token for the customer.
	CreateAPIToken(ctx context.Context, customerID int64) (string, error)
	// RotateAPIToken revokes every read token of the customer and issues a
	// new one; the old ones stop working at once. ENOTFOUND for an unknown
	// key.
	RotateAPIToken(ctx context.Context, customerKey string) (string, error)
}

// SecretCache is implemented by stores that can hand out a customer's Jira
// secret from memory, without a database round trip per webhook. Another
// process may have rotated a cached secret away, so a delivery authenticated
// with one carries its version in Event.SecretVersion, and the store's Append
// refuses it with ECONFLICT unless that version is still current when the
// event is committed; the caller then authenticates again with JiraSecret.
type SecretCache interface {
	CachedJiraSecret(customerKey string) (customerID int64, secret []byte, version string, ok bool)
}

type customerCtxKey struct{}

// WithCustomer returns ctx carrying the customer a request was authenticated
// as; everything that reads the graph for that request is scoped to it.
func WithCustomer(ctx context.Context, c *Customer) context.Context {
	return context.WithValue(ctx, customerCtxKey{}, c)
}

// CustomerFrom returns the customer in ctx, or nil.
func CustomerFrom(ctx context.Context) *Customer {
	c, _ := ctx.Value(customerCtxKey{}).(*Customer)
	return c
}
