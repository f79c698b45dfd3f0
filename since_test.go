package cogniscape_test

import (
	"testing"
	"time"

	"github.com/cogniscape/cogniscape"
)

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"", now.Add(-time.Hour), true},
		{"24h", now.Add(-24 * time.Hour), true},
		{"7d", now.AddDate(0, 0, -7), true},
		{"2w", now.AddDate(0, 0, -14), true},
		{"30m", now.Add(-30 * time.Minute), true},
		{"2026-03-01T00:00:00Z", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), true},
		{"7x", time.Time{}, false},
		{"d", time.Time{}, false},
		{"-1d", time.Time{}, false},
		{"99999999d", time.Time{}, false},
		{"yesterday", time.Time{}, false},
	} {
		got, err := cogniscape.ParseSince(tc.in, time.Hour, now)
		if (err == nil) != tc.ok || (tc.ok && !got.Equal(tc.want)) {
			t.Errorf("ParseSince(%q) = %v, %v", tc.in, got, err)
		}
	}
}
