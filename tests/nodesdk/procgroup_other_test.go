//go:build !unix

package nodesdk_test

import "os/exec"

// killGroupOnCancel keeps exec's default (kill the node process only) where process groups
// are not available.
func killGroupOnCancel(*exec.Cmd) {}
