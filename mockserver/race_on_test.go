//go:build race

package mockserver

// raceEnabled reports whether the tests run under the race detector, which makes
// sync.Pool drop items at random: allocation counts are meaningless there.
const raceEnabled = true
