package env

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestParseFile(t *testing.T) {
	t.Setenv("SKIFF_FROM_HOST", "hostval")
	path := filepath.Join(t.TempDir(), "env")
	content := "# comment\n\nA=1\nB=\"quoted\"\n  C=with spaces\nSKIFF_FROM_HOST\nSKIFF_UNSET_VAR\nD=x=y\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"A=1", `B="quoted"`, "C=with spaces", "SKIFF_FROM_HOST=hostval", "D=x=y"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	if err := os.WriteFile(path, []byte("=nokey\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseFile(path); err == nil {
		t.Fatal("a line without a name must fail")
	}
	if _, err := ParseFile(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Fatal("a missing file must fail")
	}
}

func TestParseAndMerge(t *testing.T) {
	t.Setenv("SKIFFP_A", "1")
	t.Setenv("SKIFFP_B", "2")
	got, err := Parse([]string{"X=1", "SKIFFP_*"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0] != "X=1" {
		t.Fatalf("parse: %q", got)
	}
	merged := Merge([]string{"PATH=/bin", "A=1"}, []string{"A=2", "B=3"})
	if want := []string{"PATH=/bin", "A=2", "B=3"}; !reflect.DeepEqual(merged, want) {
		t.Fatalf("merge: %q want %q", merged, want)
	}
}

func TestFromFlags(t *testing.T) {
	path := filepath.Join(t.TempDir(), "env")
	if err := os.WriteFile(path, []byte("A=file\nB=file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := FromFlags([]string{"B=flag", "C=flag"}, []string{path})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"A=file", "B=flag", "C=flag"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q (-e wins over --env-file)", got, want)
	}
	if _, err := FromFlags(nil, []string{path + ".missing"}); err == nil {
		t.Fatal("a missing env file must fail")
	}
}
