package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// maxCachedStmts bounds the statement cache; queries built from filters vary,
// and past the bound they are prepared per call as before.
const maxCachedStmts = 512

// stmtCache keeps prepared statements: SQLite spends more time parsing a
// small statement than running it.
type stmtCache struct {
	db *sql.DB
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

func newStmtCache(db *sql.DB) *stmtCache { return &stmtCache{db: db, m: map[string]*sql.Stmt{}} }

func (c *stmtCache) get(ctx context.Context, q string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.m[q]; ok {
		return s
	}
	if len(c.m) >= maxCachedStmts {
		return nil
	}
	s, err := c.db.PrepareContext(ctx, q)
	if err != nil {
		return nil // let the caller's unprepared call report the error
	}
	c.m[q] = s
	return s
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.m {
		s.Close()
	}
	c.m = map[string]*sql.Stmt{}
}

// txExec runs a write statement inside tx, prepared once per process.
func (db *DB) txExec(ctx context.Context, tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	if s := db.writeStmts.get(ctx, q); s != nil {
		return tx.StmtContext(ctx, s).ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, q, args...)
}

// txQueryRow runs a one-row query inside tx.
func (db *DB) txQueryRow(ctx context.Context, tx *sql.Tx, q string, args ...any) *sql.Row {
	if s := db.writeStmts.get(ctx, q); s != nil {
		return tx.StmtContext(ctx, s).QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, q, args...)
}

// query runs a read on the query-only pool.
func (db *DB) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if s := db.readStmts.get(ctx, q); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return db.read.QueryContext(ctx, q, args...)
}

// queryRow runs a one-row read on the query-only pool.
func (db *DB) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	if s := db.readStmts.get(ctx, q); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return db.read.QueryRowContext(ctx, q, args...)
}
