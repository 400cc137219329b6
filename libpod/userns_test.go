package libpod

import (
	"os"
	"os/exec"
	"reflect"
	"testing"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"
)

func TestKeepID(t *testing.T) {
	got, err := keepID(1001, 65537)
	if err != nil {
		t.Fatal(err)
	}
	want := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1, Size: 1001}, {ContainerID: 1001, HostID: 0, Size: 1}, {ContainerID: 1002, HostID: 1002, Size: 64535}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v", got)
	}
	var total uint32
	for _, m := range got {
		total += m.Size
	}
	if total != 65537 {
		t.Fatalf("the maps cover %d ids, want all 65537", total)
	}
	if _, err := keepID(1001, 1); err == nil {
		t.Fatal("keep-id without subordinate ids must fail")
	}
}

func TestParseIDMaps(t *testing.T) {
	m, err := ParseIDMaps([]string{"0:100000:1000,1000:1000:1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.UIDMap) != 2 || !reflect.DeepEqual(m.UIDMap, m.GIDMap) || m.UIDMap[1].HostID != 1000 {
		t.Fatalf("got %+v", m)
	}
	for _, bad := range []string{"0:1", "a:b:c", "0:0:0"} {
		if _, err := ParseIDMaps([]string{bad}, nil); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestProcessAlive(t *testing.T) {
	if !processAlive(os.Getpid()) {
		t.Fatal("this process is alive")
	}
	cmd := exec.Command("/bin/true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	// Not reaped yet: a zombie once it exits. It must count as dead.
	deadline := time.Now().Add(5 * time.Second)
	for processAlive(pid) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if processAlive(pid) {
		t.Fatalf("exited child %d (a zombie) still counts as alive", pid)
	}
	_ = cmd.Wait()
	if processAlive(1 << 30) {
		t.Fatal("a pid that cannot exist counts as alive")
	}
}
