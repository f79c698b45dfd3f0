package httpd

import (
	"sync"
	"time"
)

// rejectBucket is the width of one counting slot; a day is rejectSlots of them.
const (
	rejectBucket = 15 * time.Minute
	rejectSlots  = 24*4 + 1
)

// rejectLog counts, per known customer, webhook requests that failed
// authentication, in memory only: a rejected request must cost no database
// write, and a request for an unknown customer key must create no state at
// all. It holds at most one day of fixed-size slots per customer that exists.
type rejectLog struct {
	mu        sync.Mutex
	customers map[int64]*rejectCounts
}

type rejectCounts struct {
	slot [rejectSlots]struct {
		start int64 // Unix time of the bucket's start, in rejectBucket units
		n     int
	}
	last time.Time
}

func (l *rejectLog) add(customerID int64, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.customers == nil {
		l.customers = map[int64]*rejectCounts{}
	}
	c := l.customers[customerID]
	if c == nil {
		c = &rejectCounts{}
		l.customers[customerID] = c
	}
	b := at.UnixNano() / int64(rejectBucket)
	s := &c.slot[b%rejectSlots]
	if s.start != b {
		s.start, s.n = b, 0
	}
	s.n++
	if at.After(c.last) {
		c.last = at
	}
}

func (l *rejectLog) count(customerID int64, since time.Time) (int, time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.customers[customerID]
	if c == nil {
		return 0, time.Time{}
	}
	from := since.UnixNano() / int64(rejectBucket)
	n := 0
	for _, s := range c.slot {
		if s.n > 0 && s.start >= from {
			n += s.n
		}
	}
	if c.last.Before(since) {
		return n, time.Time{}
	}
	return n, c.last
}

// Rejected reports how many webhook requests for the customer failed
// authentication since the given time (counted in 15-minute slots, at most
// a day back, since this process started) and when the last one arrived
// (zero if none since then).
func (s *Server) Rejected(customerID int64, since time.Time) (n int, last time.Time) {
	return s.rejects.count(customerID, since)
}
