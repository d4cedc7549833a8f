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

// testState is what was seen of one test (or subtest) of a package.
type testState struct {
	name   string
	action string // pass, fail, skip; "" while running
	output []string
}

// pkgState is what was seen of one package.
type pkgState struct {
	tests  map[string]*testState
	order  []string // test names in the order they started
	output []string // package-level output (Test == "")
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
				pass, fail, skip, failedOutput := p.summarize(e.Package, e.Action == "fail")
				counts.pass += pass
				counts.fail += fail
				counts.skip += skip
				for _, t := range p.skipped() {
					reason := skipReason(t.output)
					if skips[reason] == 0 {
						skipOrder = append(skipOrder, reason)
					}
					skips[reason]++
				}
				fmt.Fprint(w, failedOutput)
				fmt.Fprintln(w, packageLine(e, p))
			}
			continue
		}
		t := p.tests[e.Test]
		if t == nil {
			t = &testState{name: e.Test}
			p.tests[e.Test] = t
			p.order = append(p.order, e.Test)
		}
		switch e.Action {
		case "output":
			t.output = append(t.output, e.Output)
		case "pass", "fail", "skip":
			t.action = e.Action
		}
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

// summarize counts the package's tests and returns the output to show for its failures.
// A test counts once: a test with subtests counts through its subtests, unless it failed
// while none of them did (it failed on its own). When the package failed but none of its
// tests did (a panic, a TestMain exit, a timeout), its own output is what shows why.
func (p *pkgState) summarize(name string, pkgFailed bool) (pass, fail, skip int, failedOutput string) {
	var b strings.Builder
	for _, test := range p.order {
		t := p.tests[test]
		if t.action == "fail" {
			b.WriteString(strings.Join(t.output, ""))
		}
		if p.hasSubtests(test) && !(t.action == "fail" && !p.subtestFailed(test)) {
			continue
		}
		switch t.action {
		case "pass":
			pass++
		case "fail", "": // a test with no result when its package ended did not pass
			fail++
		case "skip":
			skip++
		}
	}
	if pkgFailed && fail == 0 {
		for _, o := range p.output {
			if strings.HasPrefix(o, "FAIL\t"+name) {
				continue // the package's own FAIL line: packageLine prints it
			}
			b.WriteString(o)
		}
	}
	return pass, fail, skip, b.String()
}

// skipped returns the package's skipped tests that count (see summarize).
func (p *pkgState) skipped() []*testState {
	var out []*testState
	for _, name := range p.order {
		if t := p.tests[name]; t.action == "skip" && !p.hasSubtests(name) {
			out = append(out, t)
		}
	}
	return out
}

func (p *pkgState) hasSubtests(name string) bool {
	for other := range p.tests {
		if strings.HasPrefix(other, name+"/") {
			return true
		}
	}
	return false
}

func (p *pkgState) subtestFailed(name string) bool {
	for other, t := range p.tests {
		if strings.HasPrefix(other, name+"/") && t.action == "fail" {
			return true
		}
	}
	return false
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
