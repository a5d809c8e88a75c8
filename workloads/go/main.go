// Command go-goroutines is the Go workload: one goroutine per task, each
// calling time.Sleep for SECONDS, counted with a sync.WaitGroup; it exits
// once all of them are done.
//
// usage: go-goroutines N [SECONDS]   (SECONDS defaults to 10)
package main

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

const (
	name       = "go"
	maxTasks   = 1_000_000_000
	maxSeconds = 86_400
)

// sleep is SECONDS, read by every goroutine rather than captured: the
// article's closure captures only the WaitGroup.
var sleep = 10 * time.Second

func fail(problem string) {
	fmt.Fprintf(os.Stderr, "%s: %s (usage: %s N [SECONDS])\n", name, problem, name)
	os.Exit(2)
}

// count accepts digits only (no sign, no blanks), with a value at most max.
func count(s, what string, max uint64) uint64 {
	bad := s == ""
	for _, c := range s {
		if c < '0' || c > '9' {
			bad = true
		}
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if bad || err != nil || v > max {
		fail(fmt.Sprintf("%s must be an integer from 0 to %d, got '%s'", what, max, s))
	}
	return v
}

func main() {
	args := os.Args[1:]
	switch {
	case len(args) == 0:
		fail("missing N")
	case len(args) > 2:
		fail("too many arguments")
	}
	n := count(args[0], "N", maxTasks)
	secs := uint64(10)
	if len(args) == 2 {
		secs = count(args[1], "SECONDS", maxSeconds)
	}
	sleep = time.Duration(secs) * time.Second

	var wg sync.WaitGroup
	for i := uint64(0); i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(sleep)
		}()
	}
	wg.Wait()
}
