package secret

import (
	"bytes"
	"sync"
)

// Cache keeps customers' decrypted webhook secrets by customer key, each
// with the sealed value it came from. The sealed value is its version: a
// fresh random nonce makes it unique to each rotation, so a store can check
// that a cached secret is still the customer's by comparing it with the
// database's. The zero Cache is ready to use.
type Cache struct{ m sync.Map }

type cachedSecret struct {
	customerID    int64
	sealed, plain []byte
}

// Open returns the plain secret of sealed, read for this customer from the
// database just now, and remembers it. It decrypts only when the cached
// secret came from another sealed value.
func (c *Cache) Open(box *Box, customerKey string, customerID int64, sealed []byte) ([]byte, error) {
	if v, ok := c.m.Load(customerKey); ok {
		if s := v.(cachedSecret); bytes.Equal(s.sealed, sealed) {
			return s.plain, nil
		}
	}
	plain, err := box.Open(sealed, customerKey)
	if err != nil {
		return nil, err
	}
	c.m.Store(customerKey, cachedSecret{customerID: customerID, sealed: sealed, plain: plain})
	return plain, nil
}

// Get returns the secret Open last remembered for the customer, and its
// version.
func (c *Cache) Get(customerKey string) (customerID int64, plain []byte, version string, ok bool) {
	v, ok := c.m.Load(customerKey)
	if !ok {
		return 0, nil, "", false
	}
	s := v.(cachedSecret)
	return s.customerID, s.plain, string(s.sealed), true
}

// Forget drops the customer's secret (rotated here, or gone).
func (c *Cache) Forget(customerKey string) { c.m.Delete(customerKey) }
