//go:build unix && !linux

package spawn

import "syscall"

// sysProcAttr puts the child in its own process group so its owner can signal
// everything it started. There is no parent-death signal outside Linux.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
