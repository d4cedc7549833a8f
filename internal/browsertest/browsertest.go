// Package browsertest finds the Chromium that the browser tests drive and gives the flags
// they start it with, so that every browser test of the project runs the same browser the
// same way (CI installs Debian's chromium and sets PARLEY_REQUIRE_BROWSER=1).
package browsertest

import (
	"os"
	"os/exec"
	"testing"

	"github.com/chromedp/chromedp"
)

// Chromium returns the browser to drive: PARLEY_CHROMIUM, else the first Chromium or Chrome
// on the PATH. Without one it skips t (what names the tests skipped), or fails it when
// PARLEY_REQUIRE_BROWSER=1.
func Chromium(t testing.TB, what string) string {
	t.Helper()
	if p := os.Getenv("PARLEY_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "/usr/bin/chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const how = "no Chromium found: install it (apt-get install chromium) or set PARLEY_CHROMIUM to a Chrome/Chromium binary"
	if os.Getenv("PARLEY_REQUIRE_BROWSER") == "1" {
		t.Fatal(how + " (PARLEY_REQUIRE_BROWSER=1)")
	}
	t.Skip(how + " to run " + what)
	return ""
}

// Options are the allocator options of a headless Chromium at path with its profile in
// userDataDir: no sandbox (tests run as root), no GPU, and none of the background network
// traffic that a machine without internet refuses.
func Options(path, userDataDir string) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true), chromedp.UserDataDir(userDataDir),
	}
}
