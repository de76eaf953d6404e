package tokenizer

import (
	"bytes"
	"compress/gzip"
	"io"
	"math/rand/v2"
	"testing"
)

// TestLoadAnyRankOrder loads the vocabulary with its lines shuffled: the tokens must come out
// in rank order, the same as from the file as it is.
func TestLoadAnyRankOrder(t *testing.T) {
	t.Parallel()
	zr, err := gzip.NewReader(bytes.NewReader(qwenTiktokenGz))
	if err != nil {
		t.Fatal(err)
	}
	text, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(text, []byte("\n")) {
		text = append(text, '\n')
	}
	lines := bytes.SplitAfter(bytes.TrimSuffix(text, []byte("\n")), []byte("\n"))
	lines[len(lines)-1] = append(lines[len(lines)-1], '\n')
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(lines), func(i, j int) { lines[i], lines[j] = lines[j], lines[i] })
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(bytes.Join(lines, nil))
	_ = zw.Close()
	shuffled, err := load(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	for id := range VocabSize {
		if got, w := shuffled.TokenBytes(id), want.TokenBytes(id); !bytes.Equal(got, w) {
			t.Fatalf("token %d: %q, want %q", id, got, w)
		}
	}
	if got, w := shuffled.Encode("Hello, world! 你好"), want.Encode("Hello, world! 你好"); !equalInts(got, w) {
		t.Fatalf("Encode: %v, want %v", got, w)
	}
}

func TestReadVocabRejects(t *testing.T) {
	t.Parallel()
	gz := func(s string) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		_, _ = zw.Write([]byte(s))
		_ = zw.Close()
		return buf.Bytes()
	}
	for name, data := range map[string]string{
		"rank repeated out of order": "IQ== 1\nIg== 1\n",
		"rank past the end":          "IQ== 1\nIg== 2\n",
		"negative rank":              "IQ== -1\n",
		"token too long":             "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQQ== 0\n",
	} {
		if _, _, err := readVocab(gz(data)); err == nil {
			t.Errorf("%s: readVocab succeeded", name)
		}
	}
	blob, offs, err := readVocab(gz("Ig== 1\nIQ== 0\n"))
	if err != nil || blob != "!\"" || len(offs) != 3 || offs[1] != 1 || offs[2] != 2 {
		t.Fatalf("reordered: %q %v %v", blob, offs, err)
	}
}
