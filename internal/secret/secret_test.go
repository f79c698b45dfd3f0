package secret

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func TestBoxRoundTripAndContextBinding(t *testing.T) {
	key, err := ParseKey("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
	if err != nil {
		t.Fatal(err)
	}
	box, err := NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	sealed := box.Seal([]byte("s3cret"), "customerA")
	if bytes.Contains(sealed, []byte("s3cret")) {
		t.Fatal("ciphertext contains the plain secret")
	}
	plain, err := box.Open(sealed, "customerA")
	if err != nil || string(plain) != "s3cret" {
		t.Fatalf("Open = %q, %v", plain, err)
	}
	if _, err := box.Open(sealed, "customerB"); err == nil {
		t.Fatal("ciphertext opened under another customer's context")
	}
	if _, err := box.Open(sealed[:5], "customerA"); err == nil {
		t.Fatal("truncated ciphertext opened")
	}
}

func TestParseKey(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", true},
		{"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", true},
		{"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", true},
		{"00010203", false},
		{"", false},
		{"not a key at all, definitely not", false},
	} {
		_, err := ParseKey(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("ParseKey(%q) err = %v, want ok=%v", tc.in, err, tc.ok)
		}
	}
}

func TestLoadKeyCreatesFileOnceWithMode0600(t *testing.T) {
	dir := t.TempDir()
	k1, err := LoadKey("", dir)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode = %v, want 0600", fi.Mode().Perm())
	}
	k2, err := LoadKey("", dir)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("second load gave a different key (%v)", err)
	}
	k3, err := LoadKey("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", dir)
	if err != nil || bytes.Equal(k1, k3) {
		t.Fatalf("env key not preferred over the file (%v)", err)
	}
}

func TestGeneratedCredentials(t *testing.T) {
	if k := NewCustomerKey(); len(k) < 22 {
		t.Fatalf("customer key %q shorter than 128 bits", k)
	}
	if s := NewJiraSecret(); len(s) < 32 {
		t.Fatalf("secret %q shorter than 32 characters", s)
	}
	if NewAPIToken() == NewAPIToken() {
		t.Fatal("tokens repeat")
	}
	if bytes.Equal(HashToken("a"), HashToken("b")) {
		t.Fatal("hashes collide")
	}
}

// Processes starting together on a new data directory agree on one key,
// and none reads a key file half written.
func TestLoadKeyConcurrentStarts(t *testing.T) {
	for range 20 {
		dir := t.TempDir()
		keys := make([][]byte, 8)
		errs := make([]error, 8)
		var wg sync.WaitGroup
		for i := range keys {
			wg.Go(func() { keys[i], errs[i] = LoadKey("", dir) })
		}
		wg.Wait()
		for i := range keys {
			if errs[i] != nil || !bytes.Equal(keys[i], keys[0]) {
				t.Fatalf("start %d: %x, %v (first: %x)", i, keys[i], errs[i], keys[0])
			}
		}
		if leftovers, _ := filepath.Glob(filepath.Join(dir, KeyFile+".tmp*")); len(leftovers) != 0 {
			t.Fatalf("temporary key files left: %v", leftovers)
		}
	}
}
