package main

import "testing"

func TestBaseURL(t *testing.T) {
	for _, tc := range []struct {
		publicURL, addr string
		tls             bool
		want            string
	}{
		{"https://cogniscape.example.com/", "127.0.0.1:8080", false, "https://cogniscape.example.com"},
		{"", "127.0.0.1:8080", false, "http://127.0.0.1:8080"},
		{"", "127.0.0.1:8443", true, "https://127.0.0.1:8443"},
		{"", ":8080", false, "http://localhost:8080"},
		{"", "0.0.0.0:8080", false, "http://localhost:8080"},
		{"", "[::]:8080", false, "http://localhost:8080"},
		{"", "[::1]:8080", false, "http://[::1]:8080"},
	} {
		c := common{publicURL: tc.publicURL, addr: tc.addr, tls: tc.tls}
		if got := c.baseURL(); got != tc.want {
			t.Errorf("baseURL(%q, %q, tls %v) = %q, want %q", tc.publicURL, tc.addr, tc.tls, got, tc.want)
		}
	}
}

func TestCheckPublicURL(t *testing.T) {
	for url, ok := range map[string]bool{
		"":                               true,
		"https://cogniscape.example.com": true,
		"http://10.0.0.5:8080/":          true,
		"https://example.com/cogniscape": true,
		"cogniscape.example.com":         false,
		"ftp://cogniscape.example.com":   false,
		"https://":                       false,
		"https://example.com/?x=1":       false,
		"javascript:alert(1)":            false,
		"https://example.com/#frag":      false,
	} {
		c := common{publicURL: url}
		if err := c.checkPublicURL(); (err == nil) != ok {
			t.Errorf("checkPublicURL(%q) = %v", url, err)
		}
	}
}
