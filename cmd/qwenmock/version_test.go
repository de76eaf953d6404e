package main

import (
	"bytes"
	"context"
	"runtime"
	"runtime/debug"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	settings := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	cases := []struct {
		name         string
		v, c         string
		main         string
		settings     []debug.BuildSetting
		wantV, wantC string
	}{
		{"stamped wins", "1.2.3", "0759d16c3a1e4b5f", "v9.9.9", settings("vcs.revision", "ffff"), "1.2.3", "0759d16c3a1e4b5f"},
		{"stamped version, commit from vcs", "1.2.3", "", "(devel)", settings("vcs.revision", "abc123", "vcs.modified", "false"), "1.2.3", "abc123"},
		{"dirty tree", "dev", "", "(devel)", settings("vcs.revision", "abc123", "vcs.modified", "true"), "dev", "abc123-dirty"},
		{"go install of a tag", "dev", "", "v1.4.0", nil, "v1.4.0", ""},
		{"go install of a commit", "dev", "", "v0.0.0-20261207220937-0759d16c3a1e", nil, "v0.0.0-20261207220937-0759d16c3a1e", "0759d16c3a1e"},
		{"pseudo-version after a pre-release", "dev", "", "v1.5.0-rc.1.0.20261207220937-0759d16c3a1e", nil, "v1.5.0-rc.1.0.20261207220937-0759d16c3a1e", "0759d16c3a1e"},
		{"pseudo-version after a release", "dev", "", "v1.4.1-0.20261207220937-0759d16c3a1e+dirty", nil, "v1.4.1-0.20261207220937-0759d16c3a1e+dirty", "0759d16c3a1e"},
		{"a pre-release is no pseudo-version", "dev", "", "v1.5.0-beta-0759d16c3a1e", nil, "v1.5.0-beta-0759d16c3a1e", ""},
		{"nothing known", "dev", "", "(devel)", nil, "dev", ""},
		{"empty stamp", "", "", "", nil, "dev", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bi := &debug.BuildInfo{Main: debug.Module{Path: "github.com/qwenmock/qwenmock", Version: tc.main}, Settings: tc.settings}
			v, c := fromBuildInfo(tc.v, tc.c, bi)
			if v != tc.wantV || c != tc.wantC {
				t.Errorf("fromBuildInfo(%q, %q, %q) = %q, %q; want %q, %q", tc.v, tc.c, tc.main, v, c, tc.wantV, tc.wantC)
			}
		})
	}
}

func TestVersionFlagPrintsStampedVersionAndCommit(t *testing.T) {
	oldV, oldC := version, commit
	version, commit = "1.2.3", "0759d16c3a1e4b5f6a7b8c9d0e1f2a3b4c5d6e7f"
	defer func() { version, commit = oldV, oldC }()

	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"--version"}, func(string) string { return "" }, &stdout, &stderr)
	want := "qwenmock 1.2.3 (commit 0759d16c3a1e4b5f6a7b8c9d0e1f2a3b4c5d6e7f, " + runtime.Version() + ", " + runtime.GOOS + "/" + runtime.GOARCH + ")\n"
	if code != 0 || stdout.String() != want || stderr.Len() != 0 {
		t.Fatalf("--version: exit %d, stdout %q, stderr %q; want exit 0, stdout %q", code, stdout.String(), stderr.String(), want)
	}
}
