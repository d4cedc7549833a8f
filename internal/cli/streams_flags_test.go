package cli

import (
	"io"
	"testing"

	"github.com/parley-dev/parley/internal/httpapi"
)

func TestStreamCapFlags(t *testing.T) {
	env := map[string]string{"PARLEY_MAX_STREAMS": "7", "PARLEY_MAX_STREAMS_PER_ACCOUNT": "3"}
	c, err := parseServe(nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.App.MaxStreams != 7 || c.App.MaxStreamsPerAccount != 3 {
		t.Errorf("from the environment: %d, %d", c.App.MaxStreams, c.App.MaxStreamsPerAccount)
	}
	c, err = parseServe([]string{"-max-streams", "-1", "-max-streams-per-account", "9"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.App.MaxStreams != -1 || c.App.MaxStreamsPerAccount != 9 {
		t.Errorf("flags over the environment: %d, %d", c.App.MaxStreams, c.App.MaxStreamsPerAccount)
	}
	c, err = parseServe(nil, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.App.MaxStreams != httpapi.DefaultMaxStreams || c.App.MaxStreamsPerAccount != httpapi.DefaultMaxStreamsPerAccount {
		t.Errorf("defaults: %d, %d", c.App.MaxStreams, c.App.MaxStreamsPerAccount)
	}
}
