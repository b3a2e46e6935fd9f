package mailpit

import "syscall"

// sysProcAttr puts mailpit in its own process group (so Stop signals all of
// it) and has the kernel SIGKILL it if the thread that started it dies, so a
// killed test binary leaves no server behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
