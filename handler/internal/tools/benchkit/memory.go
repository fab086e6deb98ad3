package benchkit

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ProcStatus is the memory figures of /proc/<pid>/status, in bytes.
type ProcStatus struct {
	// RSS is VmRSS: resident now. HWM is VmHWM: the peak resident.
	RSS, HWM int64
}

// ReadProcStatus reads /proc/<pid>/status (Linux); pid 0 is this process.
func ReadProcStatus(pid int) (ProcStatus, error) {
	path := "/proc/self/status"
	if pid != 0 {
		path = "/proc/" + strconv.Itoa(pid) + "/status"
	}
	f, err := os.Open(path)
	if err != nil {
		return ProcStatus{}, err
	}
	defer f.Close()
	var st ProcStatus
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "VmRSS" && key != "VmHWM") {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			return ProcStatus{}, fmt.Errorf("%s: %s: %w", path, key, err)
		}
		if key == "VmRSS" {
			st.RSS = kb << 10
		} else {
			st.HWM = kb << 10
		}
	}
	return st, sc.Err()
}

// ResetPeakRSS resets this process's VmHWM to its current RSS (Linux ≥ 4.0,
// /proc/self/clear_refs); it reports whether that worked.
func ResetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// HeapSampler records the peak of the Go heap (runtime.MemStats HeapInuse
// and Sys) every interval until Stop.
type HeapSampler struct {
	stop chan struct{}
	done sync.WaitGroup
	// PeakHeapInuse and PeakSys are the largest values seen.
	PeakHeapInuse, PeakSys uint64
}

// SampleHeap starts a sampler.
func SampleHeap(every time.Duration) *HeapSampler {
	s := &HeapSampler{stop: make(chan struct{})}
	s.done.Add(1)
	go func() {
		defer s.done.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			s.sample()
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *HeapSampler) sample() {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	s.PeakHeapInuse = max(s.PeakHeapInuse, m.HeapInuse)
	s.PeakSys = max(s.PeakSys, m.Sys)
}

// Stop takes a last sample and stops; the peaks are then final.
func (s *HeapSampler) Stop() {
	close(s.stop)
	s.done.Wait()
	s.sample()
}

// HeapAfterGC collects garbage twice (finalizers may free more) and
// returns the live heap (HeapAlloc).
func HeapAfterGC() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// MiB formats bytes as MiB with one decimal.
func MiB[T int64 | uint64 | int](n T) string {
	return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64)
}

// Mallocs is the process's cumulative count of heap allocations.
func Mallocs() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.Mallocs
}
