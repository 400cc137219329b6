package rootless

import (
	"bufio"
	"strings"
	"testing"
)

func TestParseSubID(t *testing.T) {
	const file = "# comment\nalice:100000:65536\n\n1001:165536:65536\nbroken line\nbob:x:1\ncarol:231072:0\n"
	tests := []struct {
		name, uid string
		want      IDRange
		wantErr   bool
	}{
		{"alice", "1000", IDRange{100000, 65536}, false},
		{"dave", "1001", IDRange{165536, 65536}, false}, // by numeric uid
		{"bob", "1002", IDRange{}, true},                // malformed
		{"carol", "1003", IDRange{}, true},              // empty range
		{"nobody", "9999", IDRange{}, true},
	}
	for _, tc := range tests {
		got, err := parseSubID(bufio.NewScanner(strings.NewReader(file)), tc.name, tc.uid, "/etc/subuid")
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("%s: got %v, %v; want %v, err=%v", tc.name, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestSuggestStart(t *testing.T) {
	tests := []struct {
		file string
		want int
	}{
		{"", 100000},
		{"a:100000:65536\n", 165536},
		{"a:200000:65536\nb:100000:10\n", 265536},
		{"a:10:10\n", 100000},
	}
	for _, tc := range tests {
		if got := suggestStart(bufio.NewScanner(strings.NewReader(tc.file))); got != tc.want {
			t.Errorf("%q: got %d, want %d", tc.file, got, tc.want)
		}
	}
}
