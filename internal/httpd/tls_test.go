package httpd

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func writeSelfSigned(t *testing.T, dir, cn string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: nil,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	// Write to temp names and rename, as certificate tools do.
	os.WriteFile(filepath.Join(dir, "cert.tmp"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(filepath.Join(dir, "key.tmp"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	os.Rename(filepath.Join(dir, "key.tmp"), filepath.Join(dir, "key.pem"))
	os.Rename(filepath.Join(dir, "cert.tmp"), filepath.Join(dir, "cert.pem"))
}

func servedCN(t *testing.T, addr string) string {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].Subject.CommonName
}

func TestTLSCertificateReloadsWithoutRestart(t *testing.T) {
	dir := t.TempDir()
	writeSelfSigned(t, dir, "first")
	s := &Server{Addr: "127.0.0.1:0", TLSCert: filepath.Join(dir, "cert.pem"), TLSKey: filepath.Join(dir, "key.pem"),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(t.Context())
	if s.URL()[:8] != "https://" {
		t.Fatalf("URL = %s", s.URL())
	}
	addr := s.ln.Addr().String()
	if cn := servedCN(t, addr); cn != "first" {
		t.Fatalf("served %q", cn)
	}
	// Make sure the new files get a later modification time.
	time.Sleep(20 * time.Millisecond)
	writeSelfSigned(t, dir, "renewed")
	later := time.Now().Add(2 * time.Second)
	os.Chtimes(filepath.Join(dir, "cert.pem"), later, later)
	deadline := time.Now().Add(5 * time.Second)
	for servedCN(t, addr) != "renewed" {
		if time.Now().After(deadline) {
			t.Fatal("renewed certificate never served")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// lockedBuffer is a log destination tests can read while the server writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A renewal that does not load keeps the previous certificate, and says so
// in the log: unnoticed, the old certificate would expire.
func TestTLSBrokenRenewalIsLoggedAndTheOldCertificateKept(t *testing.T) {
	dir := t.TempDir()
	writeSelfSigned(t, dir, "first")
	var log lockedBuffer
	s := &Server{Addr: "127.0.0.1:0", TLSCert: filepath.Join(dir, "cert.pem"), TLSKey: filepath.Join(dir, "key.pem"),
		Logger: slog.New(slog.NewTextHandler(&log, nil))}
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(t.Context())
	addr := s.ln.Addr().String()
	certFile := filepath.Join(dir, "cert.pem")
	if err := os.WriteFile(certFile, []byte("-----BEGIN CERTIFICATE-----\ntruncated"), 0o600); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(2 * time.Second)
	os.Chtimes(certFile, later, later)
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(log.String(), "do not load") {
		if time.Now().After(deadline) {
			t.Fatalf("the broken renewal was not logged:\n%s", log.String())
		}
		if cn := servedCN(t, addr); cn != "first" {
			t.Fatalf("served %q after a broken renewal", cn)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if n := strings.Count(log.String(), "do not load"); n != 1 {
		t.Errorf("logged %d times for one change of the files", n)
	}
}

func TestTLSNeedsBothFiles(t *testing.T) {
	s := &Server{Addr: "127.0.0.1:0", TLSCert: "cert.pem"}
	if err := s.Open(); err == nil {
		s.Shutdown(t.Context())
		t.Fatal("opened with a certificate but no key")
	}
}
