package schemagen_test

import (
	"fmt"

	"github.com/brianvoe/gofakeit/v7"

	"github.com/qwenmock/qwenmock/mockserver/schemagen"
)

func ExampleGenerate() {
	schema := []byte(`{"type":"object","properties":{
		"city":{"type":"string"},
		"unit":{"type":"string","enum":["celsius","fahrenheit"]},
		"days":{"type":"integer","minimum":1,"maximum":7}},
		"required":["city","days"]}`)
	args, err := schemagen.Generate(schema, gofakeit.New(42))
	if err != nil {
		panic(err)
	}
	fmt.Println(string(args))
	// Output: {"city":"Kansas","unit":"celsius","days":4}
}

func ExampleCompile() {
	s, err := schemagen.Compile([]byte(`{"type":"object","properties":{
		"check_in":{"type":"string","format":"date"},
		"check_out":{"type":"string","format":"date"},
		"guests":{"type":"integer","minimum":1,"maximum":4},
		"email":{"type":"string","format":"email"}},
		"required":["check_in","check_out","guests","email"],"additionalProperties":false}`))
	if err != nil {
		panic(err)
	}
	f := gofakeit.New(7)
	for i := 0; i < 2; i++ {
		args, err := s.Generate(f)
		if err != nil {
			panic(err)
		}
		fmt.Println(string(args))
	}
	// Output:
	// {"check_in":"2027-11-02","check_out":"2027-11-03","guests":4,"email":"bartonfox74@gray.org"}
	// {"check_in":"2025-10-04","check_out":"2025-10-08","guests":2,"email":"damon.dooley@li.net"}
}
