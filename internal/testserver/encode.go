package testserver

import (
	"net/url"
	"strings"
)

func encode(s string) string { return url.QueryEscape(s) }

func join(xs []string, sep string) string { return strings.Join(xs, sep) }
