package secret

import "testing"

func TestCache(t *testing.T) {
	box, err := NewBox(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	var c Cache
	if _, _, _, ok := c.Get("k"); ok {
		t.Fatal("empty cache answered")
	}
	v1 := box.Seal([]byte("one"), "k")
	if plain, err := c.Open(box, "k", 7, v1); err != nil || string(plain) != "one" {
		t.Fatalf("Open = %q, %v", plain, err)
	}
	if id, plain, version, ok := c.Get("k"); !ok || id != 7 || string(plain) != "one" || version != string(v1) {
		t.Fatalf("Get = %d %q %q %v", id, plain, version, ok)
	}
	// A rotation: another sealed value replaces the secret and its version.
	v2 := box.Seal([]byte("two"), "k")
	if plain, _ := c.Open(box, "k", 7, v2); string(plain) != "two" {
		t.Fatalf("Open after rotation = %q", plain)
	}
	if _, plain, version, _ := c.Get("k"); string(plain) != "two" || version != string(v2) {
		t.Fatalf("Get after rotation = %q %q", plain, version)
	}
	// A value sealed for another customer does not open.
	if _, err := c.Open(box, "other", 8, v2); err == nil {
		t.Fatal("a secret sealed for k opened for another customer")
	}
	c.Forget("k")
	if _, _, _, ok := c.Get("k"); ok {
		t.Fatal("forgotten secret still cached")
	}
}
