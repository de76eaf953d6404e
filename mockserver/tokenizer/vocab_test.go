package tokenizer

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"testing"
)

func TestEmbeddedVocabularyChecksum(t *testing.T) {
	t.Parallel()
	zr, err := gzip.NewReader(bytes.NewReader(qwenTiktokenGz))
	if err != nil {
		t.Fatal(err)
	}
	text, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	const wantSHA = "b2b1b8dfb5cc5f024bafc373121c6aba3f66f9a5a0269e243470a1de16a33186"
	sum := sha256.Sum256(text)
	if got := hex.EncodeToString(sum[:]); got != wantSHA {
		t.Errorf("sha256 = %s, want %s", got, wantSHA)
	}
	if len(text) != 2561218 {
		t.Errorf("length = %d, want 2561218", len(text))
	}
	if zr.Header.Name != "" || !zr.Header.ModTime.IsZero() {
		t.Errorf("gzip header has name %q, mtime %v; want neither", zr.Header.Name, zr.Header.ModTime)
	}
}

func TestDefaultIsShared(t *testing.T) {
	t.Parallel()
	a, b := Default(), Default()
	if a != b {
		t.Fatal("Default returned two tokenizers")
	}
	if got := a.VocabSize(); got != 151669 {
		t.Errorf("VocabSize = %d, want 151669", got)
	}
	if len(testRanks()) != NumOrdinaryTokens {
		t.Errorf("%d ordinary tokens, want %d", len(testRanks()), NumOrdinaryTokens)
	}
}

func TestTokenBytes(t *testing.T) {
	t.Parallel()
	tk := Default()
	tests := []struct {
		id   int
		want string
	}{
		{0, "!"},
		{9707, "Hello"},
		{1879, " world"},
		{108386, "你好"},
		{18, "3"},
		{56940, string(bytes.Repeat([]byte{' '}, 128))},
		{151643, "<|endoftext|>"},
		{151645, "<|im_end|>"},
		{151668, "</think>"},
	}
	for _, tc := range tests {
		if got := string(tk.TokenBytes(tc.id)); got != tc.want {
			t.Errorf("TokenBytes(%d) = %q, want %q", tc.id, got, tc.want)
		}
	}
	for _, id := range []int{-1, 151669, 1 << 40} {
		if got := tk.TokenBytes(id); got != nil {
			t.Errorf("TokenBytes(%d) = %q, want nil", id, got)
		}
	}
	b := tk.TokenBytes(9707)
	b[0] = 'J'
	if got := string(tk.TokenBytes(9707)); got != "Hello" {
		t.Errorf("TokenBytes shares memory: after a write it returns %q", got)
	}
}

func TestLoadRejectsCorruptData(t *testing.T) {
	t.Parallel()
	gz := func(s string) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		_, _ = zw.Write([]byte(s))
		_ = zw.Close()
		return buf.Bytes()
	}
	for name, data := range map[string][]byte{
		"not gzip":     []byte("IQ== 0\n"),
		"no rank":      gz("IQ==\n"),
		"bad base64":   gz("!!!! 0\n"),
		"bad rank":     gz("IQ== x\n"),
		"duplicate":    gz("IQ== 0\nIQ== 1\n"),
		"too few":      gz("IQ== 0\nIg== 1\n"),
		"truncated gz": qwenTiktokenGz[:len(qwenTiktokenGz)/2],
	} {
		if _, err := load(data); err == nil {
			t.Errorf("%s: load succeeded", name)
		}
	}
}
