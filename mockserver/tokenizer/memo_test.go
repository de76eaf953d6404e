package tokenizer

import (
	"fmt"
	"testing"
)

func TestPieceMemo(t *testing.T) {
	t.Parallel()
	m := newPieceMemo()
	tests := []struct {
		piece  string
		ids    []int
		stored bool
	}{
		{"Hello", []int{9707}, true},
		{" wor", []int{1, 2}, true},
		{"xyz", []int{0, idMask, 151642}, true},
		{"four", []int{1, 2, 3, 4}, true},
		{"many", make([]int, memoMaxIDs+1), false},
		{"", []int{1}, false},
		{"none", nil, false},
		{"toolarge", []int{idMask + 1}, false},
		{string(make([]byte, memoMaxKey+1)), []int{5}, false},
	}
	for _, tc := range tests {
		m.put(tc.piece, tc.ids)
		got, ok := m.get(tc.piece, nil)
		if ok != tc.stored || (ok && !equalInts(got, tc.ids)) {
			t.Errorf("get(%q) = %v, %v after put(%v)", tc.piece, got, ok, tc.ids)
		}
	}
	for i := range memoShards * memoShardEntries * 2 {
		m.put(fmt.Sprint(i), []int{i % 1000})
		if got, ok := m.get(fmt.Sprint(i), nil); !ok || !equalInts(got, []int{i % 1000}) {
			t.Fatalf("get(%d) = %v, %v right after put", i, got, ok)
		}
	}
	long := string(make([]byte, memoMaxKey))
	for i := range memoShards * memoShardEntries {
		m.put(fmt.Sprint(i)+long[:memoMaxKey-8], make([]int, memoMaxIDs))
	}
	for i := range m.shards {
		if sh := &m.shards[i]; sh.n > memoShardEntries || len(sh.arena) > memoShardArena || cap(sh.arena) > memoShardArena || len(sh.slots) != memoShardSlots {
			t.Fatalf("shard %d holds %d entries in %d bytes, more than %d in %d", i, sh.n, len(sh.arena), memoShardEntries, memoShardArena)
		}
	}
}
