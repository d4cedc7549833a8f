package cli

import (
	"io"
	"testing"
)

func TestControlFlags(t *testing.T) {
	env := func(string) string { return "" }
	c, err := parseServe([]string{"-seed", "fixture.yaml", "-sid-seed", "42", "-metrics=false"}, env, io.Discard)
	if err != nil || c.Control.Seed != "fixture.yaml" || c.Control.SIDSeed != "42" || c.Control.Metrics {
		t.Fatalf("flags: %+v %v", c, err)
	}
	c, err = parseServe(nil, env, io.Discard)
	if err != nil || !c.Control.Metrics || c.Control.Seed != "" {
		t.Fatalf("defaults: %+v %v", c, err)
	}
	if _, err := newControlPlane(&Config{Control: ControlConfig{SIDSeed: "x"}}); err == nil {
		t.Error("-sid-seed x accepted")
	}
}
