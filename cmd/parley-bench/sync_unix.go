//go:build unix

package main

import "syscall"

// flushDisk writes the kernel's dirty pages back to disk (sync(2)).
func flushDisk() { syscall.Sync() }
