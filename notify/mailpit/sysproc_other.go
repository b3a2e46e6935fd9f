//go:build !linux

package mailpit

import "syscall"

// sysProcAttr puts mailpit in its own process group, so Stop signals all of it.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
