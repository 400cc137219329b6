package libpod

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/skiffcontainers/skiff/libpod/define"
	"github.com/skiffcontainers/skiff/pkg/spec"
	"github.com/skiffcontainers/skiff/rootless"
)

// KeepIDMappings is --userns=keep-id: a new user namespace in which the user's own uid and gid are the same
// as on the host, so files the container writes to a bind mount belong to the user. It returns the maps and
// the "uid:gid" the container runs as.
func KeepIDMappings() (*spec.IDMappings, string, error) {
	if !rootless.IsRootless() {
		return nil, "", fmt.Errorf("keep-id is only supported in rootless mode: %w", define.ErrInvalidArg)
	}
	uid, gid := rootless.UID(), rootless.GID()
	uids, err := parentIDCount("/proc/self/uid_map")
	if err != nil {
		return nil, "", err
	}
	gids, err := parentIDCount("/proc/self/gid_map")
	if err != nil {
		return nil, "", err
	}
	um, err := keepID(uid, uids)
	if err != nil {
		return nil, "", err
	}
	gm, err := keepID(gid, gids)
	if err != nil {
		return nil, "", err
	}
	return &spec.IDMappings{UIDMap: um, GIDMap: gm}, fmt.Sprintf("%d:%d", uid, gid), nil
}

// keepID maps id to the namespace's 0 (the user on the host), the ids below it to 1..id and the rest above.
// n is the number of ids in the namespace skiff runs in.
func keepID(id, n int) ([]specs.LinuxIDMapping, error) {
	if id+1 >= n {
		return nil, fmt.Errorf("keep-id needs more than %d subordinate ids (there are %d): add a larger range to /etc/subuid and /etc/subgid: %w", id+1, n-1, define.ErrInvalidArg)
	}
	return []specs.LinuxIDMapping{
		{ContainerID: 0, HostID: 1, Size: uint32(id)},
		{ContainerID: uint32(id), HostID: 0, Size: 1},
		{ContainerID: uint32(id + 1), HostID: uint32(id + 1), Size: uint32(n - id - 1)},
	}, nil
}

// NoMapMappings is --userns=nomap: the container gets only the subordinate ids, never the user's own.
func NoMapMappings() (*spec.IDMappings, error) {
	if !rootless.IsRootless() {
		return nil, fmt.Errorf("nomap is only supported in rootless mode: %w", define.ErrInvalidArg)
	}
	uids, err := parentIDCount("/proc/self/uid_map")
	if err != nil {
		return nil, err
	}
	gids, err := parentIDCount("/proc/self/gid_map")
	if err != nil {
		return nil, err
	}
	if uids < 2 || gids < 2 {
		return nil, fmt.Errorf("nomap needs subordinate ids in /etc/subuid and /etc/subgid: %w", define.ErrInvalidArg)
	}
	return &spec.IDMappings{
		UIDMap: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1, Size: uint32(uids - 1)}},
		GIDMap: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1, Size: uint32(gids - 1)}},
	}, nil
}

// ParseIDMaps reads --uidmap and --gidmap values "container_id:host_id:amount" (several joined by commas
// are accepted too). A missing one copies the other, as podman does.
func ParseIDMaps(uidmap, gidmap []string) (*spec.IDMappings, error) {
	um, err := parseIDMapList(uidmap)
	if err != nil {
		return nil, err
	}
	gm, err := parseIDMapList(gidmap)
	if err != nil {
		return nil, err
	}
	if len(um) == 0 {
		um = gm
	}
	if len(gm) == 0 {
		gm = um
	}
	return &spec.IDMappings{UIDMap: um, GIDMap: gm}, nil
}

func parseIDMapList(values []string) ([]specs.LinuxIDMapping, error) {
	var out []specs.LinuxIDMapping
	for _, v := range values {
		for _, one := range strings.Split(v, ",") {
			parts := strings.Split(one, ":")
			if len(parts) != 3 {
				return nil, fmt.Errorf("invalid ID map %q: want container_id:host_id:amount: %w", one, define.ErrInvalidArg)
			}
			var n [3]uint32
			for i, p := range parts {
				x, err := strconv.ParseUint(p, 10, 32)
				if err != nil {
					return nil, fmt.Errorf("invalid ID map %q: %w", one, define.ErrInvalidArg)
				}
				n[i] = uint32(x)
			}
			if n[2] == 0 {
				return nil, fmt.Errorf("invalid ID map %q: the amount must be positive: %w", one, define.ErrInvalidArg)
			}
			out = append(out, specs.LinuxIDMapping{ContainerID: n[0], HostID: n[1], Size: n[2]})
		}
	}
	return out, nil
}

// parentIDCount is how many ids the namespace skiff runs in has: the sum of its map's sizes.
func parentIDCount(path string) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		n, err := strconv.Atoi(f[2])
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}
