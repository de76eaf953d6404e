package schemagen

import (
	"testing"

	"github.com/brianvoe/gofakeit/v7"
)

func benchmarkSchema(b *testing.B, schema string) {
	data := compact(schema)
	f := gofakeit.New(1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Generate(data, f); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGenerateWeather(b *testing.B) { benchmarkSchema(b, toolSchemas[0].schema) }

func BenchmarkGenerateNested(b *testing.B) { benchmarkSchema(b, toolSchemas[3].schema) }

func BenchmarkGenerateRecursive(b *testing.B) { benchmarkSchema(b, toolSchemas[12].schema) }

// BenchmarkCompiledWeather generates from a schema compiled once.
func BenchmarkCompiledWeather(b *testing.B) {
	s, err := Compile(compact(toolSchemas[0].schema))
	if err != nil {
		b.Fatal(err)
	}
	f := gofakeit.New(1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Generate(f); err != nil {
			b.Fatal(err)
		}
	}
}
