// Package spawn starts the server child processes of tests and the demo
// (ClickHouse, mailpit) so that none outlives its parent: each in its own
// process group, which Stop can signal whole, and on Linux with a
// parent-death signal, so that a crashed or killed parent leaves no server
// behind.
//
// The kernel sends the parent-death signal when the thread that forked the
// child exits, not only the whole process, and Go ends a thread when a
// goroutine exits while locked to it, which any code in the process may do.
// So every child is forked from one goroutine locked to its thread for the
// life of the process: that thread never exits early.
package spawn

import (
	"os/exec"
	"runtime"
	"sync"
)

var (
	once sync.Once
	reqs chan request
)

type request struct {
	cmd  *exec.Cmd
	errc chan error
}

// Start sets cmd's process attributes (see the package documentation) and
// runs cmd.Start on the spawner thread.
func Start(cmd *exec.Cmd) error {
	cmd.SysProcAttr = sysProcAttr()
	once.Do(func() {
		reqs = make(chan request)
		go func() {
			runtime.LockOSThread() // never unlocked: this thread lives as long as the process
			for r := range reqs {
				r.errc <- r.cmd.Start()
			}
		}()
	})
	errc := make(chan error, 1)
	reqs <- request{cmd: cmd, errc: errc}
	return <-errc
}
