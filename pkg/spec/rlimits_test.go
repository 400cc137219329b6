package spec

import (
	"errors"
	"slices"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/skiffcontainers/skiff/libpod/define"
	"golang.org/x/sys/unix"
)

func TestParseUlimit(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want specs.POSIXRlimit
		err  bool
	}{
		{in: "nofile=1024", want: specs.POSIXRlimit{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: 1024}},
		{in: "nofile=1024:2048", want: specs.POSIXRlimit{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: 2048}},
		{in: "nproc=-1", want: specs.POSIXRlimit{Type: "RLIMIT_NPROC", Soft: rlimInfinity, Hard: rlimInfinity}},
		{in: "core=0:-1", want: specs.POSIXRlimit{Type: "RLIMIT_CORE", Soft: 0, Hard: rlimInfinity}},
		{in: "memlock=65536:65536", want: specs.POSIXRlimit{Type: "RLIMIT_MEMLOCK", Soft: 65536, Hard: 65536}},
		{in: "rttime=10:20", want: specs.POSIXRlimit{Type: "RLIMIT_RTTIME", Soft: 10, Hard: 20}},
		{in: "nofile=2048:1024", err: true}, // soft above hard
		{in: "nofile=-1:1024", err: true},   // unlimited soft under a finite hard
		{in: "nofile=unlimited", err: true}, // podman rejects it too
		{in: "nofile", err: true},
		{in: "bogus=1", err: true},
		{in: "as=1", err: true}, // disabled in podman (go-units)
		{in: "nofile=1:2:3", err: true},
		{in: "nofile=-2", err: true},
	} {
		got, err := ParseUlimit(tc.in)
		if tc.err {
			if !errors.Is(err, define.ErrInvalidArg) {
				t.Errorf("ParseUlimit(%q) err = %v, want ErrInvalidArg", tc.in, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseUlimit(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestClampRlimits(t *testing.T) {
	host := fakeRlimits(map[int]unix.Rlimit{
		unix.RLIMIT_NOFILE:  {Cur: 1024, Max: 20000},
		unix.RLIMIT_NPROC:   {Cur: 4000, Max: 96365},
		unix.RLIMIT_MEMLOCK: {Cur: 65536, Max: 65536},
		// RLIMIT_CORE and the rest: unlimited
	})
	failing := func(int) (unix.Rlimit, error) { return unix.Rlimit{}, unix.EPERM }
	rl := func(typ string, soft, hard uint64) specs.POSIXRlimit {
		return specs.POSIXRlimit{Type: typ, Soft: soft, Hard: hard}
	}
	for _, tc := range []struct {
		name      string
		in        specs.POSIXRlimit
		canRaise  bool
		getrlimit func(int) (unix.Rlimit, error)
		nrOpen    uint64
		want      specs.POSIXRlimit
	}{
		{name: "podman's nofile default comes down to the hard limit", in: rl("RLIMIT_NOFILE", 1048576, 1048576), want: rl("RLIMIT_NOFILE", 20000, 20000)},
		{name: "below the hard limit: unchanged", in: rl("RLIMIT_NOFILE", 1000, 2000), want: rl("RLIMIT_NOFILE", 1000, 2000)},
		{name: "exactly the hard limit: unchanged", in: rl("RLIMIT_NOFILE", 20000, 20000), want: rl("RLIMIT_NOFILE", 20000, 20000)},
		{name: "soft above the caller's soft is fine", in: rl("RLIMIT_NOFILE", 5000, 10000), want: rl("RLIMIT_NOFILE", 5000, 10000)},
		{name: "only the hard limit too high: soft kept", in: rl("RLIMIT_NOFILE", 1024, 30000), want: rl("RLIMIT_NOFILE", 1024, 20000)},
		{name: "unlimited requested", in: rl("RLIMIT_NOFILE", rlimInfinity, rlimInfinity), want: rl("RLIMIT_NOFILE", 20000, 20000)},
		{name: "nproc", in: rl("RLIMIT_NPROC", 4194304, 4194304), want: rl("RLIMIT_NPROC", 96365, 96365)},
		{name: "memlock", in: rl("RLIMIT_MEMLOCK", 1<<20, 1<<20), want: rl("RLIMIT_MEMLOCK", 65536, 65536)},
		{name: "caller unlimited: anything goes", in: rl("RLIMIT_CORE", rlimInfinity, rlimInfinity), want: rl("RLIMIT_CORE", rlimInfinity, rlimInfinity)},
		{name: "with CAP_SYS_RESOURCE: raised", in: rl("RLIMIT_NOFILE", 1048576, 1048576), canRaise: true, want: rl("RLIMIT_NOFILE", 1048576, 1048576)},
		{name: "nr_open caps nofile even with CAP_SYS_RESOURCE", in: rl("RLIMIT_NOFILE", rlimInfinity, rlimInfinity), canRaise: true, nrOpen: 1048576, want: rl("RLIMIT_NOFILE", 1048576, 1048576)},
		{name: "nr_open does not touch other types", in: rl("RLIMIT_NPROC", 2000000, 2000000), canRaise: true, nrOpen: 1048576, want: rl("RLIMIT_NPROC", 2000000, 2000000)},
		{name: "both bounds: the lower wins", in: rl("RLIMIT_NOFILE", 1048576, 1048576), nrOpen: 10000, want: rl("RLIMIT_NOFILE", 10000, 10000)},
		{name: "unknown type left alone", in: rl("RLIMIT_BOGUS", 5, 1<<40), want: rl("RLIMIT_BOGUS", 5, 1<<40)},
		{name: "unreadable limit left alone", in: rl("RLIMIT_NOFILE", 1048576, 1048576), getrlimit: failing, want: rl("RLIMIT_NOFILE", 1048576, 1048576)},
		{name: "soft above an inconsistent hard comes down", in: rl("RLIMIT_CORE", 10, 5), want: rl("RLIMIT_CORE", 5, 5)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := tc.getrlimit
			if g == nil {
				g = host
			}
			in := []specs.POSIXRlimit{tc.in}
			got := clampRlimits(in, tc.canRaise, g, tc.nrOpen)
			if len(got) != 1 || got[0] != tc.want {
				t.Errorf("clamp(%+v) = %+v, want %+v", tc.in, got, tc.want)
			}
			if in[0] != tc.in {
				t.Errorf("the input was modified")
			}
		})
	}
}

func TestProcessRlimits(t *testing.T) {
	for _, tc := range []struct {
		name     string
		o        Options
		canRaise bool
		pidMax   uint64
		want     []specs.POSIXRlimit
		wantErr  bool
	}{
		{
			name:     "podman's defaults where they can be set",
			canRaise: true, pidMax: 32768,
			want: []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 1048576, Soft: 1048576}, {Type: "RLIMIT_NPROC", Hard: 32768, Soft: 32768}},
		},
		{
			name:     "pid_max unknown: PID_MAX_LIMIT",
			canRaise: true,
			want:     []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 1048576, Soft: 1048576}, {Type: "RLIMIT_NPROC", Hard: 4194304, Soft: 4194304}},
		},
		{
			name:   "defaults clamped without CAP_SYS_RESOURCE",
			pidMax: 4194304,
			want:   []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 20000, Soft: 20000}, {Type: "RLIMIT_NPROC", Hard: 96365, Soft: 96365}},
		},
		{
			name:   "--ulimit replaces a default and is clamped too",
			o:      Options{Ulimits: []string{"nofile=30000:40000", "core=0"}},
			pidMax: 32768,
			want:   []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 20000, Soft: 20000}, {Type: "RLIMIT_CORE", Hard: 0, Soft: 0}, {Type: "RLIMIT_NPROC", Hard: 32768, Soft: 32768}},
		},
		{
			name:   "containers.conf default_ulimits, overridden per type by --ulimit",
			o:      Options{DefaultUlimits: []string{"nproc=100:200", "core=1"}, Ulimits: []string{"core=2:3"}},
			pidMax: 32768,
			want:   []specs.POSIXRlimit{{Type: "RLIMIT_NPROC", Hard: 200, Soft: 100}, {Type: "RLIMIT_CORE", Hard: 3, Soft: 2}, {Type: "RLIMIT_NOFILE", Hard: 20000, Soft: 20000}},
		},
		{
			name: "host copies the caller's limits",
			o:    Options{Ulimits: []string{"host"}},
			want: func() []specs.POSIXRlimit {
				h := testHost()
				var out []specs.POSIXRlimit
				for _, n := range sortedResourceNames() {
					r, _ := h.getrlimit(rlimitResources[n])
					out = append(out, specs.POSIXRlimit{Type: n, Hard: r.Max, Soft: r.Cur})
				}
				return out
			}(),
		},
		{name: "bad ulimit", o: Options{Ulimits: []string{"nofile=x"}}, wantErr: true},
		{name: "bad default ulimit", o: Options{DefaultUlimits: []string{"bogus=1"}}, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := testHost()
			h.canRaiseRlimits = tc.canRaise
			h.pidMax = tc.pidMax
			got, err := processRlimits(&tc.o, h)
			if tc.wantErr {
				if !errors.Is(err, define.ErrInvalidArg) {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("got %+v, %v\nwant %+v", got, err, tc.want)
			}
		})
	}
}
