package cogniscape

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"
)

// NodeKey identifies a node of one customer's graph: Jira ids are unique only
// within a site, and keys such as PAY-101 are attributes that can change.
type NodeKey struct {
	Site string `json:"site"`
	Kind Kind   `json:"kind"`
	ID   string `json:"id"`
}

// Node is the current state of one entity, merged from every mutation that
// named it. Each attribute and relation is a last-writer-wins register
// ordered by Version (ties broken by the value), so that merging the same
// updates in any order, any number of times, gives the same node.
type Node struct {
	StoreID int64   `json:"-"` // the store's row id; 0 before the node is saved
	Key     NodeKey `json:"-"`

	Attrs   map[string]json.RawMessage `json:"attrs,omitempty"`
	Rels    map[string][]NodeRef       `json:"rels,omitempty"`
	Deleted bool                       `json:"deleted,omitempty"`
	// DeletedAt is the version of the last write to Deleted: when the node
	// was deleted (or restored).
	DeletedAt Version            `json:"deleted_at,omitzero"`
	Versions  map[string]Version `json:"versions,omitempty"` // "a:<attr>", "r:<rel>", "deleted"
	// First and Last are the oldest and newest versions that named the node.
	First Version `json:"first"`
	Last  Version `json:"last"`
	// Since holds, per relation and target ("rel|kind|id"), the oldest
	// version that asserted the target: when the relation became true. A
	// minimum, so it does not depend on arrival order.
	Since map[string]Version `json:"since,omitempty"`

	dirtyRels map[string]bool // relations whose stored edges are stale
}

// NewNode returns an empty node for key.
func NewNode(key NodeKey) *Node {
	return &Node{Key: key, Attrs: map[string]json.RawMessage{}, Rels: map[string][]NodeRef{}, Versions: map[string]Version{}}
}

// wins reports whether a write of value at v replaces the register's current
// value cur written at w.
func wins(v Version, value []byte, w Version, cur []byte, exists bool) bool {
	if !exists {
		return true
	}
	if v != w {
		return w.Less(v)
	}
	return bytes.Compare(value, cur) > 0
}

// touch widens the node's first/last versions to include v.
func (n *Node) touch(v Version) bool {
	changed := false
	if n.First == (Version{}) || v.Less(n.First) {
		n.First, changed = v, true
	}
	if n.Last.Less(v) {
		n.Last, changed = v, true
	}
	return changed
}

// ApplyUpdate merges u, written at version v, into the node and reports
// whether anything changed.
func (n *Node) ApplyUpdate(v Version, u NodeUpdate) bool {
	changed := n.touch(v)
	for name, val := range u.Attrs {
		val = compactJSON(val)
		k := "a:" + name
		w, exists := n.Versions[k]
		if wins(v, val, w, n.Attrs[name], exists) {
			if !exists || w != v || !bytes.Equal(val, n.Attrs[name]) {
				changed = true
			}
			n.Attrs[name] = val
			n.Versions[k] = v
		}
	}
	if u.Deleted != nil {
		val := []byte("false")
		if *u.Deleted {
			val = []byte("true")
		}
		cur := []byte("false")
		if n.Deleted {
			cur = []byte("true")
		}
		w, exists := n.Versions["deleted"]
		if wins(v, val, w, cur, exists) {
			changed = changed || !exists || w != v || n.Deleted != *u.Deleted
			n.Deleted = *u.Deleted
			n.Versions["deleted"] = v
			n.DeletedAt = v
		}
	}
	return changed
}

// ApplyEdge sets the targets of relation rel at version v and reports
// whether they changed.
func (n *Node) ApplyEdge(v Version, rel string, to []NodeRef) bool {
	to = canonicalRefs(to)
	changed := n.touch(v)
	for _, t := range to {
		k := sinceKey(rel, t)
		if old, ok := n.Since[k]; !ok || v.Less(old) {
			if n.Since == nil {
				n.Since = map[string]Version{}
			}
			n.Since[k] = v
			n.markRel(rel)
			changed = true
		}
	}
	k := "r:" + rel
	w, exists := n.Versions[k]
	val, cur := relValue(to), relValue(n.Rels[rel])
	if wins(v, val, w, cur, exists) {
		if !exists || w != v || !bytes.Equal(val, cur) {
			changed = true
		}
		if !bytes.Equal(val, cur) {
			n.markRel(rel)
		}
		if len(to) == 0 {
			delete(n.Rels, rel)
		} else {
			n.Rels[rel] = to
		}
		n.Versions[k] = v
	}
	return changed
}

// relValue is a relation's targets as the register compares them: an empty
// set is [] however it is held (a cleared relation is removed from Rels),
// so that two writes at one version settle the same way in either order.
func relValue(to []NodeRef) []byte {
	if len(to) == 0 {
		return []byte("[]")
	}
	b, _ := json.Marshal(to)
	return b
}

// RelSince returns when the relation to target was first asserted.
func (n *Node) RelSince(rel string, target NodeRef) Version { return n.Since[sinceKey(rel, target)] }

func sinceKey(rel string, t NodeRef) string { return rel + "|" + string(t.Kind) + "|" + t.ID }

func (n *Node) markRel(rel string) {
	if n.dirtyRels == nil {
		n.dirtyRels = map[string]bool{}
	}
	n.dirtyRels[rel] = true
}

// DirtyRels returns the relations whose targets or start times changed since
// the node was loaded (or since ClearDirty), so that stores rewrite only
// those edges.
func (n *Node) DirtyRels() []string {
	out := make([]string, 0, len(n.dirtyRels))
	for r := range n.dirtyRels {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}

// ClearDirty forgets which relations changed.
func (n *Node) ClearDirty() { n.dirtyRels = nil }

// Attr decodes attribute name into v and reports whether it was present and
// not null.
func (n *Node) Attr(name string, v any) bool {
	raw, ok := n.Attrs[name]
	if !ok || string(raw) == "null" {
		return false
	}
	return json.Unmarshal(raw, v) == nil
}

// String returns a string attribute, or "".
func (n *Node) String(name string) string {
	var s string
	n.Attr(name, &s)
	return s
}

// canonicalRefs sorts and de-duplicates refs so that equal sets compare equal.
func canonicalRefs(refs []NodeRef) []NodeRef {
	out := slices.Clone(refs)
	slices.SortFunc(out, func(a, b NodeRef) int {
		if c := compareStrings(string(a.Kind), string(b.Kind)); c != 0 {
			return c
		}
		return compareStrings(a.ID, b.ID)
	})
	return slices.Compact(out)
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func compactJSON(raw json.RawMessage) json.RawMessage {
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return raw
	}
	return buf.Bytes()
}

// IndexedFields are the parts of a node that stores keep in columns of their
// own, for filters, lists and full-text search.
type IndexedFields struct {
	Key            string // PAY-101 for issues, PAY for projects
	Title          string // summary or name
	StatusCategory string
	Status         string // status id
	CreatedAt      int64  // the entity's creation time (Unix ms), 0 if unknown
	SearchTitle    string
	SearchText     string // "" when the node is not searchable
}

// IndexedFieldsOf derives the indexed columns of a node.
func IndexedFieldsOf(n *Node) IndexedFields {
	var f IndexedFields
	switch n.Key.Kind {
	case KindIssue:
		f.Key, f.Title = n.String("key"), n.String("summary")
		f.StatusCategory, f.Status = n.String("status_category"), n.String("status_id")
		f.SearchTitle, f.SearchText = f.Key+" "+f.Title, n.String("description")
	case KindProject:
		f.Key, f.Title = n.String("key"), n.String("name")
		f.SearchTitle = f.Key + " " + f.Title
	case KindComment:
		f.Title = n.String("body")
		f.SearchTitle, f.SearchText = "", f.Title
	case KindSprint:
		f.Title = n.String("name")
		f.SearchTitle, f.SearchText = f.Title, n.String("goal")
	case KindVersion:
		f.Title = n.String("name")
		f.SearchTitle, f.SearchText = f.Title, n.String("description")
	case KindPerson:
		f.Title = n.String("name")
		f.SearchTitle = f.Title
	default:
		f.Title = n.String("name")
	}
	// A search index entry is bounded (PostgreSQL refuses a document of more
	// than a megabyte of words): an enormous description is found by its
	// beginning.
	f.SearchTitle, f.SearchText = truncateText(f.SearchTitle, maxSearchTitle), truncateText(f.SearchText, maxSearchText)
	if f.SearchText == "" && f.SearchTitle != "" {
		f.SearchText = " " // searchable by title alone
	}
	if t, err := time.Parse(time.RFC3339, n.String("created")); err == nil {
		f.CreatedAt = t.UnixMilli()
	}
	return f
}

// Bounds of what a node gives the search index.
const (
	maxSearchTitle = 4 << 10
	maxSearchText  = 128 << 10
)

// truncateText cuts s to at most n bytes, at a character boundary.
func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// readNode is the part of a stored node that answers need.
type readNode struct {
	Attrs     map[string]json.RawMessage `json:"attrs"`
	Rels      map[string][]NodeRef       `json:"rels"`
	Deleted   bool                       `json:"deleted"`
	DeletedAt Version                    `json:"deleted_at"`
	First     Version                    `json:"first"`
	Last      Version                    `json:"last"`
}

// DecodeNode reads a node that a store saved as json.Marshal(node). With
// full false the registers' versions, which only the projection needs, are
// skipped rather than decoded, and the node is decoded in one pass
// (scanReadNode) unless it holds something only encoding/json should judge;
// its attributes may then share data's memory.
func DecodeNode(storeID int64, key NodeKey, data []byte, full bool) (*Node, error) {
	n := NewNode(key)
	if full {
		if err := json.Unmarshal(data, n); err != nil {
			return nil, fmt.Errorf("decode node %d: %w", storeID, err)
		}
	} else {
		rn, ok := scanReadNode(data)
		if !ok {
			rn = readNode{}
			if err := json.Unmarshal(data, &rn); err != nil {
				return nil, fmt.Errorf("decode node %d: %w", storeID, err)
			}
		}
		n.Attrs, n.Rels, n.Deleted, n.DeletedAt, n.First, n.Last = rn.Attrs, rn.Rels, rn.Deleted, rn.DeletedAt, rn.First, rn.Last
	}
	n.StoreID, n.Key = storeID, key
	if n.Attrs == nil {
		n.Attrs = map[string]json.RawMessage{}
	}
	if n.Rels == nil {
		n.Rels = map[string][]NodeRef{}
	}
	if n.Versions == nil {
		n.Versions = map[string]Version{}
	}
	return n, nil
}
