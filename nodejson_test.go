package cogniscape

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// storedNodes are nodes as the SQLite store keeps them (testdata/nodes, from
// a projected simulation) and a hand-made one with what a simulation may not
// produce: escapes, Unicode, null and empty relations, a deletion.
func storedNodes(tb testing.TB) [][]byte {
	files, err := filepath.Glob(filepath.Join("testdata", "nodes", "*.json"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no stored nodes in testdata/nodes (%v)", err)
	}
	var out [][]byte
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, data)
	}
	n := NewNode(NodeKey{Site: "https://x.atlassian.net", Kind: KindIssue, ID: "1"})
	n.Attrs["summary"] = json.RawMessage(`"Fix \"quotes\" and \u00e9t\u00e9 — naïve"`)
	n.Attrs["labels"] = json.RawMessage(`["a","b"]`)
	n.Attrs["estimate"] = json.RawMessage(`-1.5e3`)
	n.Attrs["due_date"] = json.RawMessage(`null`)
	n.Attrs["nested"] = json.RawMessage(`{"a":[{"b":true}],"c":{}}`)
	n.Rels["assignee"] = []NodeRef{{Kind: KindPerson, ID: "alice"}}
	n.Rels["fix_version"] = []NodeRef{}
	n.Rels["parent"] = nil
	n.Deleted, n.DeletedAt = true, Version{At: 1767225600000, Seq: 4}
	n.Versions["a:summary"] = Version{At: 1, Seq: 2}
	n.First, n.Last = Version{At: 1}, Version{At: 1767225600000, Seq: 9}
	n.Since = map[string]Version{"assignee|person|alice": {At: 5}}
	data, err := json.Marshal(n)
	if err != nil {
		tb.Fatal(err)
	}
	return append(out, data)
}

func TestScanReadNodeHandlesStoredNodes(t *testing.T) {
	for _, data := range storedNodes(t) {
		fast, ok := scanReadNode(data)
		if !ok {
			t.Errorf("stored node left to encoding/json: %.80s…", data)
			continue
		}
		var want readNode
		if err := json.Unmarshal(data, &want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(fast, want) {
			t.Errorf("scanReadNode(%.80s…) =\n%+v\nwant\n%+v", data, fast, want)
		}
	}
}

// The one-pass decoder and encoding/json agree on every input the decoder
// answers for; the rest is left to encoding/json.
func FuzzDecodeNodeAgrees(f *testing.F) {
	for _, data := range storedNodes(f) {
		f.Add(data)
	}
	for _, s := range []string{`{}`, `null`, `{"attrs":null}`, `{"attrs":{"a":1},"attrs":{"b":2}}`, `{"Attrs":{}}`,
		`{"rels":{"r":[{"id":"1","kind":"issue"}]}}`, `{"first":{"at":1.0,"seq":0}}`, `{"deleted":true} `, `{"last":{"at":99999999999999999999,"seq":0}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fast, ok := scanReadNode(data)
		var want readNode
		err := json.Unmarshal(data, &want)
		if !ok {
			return
		}
		if err != nil {
			t.Fatalf("scanReadNode accepted %q, which encoding/json rejects: %v", data, err)
		}
		if !reflect.DeepEqual(fast, want) {
			t.Fatalf("scanReadNode(%q) = %+v, encoding/json %+v", data, fast, want)
		}
	})
}

func BenchmarkDecodeNode(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("testdata", "nodes", "issue.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("one-pass", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if _, ok := scanReadNode(data); !ok {
				b.Fatal("not handled")
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			var rn readNode
			if err := json.Unmarshal(data, &rn); err != nil {
				b.Fatal(err)
			}
		}
	})
}
