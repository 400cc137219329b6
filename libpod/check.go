package libpod

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/skiffcontainers/skiff/libpod/state"
)

// storageMetadata marks the storage containers skiff made, so that a check never touches podman's or
// buildah's containers in a shared store.
const storageMetadata = `{"skiff":true}`

// Problem is one thing a crash left behind.
type Problem struct {
	Kind     string // corrupt-state, dead-shim, stale-mount, orphan-storage, stale-lock
	ID       string
	Detail   string
	Repaired bool
	Err      error
}

// Check finds what crashes left behind: unreadable state documents, containers whose shim died, root
// filesystems still mounted for containers that do not run, skiff storage containers without a record and
// lock files without a container. With repair it fixes each.
func (r *Runtime) Check(repair bool) ([]Problem, error) {
	var problems []Problem
	ids, err := r.state.IDs(kindContainer)
	if err != nil {
		return nil, err
	}
	known := map[string]bool{}
	for _, id := range ids {
		known[id] = true
		c := &Container{rt: r}
		if err := r.state.Get(kindContainer, id, c); err != nil {
			p := Problem{Kind: "corrupt-state", ID: id, Detail: err.Error()}
			if repair && errors.Is(err, state.ErrCorrupt) {
				p.Err = r.RemoveBroken(id)
				p.Repaired = p.Err == nil
			}
			problems = append(problems, p)
			continue
		}
		c.rt = r
		c.syncExit()
		if c.orphaned {
			p := Problem{Kind: "dead-shim", ID: id, Detail: "the container's skiff-shim died; its processes run unsupervised"}
			if repair {
				c.reapOrphan()
				p.Repaired = true
			}
			problems = append(problems, p)
			continue
		}
		if c.State.Status != StatusRunning && c.State.Status != StatusPaused && c.State.Status != StatusInitialized {
			if n, err := r.Store.Mounted(id); err == nil && n > 0 {
				p := Problem{Kind: "stale-mount", ID: id, Detail: fmt.Sprintf("the root filesystem is mounted %d time(s) but the container is %s", n, c.State.Status)}
				if repair {
					_, p.Err = r.Store.Unmount(id, true)
					p.Repaired = p.Err == nil
				}
				problems = append(problems, p)
			}
		}
	}
	ctrs, err := r.Store.Containers()
	if err != nil {
		return problems, err
	}
	for _, sc := range ctrs {
		if known[sc.ID] || !isSkiffStorage(sc.Metadata) {
			continue
		}
		p := Problem{Kind: "orphan-storage", ID: sc.ID, Detail: "a skiff storage container without a record"}
		if repair {
			_, _ = r.Store.Unmount(sc.ID, true)
			p.Err = r.Store.DeleteContainer(sc.ID)
			p.Repaired = p.Err == nil
		}
		problems = append(problems, p)
	}
	if entries, err := os.ReadDir(filepath.Join(r.state.Root(), kindContainer)); err == nil {
		for _, e := range entries {
			id, ok := strings.CutSuffix(e.Name(), ".lock")
			if !ok || known[id] {
				continue
			}
			p := Problem{Kind: "stale-lock", ID: id, Detail: "a lock file without a container"}
			if repair {
				p.Err = os.Remove(filepath.Join(r.state.Root(), kindContainer, e.Name()))
				p.Repaired = p.Err == nil
			}
			problems = append(problems, p)
		}
	}
	return problems, nil
}

func isSkiffStorage(metadata string) bool {
	var m map[string]any
	if json.Unmarshal([]byte(metadata), &m) != nil {
		return false
	}
	v, _ := m["skiff"].(bool)
	return v
}
