// Command unigen derives the tokenizer's Unicode tables from the reference
// tokenizer's own behaviour (see gen-unicode.sh, which runs it).
//
//	go run ./internal/unigen probes > probes.txt
//	node probe.js < probes.txt > answers.txt     (in a copy with npm ci done)
//	go run ./internal/unigen tables -answers answers.txt
//
// The probes (package uniprobe) ask the reference, for every code point, how its
// pre-tokenizer cuts "a" r "a" and "a" r "!" (which gives r's class: letter,
// number, space or other) and how its normaliser treats r alone, next to combining
// marks of class 1 and 230, and decomposed. From the answers, tables writes:
//
//   - unicode_tables.go: the reference's class of every code point, as runs, and
//     the code points that Go's normalisation tables know but the reference's do
//     not (combining marks it gives class 0, compositions it does not make);
//   - testdata/unicode_ref.txt.gz: every normalisation answer that differs from
//     the probe text, for the tests' sweep over all code points.
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"go/format"
	"os"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/qwenmock/qwenmock/mockserver/tokenizer/internal/uniprobe"
	"golang.org/x/text/unicode/norm"
)

func main() {
	if len(os.Args) < 2 {
		fail("usage: unigen probes | unigen tables -answers FILE")
	}
	switch os.Args[1] {
	case "probes":
		w := bufio.NewWriter(os.Stdout)
		for _, p := range uniprobe.All() {
			b, _ := json.Marshal(p.Text)
			fmt.Fprintf(w, "%c\t%s\n", p.Kind, b)
		}
		if err := w.Flush(); err != nil {
			fail(err.Error())
		}
	case "tables":
		fs := flag.NewFlagSet("tables", flag.ExitOnError)
		answers := fs.String("answers", "", "answers of probe.js, one line per probe")
		goOut := fs.String("go", "unicode_tables.go", "generated Go tables")
		refOut := fs.String("ref", "testdata/unicode_ref.txt.gz", "normalisation answers for the tests")
		_ = fs.Parse(os.Args[2:])
		tables(*answers, *goOut, *refOut)
	default:
		fail("unknown mode " + os.Args[1])
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "unigen:", msg)
	os.Exit(1)
}

// Classes, as in the tokenizer package.
const (
	clsOther  = 0
	clsLetter = 1
	clsNumber = 2
	clsSpace  = 3
)

func tables(answersFile, goOut, refOut string) {
	data, err := os.ReadFile(answersFile)
	if err != nil {
		fail(err.Error())
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	probes := uniprobe.All()
	if len(lines) != len(probes) {
		fail(fmt.Sprintf("%d answers for %d probes", len(lines), len(probes)))
	}
	class := make([]uint8, utf8.MaxRune+1)
	class[' '], class['\r'], class['\n'] = clsSpace, clsSpace, clsSpace
	var preCuts [2][]int
	nfc := map[string]string{} // probe text -> answer, where they differ
	unknown := map[rune]bool{}
	byRune := map[rune][]int{}
	for i, p := range probes {
		byRune[p.Rune] = append(byRune[p.Rune], i)
	}
	var ref bytes.Buffer
	for r := rune(0); r <= utf8.MaxRune; r++ {
		if r >= 0xd800 && r < 0xe000 {
			continue
		}
		idx := byRune[r]
		if !uniprobe.Skip(r) {
			for k := range 2 {
				preCuts[k] = preCuts[k][:0]
				if err := json.Unmarshal([]byte(lines[idx[k]]), &preCuts[k]); err != nil {
					fail(fmt.Sprintf("%U: %v", r, err))
				}
			}
			w := utf8.RuneLen(r)
			c1, c2 := fmt.Sprint(preCuts[0]), fmt.Sprint(preCuts[1])
			one, both := "[1]", fmt.Sprint([]int{1, 1 + w})
			switch {
			case c1 == "[]" && c2 == fmt.Sprint([]int{1 + w}):
				class[r] = clsLetter
			case c1 == both && c2 == both:
				class[r] = clsNumber
			case c1 == one && c2 == one:
				class[r] = clsOther
			case c1 == one && c2 == both:
				class[r] = clsSpace
			default:
				fail(fmt.Sprintf("%U: cuts %s and %s fit no class", r, c1, c2))
			}
			idx = idx[2:]
		}
		// Normalisation answers.
		got := map[string]string{}
		for _, i := range idx {
			var s string
			if err := json.Unmarshal([]byte(lines[i]), &s); err != nil {
				fail(fmt.Sprintf("%U: %v", r, err))
			}
			got[probes[i].Text] = s
			if s != probes[i].Text {
				nfc[probes[i].Text] = s
				fmt.Fprintf(&ref, "%s\t%s\n", hexRunes(probes[i].Text), hexRunes(s))
			}
		}
		// A code point is unknown to the reference's normalisation if Go's tables
		// give it a combining class or a decomposition and the reference acts as if
		// it had neither.
		s := string(r)
		known, unknownHere := true, false
		if norm.NFD.PropertiesString(s).CCC() != 0 {
			a, b := uniprobe.Mark230+s, s+uniprobe.Mark1
			switch {
			case got[a] == norm.NFC.String(a) && got[b] == norm.NFC.String(b):
			case got[a] == a && got[b] == b:
				unknownHere = true
			default:
				fail(fmt.Sprintf("%U: reorder answers %q %q fit neither table", r, got[a], got[b]))
			}
		}
		if d := norm.NFD.String(s); d != s {
			switch {
			case got[s] == norm.NFC.String(s) && got[d] == norm.NFC.String(d):
			case got[s] == s:
				unknownHere = true
			default:
				known = false
			}
		}
		if !known {
			fail(fmt.Sprintf("%U: decomposition answers %q %q fit neither table", r, got[s], got[norm.NFD.String(s)]))
		}
		if unknownHere {
			unknown[r] = true
		}
	}
	writeGo(goOut, class, unknown)
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(ref.Bytes())
	zw.Close()
	if err := os.WriteFile(refOut, gz.Bytes(), 0o644); err != nil {
		fail(err.Error())
	}
	fmt.Fprintf(os.Stderr, "unigen: %d normalisation answers differ from their probe, %d code points unknown to the reference's normalisation\n", len(nfc), len(unknown))
}

func hexRunes(s string) string {
	var parts []string
	for _, r := range s {
		parts = append(parts, fmt.Sprintf("%04X", r))
	}
	return strings.Join(parts, " ")
}

func writeGo(path string, class []uint8, unknown map[rune]bool) {
	var b bytes.Buffer
	b.WriteString("// Code generated by internal/unigen from the reference tokenizer's behaviour; DO NOT EDIT.\n\npackage tokenizer\n\n")
	b.WriteString("// refClassRuns holds the reference pre-tokenizer's class of every code point as\n// runs: each entry is first<<2 | class, and a run lasts until the next entry.\nvar refClassRuns = [...]uint32{\n")
	n := 0
	for r := range class {
		if r == 0 || class[r] != class[r-1] {
			fmt.Fprintf(&b, "0x%x, ", uint32(r)<<2|uint32(class[r]))
			n++
			if n%8 == 0 {
				b.WriteString("\n")
			}
		}
	}
	b.WriteString("}\n\n")
	var u []rune
	for r := range unknown {
		u = append(u, r)
	}
	slices.Sort(u)
	b.WriteString("// refNFCUnknown lists, ascending, the code points that Go's normalisation tables\n// give a combining class or a decomposition but the reference's normaliser treats\n// as starters that neither decompose nor compose.\nvar refNFCUnknown = [...]rune{\n")
	for i, r := range u {
		fmt.Fprintf(&b, "0x%x, ", r)
		if i%8 == 7 {
			b.WriteString("\n")
		}
	}
	b.WriteString("}\n")
	src, err := format.Source(b.Bytes())
	if err != nil {
		fail(err.Error())
	}
	if err := os.WriteFile(path, src, 0o644); err != nil {
		fail(err.Error())
	}
}
