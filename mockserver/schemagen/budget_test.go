package schemagen

import (
	"errors"
	"runtime"
	"testing"

	"github.com/brianvoe/gofakeit/v7"
)

// hugeArrays asks for 256 × 256 strings of at least 4,096 characters: 268 MB that no
// generation may build.
const hugeArrays = `{"type":"object","properties":{"a":{"type":"array","minItems":256,"items":{"type":"array","minItems":256,"items":{"type":"string","minLength":4096}}}},"required":["a"]}`

// A schema asking for more than the size budget fails with ErrBudget, having allocated a
// bounded amount: it once built strings by repeated concatenation until 5,000 values were
// made (gigabytes of garbage, seconds of CPU).
func TestBudgetBoundsAllocation(t *testing.T) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := Generate([]byte(hugeArrays), gofakeit.New(1))
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrBudget) {
		t.Fatalf("err %v, want ErrBudget", err)
	}
	if used := after.TotalAlloc - before.TotalAlloc; used > 32<<20 {
		t.Errorf("generation allocated %d MiB; want under 32 MiB", used>>20)
	}
	// A smaller budget fails sooner; a larger one still fails.
	if _, err := Generate([]byte(hugeArrays), gofakeit.New(1), WithMaxBytes(1<<20)); !errors.Is(err, ErrBudget) {
		t.Errorf("1 MiB budget: %v", err)
	}
}

// BenchmarkGenerateOverBudget is the cost of refusing the schema above.
func BenchmarkGenerateOverBudget(b *testing.B) {
	s, err := Compile([]byte(hugeArrays))
	if err != nil {
		b.Fatal(err)
	}
	f := gofakeit.New(1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Generate(f); !errors.Is(err, ErrBudget) {
			b.Fatal(err)
		}
	}
}
