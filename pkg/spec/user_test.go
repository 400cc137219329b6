package spec

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/moby/sys/user"
	ociv1 "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/skiffcontainers/skiff/libpod/define"
	"golang.org/x/sys/unix"
)

func TestResolveUser(t *testing.T) {
	rootfs := testRootfs(t)
	empty := t.TempDir() // no /etc at all
	for _, tc := range []struct {
		rootfs, user string
		uid, gid     uint32
		sgids        []uint32
		home         string
		errMsg       string
	}{
		{rootfs: rootfs, user: "", uid: 0, gid: 0, home: "/root"},
		{rootfs: rootfs, user: "root", uid: 0, gid: 0, home: "/root"},
		{rootfs: rootfs, user: "0", uid: 0, gid: 0, home: "/root"},
		{rootfs: rootfs, user: "test", uid: 1000, gid: 1000, sgids: []uint32{2000, 2001}, home: "/home/test"},
		{rootfs: rootfs, user: "1000", uid: 1000, gid: 1000, sgids: []uint32{2000, 2001}, home: "/home/test"},
		{rootfs: rootfs, user: "test:extra", uid: 1000, gid: 2000, home: "/home/test"},
		{rootfs: rootfs, user: "test:5", uid: 1000, gid: 5, home: "/home/test"},
		{rootfs: rootfs, user: "1000:4242", uid: 1000, gid: 4242, home: "/home/test"},
		{rootfs: rootfs, user: "1234", uid: 1234, gid: 0, home: ""},
		{rootfs: rootfs, user: "1234:1234", uid: 1234, gid: 1234, home: ""},
		{rootfs: rootfs, user: "nobody", errMsg: "unable to find user nobody: no matching entries in passwd file"},
		{rootfs: rootfs, user: "test:wheel", errMsg: "unable to find group wheel: no matching entries in group file"},
		{rootfs: empty, user: "", uid: 0, gid: 0},
		{rootfs: empty, user: "42:43", uid: 42, gid: 43},
		{rootfs: empty, user: "root", errMsg: "unable to find user root: no matching entries in passwd file"},
		{rootfs: "", user: "7", uid: 7, gid: 0},
	} {
		uid, gid, sgids, home, err := ResolveUser(tc.rootfs, tc.user)
		if tc.errMsg != "" {
			if err == nil || err.Error() != tc.errMsg || !errors.Is(err, define.ErrInvalidArg) {
				t.Errorf("ResolveUser(%q) err = %v, want %q wrapping ErrInvalidArg", tc.user, err, tc.errMsg)
			}
			continue
		}
		if err != nil || uid != tc.uid || gid != tc.gid || !slices.Equal(sgids, tc.sgids) || home != tc.home {
			t.Errorf("ResolveUser(%q) = %d %d %v %q %v; want %d %d %v %q", tc.user, uid, gid, sgids, home, err, tc.uid, tc.gid, tc.sgids, tc.home)
		}
	}
}

// An image's /etc/passwd may be a symlink; it must resolve inside the rootfs, never on the host.
func TestResolveUserSymlinksStayInRootfs(t *testing.T) {
	outside := t.TempDir()
	writeFile(t, filepath.Join(outside, "passwd"), "evil:x:666:666::/evil:/bin/sh\n")

	for name, target := range map[string]string{
		"absolute": outside + "/passwd",
		"relative": "../../../../../../../../" + outside + "/passwd",
	} {
		t.Run(name, func(t *testing.T) {
			rootfs := t.TempDir()
			if err := os.MkdirAll(filepath.Join(rootfs, "etc"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, filepath.Join(rootfs, "etc/passwd")); err != nil {
				t.Fatal(err)
			}
			if _, _, _, _, err := ResolveUser(rootfs, "evil"); !errors.Is(err, user.ErrNoPasswdEntries) {
				t.Errorf("resolved a user through a symlink out of the rootfs: err = %v", err)
			}
		})
	}

	t.Run("absolute symlink inside the image", func(t *testing.T) {
		rootfs := t.TempDir()
		for _, d := range []string{"etc", "usr/lib"} {
			if err := os.MkdirAll(filepath.Join(rootfs, d), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		writeFile(t, filepath.Join(rootfs, "usr/lib/passwd"), "app:x:500:500::/app:/bin/sh\n")
		if err := os.Symlink("/usr/lib/passwd", filepath.Join(rootfs, "etc/passwd")); err != nil {
			t.Fatal(err)
		}
		if uid, _, _, home, err := ResolveUser(rootfs, "app"); err != nil || uid != 500 || home != "/app" {
			t.Errorf("ResolveUser(app) = %d %q %v", uid, home, err)
		}
	})
}

func TestResolveUserRefusesSpecialFiles(t *testing.T) {
	rootfs := t.TempDir()
	if err := os.MkdirAll(filepath.Join(rootfs, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	// A FIFO would block the reader forever.
	if err := unix.Mkfifo(filepath.Join(rootfs, "etc/passwd"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, _, _, err := ResolveUser(rootfs, "root"); err == nil {
		t.Error("read a FIFO as /etc/passwd")
	}
	// A directory where the file should be.
	rootfs2 := t.TempDir()
	if err := os.MkdirAll(filepath.Join(rootfs2, "etc/group"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, _, _, _, err := ResolveUser(rootfs2, "0"); err == nil {
		t.Error("read a directory as /etc/group")
	}
}

func TestProcessUserGroups(t *testing.T) {
	rootfs := testRootfs(t)
	for _, tc := range []struct {
		name      string
		o         Options
		gidMap    []specs.LinuxIDMapping // the rootless namespace's
		uid, gid  uint32
		gids      []uint32
		keep      bool
		wantErr   bool
		wantHome  string
		checkHome bool
	}{
		{name: "default root: no additional gids", o: Options{}, uid: 0, gid: 0, gids: nil, wantHome: "/root", checkHome: true},
		{name: "image user", o: Options{ImageConfig: ociv1.ImageConfig{User: "test"}}, uid: 1000, gid: 1000, gids: []uint32{1000, 2000, 2001}},
		{name: "-u overrides image user", o: Options{User: "0", ImageConfig: ociv1.ImageConfig{User: "test"}}, uid: 0, gid: 0, gids: []uint32{0}},
		{name: "primary, group-add, memberships, deduplicated", o: Options{User: "test", GroupAdd: []string{"3000", "tty", "2001"}}, uid: 1000, gid: 1000, gids: []uint32{1000, 3000, 5, 2001, 2000}},
		{name: "explicit group: no memberships", o: Options{User: "test:tty"}, uid: 1000, gid: 5, gids: []uint32{5}},
		{name: "unknown uid gets gid 0", o: Options{User: "4242"}, uid: 4242, gid: 0, gids: []uint32{0}, wantHome: "", checkHome: true},
		{name: "keep-groups", o: Options{User: "test", GroupAdd: []string{"keep-groups"}}, uid: 1000, gid: 1000, gids: []uint32{1000, 2000, 2001}, keep: true},
		{name: "keep-groups with others", o: Options{GroupAdd: []string{"keep-groups", "tty"}}, wantErr: true},
		{name: "unknown group-add name", o: Options{GroupAdd: []string{"wheel"}}, wantErr: true},
		{
			name: "rootless: memberships the namespace lacks are skipped", o: Options{User: "test", Rootless: true},
			gidMap: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}, {ContainerID: 1, HostID: 100000, Size: 1999}},
			uid:    1000, gid: 1000, gids: []uint32{1000},
		},
		{
			name: "own user namespace: its gid map decides",
			o: Options{User: "test", IDMappings: &IDMappings{
				UIDMap: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}},
				GIDMap: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 2001}},
			}},
			uid: 1000, gid: 1000, gids: []uint32{1000, 2000},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := testHost()
			h.gidMap = tc.gidMap
			tc.o.Rootfs = rootfs
			pu, err := resolveProcessUser(&tc.o, h)
			if tc.wantErr {
				if !errors.Is(err, define.ErrInvalidArg) {
					t.Fatalf("err = %v, want ErrInvalidArg", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if pu.uid != tc.uid || pu.gid != tc.gid || !slices.Equal(pu.additionalGids, tc.gids) || pu.keepGroups != tc.keep {
				t.Errorf("got uid %d gid %d gids %v keep %v; want %d %d %v %v", pu.uid, pu.gid, pu.additionalGids, pu.keepGroups, tc.uid, tc.gid, tc.gids, tc.keep)
			}
			if tc.checkHome && pu.home != tc.wantHome {
				t.Errorf("home = %q, want %q", pu.home, tc.wantHome)
			}
		})
	}
}

func TestKeepGroupsAnnotation(t *testing.T) {
	s := mustGenerate(t, &Options{Rootfs: testRootfs(t), GroupAdd: []string{"keep-groups"}}, nil)
	if s.Annotations[AnnotationKeepGroups] != "1" {
		t.Errorf("annotations = %v", s.Annotations)
	}
}
