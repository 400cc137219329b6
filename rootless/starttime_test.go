package rootless

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// The pause pid file pairs a pid with its start time; the C reader must agree with the kernel's field 22.
func TestProcStartTime(t *testing.T) {
	data, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:]) // fields[0] is field 3
	want, err := strconv.ParseUint(fields[22-3], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	if got := procStartTime(os.Getpid()); got != want {
		t.Fatalf("start time of self: got %d, want %d", got, want)
	}
	if got := procStartTime(1 << 30); got != 0 {
		t.Fatalf("start time of a pid that cannot exist: got %d, want 0", got)
	}
}
