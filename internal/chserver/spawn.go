package chserver

import (
	"os/exec"
	"runtime"
	"sync"
)

// The kernel sends the parent-death signal (see sysProcAttr) when the thread
// that forked the child exits, not only the whole process. Go ends a thread
// when a goroutine exits while locked to it, which any code in the process
// may do. So every server is forked from one goroutine locked to its thread
// for the life of the process: that thread never exits early.
var (
	spawnOnce sync.Once
	spawnReq  chan spawnRequest
)

type spawnRequest struct {
	cmd  *exec.Cmd
	errc chan error
}

// startCmd runs cmd.Start on the dedicated spawner thread.
func startCmd(cmd *exec.Cmd) error {
	spawnOnce.Do(func() {
		spawnReq = make(chan spawnRequest)
		go func() {
			runtime.LockOSThread() // never unlocked: this thread lives as long as the process
			for r := range spawnReq {
				r.errc <- r.cmd.Start()
			}
		}()
	})
	errc := make(chan error, 1)
	spawnReq <- spawnRequest{cmd: cmd, errc: errc}
	return <-errc
}
