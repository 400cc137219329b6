package state

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

type doc struct {
	ID   string
	Name string
	N    int
}

func newStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCreateGetPutDelete(t *testing.T) {
	s := newStore(t)
	if err := s.Create("containers", "abc123", "web", doc{ID: "abc123", Name: "web"}); err != nil {
		t.Fatal(err)
	}
	var d doc
	if err := s.Get("containers", "abc123", &d); err != nil || d.Name != "web" {
		t.Fatalf("get: %v %+v", err, d)
	}
	d.N = 7
	if err := s.Put("containers", "abc123", d); err != nil {
		t.Fatal(err)
	}
	var d2 doc
	if err := s.Get("containers", "abc123", &d2); err != nil || d2.N != 7 {
		t.Fatalf("after put: %v %+v", err, d2)
	}
	if err := s.Delete("containers", "abc123", "web"); err != nil {
		t.Fatal(err)
	}
	if err := s.Get("containers", "abc123", &d2); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	if err := s.Put("containers", "abc123", d); !errors.Is(err, ErrNotFound) {
		t.Fatalf("put of a deleted object: %v", err)
	}
	// The name is free again.
	if err := s.Create("containers", "def456", "web", doc{}); err != nil {
		t.Fatal(err)
	}
	leftovers, _ := filepath.Glob(filepath.Join(s.Root(), "containers", ".*tmp*"))
	if len(leftovers) != 0 {
		t.Fatalf("temporary files left: %v", leftovers)
	}
}

func TestNamesAreUniqueAcrossKinds(t *testing.T) {
	s := newStore(t)
	if err := s.Create("containers", "c1", "shared", doc{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Create("pods", "p1", "shared", doc{}); !errors.Is(err, ErrNameInUse) {
		t.Fatalf("second owner of a name: %v", err)
	}
	if _, err := os.Stat(s.docPath("pods", "p1")); !os.IsNotExist(err) {
		t.Fatal("a refused create must write nothing")
	}
	if err := s.Create("containers", "c2", "bad name!", doc{}); !errors.Is(err, ErrInvalidName) {
		t.Fatalf("invalid name: %v", err)
	}
}

func TestConcurrentCreatesOfOneName(t *testing.T) {
	s := newStore(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if err := s.Create("containers", fmt.Sprintf("id%02d", i), "racer", doc{N: i}); err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			} else if !errors.Is(err, ErrNameInUse) {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d creates won the name, want 1", wins)
	}
}

func TestLookup(t *testing.T) {
	s := newStore(t)
	for _, c := range []struct{ id, name string }{{"aaaa1111", "one"}, {"aaaa2222", "two"}, {"bbbb3333", "aaaa"}} {
		if err := s.Create("containers", c.id, c.name, doc{}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		ref, want string
		err       error
	}{
		{"one", "aaaa1111", nil},
		{"aaaa2222", "aaaa2222", nil},
		{"aaaa2", "aaaa2222", nil},
		{"aaaa", "bbbb3333", nil}, // a name wins over an ID prefix
		{"aaa", "", ErrAmbiguous},
		{"zzz", "", ErrNotFound},
		{"", "", ErrNotFound},
	}
	for _, tc := range tests {
		got, err := s.Lookup("containers", tc.ref)
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("Lookup(%q) = %q, %v; want %q, %v", tc.ref, got, err, tc.want, tc.err)
		}
	}
	if _, err := s.Lookup("pods", "one"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a container's name must not resolve as a pod: %v", err)
	}
}

func TestCorruptDocumentIsReportedAndIsolated(t *testing.T) {
	s := newStore(t)
	for _, id := range []string{"good", "bad"} {
		if err := s.Create("containers", id, id+"-name", doc{ID: id}); err != nil {
			t.Fatal(err)
		}
	}
	path := s.docPath("containers", "bad")
	if err := os.WriteFile(path, []byte(`{"ID": "ba`), 0o600); err != nil {
		t.Fatal(err)
	}
	var d doc
	err := s.Get("containers", "bad", &d)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) {
		t.Fatalf("corrupt document: %v", err)
	}
	if err := s.Get("containers", "good", &d); err != nil || d.ID != "good" {
		t.Fatalf("a corrupt neighbour must not matter: %v", err)
	}
	ids, err := s.IDs("containers")
	if err != nil || len(ids) != 2 {
		t.Fatalf("IDs: %v %v", ids, err)
	}
}

func TestStaleNameLinkIsReplaced(t *testing.T) {
	s := newStore(t)
	// A crash between reserving the name and writing the document leaves a dangling link.
	if err := os.Symlink("containers/ghost", filepath.Join(s.Root(), "names", "web")); err != nil {
		t.Fatal(err)
	}
	if err := s.Create("containers", "real", "web", doc{}); err != nil {
		t.Fatalf("a dangling name must not block: %v", err)
	}
	if id, err := s.Lookup("containers", "web"); err != nil || id != "real" {
		t.Fatalf("lookup: %q %v", id, err)
	}
}

func TestRename(t *testing.T) {
	s := newStore(t)
	_ = s.Create("containers", "c1", "old", doc{})
	_ = s.Create("containers", "c2", "taken", doc{})
	if err := s.Rename("containers", "c1", "old", "taken"); !errors.Is(err, ErrNameInUse) {
		t.Fatalf("rename onto a used name: %v", err)
	}
	if err := s.Rename("containers", "c1", "old", "new"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lookup("containers", "old"); !errors.Is(err, ErrNotFound) {
		t.Errorf("old name still resolves: %v", err)
	}
	if id, _ := s.Lookup("containers", "new"); id != "c1" {
		t.Errorf("new name resolves to %q", id)
	}
}

func TestObjectLocksAreIndependent(t *testing.T) {
	s := newStore(t)
	a, err := s.LockObject("containers", "a", true)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Unlock()
	done := make(chan struct{})
	go func() {
		b, err := s.LockObject("containers", "b", true)
		if err == nil {
			b.Unlock()
		}
		close(done)
	}()
	<-done // would hang if b waited on a
}
