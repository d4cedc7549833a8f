package cli

import (
	"flag"
	"fmt"

	"github.com/parley-dev/parley/internal/control"
)

// The flags of the control plane of "parley serve" (docs/control-plane.md; internal/control).

// ControlConfig configures the control plane.
type ControlConfig struct {
	// Seed is a snapshot file (JSON, or YAML when it ends in .yaml/.yml) loaded into the first
	// account at start when that account is empty.
	Seed string
	// SIDSeed, when set, makes generated SIDs deterministic.
	SIDSeed string
	// Metrics serves GET /metrics.
	Metrics bool
}

func controlFlags(fs *flag.FlagSet, getenv func(string) string, c *Config) {
	fs.StringVar(&c.Control.Seed, "seed", getenv("PARLEY_SEED"),
		"snapshot file (JSON, or YAML for .yaml/.yml) loaded into the first account at start when it is empty (env PARLEY_SEED)")
	fs.StringVar(&c.Control.SIDSeed, "sid-seed", getenv("PARLEY_SID_SEED"),
		"make generated SIDs deterministic from this unsigned integer, for reproducible tests (env PARLEY_SID_SEED; not for production)")
	fs.BoolVar(&c.Control.Metrics, "metrics", getenv("PARLEY_METRICS") != "false",
		"serve Prometheus metrics at GET /metrics, without credentials (env PARLEY_METRICS=false turns it off)")
}

// newControlPlane returns the control plane cfg configures.
func newControlPlane(cfg *Config) (*control.Plane, error) {
	cp, err := control.New(control.Options{SIDSeed: cfg.Control.SIDSeed, Metrics: cfg.Control.Metrics})
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	return cp, nil
}
