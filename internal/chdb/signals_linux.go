package chdb

import (
	"syscall"
	"unsafe"
)

// kernelSigaction mirrors the kernel's struct sigaction on linux/amd64 and
// linux/arm64 (handler, flags, restorer, 64-bit mask), as rt_sigaction uses it.
type kernelSigaction struct {
	handler  uintptr
	flags    uint64
	restorer uintptr
	mask     uint64
}

// maxSignal is the highest signal number saved and restored.
const maxSignal = 64

// signalState is a snapshot of the process's signal dispositions.
type signalState [maxSignal + 1]kernelSigaction

// saveSignals records the current disposition of every signal.
func saveSignals() *signalState {
	var s signalState
	for sig := 1; sig <= maxSignal; sig++ {
		if sig == int(syscall.SIGKILL) || sig == int(syscall.SIGSTOP) {
			continue
		}
		_, _, _ = syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(sig), 0, uintptr(unsafe.Pointer(&s[sig])), 8, 0, 0)
	}
	return &s
}

// restoreSignals puts back every disposition that changed since s was taken
// and reports which signals it restored. libchdb resets SIGSEGV, SIGBUS,
// SIGFPE, SIGILL, SIGTRAP and SIGABRT to SIG_DFL when its engine boots, which
// would turn every Go nil-pointer panic into a crash of the whole process.
func restoreSignals(s *signalState) []int {
	var restored []int
	for sig := 1; sig <= maxSignal; sig++ {
		if sig == int(syscall.SIGKILL) || sig == int(syscall.SIGSTOP) {
			continue
		}
		var cur kernelSigaction
		_, _, _ = syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(sig), 0, uintptr(unsafe.Pointer(&cur)), 8, 0, 0)
		if cur == s[sig] {
			continue
		}
		_, _, errno := syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&s[sig])), 0, 8, 0, 0)
		if errno == 0 {
			restored = append(restored, sig)
		}
	}
	return restored
}
