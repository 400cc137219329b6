package main

import (
	"os"
	"runtime/pprof"
)

// startProfile writes a CPU profile of this call to path (SKIFF_CPUPROFILE): start-up cost is a feature, and
// this is how it is measured.
func startProfile(path string) func() {
	f, err := os.Create(path)
	if err != nil {
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
