// Package secret generates, encrypts and hashes the credentials Cogniscape
// hands to its customers: webhook secrets (kept encrypted, because HMAC needs
// the plain secret), and API tokens (kept only as hashes).
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cogniscape/cogniscape"
)

// ErrWrongKey means a master key cannot open the customer secrets a
// database already holds.
var ErrWrongKey = errors.New("the master key does not open the secrets in this database")

// KeyFile is the name of the master key file created in the data directory
// when COGNISCAPE_MASTER_KEY is not set.
const KeyFile = "master.key"

// Box encrypts small secrets with AES-256-GCM under a master key.
type Box struct{ aead cipher.AEAD }

// NewBox returns a Box for a 32-byte master key.
func NewBox(key []byte) (*Box, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("master key: want 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	return &Box{aead: aead}, nil
}

// Seal encrypts plain, binding it to context (the customer key) so that a
// ciphertext copied to another customer's row does not decrypt.
func (b *Box) Seal(plain []byte, context string) []byte {
	nonce := make([]byte, b.aead.NonceSize(), b.aead.NonceSize()+len(plain)+b.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return b.aead.Seal(nonce, nonce, plain, []byte(context))
}

// Open decrypts a value produced by Seal with the same context.
func (b *Box) Open(sealed []byte, context string) ([]byte, error) {
	n := b.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("open secret: ciphertext too short")
	}
	plain, err := b.aead.Open(nil, sealed[:n], sealed[n:], []byte(context))
	if err != nil {
		return nil, fmt.Errorf("open secret: %w (wrong master key?)", err)
	}
	return plain, nil
}

// ParseKey decodes a master key given as 64 hex digits or as standard or
// URL-safe base64 of 32 bytes.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if b, err := hex.DecodeString(s); err == nil && len(b) == 32 {
		return b, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == 32 {
			return b, nil
		}
	}
	return nil, errors.New("master key: want 32 bytes as 64 hex digits or base64 (generate one with: openssl rand -hex 32)")
}

// LoadKey returns the master key: from env (COGNISCAPE_MASTER_KEY's value) if
// it is not empty, else from dir/master.key, which is created with mode 0600
// on first use.
func LoadKey(env, dir string) ([]byte, error) {
	if env != "" {
		return ParseKey(env)
	}
	path := filepath.Join(dir, KeyFile)
	data, err := os.ReadFile(path)
	if err == nil {
		return ParseKey(string(data))
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read master key: %w", err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	// Written whole under a temporary name and then linked into place, so
	// that nobody ever reads a half-written key: not a process starting at
	// the same moment, nor the next start after a crash.
	f, err := os.CreateTemp(dir, KeyFile+".tmp*")
	if err != nil {
		return nil, fmt.Errorf("create master key: %w", err)
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return nil, fmt.Errorf("create master key: %w", err)
	}
	if _, err := f.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("write master key: %w", err)
	}
	if err := errors.Join(f.Sync(), f.Close()); err != nil {
		return nil, fmt.Errorf("write master key: %w", err)
	}
	if err := os.Link(f.Name(), path); errors.Is(err, fs.ErrExist) {
		return LoadKey("", dir) // another process won the race: use its key
	} else if err != nil {
		return nil, fmt.Errorf("create master key: %w", err)
	}
	if d, err := os.Open(dir); err == nil { // make the new name durable too
		d.Sync()
		d.Close()
	}
	return key, nil
}

// Random returns n random bytes encoded as unpadded URL-safe base64.
func Random(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// NewCustomerKey returns a URL-safe customer key of 144 random bits.
func NewCustomerKey() string { return Random(18) }

// NewJiraSecret returns a 43-character webhook secret of 256 random bits.
func NewJiraSecret() string { return Random(32) }

// NewCustomer returns a customer named name, created at now, with a new key
// and new credentials, for a store to insert.
func NewCustomer(name string, now time.Time) (*cogniscape.Customer, cogniscape.Credentials, error) {
	if name == "" {
		return nil, cogniscape.Credentials{}, cogniscape.Errorf(cogniscape.EINVALID, "customer name is required")
	}
	return &cogniscape.Customer{Key: NewCustomerKey(), Name: name, CreatedAt: now.UTC().Truncate(time.Millisecond)},
		cogniscape.Credentials{JiraSecret: NewJiraSecret(), APIToken: NewAPIToken()}, nil
}

// TokenPrefix starts every API token, so that leaked tokens are recognisable.
const TokenPrefix = "cgs_"

// NewAPIToken returns a read API token of 256 random bits.
func NewAPIToken() string { return TokenPrefix + Random(32) }

// HashToken returns the stored form of an API token. Tokens carry 256 random
// bits, so a plain SHA-256 is enough: there is nothing to brute-force.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}
