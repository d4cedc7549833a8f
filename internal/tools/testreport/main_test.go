package main

import (
	"os"
	"strings"
	"testing"
)

// The testdata files are `go test -json -count=1` output recorded from a throwaway module:
// pass.jsonl from a package whose tests pass and one whose tests skip (two for PostgreSQL,
// a subtest for Node), mixed.jsonl from those plus a failing test, a failing subtest, a
// package that does not build, one without tests and a TestMain that exits 3.

func run(t *testing.T, file string) (string, bool) {
	t.Helper()
	f, err := os.Open("testdata/" + file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b strings.Builder
	ok := report(f, &b)
	return b.String(), ok
}

func lines(s string) []string { return strings.Split(strings.TrimRight(s, "\n"), "\n") }

func TestAllPassWithSkips(t *testing.T) {
	out, ok := run(t, "pass.jsonl")
	if !ok {
		t.Errorf("report said failure for a passing run:\n%s", out)
	}
	l := lines(out)
	want := []string{
		"ok  \texample.com/trmod/okpkg\t",
		"ok  \texample.com/trmod/skippkg\t",
		"SKIPPED 3 tests: PostgreSQL tests skipped: set PARLEY_TEST_POSTGRES_URL=postgres://user@127.0.0.1:5432/db?sslmode=disable to run them (2); " +
			"node not found; run `npm ci --prefix tests/nodesdk` (Node.js >= 20) to enable the twilio-node SDK tests (1)",
		"4 passed, 0 failed, 3 skipped",
	}
	if len(l) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(l), len(want), out)
	}
	for i := range want {
		if !strings.HasPrefix(l[i], want[i]) {
			t.Errorf("line %d = %q, want it to start with %q", i, l[i], want[i])
		}
	}
}

func TestFailuresAreShownAndCounted(t *testing.T) {
	out, ok := run(t, "mixed.jsonl")
	if ok {
		t.Errorf("report said success for a run with failures:\n%s", out)
	}
	l := lines(out)
	if last := l[len(l)-1]; last != "7 passed, 2 failed, 3 skipped" {
		t.Errorf("last line = %q, want %q", last, "7 passed, 2 failed, 3 skipped")
	}
	for _, want := range []string{
		// the build error, then the package's line
		`buildfail/b.go:3:23: cannot use "x" (untyped string constant) as int value in return statement`,
		"FAIL\texample.com/trmod/buildfail [build failed]",
		// a failed test's whole output
		"    fail_test.go:7: some context",
		"    fail_test.go:8: got 1, want 2",
		"--- FAIL: TestFails (",
		// a failed subtest's
		"    fail_test.go:12: boom",
		"FAIL\texample.com/trmod/failpkg\t",
		"?   \texample.com/trmod/notests\t[no test files]",
		"ok  \texample.com/trmod/okpkg\t",
		// a package that failed outside its tests shows its own output
		"TestMain gives up",
		"FAIL\texample.com/trmod/panicpkg\t",
		"ok  \texample.com/trmod/skippkg\t",
		"FAILED packages: example.com/trmod/buildfail example.com/trmod/failpkg example.com/trmod/panicpkg",
	} {
		found := false
		for _, line := range l {
			if strings.HasPrefix(line, want) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("no line starting with %q in:\n%s", want, out)
		}
	}
	// Passing tests' output stays out of the report.
	for _, hidden := range []string{"fine", "=== RUN   TestPasses", "=== RUN   TestOne"} {
		if strings.Contains(out, hidden) {
			t.Errorf("report shows %q, output of a passing test:\n%s", hidden, out)
		}
	}
}

func TestNotJSONIsPassedThrough(t *testing.T) {
	in := "go: updates to go.mod needed\n"
	var b strings.Builder
	if ok := report(strings.NewReader(in), &b); !ok {
		// No package ran and nothing failed: the exit status of go test decides (test.sh).
		t.Logf("report: %q", b.String())
	}
	if !strings.HasPrefix(b.String(), in) || !strings.HasSuffix(b.String(), "0 passed, 0 failed, 0 skipped\n") {
		t.Errorf("report = %q", b.String())
	}
}

func TestUnfinishedPackageFails(t *testing.T) {
	in := `{"Action":"start","Package":"example.com/x"}
{"Action":"run","Package":"example.com/x","Test":"TestSlow"}
{"Action":"output","Package":"example.com/x","Test":"TestSlow","Output":"=== RUN   TestSlow\n"}
`
	var b strings.Builder
	if report(strings.NewReader(in), &b) {
		t.Errorf("a package without a result passed:\n%s", b.String())
	}
	if !strings.Contains(b.String(), "FAIL\texample.com/x\t(no result") {
		t.Errorf("report = %q", b.String())
	}
}

func TestSkipReason(t *testing.T) {
	got := skipReason([]string{"=== RUN   TestX\n", "    x_test.go:12: need a database\n", "--- SKIP: TestX (0.00s)\n"})
	if got != "need a database" {
		t.Errorf("skipReason = %q", got)
	}
	if got := skipReason([]string{"=== RUN   TestX\n", "--- SKIP: TestX (0.00s)\n"}); got != "(no message)" {
		t.Errorf("skipReason without a message = %q", got)
	}
}

// With -count=N each run of a test counts, and a failed run is shown even when a later run
// of the same test passes (a flaky test).
func TestRepeatedRunsCountEach(t *testing.T) {
	var in strings.Builder
	in.WriteString(`{"Action":"start","Package":"example.com/x"}` + "\n")
	for _, result := range []string{"pass", "fail", "pass"} {
		in.WriteString(`{"Action":"run","Package":"example.com/x","Test":"TestFlaky"}` + "\n")
		in.WriteString(`{"Action":"run","Package":"example.com/x","Test":"TestFlaky/sub"}` + "\n")
		if result == "fail" {
			in.WriteString(`{"Action":"output","Package":"example.com/x","Test":"TestFlaky/sub","Output":"    x_test.go:9: lost a race\n"}` + "\n")
		}
		in.WriteString(`{"Action":"` + result + `","Package":"example.com/x","Test":"TestFlaky/sub"}` + "\n")
		in.WriteString(`{"Action":"` + result + `","Package":"example.com/x","Test":"TestFlaky"}` + "\n")
		in.WriteString(`{"Action":"run","Package":"example.com/x","Test":"TestSkips"}` + "\n")
		in.WriteString(`{"Action":"output","Package":"example.com/x","Test":"TestSkips","Output":"    x_test.go:3: needs a database\n"}` + "\n")
		in.WriteString(`{"Action":"skip","Package":"example.com/x","Test":"TestSkips"}` + "\n")
	}
	in.WriteString(`{"Action":"fail","Package":"example.com/x","Elapsed":0.5}` + "\n")
	var b strings.Builder
	if report(strings.NewReader(in.String()), &b) {
		t.Errorf("a run with a failed repetition passed")
	}
	out := b.String()
	if strings.Count(out, "lost a race") != 1 {
		t.Errorf("the failed run's output should show once:\n%s", out)
	}
	if !strings.Contains(out, "SKIPPED 3 tests: needs a database (3)\n") || !strings.HasSuffix(out, "2 passed, 1 failed, 3 skipped\n") {
		t.Errorf("report:\n%s", out)
	}
}
