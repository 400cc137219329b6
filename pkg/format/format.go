// Package format prints listings and inspect documents the way podman does: a default table, a user's Go
// template (with or without the "table" keyword), or JSON. It builds on containers/common's report package,
// which is what podman uses, so column alignment and template functions match to the byte.
package format

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"

	"github.com/docker/go-units"
	"go.podman.io/common/pkg/report"
)

// IsJSON reports whether the --format value asks for JSON.
func IsJSON(f string) bool { return report.IsJSON(f) }

// Table describes one listing: its default template, its headers and the user's --format.
type Table struct {
	Name          string            // the command name, used in template error messages
	UserFormat    string            // --format, "" for the default
	DefaultFormat string            // podman-style "{{range .}}{{.A}}\t{{.B}}\n{{end -}}"
	Headers       any               // a zero value of the row type: its field names become headers
	HeaderNames   map[string]string // overrides: "ID" -> "IMAGE ID"
	NoHeading     bool
}

// Write renders rows, a slice, through the table's template.
func (t Table) Write(w io.Writer, rows any) error {
	rpt := report.New(w, t.Name)
	defer rpt.Flush()
	var err error
	noHeading := t.NoHeading
	if t.UserFormat != "" {
		if !report.HasTable(t.UserFormat) {
			noHeading = true
		}
		rpt, err = rpt.Parse(report.OriginUser, t.UserFormat)
	} else {
		rpt, err = rpt.Parse(report.OriginPodman, t.DefaultFormat)
	}
	if err != nil {
		return fmt.Errorf("template: %w", err)
	}
	if rpt.RenderHeaders && !noHeading && t.Headers != nil {
		if err := rpt.Execute(report.Headers(t.Headers, t.HeaderNames)); err != nil {
			return err
		}
	}
	return rpt.Execute(rows)
}

// Template renders each item of a single document (inspect, info, version) through a user's template.
func Template(w io.Writer, name, userFormat string, data any) error {
	rpt := report.New(w, name)
	defer rpt.Flush()
	f := userFormat
	if !strings.HasSuffix(f, "\n") {
		f += "\n"
	}
	rpt, err := rpt.Parse(report.OriginUser, f)
	if err != nil {
		return fmt.Errorf("template: %w", err)
	}
	// A user template is run once per element (podman's EnforceRange), so one document is a one-element list.
	return rpt.Execute([]any{data})
}

// JSON writes v indented with four spaces, like podman's listings.
func JSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "    ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}

// HumanSize renders bytes with three significant digits and a space before the unit: "4.86 MB".
func HumanSize(n int64) string {
	s := units.HumanSizeWithPrecision(float64(n), 3)
	j := strings.LastIndexFunc(s, unicode.IsNumber)
	return s[:j+1] + " " + s[j+1:]
}

// HumanDuration is docker's rounded duration: "About an hour", "3 days".
func HumanDuration(d time.Duration) string { return units.HumanDuration(d) }
