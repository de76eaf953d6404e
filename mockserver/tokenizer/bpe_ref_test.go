package tokenizer

// mergeHeap is an independent reference for mergeLong: the same merges in the same
// order, with a binary heap of (rank, offset) keys, lazy invalidation and the
// vocabulary map for every rank. It is O(n log n) like mergeLong but shares none
// of its tables or its queue, so tests can check mergeLong on pieces far too long
// for tiktoken-go's quadratic merge.
func (t *Tokenizer) mergeHeap(piece string) []int {
	if id, ok := testRanks()[piece]; ok {
		return []int{id}
	}
	n := len(piece)
	next, prev, rank := make([]int, n), make([]int, n), make([]int, n)
	pairRank := func(start, end int) int {
		if r, ok := testRanks()[piece[start:end]]; ok {
			return r
		}
		return -1
	}
	var h refHeap
	for i := range n {
		next[i], prev[i], rank[i] = i+1, i-1, -1
		if i+2 <= n {
			rank[i] = pairRank(i, i+2)
		}
		if rank[i] >= 0 {
			h.push(rank[i], i)
		}
	}
	for len(h) > 0 {
		r, i := h.pop()
		if rank[i] != r {
			continue
		}
		j := next[i]
		nj := next[j]
		next[i], rank[j], rank[i] = nj, -1, -1
		if nj < n {
			prev[nj] = i
			if r := pairRank(i, next[nj]); r >= 0 {
				rank[i] = r
				h.push(r, i)
			}
		}
		if p := prev[i]; p >= 0 {
			rank[p] = pairRank(p, nj)
			if rank[p] >= 0 {
				h.push(rank[p], p)
			}
		}
	}
	var out []int
	for i := 0; i < n; i = next[i] {
		out = append(out, testRanks()[piece[i:next[i]]])
	}
	return out
}

// refHeap is a binary min-heap of (rank, offset) pairs.
type refHeap [][2]int

func refLess(a, b [2]int) bool { return a[0] < b[0] || a[0] == b[0] && a[1] < b[1] }

func (h *refHeap) push(rank, off int) {
	*h = append(*h, [2]int{rank, off})
	a := *h
	for i := len(a) - 1; i > 0 && refLess(a[i], a[(i-1)/2]); i = (i - 1) / 2 {
		a[i], a[(i-1)/2] = a[(i-1)/2], a[i]
	}
}

func (h *refHeap) pop() (rank, off int) {
	a := *h
	top := a[0]
	a[0] = a[len(a)-1]
	a = a[:len(a)-1]
	for i := 0; ; {
		m := i
		for _, c := range []int{2*i + 1, 2*i + 2} {
			if c < len(a) && refLess(a[c], a[m]) {
				m = c
			}
		}
		if m == i {
			break
		}
		a[i], a[m] = a[m], a[i]
		i = m
	}
	*h = a
	return top[0], top[1]
}
