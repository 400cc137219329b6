package shim

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestCleanupClaim(t *testing.T) {
	dir := t.TempDir()
	if CleanupClaimed(dir) {
		t.Fatal("no owner file: nobody claimed the cleanup")
	}
	if err := ClaimCleanup(dir); err != nil {
		t.Fatal(err)
	}
	if !CleanupClaimed(dir) {
		t.Fatal("this live process claimed the cleanup")
	}
	// A process that has exited (even a zombie) no longer holds the claim.
	cmd := exec.Command("/bin/true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	start := "1 1"
	if err := os.WriteFile(filepath.Join(dir, CleanupOwnerFile), []byte(start), 0o600); err != nil {
		t.Fatal(err)
	}
	if CleanupClaimed(dir) {
		t.Fatal("pid 1 with another start time must not hold the claim (a reused pid)")
	}
	if err := os.WriteFile(filepath.Join(dir, CleanupOwnerFile), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if CleanupClaimed(dir) {
		t.Fatal("a malformed owner file must not hold the claim")
	}
	if ProcStartTime(os.Getpid()) == 0 || ProcStartTime(cmd.Process.Pid) != 0 {
		t.Fatal("ProcStartTime: this process has one, a reaped one has none")
	}
}
