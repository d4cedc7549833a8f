package cli

import "flag"

// controlFlags registers the control plane's flags of "parley serve" (docs/control-plane.md;
// app.ControlConfig).
func controlFlags(fs *flag.FlagSet, getenv func(string) string, c *Config) {
	fs.StringVar(&c.App.Control.Seed, "seed", getenv("PARLEY_SEED"),
		"snapshot file (JSON, or YAML for .yaml/.yml) loaded into the first account at start when it is empty (env PARLEY_SEED)")
	fs.StringVar(&c.App.Control.SIDSeed, "sid-seed", getenv("PARLEY_SID_SEED"),
		"make generated SIDs deterministic from this unsigned integer, for reproducible tests (env PARLEY_SID_SEED; not for production)")
	fs.BoolVar(&c.App.Control.Metrics, "metrics", getenv("PARLEY_METRICS") != "false",
		"serve Prometheus metrics at GET /metrics, without credentials (env PARLEY_METRICS=false turns it off)")
}
