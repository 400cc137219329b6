// Package env reads --env and --env-file values the way podman does.
package env

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// ParseFile reads an env file: KEY=VALUE lines, KEY alone (taken from the host's environment when set),
// blank lines and # comments. Values are taken literally: no quotes are stripped, as in podman.
func ParseFile(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("env file: %w", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimLeft(sc.Text(), " \t")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		kv, err := parseOne(line)
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %w", path, n, err)
		}
		out = append(out, kv...)
	}
	return out, sc.Err()
}

// Parse resolves -e values: KEY=VALUE as is; KEY alone (or KEY* as a prefix) from the host's environment.
func Parse(values []string) ([]string, error) {
	var out []string
	for _, v := range values {
		kv, err := parseOne(v)
		if err != nil {
			return nil, err
		}
		out = append(out, kv...)
	}
	return out, nil
}

func parseOne(v string) ([]string, error) {
	key, val, hasValue := strings.Cut(v, "=")
	if key == "" {
		return nil, fmt.Errorf("invalid environment variable %q: no name", v)
	}
	if strings.ContainsAny(key, " \t") {
		return nil, fmt.Errorf("invalid environment variable %q: the name has white space", v)
	}
	if hasValue {
		return []string{key + "=" + val}, nil
	}
	if prefix, ok := strings.CutSuffix(key, "*"); ok {
		var out []string
		for _, e := range os.Environ() {
			if strings.HasPrefix(e, prefix) {
				out = append(out, e)
			}
		}
		return out, nil
	}
	if hv, ok := os.LookupEnv(key); ok {
		return []string{key + "=" + hv}, nil
	}
	return nil, nil // unset on the host: podman drops it
}

// Merge applies later entries over earlier ones, keeping first-seen order.
func Merge(lists ...[]string) []string {
	idx := map[string]int{}
	var out []string
	for _, l := range lists {
		for _, kv := range l {
			k, _, _ := strings.Cut(kv, "=")
			if i, ok := idx[k]; ok {
				out[i] = kv
				continue
			}
			idx[k] = len(out)
			out = append(out, kv)
		}
	}
	return out
}

// FromFlags is the environment of --env-file files then -e values, later ones winning, as create, run and
// exec read them.
func FromFlags(values, files []string) ([]string, error) {
	var fromFiles []string
	for _, path := range files {
		e, err := ParseFile(path)
		if err != nil {
			return nil, err
		}
		fromFiles = append(fromFiles, e...)
	}
	fromValues, err := Parse(values)
	if err != nil {
		return nil, err
	}
	return Merge(fromFiles, fromValues), nil
}
