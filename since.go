package cogniscape

import (
	"strconv"
	"time"
)

// ParseSince reads a period back from now (30m, 24h, 7d, 2w) or an RFC 3339
// time; empty means def before now.
func ParseSince(v string, def time.Duration, now time.Time) (time.Time, error) {
	if v == "" {
		return now.Add(-def), nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	bad := Errorf(EINVALID, "since must be like 24h, 7d, 2w or an RFC 3339 time")
	if len(v) < 2 {
		return time.Time{}, bad
	}
	n, err := strconv.Atoi(v[:len(v)-1])
	if err != nil || n < 0 || n > 100000 {
		return time.Time{}, bad
	}
	unit := map[byte]time.Duration{'m': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour}[v[len(v)-1]]
	if unit == 0 {
		return time.Time{}, bad
	}
	return now.Add(-time.Duration(n) * unit), nil
}
