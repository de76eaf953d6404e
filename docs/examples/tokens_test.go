package myapp_test

import (
	"fmt"

	"github.com/qwenmock/qwenmock/mockserver/tokenizer"
)

func Example_countTokens() {
	tok := tokenizer.Default() // the Qwen vocabulary, loaded once per process
	fmt.Println(tok.Count("你是谁？"))
	fmt.Println(tok.Count("Hello, world!"))
	// Output:
	// 3
	// 4
}
