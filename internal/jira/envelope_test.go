package jira

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The scanner and encoding/json agree on every body: same envelope, or the
// same refusal with the same reason.
func FuzzInspectAgrees(f *testing.F) {
	addSeeds(f, envelopeCases...)
	f.Fuzz(func(t *testing.T, body []byte) {
		fast, fastErr := Inspect(body)
		std, stdErr := inspectJSON(body)
		if (fastErr == nil) != (stdErr == nil) || fastErr != nil && fastErr.Error() != stdErr.Error() {
			t.Fatalf("Inspect(%q): err %v, encoding/json: %v", body, fastErr, stdErr)
		}
		if !reflect.DeepEqual(fast, std) {
			t.Fatalf("Inspect(%q) = %+v, encoding/json: %+v", body, fast, std)
		}
	})
}

// addSeeds seeds a fuzz target with the fixtures in testdata and cases.
func addSeeds(f *testing.F, cases ...string) {
	files, _ := filepath.Glob("testdata/*/*.json")
	if len(files) == 0 {
		f.Fatal("no fixtures in testdata")
	}
	for _, file := range files {
		body, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body)
	}
	for _, c := range cases {
		f.Add([]byte(c))
	}
}

// envelopeCases are the shapes where a hand-written scanner could part ways
// with encoding/json.
var envelopeCases = []string{
	`{"webhookEvent":"jira:issue_updated","timestamp":1700000000000,"issue":{"self":"https://a.atlassian.net/rest/api/2/issue/1"}}`,
	`{"WEBHOOKEVENT":"x","Issue":{"SELF":"https://A.example.com/x"}}`,
	`{"webhookEvent":"a","webhookEvent":null}`,
	`{"webhookEvent":null,"webhookEvent":"b"}`,
	`{"webhookEvent":"a\u0062"}`,
	`{"webhookEvent":"caf\u00e9"}`,
	"{\"webhookEvent\":\"caf\xe9\"}",
	`{"webhookEvent":5}`,
	`{"webhookEvent":"x","issue":[]}`,
	`{"webhookEvent":"x","issue":"https://a.example.com"}`,
	`{"webhookEvent":"x","issue":{"self":5}}`,
	`{"webhookEvent":"x","issue":{"self":null}}`,
	`{"webhookEvent":"x","issue":{"self":"https://a.example.com"},"issue":{}}`,
	`{"webhookEvent":"x","issue":{"self":"https://a.example.com"},"issue":null,"issue":{}}`,
	`{"webhookEvent":"x","issue":{"self":"https:\/\/a.example.com\/x"}}`,
	`{"webhookEvent":"x","comment":{"self":"ftp://a.example.com"},"user":{"self":"http://b.example.com:8080/x"}}`,
	`{"webhookEvent":"x","timestamp":"1700000000000"}`,
	`{"webhookEvent":"x","timestamp":1.7e12}`,
	`{"webhookEvent":"x","timestamp":null}`,
	`{"webhookEvent":"x","timestamp":{"a":1}}`,
	`{"webhookEvent":"x","timestamp":-0.5e-3}`,
	`{"webhookEvent":"x","n":01}`,
	`{"webhookEvent":"x","n":1.}`,
	`{"webhookEvent":"x","n":-}`,
	`{"webhookEvent":"x","n":1e}`,
	`{"webhookEvent":"x","s":"\x"}`,
	`{"webhookEvent":"x","s":"\u12"}`,
	"{\"webhookEvent\":\"x\",\"s\":\"a\tb\"}",
	`{"webhookEvent":"x","a":[1,2,{"b":[true,false,null]}],"c":{}}`,
	`{"webhookEvent":"x","a":[1,]}`,
	`{"webhookEvent":"x",}`,
	`{"webhookEvent":"x"} `,
	`{"webhookEvent":"x"} {}`,
	` {"webhookEvent":"x"}`,
	"\ufeff{\"webhookEvent\":\"x\"}",
	`{"webhookEvent":"x","\u0069ssue":{"self":"https://a.example.com"}}`,
	"{\"webhookEvent\":\"x\",\"\u017fprint\":{\"self\":\"https://a.example.com\"}}",
	`{"webhookEvent":"x","a":tru}`,
	`{"webhookEvent":"x","a":nul}`,
	`{"webhookEvent":"x"`,
	`{"webhookEvent"}`,
	`{}`, `[]`, `null`, `"x"`, ``, `{`,
	`{"webhookEvent":"x","a":` + strings.Repeat("[", 1200) + strings.Repeat("]", 1200) + `}`,
	`{"webhookEvent":"x","a":` + strings.Repeat("[", 11000) + strings.Repeat("]", 11000) + `}`,
}

func TestInspectAgreesOnEdgeCases(t *testing.T) {
	for _, body := range envelopeCases {
		fast, fastErr := Inspect([]byte(body))
		std, stdErr := inspectJSON([]byte(body))
		if (fastErr == nil) != (stdErr == nil) || fastErr != nil && fastErr.Error() != stdErr.Error() || !reflect.DeepEqual(fast, std) {
			t.Errorf("Inspect(%.80q) = %+v, %v; encoding/json: %+v, %v", body, fast, fastErr, std, stdErr)
		}
	}
}

// The scanner itself handles the common shapes (otherwise it saves nothing).
func TestScannerHandlesFixtures(t *testing.T) {
	files, _ := filepath.Glob("testdata/*/*.json")
	if len(files) == 0 {
		t.Fatal("no fixtures")
	}
	for _, file := range files {
		body, _ := os.ReadFile(file)
		if _, ok := scanEnvelope(body); !ok {
			t.Errorf("%s: scanner fell back to encoding/json", file)
		}
	}
}

func BenchmarkInspect(b *testing.B) {
	body, err := os.ReadFile("testdata/cloud/issue_updated_fields.json")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("scanner", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			Inspect(body)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			inspectJSON(body)
		}
	})
}

// The one-pass body decoder and encoding/json agree on every body: the same
// value, or both refuse it.
func FuzzDecodeBodyAgrees(f *testing.F) {
	addSeeds(f, append(envelopeCases,
		`{"a":"x\\ny","b":"\\u00e9\\ud83d\\ude00","c":"\\ud800","d":[1,-0.5e3,true,false,null,{}],"a":{"z":[]}}`,
		"{\"s\":\"caf\xe9\",\"k\xff\":1}", `{"n":1e999}`, `[]`, `"x"`, `12 `, ` {} `, `{} []`)...)
	f.Fuzz(func(t *testing.T, body []byte) {
		got, gotErr := decodeBody(body)
		want, wantErr := decodeBodyJSON(body)
		if (gotErr == nil) != (wantErr == nil) || gotErr != nil && gotErr.Error() != wantErr.Error() {
			t.Fatalf("decodeBody(%q): err %v, encoding/json: %v", body, gotErr, wantErr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("decodeBody(%q) = %#v, encoding/json: %#v", body, got, want)
		}
	})
}

func BenchmarkDecodeBody(b *testing.B) {
	body, err := os.ReadFile("testdata/cloud/issue_updated_fields.json")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("one-pass", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			decodeBody(body)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			decodeBodyJSON(body)
		}
	})
}
