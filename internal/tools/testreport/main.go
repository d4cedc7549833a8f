// Command testreport reads the output of `go test -json` on its standard input and prints
// what a person wants from a test run: go test's usual per-package `ok`/`FAIL` lines, the
// full output of each failed test (and of a package that failed outside its tests, or did
// not build), then one line saying which tests were skipped and why (deduplicated by the
// skip message, which tells how to enable them) and a last line `N passed, N failed,
// N skipped`. It exits 1 when a test or a package failed, a build failed, or a package
// started and never finished. ./test.sh runs it.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
)

func main() {
	if !report(os.Stdin, os.Stdout) {
		os.Exit(1)
	}
}

// event is one line of `go test -json` (test2json), build events included.
type event struct {
	Action      string
	Package     string
	ImportPath  string // build-output and build-fail events
	Test        string
	Output      string
	Elapsed     float64
	FailedBuild string
}

// testState is one run of a test (or subtest): with -count=N a test runs N times, and each
// run is counted and reported when it ends.
type testState struct {
	output    []string
	hasSub    bool // subtests ran in this run
	subFailed bool // one of them failed
}

// pkgState is what was seen of one package.
type pkgState struct {
	tests            map[string]*testState // the current run of each test
	output           []string              // package-level output (Test == "")
	failed           strings.Builder       // output of the tests that failed
	pass, fail, skip int
	skips            []string // skip messages, one per skipped test
}

// parent returns the run of the test that name is a subtest of, or nil.
func (p *pkgState) parent(name string) *testState {
	for i := strings.LastIndexByte(name, '/'); i > 0; i = strings.LastIndexByte(name[:i], '/') {
		if t := p.tests[name[:i]]; t != nil {
			return t
		}
	}
	return nil
}

// event records a test event. A test counts once per run: a test with subtests counts
// through them, unless it failed while none of them did (it failed on its own).
func (p *pkgState) event(e event) {
	if e.Action == "run" || p.tests[e.Test] == nil {
		p.tests[e.Test] = &testState{}
		if par := p.parent(e.Test); par != nil {
			par.hasSub = true
		}
	}
	t := p.tests[e.Test]
	switch e.Action {
	case "output":
		t.output = append(t.output, e.Output)
	case "pass", "fail", "skip":
		if e.Action == "fail" {
			p.failed.WriteString(strings.Join(t.output, ""))
			if par := p.parent(e.Test); par != nil {
				par.subFailed = true
			}
		}
		if t.hasSub && !(e.Action == "fail" && !t.subFailed) {
			return
		}
		switch e.Action {
		case "pass":
			p.pass++
		case "fail":
			p.fail++
		case "skip":
			p.skip++
			p.skips = append(p.skips, skipReason(t.output))
		}
	}
}

// report reads go test -json lines from r, writes the report to w and reports whether
// everything passed.
func report(r io.Reader, w io.Writer) bool {
	pkgs := map[string]*pkgState{}
	var pkgOrder []string
	pkg := func(name string) *pkgState {
		p := pkgs[name]
		if p == nil {
			p = &pkgState{tests: map[string]*testState{}}
			pkgs[name] = p
			pkgOrder = append(pkgOrder, name)
		}
		return p
	}
	buildOutput := map[string][]string{} // by import path
	finished := map[string]bool{}
	var failedPkgs []string
	ok := true
	var counts struct{ pass, fail, skip int }
	skips := map[string]int{} // skip message -> tests
	var skipOrder []string

	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil || e.Action == "" {
			// Not an event: go's own messages (a build error before JSON started, say).
			fmt.Fprintln(w, string(line))
			continue
		}
		switch e.Action {
		case "build-output":
			buildOutput[e.ImportPath] = append(buildOutput[e.ImportPath], e.Output)
			continue
		case "build-fail":
			fmt.Fprint(w, strings.Join(buildOutput[e.ImportPath], ""))
			ok = false
			continue
		}
		if e.Package == "" {
			continue
		}
		p := pkg(e.Package)
		if e.Test == "" {
			switch e.Action {
			case "output":
				p.output = append(p.output, e.Output)
			case "pass", "fail", "skip":
				finished[e.Package] = true
				if e.Action == "fail" {
					ok = false
					failedPkgs = append(failedPkgs, e.Package)
				}
				counts.pass += p.pass
				counts.fail += p.fail
				counts.skip += p.skip
				for _, reason := range p.skips {
					if skips[reason] == 0 {
						skipOrder = append(skipOrder, reason)
					}
					skips[reason]++
				}
				fmt.Fprint(w, p.failed.String())
				if e.Action == "fail" && p.fail == 0 {
					// Failed outside its tests (a panic, a TestMain exit, a timeout): its
					// own output says why.
					for _, o := range p.output {
						if !strings.HasPrefix(o, "FAIL\t"+e.Package) {
							fmt.Fprint(w, o)
						}
					}
				}
				fmt.Fprintln(w, packageLine(e, p))
			}
			continue
		}
		p.event(e)
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(w, "testreport: reading go test output: %v\n", err)
		ok = false
	}
	for _, name := range pkgOrder {
		if !finished[name] {
			p := pkgs[name]
			fmt.Fprint(w, strings.Join(p.output, ""))
			fmt.Fprintf(w, "FAIL\t%s\t(no result: go test stopped before the package finished)\n", name)
			ok = false
			failedPkgs = append(failedPkgs, name)
		}
	}
	if len(skipOrder) > 0 {
		parts := make([]string, 0, len(skipOrder))
		for _, reason := range skipOrder {
			parts = append(parts, fmt.Sprintf("%s (%d)", reason, skips[reason]))
		}
		fmt.Fprintf(w, "SKIPPED %d tests: %s\n", counts.skip, strings.Join(parts, "; "))
	}
	if len(failedPkgs) > 0 {
		fmt.Fprintf(w, "FAILED packages: %s\n", strings.Join(failedPkgs, " "))
	}
	fmt.Fprintf(w, "%d passed, %d failed, %d skipped\n", counts.pass, counts.fail, counts.skip)
	return ok && counts.fail == 0
}

// packageLine is go test's summary line of package event e: ok, FAIL or "?" (no tests).
func packageLine(e event, p *pkgState) string {
	switch e.Action {
	case "pass":
		line := fmt.Sprintf("ok  \t%s\t%.3fs", e.Package, e.Elapsed)
		if last := lastLine(p.output); strings.HasPrefix(last, "ok ") && strings.Contains(last, "[no tests to run]") {
			line += " [no tests to run]"
		}
		return line
	case "skip":
		return fmt.Sprintf("?   \t%s\t[no test files]", e.Package)
	}
	if e.FailedBuild != "" {
		return fmt.Sprintf("FAIL\t%s [build failed]", e.Package)
	}
	return fmt.Sprintf("FAIL\t%s\t%.3fs", e.Package, e.Elapsed)
}

func lastLine(out []string) string {
	if len(out) == 0 {
		return ""
	}
	return strings.TrimSpace(out[len(out)-1])
}

// location is the "file_test.go:12: " prefix testing puts before a logged message.
var location = regexp.MustCompile(`^[\w.\-]+\.go:\d+: `)

// skipReason is the message a skipped test logged, without the file:line prefixes, so
// that every test skipped for the same reason shows the same text.
func skipReason(output []string) string {
	var msg []string
	for _, o := range output {
		s := strings.TrimSpace(o)
		if s == "" || strings.HasPrefix(s, "=== ") || strings.HasPrefix(s, "--- SKIP") {
			continue
		}
		msg = append(msg, location.ReplaceAllString(s, ""))
	}
	if len(msg) == 0 {
		return "(no message)"
	}
	return strings.Join(msg, " ")
}
