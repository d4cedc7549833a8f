package main

import (
	"context"
	"io"

	"github.com/parley-dev/parley/internal/cli"
)

func cliRun(ctx context.Context, args []string, w io.Writer) error {
	return cli.Run(ctx, version, args, func(string) string { return "" }, w, io.Discard)
}
