package mockserver

import "unicode/utf8"

// trimIncompleteUTF8 drops a character cut short at the end of b: when a reply is cut inside a
// multi-byte character, its last token is counted but its partial bytes are not shown, so the
// text stays valid UTF-8.
func trimIncompleteUTF8(b []byte) []byte {
	n := completeUTF8Prefix(b)
	return b[:n]
}

// completeUTF8Prefix returns the length of b without a trailing incomplete character.
func completeUTF8Prefix(b []byte) int {
	// Look back at most utf8.UTFMax-1 bytes for the start of the last character.
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if utf8.FullRune(b[i:]) {
				return len(b)
			}
			return i
		}
	}
	return len(b)
}
