package spec

import (
	"errors"
	"slices"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/skiffcontainers/skiff/libpod/define"
	"go.podman.io/common/pkg/capabilities"
)

var podmanDefaultCaps = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_NET_BIND_SERVICE",
	"CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT",
}

func without(list []string, drop ...string) []string {
	var out []string
	for _, c := range list {
		if !slices.Contains(drop, c) {
			out = append(out, c)
		}
	}
	return out
}

func TestProcessCapabilities(t *testing.T) {
	h := testHost() // everything but CAP_SYS_RESOURCE
	all := h.boundingSet
	for _, tc := range []struct {
		name      string
		o         Options
		uid       uint32
		want      specs.LinuxCapabilities
		wantError bool
	}{
		{
			name: "root gets podman's defaults",
			want: specs.LinuxCapabilities{Bounding: podmanDefaultCaps, Effective: podmanDefaultCaps, Permitted: podmanDefaultCaps},
		},
		{
			name: "non-root starts with nothing but the bounding set", uid: 1000,
			want: specs.LinuxCapabilities{Bounding: podmanDefaultCaps},
		},
		{
			name: "cap-add and cap-drop, any spelling",
			o:    Options{CapAdd: []string{"net_admin", "CAP_sys_ptrace"}, CapDrop: []string{"chown", "CAP_KILL"}},
			want: func() specs.LinuxCapabilities {
				c := append(without(podmanDefaultCaps, "CAP_CHOWN", "CAP_KILL"), "CAP_NET_ADMIN", "CAP_SYS_PTRACE")
				slices.Sort(c)
				return specs.LinuxCapabilities{Bounding: c, Effective: c, Permitted: c}
			}(),
		},
		{
			name: "non-root gets what it adds, in every set so it survives the exec", uid: 1000,
			o: Options{CapAdd: []string{"NET_RAW"}},
			want: func() specs.LinuxCapabilities {
				b := append(slices.Clone(podmanDefaultCaps), "CAP_NET_RAW")
				slices.Sort(b)
				u := []string{"CAP_NET_RAW"}
				return specs.LinuxCapabilities{Bounding: b, Effective: u, Permitted: u, Inheritable: u, Ambient: u}
			}(),
		},
		{
			name: "drop ALL, add one",
			o:    Options{CapDrop: []string{"all"}, CapAdd: []string{"chown"}},
			want: specs.LinuxCapabilities{Bounding: []string{"CAP_CHOWN"}, Effective: []string{"CAP_CHOWN"}, Permitted: []string{"CAP_CHOWN"}},
		},
		{
			name: "add ALL stays within the caller's bounding set",
			o:    Options{CapAdd: []string{"ALL"}},
			want: func() specs.LinuxCapabilities {
				// MergeCapabilities expands ALL to the real process's bounding set; the host's then cuts it.
				real, _ := capabilities.BoundingSet()
				var c []string
				for _, x := range real {
					if slices.Contains(all, x) {
						c = append(c, x)
					}
				}
				return specs.LinuxCapabilities{Bounding: c, Effective: c, Permitted: c}
			}(),
		},
		{
			name: "a cap the caller lacks is silently left out",
			o:    Options{CapAdd: []string{"SYS_RESOURCE"}},
			want: specs.LinuxCapabilities{Bounding: podmanDefaultCaps, Effective: podmanDefaultCaps, Permitted: podmanDefaultCaps},
		},
		{
			name: "privileged gets the caller's bounding set, not a fixed list",
			o:    Options{Privileged: true, CapDrop: []string{"chown"}},
			want: specs.LinuxCapabilities{Bounding: all, Effective: all, Permitted: all},
		},
		{
			name: "privileged non-root user: only added caps are effective", uid: 1000,
			o:    Options{Privileged: true},
			want: specs.LinuxCapabilities{Bounding: all},
		},
		{
			name: "containers.conf default_capabilities",
			o:    Options{DefaultCapabilities: []string{"CAP_CHOWN", "kill"}},
			want: specs.LinuxCapabilities{Bounding: []string{"CAP_CHOWN", "CAP_KILL"}, Effective: []string{"CAP_CHOWN", "CAP_KILL"}, Permitted: []string{"CAP_CHOWN", "CAP_KILL"}},
		},
		{
			name: "image capabilities label narrows the set",
			o:    Options{Labels: map[string]string{"io.containers.capabilities": "CHOWN,setuid"}},
			want: specs.LinuxCapabilities{Bounding: []string{"CAP_CHOWN", "CAP_SETUID"}, Effective: []string{"CAP_CHOWN", "CAP_SETUID"}, Permitted: []string{"CAP_CHOWN", "CAP_SETUID"}},
		},
		{
			name: "image capabilities label asking for more is ignored",
			o:    Options{Labels: map[string]string{"io.containers.capabilities": "CHOWN,SYS_ADMIN"}},
			want: specs.LinuxCapabilities{Bounding: podmanDefaultCaps, Effective: podmanDefaultCaps, Permitted: podmanDefaultCaps},
		},
		{name: "unknown capability", o: Options{CapAdd: []string{"CAP_FLY"}}, wantError: true},
		{name: "add and drop the same", o: Options{CapAdd: []string{"chown"}, CapDrop: []string{"CAP_CHOWN"}}, wantError: true},
		{name: "unknown capability for non-root", uid: 1, o: Options{CapAdd: []string{"FLY"}}, wantError: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := processCapabilities(&tc.o, tc.uid, h)
			if tc.wantError {
				if !errors.Is(err, define.ErrInvalidArg) {
					t.Fatalf("err = %v, want ErrInvalidArg", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, set := range []struct {
				name      string
				got, want []string
			}{
				{"bounding", got.Bounding, tc.want.Bounding},
				{"effective", got.Effective, tc.want.Effective},
				{"permitted", got.Permitted, tc.want.Permitted},
				{"inheritable", got.Inheritable, tc.want.Inheritable},
				{"ambient", got.Ambient, tc.want.Ambient},
			} {
				if !slices.Equal(set.got, set.want) {
					t.Errorf("%s = %v\nwant %v", set.name, set.got, set.want)
				}
			}
		})
	}
}

func TestBoundingCapabilities(t *testing.T) {
	got := BoundingCapabilities()
	want, err := capabilities.BoundingSet()
	if err != nil {
		t.Skip(err)
	}
	if !slices.Equal(got, want) || !slices.IsSorted(got) {
		t.Errorf("BoundingCapabilities() = %v, want %v", got, want)
	}
}
