package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

func TestParseProxies(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		err  bool
	}{
		{"", nil, false},
		{"127.0.0.1", []string{"127.0.0.1/32"}, false},
		{"127.0.0.1, ::1 ,10.1.2.3/8", []string{"127.0.0.1/32", "::1/128", "10.0.0.0/8"}, false},
		{"::ffff:10.0.0.1", []string{"10.0.0.1/32"}, false},
		{"localhost", nil, true},
		{"10.0.0.0/33", nil, true},
	} {
		got, err := parseProxies(tc.in)
		if (err != nil) != tc.err {
			t.Errorf("parseProxies(%q) err = %v, want error %v", tc.in, err, tc.err)
			continue
		}
		var s []string
		for _, p := range got {
			s = append(s, p.String())
		}
		if !slices.Equal(s, tc.want) {
			t.Errorf("parseProxies(%q) = %v, want %v", tc.in, s, tc.want)
		}
	}
}

// serve refuses a --trusted-proxies value it cannot read, before doing anything.
func TestServeRejectsBadTrustedProxies(t *testing.T) {
	cmd := exec.Command(binary, "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--trusted-proxies", "proxy.internal")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), `"proxy.internal" is not an address`) {
		t.Fatalf("serve --trusted-proxies proxy.internal: %v\n%s", err, out)
	}
}
