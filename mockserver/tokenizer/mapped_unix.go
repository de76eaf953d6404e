//go:build linux || darwin

package tokenizer

import "syscall"

// offHeap reports whether mapSlice maps memory outside the Go heap.
const offHeap = true

// mapRegion maps size bytes of zeroed private memory.
func mapRegion(size int) ([]byte, error) {
	return syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
}

// unmapRegion unmaps a region of mapRegion.
func unmapRegion(b []byte) {
	_ = syscall.Munmap(b)
}

// protectRegion makes a region of mapRegion read-only. Failing that, it stays
// writable, which is harmless.
func protectRegion(b []byte) {
	_ = syscall.Mprotect(b, syscall.PROT_READ)
}
