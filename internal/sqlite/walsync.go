package sqlite

import (
	"errors"
	"fmt"
	"os"
	"sync"
)

// walSyncer makes the writer's commits durable. The writer commits with
// synchronous=NORMAL, so a COMMIT writes its frames to the WAL without
// waiting for the disk, and hands the committed jobs here; the syncer
// fsyncs the WAL and only then tells each job it is done. While one commit
// is being synced the writer already runs the next group of jobs in a new
// transaction, so the disk's latency and the writer's CPU overlap instead
// of adding up. The writer commits again only once the syncer is idle (it
// holds the syncer's token), so commits never outnumber fsyncs and groups
// grow rather than shrink.
//
// The durability promise is the same as synchronous=FULL's: nobody hears
// that a write succeeded before the WAL frames of its commit, and of every
// commit before it, are on disk. A crash before the fsync loses at most
// commits nobody was told about; SQLite's recovery discards a WAL's
// incomplete tail. Other connections may read a commit before its fsync
// (and the projector may build on it); whatever is built on it is written
// later in the same WAL, so a crash cannot keep the one without the other.
type walSyncer struct {
	path  string   // the WAL file, beside the database
	file  *os.File // opened after the first commit, when SQLite has created it
	idle  chan struct{}
	queue chan syncedBatch
	done  chan struct{}
	flush func(*os.File) error // fdatasync; tests replace it

	mu     sync.Mutex
	failed error // set once by a failed fsync; every later write fails
}

// syncedBatch is a committed group of jobs and what each is to be told once
// the commit is on disk.
type syncedBatch struct {
	jobs []writeJob
	errs []error
}

func newWALSyncer(dbPath string) *walSyncer {
	s := &walSyncer{path: dbPath + "-wal", idle: make(chan struct{}, 1), queue: make(chan syncedBatch, 1), done: make(chan struct{}), flush: fdatasync}
	s.idle <- struct{}{}
	return s
}

func (s *walSyncer) run() {
	defer close(s.done)
	for b := range s.queue {
		err := s.sync()
		s.idle <- struct{}{} // the writer may commit the next group while this one is answered
		for i, j := range b.jobs {
			if err != nil {
				b.errs[i] = unavailable("sync", err)
			}
			j.done <- b.errs[i]
		}
	}
}

// close waits until every handed-over commit is synced and answered.
func (s *walSyncer) close() error {
	close(s.queue)
	<-s.done
	if s.file != nil {
		return s.file.Close()
	}
	return nil
}

// sync flushes the WAL to disk. After a failed fsync the kernel may have
// dropped the dirty pages it could not write, so a later fsync that
// succeeds proves nothing: the store stays failed until the process
// restarts and SQLite recovers from what is on disk.
func (s *walSyncer) sync() error {
	if err := s.err(); err != nil {
		return err
	}
	if err := s.syncFile(); err != nil {
		err = fmt.Errorf("fsync %s: %w", s.path, err)
		s.fail(err)
		return err
	}
	return nil
}

// fail stops the store for good (see sync), keeping the first failure.
func (s *walSyncer) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failed == nil {
		s.failed = err
	}
}

func (s *walSyncer) syncFile() error {
	// SQLite deletes the WAL only when the last connection to the database
	// closes, and the writer's stays open, so the file is normally the one
	// opened first; should it ever have been replaced, sync the new one.
	if s.file != nil {
		held, err1 := s.file.Stat()
		current, err2 := os.Stat(s.path)
		if err := errors.Join(err1, err2); err != nil {
			return err
		}
		if !os.SameFile(held, current) {
			s.file.Close()
			s.file = nil
		}
	}
	if s.file == nil {
		// Read-write: flushing a file needs write access on some systems.
		f, err := os.OpenFile(s.path, os.O_RDWR, 0)
		if err != nil {
			return err
		}
		s.file = f
	}
	return s.flush(s.file)
}

// err is the failure that stopped the store, if any.
func (s *walSyncer) err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failed
}

// syncNow makes what the writer pool committed outside the writer goroutine
// (migrations) durable.
func (db *DB) syncNow() error {
	<-db.wal.idle
	defer func() { db.wal.idle <- struct{}{} }()
	return db.wal.sync()
}
