package rootless

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// IDRange is one line of /etc/subuid or /etc/subgid.
type IDRange struct{ Start, Count int }

// SubIDRange returns the first range of /etc/subuid-style file path that belongs to the user, named either
// by login name or by numeric uid, as shadow's newuidmap accepts both.
func SubIDRange(path, name string, uid int) (IDRange, error) {
	f, err := os.Open(path)
	if err != nil {
		return IDRange{}, err
	}
	defer f.Close()
	return parseSubID(bufio.NewScanner(f), name, strconv.Itoa(uid), path)
}

func parseSubID(sc *bufio.Scanner, name, uid, path string) (IDRange, error) {
	for sc.Scan() {
		owner, r, ok := parseSubIDLine(sc.Text())
		if ok && (owner == name || owner == uid) && r.Count > 0 {
			return r, nil
		}
	}
	return IDRange{}, fmt.Errorf("no range for %s in %s", name, path)
}

func parseSubIDLine(line string) (string, IDRange, bool) {
	line = strings.TrimSpace(line)
	if line == "" || strings.HasPrefix(line, "#") {
		return "", IDRange{}, false
	}
	parts := strings.Split(line, ":")
	if len(parts) != 3 {
		return "", IDRange{}, false
	}
	start, err1 := strconv.Atoi(parts[1])
	count, err2 := strconv.Atoi(parts[2])
	if err1 != nil || err2 != nil || start < 0 || count < 0 {
		return "", IDRange{}, false
	}
	return parts[0], IDRange{Start: start, Count: count}, true
}

// SuggestRange proposes a line "name:START:65536" whose range overlaps no range already in path.
func SuggestRange(path, name string) string {
	end := 100000
	if f, err := os.Open(path); err == nil {
		defer f.Close()
		end = suggestStart(bufio.NewScanner(f))
	}
	return fmt.Sprintf("%s:%d:65536", name, end)
}

func suggestStart(sc *bufio.Scanner) int {
	end := 100000
	for sc.Scan() {
		if _, r, ok := parseSubIDLine(sc.Text()); ok && r.Start+r.Count > end {
			end = r.Start + r.Count
		}
	}
	return end
}
