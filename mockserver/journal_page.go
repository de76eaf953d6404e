package mockserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// Paging of GET /_mock/requests. A page holds at most MaxJournalPage records and at most
// JournalPageBytes of JSON; it is written record by record, so reading the journal costs
// memory for one record at a time, not for the page.
const (
	// DefaultJournalPage is the number of records of a page without ?limit=.
	DefaultJournalPage = 100
	// MaxJournalPage is the largest ?limit=.
	MaxJournalPage = 1000
	// JournalPageBytes bounds the JSON of one page: records that would pass it are left
	// for the next page ("has_more": true). A page always holds at least one record.
	JournalPageBytes = 8 << 20
)

// journalPage is a page request: ?limit=N&after=SEQ&before=SEQ&order=desc|asc.
type journalPage struct {
	limit         int
	after, before int64
	ascending     bool
}

func parseJournalPage(q url.Values) (journalPage, error) {
	pg := journalPage{limit: DefaultJournalPage}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxJournalPage {
			return pg, fmt.Errorf("limit must be an integer in [1, %d], not %q.", MaxJournalPage, v)
		}
		pg.limit = n
	}
	for _, b := range []struct {
		name string
		dst  *int64
	}{{"after", &pg.after}, {"before", &pg.before}} {
		if v := q.Get(b.name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return pg, fmt.Errorf("%s must be a sequence number (an integer ≥ 0), not %q.", b.name, v)
			}
			*b.dst = n
		}
	}
	switch o := q.Get("order"); o {
	case "", "desc":
	case "asc":
		pg.ascending = true
	default:
		return pg, fmt.Errorf("order must be desc or asc, not %q.", o)
	}
	return pg, nil
}

// writeJournalPage writes {"requests":[…],"has_more":bool}: the page's records, newest first
// (order=asc: oldest first). To read everything, follow has_more with before=<last seq>
// (newest first) or after=<last seq> (order=asc, which also tails the journal).
func (s *Server) writeJournalPage(w http.ResponseWriter, filters []RequestFilter, pg journalPage) {
	recs, more := s.journal.page(filters, pg.after, pg.before, pg.limit, pg.ascending)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_, _ = w.Write([]byte(`{"requests":[`))
	written := 0
	for i := range recs {
		buf.Reset()
		if i > 0 {
			buf.WriteByte(',')
		}
		if err := enc.Encode(&recs[i]); err != nil {
			panic(fmt.Sprintf("mockserver: encoding a journal record: %v", err))
		}
		b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
		if i > 0 && written+len(b) > JournalPageBytes {
			more = true
			break
		}
		written += len(b)
		if _, err := w.Write(b); err != nil {
			return
		}
	}
	_, _ = fmt.Fprintf(w, `],"has_more":%t}`, more)
}
