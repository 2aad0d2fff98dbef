package engine

import (
	"fmt"

	"github.com/skiff-dev/skiff/container"
)

// maxParallel bounds concurrent operations on many containers, as the
// Docker CLI's parallelOperation does (50).
const maxParallel = 50

// eachContainerParallel is eachContainer with the operations running
// concurrently (docker stop of 50 containers with -t 1 takes about 1 s,
// not 50), results still printed in argument order as they complete.
func (e *Engine) eachContainerParallel(refs []string, fn func(*container.Store, *container.Container) error) error {
	cs, err := e.containers()
	if err != nil {
		return err
	}
	done := make([]chan error, len(refs))
	sem := make(chan struct{}, maxParallel)
	for i, ref := range refs {
		done[i] = make(chan error, 1)
		go func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			c, err := cs.Lookup(ref)
			if err == nil {
				err = fn(cs, c)
			}
			done[i] <- err
		}()
	}
	failed := false
	for i, ref := range refs {
		if err := <-done[i]; err != nil {
			failed = true
			fmt.Fprintf(e.Stderr, "Error: %v\n", err)
			continue
		}
		fmt.Fprintln(e.Stdout, ref)
	}
	return exitOne(failed)
}
