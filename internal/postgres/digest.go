package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// GraphDigest hashes a customer's whole graph by natural keys (site, kind,
// Jira id), leaving out store row ids and log positions, which depend on
// arrival order. It hashes exactly the rows the SQLite store hashes, in the
// same order and the same format (SQLite's upper-case hex of the JSON bytes,
// its byte-wise text order), so that the same graph has the same digest in
// either store.
func (db *DB) GraphDigest(ctx context.Context, customerID int64) (string, error) {
	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return "", unavailable("digest", err)
	}
	defer tx.Rollback(context.Background())
	h := sha256.New()
	natural := func(site, kind, id string) string { return site + "|" + kind + "|" + id }

	type row struct {
		sort []string
		cols [9]any
	}
	var rows []row
	emit := func() {
		slices.SortFunc(rows, func(a, b row) int { return slices.Compare(a.sort, b.sort) })
		for _, r := range rows {
			fmt.Fprintf(h, "%v\n", r.cols)
		}
		rows = rows[:0]
	}
	query := func(q string, scan func(pgx.Rows) (row, error)) error {
		rs, err := tx.Query(ctx, q, customerID)
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			r, err := scan(rs)
			if err != nil {
				return err
			}
			rows = append(rows, r)
		}
		if err := rs.Err(); err != nil {
			return err
		}
		emit()
		return nil
	}

	err = query(`SELECT site, kind, jira_id, key, title, status_category, deleted, first_at, last_at, data FROM nodes WHERE customer_id = $1`,
		func(rs pgx.Rows) (row, error) {
			var site, kind, id, key, title, cat string
			var deleted bool
			var first, last int64
			var data []byte
			if err := rs.Scan(&site, &kind, &id, &key, &title, &cat, &deleted, &first, &last, &data); err != nil {
				return row{}, err
			}
			del := int64(0)
			if deleted {
				del = 1
			}
			return row{sort: []string{site, kind, id},
				cols: [9]any{"node", natural(site, kind, id), key, title, cat, del, first, last, strings.ToUpper(hex.EncodeToString(data))}}, nil
		})
	if err == nil {
		err = query(`SELECT s.site, s.kind, s.jira_id, e.rel, d.site, d.kind, d.jira_id, e.since
			FROM edges e JOIN nodes s ON s.id = e.src JOIN nodes d ON d.id = e.dst WHERE e.customer_id = $1`,
			func(rs pgx.Rows) (row, error) {
				var ss, sk, si, rel, ds, dk, di string
				var since int64
				if err := rs.Scan(&ss, &sk, &si, &rel, &ds, &dk, &di, &since); err != nil {
					return row{}, err
				}
				src, dst := natural(ss, sk, si), natural(ds, dk, di)
				return row{sort: []string{src, rel, dst}, cols: [9]any{"edge", src, rel, dst, since, "", "", "", ""}}, nil
			})
	}
	if err == nil {
		err = query(`SELECT n.site, n.kind, n.jira_id, c.at, c.seq, c.idx, c.field, c.from_text, c.from_id, c.to_text, c.to_id, c.actor
			FROM changes c JOIN nodes n ON n.id = c.node WHERE c.customer_id = $1`,
			func(rs pgx.Rows) (row, error) {
				var site, kind, id, field, fromText, fromID, toText, toID, actor string
				var at, seq int64
				var idx int32
				if err := rs.Scan(&site, &kind, &id, &at, &seq, &idx, &field, &fromText, &fromID, &toText, &toID, &actor); err != nil {
					return row{}, err
				}
				nat := natural(site, kind, id)
				pos := strconv.FormatInt(at, 10) + "|" + strconv.FormatInt(seq, 10) + "|" + strconv.FormatInt(int64(idx), 10)
				return row{sort: []string{nat, pos},
					cols: [9]any{"change", nat, pos, field, fromText + "|" + fromID, toText + "|" + toID, actor, "", ""}}, nil
			})
	}
	if err == nil {
		err = query(`SELECT n.site, n.kind, n.jira_id, a.at, a.seq, a.event, a.actor, a.data
			FROM activity a JOIN nodes n ON n.id = a.entity WHERE a.customer_id = $1`,
			func(rs pgx.Rows) (row, error) {
				var site, kind, id, event, actor string
				var at, seq int64
				var data []byte
				if err := rs.Scan(&site, &kind, &id, &at, &seq, &event, &actor, &data); err != nil {
					return row{}, err
				}
				nat := natural(site, kind, id)
				pos := strconv.FormatInt(at, 10) + "|" + strconv.FormatInt(seq, 10)
				return row{sort: []string{nat, pos, event},
					cols: [9]any{"activity", nat, pos, event, actor, strings.ToUpper(hex.EncodeToString(data)), "", "", ""}}, nil
			})
	}
	if err != nil {
		return "", unavailable("digest", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
