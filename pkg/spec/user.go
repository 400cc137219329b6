package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"github.com/moby/sys/user"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// maxUserDBSize bounds how much of an image's /etc/passwd or /etc/group is read: the files come from an
// untrusted image.
const maxUserDBSize = 16 << 20

// userDB is a rootfs's /etc/passwd and /etc/group, read once. A missing file is nil.
type userDB struct {
	passwd, group []byte
}

// readUserDB reads /etc/passwd and /etc/group inside rootfs. The paths are resolved inside the rootfs
// (an image's absolute symlink /etc/passwd -> /usr/lib/passwd stays in the image) and only regular files
// are read, so a hostile image can neither point skiff at host files nor make it block on a FIFO or device.
func readUserDB(rootfs string) (*userDB, error) {
	db := &userDB{}
	if rootfs == "" {
		return db, nil
	}
	var err error
	if db.passwd, err = readRootfsFile(rootfs, "/etc/passwd"); err != nil {
		return nil, err
	}
	if db.group, err = readRootfsFile(rootfs, "/etc/group"); err != nil {
		return nil, err
	}
	return db, nil
}

// readRootfsFile returns the content of a regular file inside rootfs, or nil if it does not exist.
func readRootfsFile(rootfs, path string) ([]byte, error) {
	handle, err := pathrs.OpenInRoot(rootfs, path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ENOTDIR) {
			return nil, nil
		}
		return nil, fmt.Errorf("opening %s in the container: %w", path, err)
	}
	defer handle.Close()
	st, err := handle.Stat()
	if err != nil {
		return nil, fmt.Errorf("opening %s in the container: %w", path, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s in the container is not a regular file", path)
	}
	f, err := pathrs.Reopen(handle, unix.O_RDONLY|unix.O_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("opening %s in the container: %w", path, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxUserDBSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s in the container: %w", path, err)
	}
	if len(b) > maxUserDBSize {
		return nil, fmt.Errorf("%s in the container is larger than %d bytes", path, maxUserDBSize)
	}
	return b, nil
}

// The readers must be untyped nil for a missing file: moby/sys/user treats a nil reader as "no entries".
func (db *userDB) passwdReader() io.Reader {
	if db.passwd == nil {
		return nil
	}
	return bytes.NewReader(db.passwd)
}

func (db *userDB) groupReader() io.Reader {
	if db.group == nil {
		return nil
	}
	return bytes.NewReader(db.group)
}

// execUser resolves "user[:group]" like runc and podman: names through the files, numeric ids with or
// without an entry (a uid without one gets gid 0 and no home). Supplementary groups (memberships in
// /etc/group) are only looked up when no group is given.
func (db *userDB) execUser(spec string) (*user.ExecUser, error) {
	u, err := user.GetExecUser(spec, &user.ExecUser{}, db.passwdReader(), db.groupReader())
	if err != nil {
		// moby/sys/user's messages are podman's ("unable to find user foo: no matching entries in passwd
		// file"); keep them and add the kind.
		return nil, invalidArg(err)
	}
	return u, nil
}

// ResolveUser resolves "user[:group]" (names or ids) against the rootfs's /etc/passwd and /etc/group. It
// returns the uid, the gid, the supplementary groups the user is a member of (none when a group is given
// explicitly) and the home directory ("" when the user has no passwd entry). An empty user is root.
func ResolveUser(rootfs, userSpec string) (uid, gid uint32, additionalGids []uint32, home string, err error) {
	db, err := readUserDB(rootfs)
	if err != nil {
		return 0, 0, nil, "", err
	}
	u, err := db.execUser(userSpec)
	if err != nil {
		return 0, 0, nil, "", err
	}
	for _, g := range u.Sgids {
		additionalGids = append(additionalGids, uint32(g))
	}
	return uint32(u.Uid), uint32(u.Gid), additionalGids, u.Home, nil
}

type processUser struct {
	uid, gid       uint32
	additionalGids []uint32
	home           string
	keepGroups     bool
}

// resolveProcessUser is podman's user setup: the primary gid is listed in the additional gids when a user
// is given, then --group-add, then the user's memberships (unless a group was given), skipping gids the
// container's user namespace cannot represent.
func resolveProcessUser(o *Options, h *hostInfo) (*processUser, error) {
	spec := o.User
	if spec == "" {
		spec = o.ImageConfig.User
	}
	db, err := readUserDB(o.Rootfs)
	if err != nil {
		return nil, err
	}
	eu, err := db.execUser(spec)
	if err != nil {
		return nil, err
	}
	if eu.Uid < 0 || eu.Gid < 0 {
		return nil, invalidArgf("invalid user %q: negative id", spec)
	}
	pu := &processUser{uid: uint32(eu.Uid), gid: uint32(eu.Gid), home: eu.Home}
	add := func(gid uint32) {
		if !slices.Contains(pu.additionalGids, gid) {
			pu.additionalGids = append(pu.additionalGids, gid)
		}
	}
	if spec != "" {
		add(pu.gid)
	}

	var groups []string
	for _, g := range o.GroupAdd {
		if g == "keep-groups" {
			pu.keepGroups = true
			continue
		}
		groups = append(groups, g)
	}
	if pu.keepGroups && len(groups) > 0 {
		return nil, invalidArgf("the '--group-add keep-groups' option is not allowed with any other --group-add options")
	}
	for _, g := range groups {
		// One at a time: GetAdditionalGroups returns /etc/group's order, podman keeps the user's.
		gids, err := user.GetAdditionalGroups([]string{g}, db.groupReader())
		if err != nil {
			return nil, invalidArgf("looking up supplemental groups: %w", err)
		}
		for _, g := range gids {
			add(uint32(g))
		}
	}

	if !strings.Contains(spec, ":") {
		gidMap := containerGIDMap(o, h)
		for _, g := range eu.Sgids {
			if idMapped(gidMap, uint32(g)) {
				add(uint32(g))
			} else {
				logrus.Warnf("Additional gid=%d is not present in the user namespace, skip setting it", g)
			}
		}
	}
	return pu, nil
}

// parseUmask reads an octal umask; "" is podman's default 0022.
func parseUmask(s string) (uint32, error) {
	if s == "" {
		return 0o022, nil
	}
	var v uint32
	if _, err := fmt.Sscanf(s, "%o", &v); err != nil || v > 0o777 || strings.TrimLeft(s, "01234567") != "" {
		return 0, invalidArgf("invalid umask %q: must be an octal number up to 0777", s)
	}
	return v, nil
}
