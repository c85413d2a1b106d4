// Command pause is the pod sandbox's placeholder process, and PID 1 of the
// test workload images: it sleeps until SIGINT or SIGTERM, then exits 0 at
// once, and reaps any orphaned child it inherits while it waits.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

const version = "inplace-conformance-pause 1.0"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-v" {
		fmt.Println(version)
		return
	}
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for sig := range signals {
		if sig == syscall.SIGCHLD {
			reapChildren()
			continue
		}
		// A prompt exit on SIGTERM keeps in-place restarts and pod deletion
		// fast: nothing here needs a graceful shutdown.
		os.Exit(0)
	}
}

// reapChildren collects every exited child without blocking, so exec'd
// helpers that outlive their parent never linger as zombies.
func reapChildren() {
	for {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}
