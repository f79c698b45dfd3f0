package postgres

import (
	"context"
	"strings"
	"time"

	"github.com/cogniscape/cogniscape"
)

// SprintChanges returns the Sprint changelog items naming one sprint, as the
// SQLite store does: values are comma-separated id lists matched as whole
// items after the spaces are taken out.
func (db *DB) SprintChanges(ctx context.Context, customerID int64, sprintID string, since time.Time) ([]cogniscape.ChangeRecord, error) {
	pattern := "%," + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(sprintID) + ",%"
	return db.changes(ctx, `SELECT `+changeColumns+` FROM changes WHERE customer_id = $1 AND at >= $2 AND `+asciiFold("field")+` = 'sprint'
		AND (',' || replace(from_id, ' ', '') || ',' LIKE $3 ESCAPE '\' OR ',' || replace(to_id, ' ', '') || ',' LIKE $3 ESCAPE '\')
		ORDER BY at, seq, idx, id`, customerID, ms(since), text(pattern))
}
