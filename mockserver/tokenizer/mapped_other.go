//go:build !(linux || darwin)

package tokenizer

import "errors"

// offHeap reports whether mapSlice maps memory outside the Go heap: not here, where
// the tables are ordinary slices.
const offHeap = false

func mapRegion(int) ([]byte, error) { return nil, errors.New("no anonymous mappings") }
func unmapRegion([]byte)            {}
func protectRegion([]byte)          {}
