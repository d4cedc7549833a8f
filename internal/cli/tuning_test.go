package cli

import (
	"io"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// TestTimeoutFlags checks the slow-client limits: defaults, environment, flags over the
// environment, and refusal of values that are not positive durations.
func TestTimeoutFlags(t *testing.T) {
	c, err := parseServe(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.ReadHeaderTimeout != DefaultReadHeaderTimeout || c.ReadTimeout != DefaultReadTimeout ||
		c.WriteTimeout != DefaultWriteTimeout || c.IdleTimeout != DefaultIdleTimeout || c.PprofAddr != "" {
		t.Fatalf("defaults: %+v", c)
	}
	c, err = parseServe([]string{"-read-timeout", "3s"}, env(map[string]string{"PARLEY_READ_HEADER_TIMEOUT": "2s",
		"PARLEY_READ_TIMEOUT": "9s", "PARLEY_WRITE_TIMEOUT": "1m", "PARLEY_IDLE_TIMEOUT": "90s", "PARLEY_PPROF_ADDR": "127.0.0.1:0"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.ReadHeaderTimeout != 2*time.Second || c.ReadTimeout != 3*time.Second || c.WriteTimeout != time.Minute ||
		c.IdleTimeout != 90*time.Second || c.PprofAddr != "127.0.0.1:0" {
		t.Fatalf("from env and flags: %+v", c)
	}
	for _, bad := range []struct {
		args []string
		env  map[string]string
		msg  string
	}{
		{nil, map[string]string{"PARLEY_READ_TIMEOUT": "soon"}, "PARLEY_READ_TIMEOUT"},
		{nil, map[string]string{"PARLEY_IDLE_TIMEOUT": "-1s"}, "PARLEY_IDLE_TIMEOUT"},
		{[]string{"-read-header-timeout", "0s"}, nil, "-read-header-timeout"},
		{[]string{"-write-timeout", "-5s"}, nil, "-write-timeout"},
	} {
		if _, err := parseServe(bad.args, env(bad.env), io.Discard); err == nil || !strings.Contains(err.Error(), bad.msg) {
			t.Errorf("%v %v: err = %v, want one naming %s", bad.args, bad.env, err, bad.msg)
		}
	}
}

// TestGCPercentFlag checks the garbage collector target: 400 by default, left to the runtime
// when GOGC is set, and PARLEY_GC_PERCENT and -gc-percent over both.
func TestGCPercentFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want int
	}{
		{nil, nil, DefaultGCPercent},
		{nil, map[string]string{"GOGC": "50"}, 0},
		{nil, map[string]string{"GOGC": "50", "PARLEY_GC_PERCENT": "150"}, 150},
		{[]string{"-gc-percent", "-1"}, map[string]string{"PARLEY_GC_PERCENT": "150"}, -1},
		{[]string{"-gc-percent", "100"}, nil, 100},
	} {
		c, err := parseServe(tc.args, env(tc.env), io.Discard)
		if err != nil {
			t.Fatalf("%v %v: %v", tc.args, tc.env, err)
		}
		if c.GCPercent != tc.want {
			t.Errorf("%v %v: GCPercent = %d, want %d", tc.args, tc.env, c.GCPercent, tc.want)
		}
	}
	if _, err := parseServe(nil, env(map[string]string{"PARLEY_GC_PERCENT": "lots"}), io.Discard); err == nil || !strings.Contains(err.Error(), "PARLEY_GC_PERCENT") {
		t.Errorf("PARLEY_GC_PERCENT=lots: err = %v, want one naming it", err)
	}
}
