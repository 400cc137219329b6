package spec

import (
	"errors"
	"slices"
	"testing"

	ociv1 "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/skiffcontainers/skiff/libpod/define"
)

func TestProcessArgs(t *testing.T) {
	for _, tc := range []struct {
		name       string
		image      ociv1.ImageConfig
		entrypoint *[]string
		command    []string
		init       bool
		want       []string
		wantErr    bool
	}{
		{name: "image cmd", image: ociv1.ImageConfig{Cmd: []string{"sh"}}, want: []string{"sh"}},
		{name: "image entrypoint and cmd", image: ociv1.ImageConfig{Entrypoint: []string{"/ep"}, Cmd: []string{"a"}}, want: []string{"/ep", "a"}},
		{name: "command replaces cmd", image: ociv1.ImageConfig{Entrypoint: []string{"/ep"}, Cmd: []string{"a"}}, command: []string{"b", "c"}, want: []string{"/ep", "b", "c"}},
		{name: "user entrypoint drops image cmd", image: ociv1.ImageConfig{Entrypoint: []string{"/ep"}, Cmd: []string{"a"}}, entrypoint: &[]string{"/mine"}, want: []string{"/mine"}},
		{name: "user entrypoint and command", image: ociv1.ImageConfig{Cmd: []string{"a"}}, entrypoint: &[]string{"/mine", "-x"}, command: []string{"b"}, want: []string{"/mine", "-x", "b"}},
		{name: "empty entrypoint keeps image cmd", image: ociv1.ImageConfig{Entrypoint: []string{"/ep"}, Cmd: []string{"a"}}, entrypoint: &[]string{}, want: []string{"a"}},
		{name: "empty entrypoint and command", image: ociv1.ImageConfig{Entrypoint: []string{"/ep"}}, entrypoint: &[]string{}, command: []string{"ls"}, want: []string{"ls"}},
		{name: "image entrypoint [\"\"] is none", image: ociv1.ImageConfig{Entrypoint: []string{""}, Cmd: []string{"a"}}, want: []string{"a"}},
		{name: "init", image: ociv1.ImageConfig{Cmd: []string{"sh"}}, init: true, want: []string{"/run/podman-init", "--", "sh"}},
		{name: "nothing", wantErr: true},
		{name: "empty entrypoint and no cmd", image: ociv1.ImageConfig{Entrypoint: []string{"/ep"}}, entrypoint: &[]string{}, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := processArgs(&Options{ImageConfig: tc.image, Entrypoint: tc.entrypoint, Command: tc.command, Init: tc.init})
			if tc.wantErr {
				if !errors.Is(err, define.ErrInvalidArg) || err.Error() != "no command or entrypoint provided, and no CMD or ENTRYPOINT from image" {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestWorkingDir(t *testing.T) {
	for _, tc := range []struct {
		user, image, want string
		wantErr           bool
	}{
		{want: "/"},
		{image: "/app", want: "/app"},
		{image: "app", want: "/app"},
		{user: "/work/", image: "/app", want: "/work"},
		{user: "work", wantErr: true},
	} {
		got, err := workingDir(&Options{WorkDir: tc.user, ImageConfig: ociv1.ImageConfig{WorkingDir: tc.image}})
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("workingDir(%q, %q) = %q, %v; want %q", tc.user, tc.image, got, err, tc.want)
		}
	}
}

func TestProcessEnv(t *testing.T) {
	t.Setenv("SKIFFTEST_HOST", "fromhost")
	t.Setenv("SKIFFTEST_GLOB_A", "a")
	t.Setenv("SKIFFTEST_GLOB_B", "b")
	t.Setenv("PATH", "/host/bin")
	for _, tc := range []struct {
		name     string
		o        Options
		hostname string
		home     string
		want     []string // exact
		contains []string // or only these
		absent   []string // keys
	}{
		{
			name: "defaults", hostname: "abc", home: "/root",
			want: []string{defaultPath, "container=podman", "HOSTNAME=abc", "HOME=/root"},
		},
		{
			name: "terminal adds TERM", o: Options{Terminal: true},
			want: []string{defaultPath, "container=podman", "TERM=xterm"},
		},
		{
			name: "image TERM kept with a terminal", o: Options{Terminal: true, ImageConfig: ociv1.ImageConfig{Env: []string{"TERM=vt100"}}},
			want: []string{defaultPath, "container=podman", "TERM=vt100"},
		},
		{
			name: "image env overrides defaults in place; bare image key is empty",
			o:    Options{ImageConfig: ociv1.ImageConfig{Env: []string{"PATH=/img/bin", "LANG=C", "BARE"}}},
			want: []string{"PATH=/img/bin", "container=podman", "LANG=C", "BARE="},
		},
		{
			name: "containers.conf env between defaults and image",
			o:    Options{DefaultEnv: []string{"FROMCONF=1", "LANG=conf"}, ImageConfig: ociv1.ImageConfig{Env: []string{"LANG=img"}}},
			want: []string{defaultPath, "container=podman", "FROMCONF=1", "LANG=img"},
		},
		{
			name: "user env wins; bare key from host; unset bare key dropped; glob",
			o: Options{
				ImageConfig: ociv1.ImageConfig{Env: []string{"LANG=C", "SKIFFTEST_HOST=img"}},
				Env:         []string{"LANG=de", "SKIFFTEST_HOST", "SKIFFTEST_UNSET", "SKIFFTEST_GLOB*", "EMPTY="},
			},
			want: []string{defaultPath, "container=podman", "LANG=de", "SKIFFTEST_HOST=fromhost", "SKIFFTEST_GLOB_A=a", "SKIFFTEST_GLOB_B=b", "EMPTY="},
		},
		{
			name: "user HOME and HOSTNAME are kept", hostname: "abc", home: "/root",
			o:    Options{Env: []string{"HOME=/mine", "HOSTNAME=mine"}},
			want: []string{defaultPath, "container=podman", "HOME=/mine", "HOSTNAME=mine"},
		},
		{
			name:     "env-host overrides image, user overrides host",
			o:        Options{EnvHost: true, ImageConfig: ociv1.ImageConfig{Env: []string{"SKIFFTEST_HOST=img"}}, Env: []string{"SKIFFTEST_GLOB_A=user"}},
			contains: []string{"PATH=/host/bin", "container=podman", "SKIFFTEST_HOST=fromhost", "SKIFFTEST_GLOB_A=user", "SKIFFTEST_GLOB_B=b"},
		},
		{
			name: "no home, no hostname", absent: []string{"HOME", "HOSTNAME"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := processEnv(&tc.o, tc.hostname, tc.home)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want != nil && !slices.Equal(got, tc.want) {
				t.Errorf("env =\n%q\nwant\n%q", got, tc.want)
			}
			for _, kv := range tc.contains {
				if !slices.Contains(got, kv) {
					t.Errorf("env lacks %q: %q", kv, got)
				}
			}
			for _, k := range tc.absent {
				if hasEnv(got, k) {
					t.Errorf("env has %s: %q", k, got)
				}
			}
		})
	}
}

func TestProcessEnvInvalid(t *testing.T) {
	_, err := processEnv(&Options{Env: []string{"=value"}}, "", "")
	if !errors.Is(err, define.ErrInvalidArg) {
		t.Errorf("err = %v", err)
	}
}

func TestHostnameAndNamespaces(t *testing.T) {
	for _, tc := range []struct {
		uts          string
		wantHostname string
		wantEnv      string
	}{
		{uts: "", wantHostname: "ctr", wantEnv: "HOSTNAME=ctr"},
		{uts: "private", wantHostname: "ctr", wantEnv: "HOSTNAME=ctr"},
		{uts: "host", wantHostname: "", wantEnv: "HOSTNAME=the-host"},
		{uts: "ns:/proc/1/ns/uts", wantHostname: "", wantEnv: ""},
	} {
		s := mustGenerate(t, &Options{Rootfs: testRootfs(t), Hostname: "ctr", Namespaces: Namespaces{UTS: tc.uts}}, nil)
		if s.Hostname != tc.wantHostname {
			t.Errorf("uts %q: hostname %q, want %q", tc.uts, s.Hostname, tc.wantHostname)
		}
		if tc.wantEnv != "" && !slices.Contains(s.Process.Env, tc.wantEnv) {
			t.Errorf("uts %q: env %q lacks %q", tc.uts, s.Process.Env, tc.wantEnv)
		}
		if tc.wantEnv == "" && hasEnv(s.Process.Env, "HOSTNAME") {
			t.Errorf("uts %q: env %q has HOSTNAME", tc.uts, s.Process.Env)
		}
	}
}

func TestParseUmask(t *testing.T) {
	for in, want := range map[string]uint32{"": 0o022, "0022": 0o022, "077": 0o077, "0": 0, "0777": 0o777} {
		if got, err := parseUmask(in); err != nil || got != want {
			t.Errorf("parseUmask(%q) = %o, %v", in, got, err)
		}
	}
	for _, in := range []string{"8", "1000", "abc", "0x12", "-1", "22 "} {
		if _, err := parseUmask(in); err == nil {
			t.Errorf("parseUmask(%q): no error", in)
		}
	}
}

func TestTerminal(t *testing.T) {
	s := mustGenerate(t, &Options{Rootfs: testRootfs(t), Terminal: true, Stdin: true}, nil)
	if !s.Process.Terminal || s.Annotations[AnnotationTTY] != "true" {
		t.Errorf("terminal %v, annotation %q", s.Process.Terminal, s.Annotations[AnnotationTTY])
	}
	if s.Process.ConsoleSize != nil {
		t.Errorf("console size set: %+v", s.Process.ConsoleSize)
	}
}
