package cli

import (
	"context"
	"io"
	"runtime/debug"
	"strings"
	"testing"
)

// TestVersionLine checks "parley version" names the module version and the VCS revision of
// the build, and that a version set at build time wins.
func TestVersionLine(t *testing.T) {
	stamped := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/parley-dev/parley",
		Version: "v0.0.0-20261201211500-df6e3e2e1f0a"}, Settings: []debug.BuildSetting{
		{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "df6e3e2e1f0a0000000000000000000000000000"},
		{Key: "vcs.modified", Value: "false"}}}
	dirty := &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.modified", Value: "true"}}}
	for _, tc := range []struct {
		version string
		bi      *debug.BuildInfo
		ok      bool
		want    string
	}{
		{"dev", stamped, true, "parley v0.0.0-20261201211500-df6e3e2e1f0a (revision df6e3e2e1f0a0000000000000000000000000000, go1.26.8)"},
		{"v1.2.3", stamped, true, "parley v1.2.3 (revision df6e3e2e1f0a0000000000000000000000000000, go1.26.8)"},
		{"", dirty, true, "parley dev (revision abc123+dirty)"},
		{"dev", nil, false, "parley dev (revision unknown)"},
	} {
		if got := versionLine(tc.version, tc.bi, tc.ok); got != tc.want {
			t.Errorf("versionLine(%q, ...) = %q, want %q", tc.version, got, tc.want)
		}
	}
}

// TestVersionCommand checks "parley version" prints this binary's build information.
func TestVersionCommand(t *testing.T) {
	var out strings.Builder
	if err := Run(context.Background(), "dev", []string{"version"}, func(string) string { return "" }, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	bi, ok := debug.ReadBuildInfo()
	if want := versionLine("dev", bi, ok) + "\n"; out.String() != want {
		t.Fatalf("parley version printed %q, want %q", out.String(), want)
	}
}
