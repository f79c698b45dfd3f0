package cogniscape_test

import (
	"testing"

	"github.com/cogniscape/cogniscape"
)

func TestChooseSite(t *testing.T) {
	const a, b = "https://a.atlassian.net", "https://b.example.com"
	issue := func(id string) cogniscape.NodeRef { return cogniscape.NodeRef{Kind: cogniscape.KindIssue, ID: id} }
	link := cogniscape.NodeRef{Kind: cogniscape.KindLink, ID: "400"}
	linkEvent := &cogniscape.Mutation{Nodes: []cogniscape.NodeUpdate{{Ref: link}},
		Edges: []cogniscape.EdgeUpdate{{From: link, Rel: cogniscape.RelSource, To: []cogniscape.NodeRef{issue("1")}},
			{From: link, Rel: cogniscape.RelDestination, To: []cogniscape.NodeRef{issue("2")}}}}
	for _, tc := range []struct {
		name  string
		sites map[cogniscape.NodeRef][]string
		want  string
	}{
		{"both issues on one site", map[cogniscape.NodeRef][]string{issue("1"): {a, b}, issue("2"): {b}}, b},
		{"the link itself decides a tie of issues", map[cogniscape.NodeRef][]string{issue("1"): {a, b}, issue("2"): {a, b}, link: {b}}, b},
		{"a tie goes to the first site in byte order", map[cogniscape.NodeRef][]string{issue("1"): {b, a}, issue("2"): {b, a}}, a},
		{"one issue known", map[cogniscape.NodeRef][]string{issue("2"): {b}}, b},
		{"nothing known", nil, ""},
		{"the empty site never counts", map[cogniscape.NodeRef][]string{issue("1"): {""}, issue("2"): {"", a}}, a},
	} {
		got, err := cogniscape.ChooseSite(linkEvent, func(r cogniscape.NodeRef) ([]string, error) { return tc.sites[r], nil })
		if err != nil || got != tc.want {
			t.Errorf("%s: ChooseSite = %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
}

// Two writes of one relation at the same version settle the same way in
// either order, also when one of them clears it.
func TestApplyEdgeTieIsOrderIndependent(t *testing.T) {
	v := cogniscape.Version{At: 1772535739345, Seq: 7}
	sprint := []cogniscape.NodeRef{{Kind: cogniscape.KindSprint, ID: "37"}}
	for _, writes := range [][2][]cogniscape.NodeRef{{sprint, nil}, {sprint, {}}} {
		var results [][]cogniscape.NodeRef
		for _, order := range [][2]int{{0, 1}, {1, 0}} {
			n := cogniscape.NewNode(cogniscape.NodeKey{Kind: cogniscape.KindIssue, ID: "10101"})
			for _, i := range order {
				n.ApplyEdge(v, cogniscape.RelSprint, writes[i])
			}
			results = append(results, n.Rels[cogniscape.RelSprint])
		}
		if len(results[0]) != len(results[1]) {
			t.Errorf("writes %v: %v in one order, %v in the other", writes, results[0], results[1])
		}
	}
}
