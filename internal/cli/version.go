package cli

import (
	"runtime/debug"
	"strings"
)

// versionLine is what "parley version" prints: the version (the one set at build time, else
// the main module's from the build information), then the VCS revision the binary was built
// from, marked "+dirty" when the work tree had changes, and the Go version.
//
//	parley v0.0.0-20261201211500-df6e3e2e1f0a (revision df6e3e2e1f0a..., go1.26.8)
func versionLine(version string, bi *debug.BuildInfo, ok bool) string {
	if !ok || bi == nil {
		bi = &debug.BuildInfo{}
	}
	if version == "" || version == "dev" {
		version = bi.Main.Version
		if version == "" || version == "(devel)" {
			version = "dev"
		}
	}
	var details []string
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev != "" {
		if modified == "true" {
			rev += "+dirty"
		}
		details = append(details, "revision "+rev)
	} else {
		details = append(details, "revision unknown")
	}
	if bi.GoVersion != "" {
		details = append(details, bi.GoVersion)
	}
	return "parley " + version + " (" + strings.Join(details, ", ") + ")"
}
