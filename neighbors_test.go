package cogniscape_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/cogniscape/cogniscape"
)

// countingReader counts the nodes a read asks the store for.
type countingReader struct {
	cogniscape.GraphReader
	nodes int
}

func (c *countingReader) Nodes(ctx context.Context, customerID int64, ids []int64) ([]*cogniscape.Node, error) {
	c.nodes += len(ids)
	return c.GraphReader.Nodes(ctx, customerID, ids)
}

// A hub's neighbourhood is cut at the answer's bound, and so are the reads
// behind it: a project with 1,000 issues costs no more than one with 300.
func TestNeighborsOfAHubAreBounded(t *testing.T) {
	w := &world{}
	for i := 1; i <= 1000; i++ {
		w.issue("2026-03-02 09:00", fmt.Sprintf("FLOW-%d", i), "2026-03-02 09:00", "1", nil, "")
	}
	r, cust := openWorldOf(t, w)
	counting := &countingReader{GraphReader: r.Store}
	r.Store = counting
	for depth := 1; depth <= 3; depth++ {
		counting.nodes = 0
		hood, err := r.Neighbors(context.Background(), cust, "project:FLOW", depth)
		if err != nil {
			t.Fatal(err)
		}
		if len(hood.Nodes) > 300 || !hood.Truncated {
			t.Errorf("depth %d: %d nodes, truncated %v", depth, len(hood.Nodes), hood.Truncated)
		}
		if counting.nodes > 700 {
			t.Errorf("depth %d: read %d nodes for an answer of %d", depth, counting.nodes, len(hood.Nodes))
		}
	}
	// A small neighbourhood is whole.
	hood, err := r.Neighbors(context.Background(), cust, "FLOW-7", 1)
	if err != nil {
		t.Fatal(err)
	}
	if hood.Truncated || len(hood.Nodes) < 2 {
		t.Errorf("FLOW-7: %d nodes, truncated %v", len(hood.Nodes), hood.Truncated)
	}
}
