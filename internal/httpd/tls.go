package httpd

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// certReloader serves a certificate from files and reloads it when they
// change, so that a renewal needs no restart.
type certReloader struct {
	certFile, keyFile string
	logger            *slog.Logger

	mu      sync.Mutex
	cert    *tls.Certificate
	modTime time.Time // of the files when they were last loaded, or last failed to load
	checked time.Time
}

func newCertReloader(certFile, keyFile string, logger *slog.Logger) (*certReloader, error) {
	if certFile == "" || keyFile == "" {
		return nil, fmt.Errorf("TLS needs both --tls-cert and --tls-key")
	}
	c := &certReloader{certFile: certFile, keyFile: keyFile, logger: logger}
	c.modTime = c.latestModTime()
	cert, err := c.load()
	if err != nil {
		return nil, err
	}
	c.cert = cert
	return c, nil
}

func (c *certReloader) load() (*tls.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return nil, fmt.Errorf("load TLS certificate: %w", err)
	}
	return &cert, nil
}

func (c *certReloader) latestModTime() time.Time {
	var latest time.Time
	for _, f := range []string{c.certFile, c.keyFile} {
		if fi, err := os.Stat(f); err == nil && fi.ModTime().After(latest) {
			latest = fi.ModTime()
		}
	}
	return latest
}

// GetCertificate is tls.Config.GetCertificate. It looks at the files at most
// once a second. A renewal that fails to load keeps the old certificate and
// is logged, once per change of the files: left unnoticed, the old
// certificate would expire.
func (c *certReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := time.Now(); now.Sub(c.checked) >= time.Second {
		c.checked = now
		// Read the times before the files: a change landing while they are
		// read is then seen at the next look.
		if mod := c.latestModTime(); !mod.Equal(c.modTime) {
			c.modTime = mod
			cert, err := c.load()
			if err != nil {
				c.logger.Warn("TLS certificate files changed but do not load; still serving the previous certificate", "err", err)
			} else {
				c.cert = cert
				c.logger.Info("TLS certificate reloaded", "cert", c.certFile)
			}
		}
	}
	return c.cert, nil
}
