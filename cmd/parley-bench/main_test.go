package main

import (
	"os"
	"strings"
	"testing"

	"github.com/parley-dev/parley/internal/proctest"
)

// TestMain lets the test binary stand in for parley-bench as the bare handler (startBare
// runs os.Executable() -bare-server).
func TestMain(m *testing.M) {
	if len(os.Args) == 2 && os.Args[1] == "-bare-server" {
		if err := serveBare(); err != nil {
			os.Exit(1)
		}
		return
	}
	code := m.Run()
	proctest.Cleanup()
	os.Exit(code)
}

// TestHarnessSmoke runs every operation briefly on SQLite at two concurrencies and checks the
// report: a row per operation and concurrency with traffic on both servers, no errors, and the
// targets table.
func TestHarnessSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers and drives load")
	}
	out := t.TempDir() + "/bench.md"
	cfg, err := parseFlags([]string{"-backends", "sqlite", "-concurrency", "1,4", "-duration", "300ms", "-warmup", "100ms",
		"-seed-conversations", "1", "-delete-pool", "300", "-max-rate", "2000", "-out", out, "-csv", out + ".csv",
		"-parley", proctest.Build(t), "-data-dir", t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout, _ = os.Open(os.DevNull)
	err = run(cfg)
	os.Stdout = stdout
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	md := string(b)
	for _, op := range allOps {
		for _, c := range []string{"1", "4"} {
			prefix := "| sqlite | " + op + " | " + c + " | "
			i := strings.Index(md, prefix)
			if i < 0 {
				t.Fatalf("no row %q in\n%s", prefix, md)
			}
			cells := strings.Split(strings.SplitN(md[i:], "\n", 2)[0], "|")
			if cells[4] == " 0 " || cells[7] == " 0 " || strings.TrimSpace(cells[11]) != "0" {
				t.Errorf("row %q: no traffic or errors: %v", prefix, cells)
			}
		}
	}
	for _, want := range []string{"### Targets", "Peak RSS of parley (sqlite)", "run with -scale 1000000"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(md, "fetch by SID, 16 clients") {
		t.Errorf("a target at 16 clients was judged without a run at 16 clients")
	}
	if _, err := os.Stat(out + ".csv"); err != nil {
		t.Error(err)
	}
}

// TestChatSmoke runs the -chat mode with 20 clients and a few messages and checks the report
// has its rows (no timing is asserted).
func TestChatSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers and connects chat clients")
	}
	out := t.TempDir() + "/chat.md"
	cfg, err := parseFlags([]string{"-backends", "sqlite", "-chat", "20", "-chat-rate", "10", "-chat-duration", "1s",
		"-chat-pairs", "5", "-out", out, "-parley", proctest.Build(t), "-data-dir", t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout, _ = os.Open(os.DevNull)
	err = run(cfg)
	os.Stdout = stdout
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	md := string(b)
	for _, want := range []string{"Chat clients, ", "### sqlite: 20 chat clients in conversations of 10",
		"| REST creates: 10 at 10/s to random conversations (100 events) |", "create → last of its 10 clients",
		"client A sends over its socket → client B has the event (5, one at a time)", "bare WebSocket echo round trip",
		"Goal (issue 12) at 20 clients"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
}
