package format

import (
	"bytes"
	"testing"
)

func TestHumanSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 999: "999 B", 2132293: "2.13 MB", 11500: "11.5 kB"} {
		if got := HumanSize(n); got != want {
			t.Errorf("HumanSize(%d) = %q, want %q", n, got, want)
		}
	}
}

type row struct{ Name, LongField string }

func TestTable(t *testing.T) {
	rows := []row{{"a", "x"}, {"bb", "y"}}
	var out bytes.Buffer
	err := Table{Name: "t", DefaultFormat: "{{range .}}{{.Name}}\t{{.LongField}}\n{{end -}}", Headers: row{}}.Write(&out, rows)
	if err != nil {
		t.Fatal(err)
	}
	want := "NAME        LONG FIELD\na           x\nbb          y\n"
	if out.String() != want {
		t.Errorf("default table:\n%q\nwant\n%q", out.String(), want)
	}
	out.Reset()
	if err := (Table{Name: "t", UserFormat: "{{.Name}}", Headers: row{}}).Write(&out, rows); err != nil {
		t.Fatal(err)
	}
	if out.String() != "a\nbb\n" {
		t.Errorf("user template without table: %q", out.String())
	}
	out.Reset()
	if err := (Table{Name: "t", UserFormat: "table {{.Name}}", Headers: row{}}).Write(&out, rows); err != nil {
		t.Fatal(err)
	}
	if out.String() != "NAME\na\nbb\n" {
		t.Errorf("user table template: %q", out.String())
	}
	if err := (Table{Name: "t", UserFormat: "{{.Nope}}"}).Write(&out, rows); err == nil {
		t.Error("a template naming a missing field must fail")
	}
}

func TestTemplateOneDocument(t *testing.T) {
	var out bytes.Buffer
	if err := Template(&out, "v", "{{.Name}}", row{Name: "doc"}); err != nil {
		t.Fatal(err)
	}
	if out.String() != "doc\n" {
		t.Errorf("got %q", out.String())
	}
}
