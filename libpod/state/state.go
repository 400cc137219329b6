// Package state is skiff's state store: one JSON document per object (container, pod, volume, exec session),
// no database. Every write is atomic (temporary file, fsync, rename, fsync of the directory), so a reader
// never sees half a document and a crash loses at most the operation in flight.
//
// Layout under the root:
//
//	<kind>/<id>.json     the document
//	<kind>/<id>.lock     the object's lock: writers hold it exclusively, readers shared
//	names/<name>         a symlink to "<kind>/<id>": names are unique across kinds, and creating one is atomic
//	store.lock           held while names are reserved or released
//
// Objects have their own locks, so operations on unrelated containers never wait on each other.
package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"golang.org/x/sys/unix"
)

var (
	// ErrNotFound: no object has that ID, ID prefix or name.
	ErrNotFound = errors.New("no such object")
	// ErrNameInUse: the name belongs to another object.
	ErrNameInUse = errors.New("name is in use")
	// ErrAmbiguous: an ID prefix matches several objects.
	ErrAmbiguous = errors.New("more than one result for ID prefix")
	// ErrCorrupt: a document could not be parsed; the error names the file.
	ErrCorrupt = errors.New("corrupt state file")
	// ErrInvalidName: the name does not match [a-zA-Z0-9][a-zA-Z0-9_.-]*.
	ErrInvalidName = errors.New("names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*")
)

var validName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

// ValidName reports whether name can name an object (podman's rule).
func ValidName(name string) bool { return validName.MatchString(name) && len(name) <= 253 }

// Store is a state directory.
type Store struct {
	root string
}

// Open makes sure the state directory exists and returns the store.
func Open(root string) (*Store, error) {
	if err := os.MkdirAll(filepath.Join(root, "names"), 0o700); err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	return &Store{root: root}, nil
}

// Root is the state directory.
func (s *Store) Root() string { return s.root }

func (s *Store) kindDir(kind string) string { return filepath.Join(s.root, kind) }
func (s *Store) docPath(kind, id string) string {
	return filepath.Join(s.root, kind, id+".json")
}

// Lock is a held flock; Unlock releases it.
type Lock struct{ f *os.File }

// Unlock releases the lock. It is safe on a nil Lock.
func (l *Lock) Unlock() {
	if l == nil || l.f == nil {
		return
	}
	_ = unix.Flock(int(l.f.Fd()), unix.LOCK_UN)
	_ = l.f.Close()
	l.f = nil
}

func lockFile(path string, exclusive bool) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, err
	}
	how := unix.LOCK_SH
	if exclusive {
		how = unix.LOCK_EX
	}
	for {
		err = unix.Flock(int(f.Fd()), how)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return &Lock{f: f}, nil
}

// LockObject takes the object's lock, exclusively for writers.
func (s *Store) LockObject(kind, id string, exclusive bool) (*Lock, error) {
	if err := os.MkdirAll(s.kindDir(kind), 0o700); err != nil {
		return nil, err
	}
	return lockFile(filepath.Join(s.kindDir(kind), id+".lock"), exclusive)
}

func (s *Store) lockStore() (*Lock, error) {
	return lockFile(filepath.Join(s.root, "store.lock"), true)
}

// Create stores a new object under a unique name. It fails with ErrNameInUse when another object holds the
// name, and writes nothing then.
func (s *Store) Create(kind, id, name string, doc any) error {
	if name != "" && !ValidName(name) {
		return fmt.Errorf("%q: %w", name, ErrInvalidName)
	}
	if err := os.MkdirAll(s.kindDir(kind), 0o700); err != nil {
		return err
	}
	l, err := s.lockStore()
	if err != nil {
		return err
	}
	defer l.Unlock()
	if _, err := os.Stat(s.docPath(kind, id)); err == nil {
		return fmt.Errorf("%s %s: %w", kind, id, ErrNameInUse)
	}
	if name != "" {
		if err := s.reserveName(kind, id, name); err != nil {
			return err
		}
	}
	if err := s.write(kind, id, doc); err != nil {
		if name != "" {
			_ = os.Remove(filepath.Join(s.root, "names", name))
		}
		return err
	}
	return nil
}

// reserveName links names/<name> to the object, replacing a link whose object is gone (left by a crash).
func (s *Store) reserveName(kind, id, name string) error {
	link := filepath.Join(s.root, "names", name)
	target := kind + "/" + id
	err := os.Symlink(target, link)
	if err == nil {
		return nil
	}
	if !errors.Is(err, fs.ErrExist) {
		return err
	}
	old, rerr := os.Readlink(link)
	if rerr == nil {
		if _, serr := os.Stat(filepath.Join(s.root, old+".json")); serr == nil {
			return fmt.Errorf("the name %q is already in use by %s: %w", name, strings.TrimPrefix(old, kind+"/"), ErrNameInUse)
		}
	}
	if err := os.Remove(link); err != nil {
		return err
	}
	return os.Symlink(target, link)
}

// Rename moves an object to a new unique name.
func (s *Store) Rename(kind, id, oldName, newName string) error {
	if !ValidName(newName) {
		return fmt.Errorf("%q: %w", newName, ErrInvalidName)
	}
	l, err := s.lockStore()
	if err != nil {
		return err
	}
	defer l.Unlock()
	if err := s.reserveName(kind, id, newName); err != nil {
		return err
	}
	if oldName != "" && oldName != newName {
		_ = os.Remove(filepath.Join(s.root, "names", oldName))
	}
	return nil
}

// Get reads an object's document into doc.
func (s *Store) Get(kind, id string, doc any) error {
	path := s.docPath(kind, id)
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s %s: %w", kind, id, ErrNotFound)
		}
		return err
	}
	if err := json.Unmarshal(data, doc); err != nil {
		return fmt.Errorf("%s: %v: %w (remove it with \"skiff system check --repair\")", path, err, ErrCorrupt)
	}
	return nil
}

// Put replaces an object's document atomically. The caller holds the object's lock.
func (s *Store) Put(kind, id string, doc any) error {
	if _, err := os.Stat(s.docPath(kind, id)); err != nil {
		return fmt.Errorf("%s %s: %w", kind, id, ErrNotFound)
	}
	return s.write(kind, id, doc)
}

// Delete removes an object, its name and its lock file.
func (s *Store) Delete(kind, id, name string) error {
	l, err := s.lockStore()
	if err != nil {
		return err
	}
	defer l.Unlock()
	if name != "" {
		link := filepath.Join(s.root, "names", name)
		if target, err := os.Readlink(link); err == nil && target == kind+"/"+id {
			_ = os.Remove(link)
		}
	}
	if err := os.Remove(s.docPath(kind, id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	_ = os.Remove(filepath.Join(s.kindDir(kind), id+".lock"))
	return syncDir(s.kindDir(kind))
}

// IDs lists the IDs of every object of a kind.
func (s *Store) IDs(kind string) ([]string, error) {
	entries, err := os.ReadDir(s.kindDir(kind))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	ids := make([]string, 0, len(entries))
	for _, e := range entries {
		if id, ok := strings.CutSuffix(e.Name(), ".json"); ok && !strings.HasPrefix(id, ".") {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// Lookup resolves a name, a full ID or a unique ID prefix to an ID, as podman does: the name wins over an ID
// prefix that happens to look the same.
func (s *Store) Lookup(kind, ref string) (string, error) {
	if ref == "" {
		return "", fmt.Errorf("empty name: %w", ErrNotFound)
	}
	if ValidName(ref) {
		if target, err := os.Readlink(filepath.Join(s.root, "names", ref)); err == nil {
			k, id, _ := strings.Cut(target, "/")
			if k == kind {
				if _, err := os.Stat(s.docPath(kind, id)); err == nil {
					return id, nil
				}
			}
		}
	}
	if _, err := os.Stat(s.docPath(kind, ref)); err == nil {
		return ref, nil
	}
	ids, err := s.IDs(kind)
	if err != nil {
		return "", err
	}
	match := ""
	for _, id := range ids {
		if strings.HasPrefix(id, ref) {
			if match != "" {
				return "", fmt.Errorf("%q: %w", ref, ErrAmbiguous)
			}
			match = id
		}
	}
	if match == "" {
		return "", fmt.Errorf("%q: %w", ref, ErrNotFound)
	}
	return match, nil
}

// NameOwner returns "kind/id" of the object holding name, or "".
func (s *Store) NameOwner(name string) string {
	target, err := os.Readlink(filepath.Join(s.root, "names", name))
	if err != nil {
		return ""
	}
	if _, err := os.Stat(filepath.Join(s.root, target+".json")); err != nil {
		return ""
	}
	return target
}

func (s *Store) write(kind, id string, doc any) error {
	data, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	return WriteFileAtomic(s.docPath(kind, id), data, 0o600)
}

// WriteFileAtomic writes data to path so that readers see the old or the new content, never a mix, and the
// new content survives a crash once it returns.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	ok = true
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
