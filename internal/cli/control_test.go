package cli

import (
	"io"
	"testing"
)

func TestControlFlags(t *testing.T) {
	env := func(string) string { return "" }
	c, err := parseServe([]string{"-seed", "fixture.yaml", "-sid-seed", "42", "-metrics=false"}, env, io.Discard)
	if err != nil || c.App.Control.Seed != "fixture.yaml" || c.App.Control.SIDSeed != "42" || c.App.Control.Metrics {
		t.Fatalf("flags: %+v %v", c, err)
	}
	c, err = parseServe(nil, env, io.Discard)
	if err != nil || !c.App.Control.Metrics || c.App.Control.Seed != "" {
		t.Fatalf("defaults: %+v %v", c, err)
	}
}
