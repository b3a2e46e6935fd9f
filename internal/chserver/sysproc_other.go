//go:build unix && !linux

package chserver

import "syscall"

// sysProcAttr puts the server in its own process group so Stop can signal
// everything it started. There is no parent-death signal outside Linux.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
