package httpd

import (
	"testing"
	"time"
)

func TestRejectLogWindow(t *testing.T) {
	var l rejectLog
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	if n, last := l.count(1, t0); n != 0 || !last.IsZero() {
		t.Fatalf("empty log: %d %v", n, last)
	}
	l.add(1, t0)
	l.add(1, t0.Add(time.Minute))
	l.add(2, t0)
	if n, last := l.count(1, t0.Add(-time.Hour)); n != 2 || !last.Equal(t0.Add(time.Minute)) {
		t.Errorf("customer 1: %d %v", n, last)
	}
	// A day later the slot of t0 is reused; the old counts are gone.
	later := t0.Add(24*time.Hour + rejectBucket)
	l.add(1, later)
	if n, _ := l.count(1, later.Add(-24*time.Hour)); n != 1 {
		t.Errorf("a day later: %d, want 1", n)
	}
	if n, last := l.count(1, later.Add(time.Hour)); n != 0 || !last.IsZero() {
		t.Errorf("since the future: %d %v", n, last)
	}
	if len(l.customers) != 2 {
		t.Errorf("%d customers tracked", len(l.customers))
	}
}
