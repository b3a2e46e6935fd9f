package spawn

import "syscall"

// sysProcAttr puts the child in its own process group (so its owner can signal
// everything it started) and has the kernel SIGKILL it if the thread that
// started it dies, so a crashed or killed parent leaves no server behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
