package tokenizer

import (
	"bufio"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"
)

// waitMapped collects garbage until the mappings of the process's tokenizers take at
// most want bytes, or two seconds pass, and returns their size.
func waitMapped(want int64) int64 {
	deadline := time.Now().Add(2 * time.Second)
	for {
		runtime.GC()
		n := mappedBytes.Load()
		if n <= want || time.Now().After(deadline) {
			return n
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// vmRSS returns the process's resident memory from /proc/self/status, or -1.
func vmRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return -1
			}
			return kb << 10
		}
	}
	return -1
}

// TestTablesUnmapped loads and drops 20 tokenizers: their tables are mapped outside
// the heap, and unmapped once each is unreachable.
func TestTablesUnmapped(t *testing.T) {
	if !offHeap {
		t.Skip("the tables are ordinary slices on " + runtime.GOOS)
	}
	const want = "Hello, world! 你好 \t\t  x"
	wantIDs := Default().Encode(want)
	runtime.GC()
	base := mappedBytes.Load()
	rss := vmRSS()
	for i := range 20 {
		tk, err := load(qwenTiktokenGz)
		if err != nil {
			t.Fatal(err)
		}
		if got := mappedBytes.Load() - base; got < 14<<20 {
			t.Fatalf("load %d: %d bytes mapped, want the tables' 14 MiB or more", i, got)
		}
		if n := tk.vocab.mem.bytes(); n < 14<<20 {
			t.Fatalf("load %d: the tokenizer owns %d bytes of mappings", i, n)
		}
		if got := tk.withoutCache().Encode(want); !equalInts(got, wantIDs) {
			t.Fatalf("load %d: %v, want %v", i, got, wantIDs)
		}
		tk = nil
		runtime.GC()
	}
	if n := waitMapped(base); n > base {
		t.Fatalf("%d bytes mapped after dropping the tokenizers, %d before", n, base)
	}
	if rss >= 0 {
		// 20 tokenizers whose tables were never unmapped would hold 380 MiB or more.
		if grown := vmRSS() - rss; grown > 64<<20 {
			t.Fatalf("resident memory grew by %d MiB", grown>>20)
		}
	}
}

// TestTablesSealed checks that the tables built at load are read-only afterwards,
// and the caches written at run time are not.
func TestTablesSealed(t *testing.T) {
	if !offHeap {
		t.Skip("the tables are ordinary slices on " + runtime.GOOS)
	}
	tk, err := load(qwenTiktokenGz)
	if err != nil {
		t.Fatal(err)
	}
	write := func(f func()) (faulted bool) {
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
		defer func() { faulted = recover() != nil }()
		f()
		return false
	}
	for name, f := range map[string]func(){
		"split":      func() { tk.bt.split[0]++ },
		"trie":       func() { tk.bt.trie[0]++ },
		"pairs":      func() { tk.merge.pairs[0]++ },
		"slots":      func() { tk.vocab.slots[0]++ },
		"offs":       func() { tk.vocab.offs[0]++ },
		"bytePair":   func() { tk.merge.bytePair[0]++ },
		"nextPrefix": func() { tk.bt.nextPrefix[0]++ },
	} {
		if !write(f) {
			t.Errorf("%s: a write did not fault", name)
		}
	}
	for name, f := range map[string]func(){
		"pair cache":  func() { tk.merge.cache[0].Store(0) },
		"valid cache": func() { tk.bt.valid[0].Store(0) },
	} {
		if write(f) {
			t.Errorf("%s: a write faulted", name)
		}
	}
	if got := tk.Count("Hello, world!"); got != 4 {
		t.Fatalf("Count = %d, want 4", got)
	}
	runtime.KeepAlive(tk)
}
