package main

import "testing"

func TestOneLine(t *testing.T) {
	tests := map[string]string{
		"simple":                           "simple",
		"2 errors occurred:\n\t* a\n\t* b": "2 errors occurred:; a; b",
		"keeps  double  spaces\n":          "keeps  double  spaces",
		"line one\nline two":               "line one line two",
	}
	for in, want := range tests {
		if got := oneLine(in); got != want {
			t.Errorf("oneLine(%q) = %q, want %q", in, got, want)
		}
	}
}
