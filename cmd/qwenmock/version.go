package main

import (
	"runtime"
	"runtime/debug"
	"strings"
)

// commit is stamped at build time with -ldflags "-X main.commit=<git commit>", as version is.
var commit = ""

// versionLine is what --version prints: "qwenmock <version> (commit <commit>, <go version>,
// <os>/<arch>)". What -ldflags did not stamp comes from the build information Go embeds:
// `go install …@v1.2.3` records the module version (a pseudo-version names its commit), and a
// build inside a git checkout records vcs.revision (and vcs.modified when the tree was dirty).
func versionLine() string {
	v, c := version, commit
	if bi, ok := debug.ReadBuildInfo(); ok {
		v, c = fromBuildInfo(v, c, bi)
	}
	if c == "" {
		c = "unknown"
	}
	return "qwenmock " + v + " (commit " + c + ", " + runtime.Version() + ", " + runtime.GOOS + "/" + runtime.GOARCH + ")"
}

// fromBuildInfo fills in the version and commit that were not stamped.
func fromBuildInfo(v, c string, bi *debug.BuildInfo) (string, string) {
	if (v == "" || v == "dev") && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = bi.Main.Version
	}
	if v == "" {
		v = "dev"
	}
	if c != "" {
		return v, c
	}
	var rev string
	var modified bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev != "" {
		if modified {
			rev += "-dirty"
		}
		return v, rev
	}
	return v, pseudoVersionCommit(bi.Main.Version)
}

// pseudoVersionCommit is the commit prefix that ends a Go pseudo-version
// (v0.0.0-20261207220937-0759d16c3a1e), or "" for any other version.
func pseudoVersionCommit(v string) string {
	v, _, _ = strings.Cut(v, "+") // +incompatible, +dirty
	i := strings.LastIndexByte(v, '-')
	if i < 0 || len(v)-i-1 != 12 {
		return ""
	}
	h := v[i+1:]
	for _, r := range h {
		if !strings.ContainsRune("0123456789abcdef", r) {
			return ""
		}
	}
	// The part before the hash ends in a 14-digit UTC timestamp.
	ts := v[:i]
	if j := strings.LastIndexAny(ts, "-."); j >= 0 {
		ts = ts[j+1:]
	}
	if len(ts) != 14 || strings.Trim(ts, "0123456789") != "" {
		return ""
	}
	return h
}
