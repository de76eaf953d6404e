package schemagen

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/brianvoe/gofakeit/v7"
)

// NameWords splits a name (of a property, a tool, …) into lower-case words: "departureCity" gives
// [departure city], "max_results" gives [max results], "X-Request-ID" gives [x request id].
func NameWords(name string) []string {
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	rs := []rune(name)
	for i, r := range rs {
		switch {
		case !unicode.IsLetter(r) && !unicode.IsDigit(r):
			flush()
		case unicode.IsUpper(r) && len(cur) > 0 &&
			(unicode.IsLower(cur[len(cur)-1]) || (i+1 < len(rs) && unicode.IsLower(rs[i+1]))):
			flush()
			cur = append(cur, r)
		default:
			cur = append(cur, r)
		}
	}
	flush()
	return words
}

// singular strips an English plural ending: "cities" → "city", "addresses" → "address".
func singular(w string) string {
	switch {
	case len(w) > 4 && strings.HasSuffix(w, "ies"):
		return w[:len(w)-3] + "y"
	case len(w) > 4 && (strings.HasSuffix(w, "sses") || strings.HasSuffix(w, "xes") ||
		strings.HasSuffix(w, "ches") || strings.HasSuffix(w, "shes")):
		return w[:len(w)-2]
	case len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss"):
		return w[:len(w)-1]
	}
	return w
}

// nameHint answers questions about the words of a property name.
type nameHint struct{ words []string }

func newNameHint(name string) nameHint {
	words := NameWords(name)
	for i, w := range words {
		words[i] = singular(w)
	}
	return nameHint{words}
}

// has reports whether any word of the name is one of ws.
func (h nameHint) has(ws ...string) bool {
	for _, w := range h.words {
		for _, x := range ws {
			if w == x {
				return true
			}
		}
	}
	return false
}

func (h nameHint) last() string {
	if len(h.words) == 0 {
		return ""
	}
	return h.words[len(h.words)-1]
}

// stringGen makes one string.
type stringGen func(g *gen) string

// fk adapts a Faker method (such as (*gofakeit.Faker).City) to a stringGen.
func fk(fn func(*gofakeit.Faker) string) stringGen {
	return func(g *gen) string { return fn(g.f) }
}

// stringHint returns a generator of realistic strings for a property name, or nil.
func stringHint(name string) stringGen {
	h := newNameHint(name)
	switch {
	case len(h.words) == 0:
		return nil
	case h.has("email", "mail"):
		return fk(fakeEmail)
	case h.has("url", "uri", "link", "website", "homepage", "href", "endpoint", "webhook"):
		return fk(fakeURL)
	case h.has("phone", "mobile", "tel", "telephone", "fax"):
		return fk((*gofakeit.Faker).PhoneFormatted)
	case h.has("uuid", "guid"):
		return fk((*gofakeit.Faker).UUID)
	case h.has("mime", "mimetype") || h.has("content") && h.has("type"):
		return fk((*gofakeit.Faker).FileMimeType)
	case h.last() == "id" || h.has("identifier"):
		return fakeID(h)
	case h.has("ip"):
		return fk((*gofakeit.Faker).IPv4Address)
	case h.has("hostname", "domain", "host"):
		return fk(fakeHostname)
	case h.has("timezone", "tz") || h.has("time") && h.has("zone"):
		return fk((*gofakeit.Faker).TimeZoneRegion)
	case h.has("datetime", "timestamp") || h.has("date") && h.has("time") || len(h.words) > 1 && h.last() == "at":
		return (*gen).dateTime
	case h.has("birthday", "dob", "birthdate") || h.has("birth") && h.has("date", "day"):
		return fk(birthDate)
	case h.has("date", "day", "checkin", "checkout"):
		return (*gen).date
	case h.has("time", "clock"):
		return fk(func(f *gofakeit.Faker) string { hh, mm := fakeClock(f); return fmt.Sprintf("%02d:%02d", hh, mm) })
	case h.has("duration"):
		return fk(fakeDuration)
	case h.has("currency"):
		return fk((*gofakeit.Faker).CurrencyShort)
	case h.has("country") && h.has("code", "iso"):
		return fk((*gofakeit.Faker).CountryAbr)
	case h.has("country", "nation"):
		return fk((*gofakeit.Faker).Country)
	case h.has("language", "lang", "locale"):
		return fk((*gofakeit.Faker).Language)
	case h.has("airport", "iata"):
		return fk((*gofakeit.Faker).AirlineAirportIATA)
	case h.has("city", "town", "location", "destination", "origin", "place"):
		return fk((*gofakeit.Faker).City)
	case h.has("state", "province", "region"):
		return fk((*gofakeit.Faker).State)
	case h.has("zip", "zipcode", "postal", "postcode"):
		return fk((*gofakeit.Faker).Zip)
	case h.has("street", "address", "addr"):
		return fk((*gofakeit.Faker).Street)
	case h.has("company", "organization", "organisation", "org", "employer", "business", "vendor", "merchant", "brand"):
		return fk((*gofakeit.Faker).Company)
	case h.has("file", "filename"):
		return fk(func(f *gofakeit.Faker) string { return strings.Join(slugWords(f, 2), "_") + "." + f.FileExtension() })
	case h.has("path", "dir", "directory", "folder"):
		return fk(func(f *gofakeit.Faker) string { return "/" + strings.Join(slugWords(f, 1+f.IntN(3)), "/") })
	case h.has("extension", "ext"):
		return fk((*gofakeit.Faker).FileExtension)
	case h.has("username", "login", "handle", "nickname") || h.has("user") && h.has("name"):
		return fk((*gofakeit.Faker).Username)
	case h.has("firstname", "given") || h.has("first") && h.has("name"):
		return fk((*gofakeit.Faker).FirstName)
	case h.has("lastname", "surname", "family") || h.has("last") && h.has("name"):
		return fk((*gofakeit.Faker).LastName)
	case h.has("product", "item"):
		return fk((*gofakeit.Faker).ProductName)
	case h.has("movie", "film"):
		return fk((*gofakeit.Faker).MovieName)
	case h.has("book"):
		return fk((*gofakeit.Faker).BookTitle)
	case h.has("song", "track"):
		return fk((*gofakeit.Faker).SongName)
	case h.has("name", "fullname", "author", "artist", "contact", "customer", "passenger", "guest",
		"recipient", "sender", "owner", "assignee", "person", "attendee"):
		return fk((*gofakeit.Faker).Name)
	case h.has("job", "occupation", "profession", "position", "role"):
		return fk((*gofakeit.Faker).JobTitle)
	case h.has("title", "headline", "subject"):
		return fk(func(f *gofakeit.Faker) string { return titleCase(f.AdjectiveDescriptive() + " " + f.Noun()) })
	case h.has("description", "summary", "text", "message", "content", "body", "comment", "note",
		"bio", "reason", "detail", "prompt", "instruction", "review", "feedback"):
		return fk(func(f *gofakeit.Faker) string { return f.Sentence() })
	case h.has("query", "q", "search", "keyword", "term", "topic", "question"):
		return fk(fakeQuery)
	case h.has("color", "colour"):
		return fk((*gofakeit.Faker).SafeColor)
	case h.has("category", "genre"):
		return fk((*gofakeit.Faker).ProductCategory)
	case h.has("password", "pwd", "secret", "passphrase"):
		return fk(func(f *gofakeit.Faker) string { return f.Password(true, true, true, false, false, 14) })
	case h.has("token", "key", "apikey"):
		return fk(func(f *gofakeit.Faker) string { return f.Regex(`[a-zA-Z0-9]{32}`) })
	case h.has("gender", "sex"):
		return fk((*gofakeit.Faker).Gender)
	case h.has("tag", "label", "hashtag"):
		return fk(func(f *gofakeit.Faker) string { return asciiLower(f.Noun()) })
	case h.has("flight"):
		return fk(func(f *gofakeit.Faker) string { return f.Regex(`[A-Z]{2}[1-9][0-9]{2,3}`) })
	case h.has("sku", "code"):
		return fk(func(f *gofakeit.Faker) string { return f.Regex(`[A-Z]{3}-[0-9]{4}`) })
	case h.has("cuisine", "food", "dish", "meal"):
		return fk((*gofakeit.Faker).Dinner)
	case h.has("animal", "pet"):
		return fk((*gofakeit.Faker).Animal)
	}
	return nil
}

// fakeID returns identifiers such as "ord_4kq93hzt" for "order_id", or a UUID for "id".
func fakeID(h nameHint) stringGen {
	prefix := ""
	if len(h.words) > 1 {
		prefix = asciiLower(h.words[0])
		if len(prefix) > 3 {
			prefix = prefix[:3]
		}
	}
	return fk(func(f *gofakeit.Faker) string {
		if prefix == "" {
			return f.UUID()
		}
		return prefix + "_" + f.Regex(`[a-z0-9]{8}`)
	})
}

// fakeQuery returns a short search phrase.
func fakeQuery(f *gofakeit.Faker) string {
	switch f.IntN(3) {
	case 0:
		return strings.ToLower(f.AdjectiveDescriptive() + " " + f.Noun())
	case 1:
		return strings.ToLower(f.Noun()) + " in " + f.City()
	default:
		return "best " + strings.ToLower(f.ProductCategory())
	}
}

// fakePhrase returns a short word or phrase for strings with no better hint.
func fakePhrase(f *gofakeit.Faker) string {
	if f.Bool() {
		return strings.ToLower(f.Noun())
	}
	return strings.ToLower(f.AdjectiveDescriptive() + " " + f.Noun())
}

func titleCase(s string) string {
	words := strings.Fields(s)
	for i, w := range words {
		r := []rune(w)
		r[0] = unicode.ToUpper(r[0])
		words[i] = string(r)
	}
	return strings.Join(words, " ")
}

// numberHint is a realistic range for a numeric property, with the number of decimals to
// use when the schema allows fractions.
type numberHint struct {
	lo, hi   float64
	decimals int
}

// numberHintFor returns the realistic range for a numeric property name.
func numberHintFor(name string) (numberHint, bool) {
	h := newNameHint(name)
	switch {
	case len(h.words) == 0:
		return numberHint{}, false
	case h.has("lat", "latitude"):
		return numberHint{-90, 90, 6}, true
	case h.has("lon", "lng", "long", "longitude"):
		return numberHint{-180, 180, 6}, true
	case h.has("age"):
		return numberHint{18, 85, 0}, true
	case h.has("year") && h.has("birth"):
		return numberHint{1950, 2005, 0}, true
	case h.has("year"):
		return numberHint{2020, 2027, 0}, true
	case h.has("month"):
		return numberHint{1, 12, 0}, true
	case h.has("day"):
		return numberHint{1, 28, 0}, true
	case h.has("hour"):
		return numberHint{0, 23, 0}, true
	case h.has("minute", "second"):
		return numberHint{0, 59, 0}, true
	case h.has("price", "amount", "cost", "total", "budget", "fee", "salary", "balance", "subtotal"):
		return numberHint{5, 500, 2}, true
	case h.has("rating", "star"):
		return numberHint{1, 5, 1}, true
	case h.has("percent", "percentage", "pct", "discount", "score", "progress"):
		return numberHint{0, 100, 1}, true
	case h.has("temperature", "temp"):
		return numberHint{-10, 38, 1}, true
	case h.has("guest", "adult", "people", "passenger", "person", "traveler", "traveller", "seat", "room", "ticket"):
		return numberHint{1, 6, 0}, true
	case h.has("child", "children", "kid", "infant"):
		return numberHint{0, 3, 0}, true
	case h.has("night"):
		return numberHint{1, 14, 0}, true
	case h.has("page"):
		return numberHint{1, 10, 0}, true
	case h.has("offset", "skip"):
		return numberHint{0, 100, 0}, true
	case h.has("limit", "count", "num", "number", "n", "k", "top", "size", "quantity", "qty", "max", "result"):
		return numberHint{1, 20, 0}, true
	case h.has("duration", "timeout", "delay", "interval", "minutes", "seconds"):
		return numberHint{1, 60, 0}, true
	case h.has("radius", "distance", "mile", "km", "kilometer"):
		return numberHint{1, 50, 1}, true
	case h.has("zoom"):
		return numberHint{1, 20, 0}, true
	case h.has("weight"):
		return numberHint{1, 100, 1}, true
	case h.has("height", "width", "length"):
		return numberHint{10, 200, 1}, true
	case h.has("id"):
		return numberHint{1000, 99999, 0}, true
	}
	return numberHint{}, false
}
