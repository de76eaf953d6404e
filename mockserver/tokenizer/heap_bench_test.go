package tokenizer

import (
	"runtime"
	"testing"
	"time"
)

// BenchmarkLoadedHeap loads the vocabulary into a fresh tokenizer and reports the
// CPU time of the load, the live heap it adds, the memory it maps outside the heap
// (its tables, on Linux and macOS) and the time a full collection takes with it
// alive: what the garbage collector pays on every cycle for the tables.
func BenchmarkLoadedHeap(b *testing.B) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := processCPU()
	tk, err := load(qwenTiktokenGz)
	loadCPU := processCPU() - start
	if err != nil {
		b.Fatal(err)
	}
	tk.Count(englishProse(64 << 10)) // fill the memo a little, as in use
	runtime.GC()
	runtime.ReadMemStats(&after)
	var gc time.Duration
	for b.Loop() {
		start := time.Now()
		runtime.GC()
		gc += time.Since(start)
	}
	runtime.KeepAlive(tk)
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "heap-MiB")
	b.ReportMetric(float64(tk.vocab.mem.bytes())/(1<<20), "mapped-MiB")
	b.ReportMetric(float64(gc.Nanoseconds())/float64(b.N)/1e6, "gc-ms")
	b.ReportMetric(float64(loadCPU.Milliseconds()), "load-cpu-ms")
	b.ReportMetric(0, "ns/op")
}
