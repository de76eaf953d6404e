package schemagen

import (
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/brianvoe/gofakeit/v7"
)

// dateOrigin and dateDays bound generated dates: 2024-01-01 to 2027-12-31, a fixed window so
// that output never depends on the clock.
var dateOrigin = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

const dateDays = 4 * 365

// day returns a calendar day. The first day of a generation is random in the fixed window;
// later ones follow it by 1 to 7 days, so that the dates of one value read in order
// (check-in before check-out, departure before return).
func (g *gen) day() time.Time {
	if g.lastDay.IsZero() {
		g.lastDay = dateOrigin.AddDate(0, 0, g.f.IntN(dateDays))
	} else {
		g.lastDay = g.lastDay.AddDate(0, 0, 1+g.f.IntN(7))
	}
	return g.lastDay
}

// date returns a day as an RFC 3339 full-date.
func (g *gen) date() string { return g.day().Format("2006-01-02") }

// birthDate returns a full-date between 1950 and 2005.
func birthDate(f *gofakeit.Faker) string {
	return time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, f.IntN(56*365)).Format("2006-01-02")
}

// fakeClock returns a time of day on a five-minute grid between 06:00 and 22:55.
func fakeClock(f *gofakeit.Faker) (hour, minute int) {
	return 6 + f.IntN(17), 5 * f.IntN(12)
}

// dateTime returns an RFC 3339 date-time in UTC.
func (g *gen) dateTime() string {
	d := g.day()
	h, m := fakeClock(g.f)
	return d.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute).Format("2006-01-02T15:04:05Z")
}

// fakeTime returns an RFC 3339 full-time ("14:30:00Z").
func fakeTime(f *gofakeit.Faker) string {
	h, m := fakeClock(f)
	return fmt.Sprintf("%02d:%02d:00Z", h, m)
}

// fakeDuration returns an ISO 8601 duration such as "PT1H30M" or "P3D".
func fakeDuration(f *gofakeit.Faker) string {
	switch f.IntN(5) {
	case 0:
		return fmt.Sprintf("PT%dM", 5*(1+f.IntN(12)))
	case 1:
		return fmt.Sprintf("PT%dH", 1+f.IntN(12))
	case 2:
		return fmt.Sprintf("PT%dH%dM", 1+f.IntN(8), 15*(1+f.IntN(3)))
	case 3:
		return fmt.Sprintf("P%dD", 1+f.IntN(14))
	default:
		return fmt.Sprintf("P%dW", 1+f.IntN(4))
	}
}

// slugWords returns n lower-case words suitable for paths and host labels.
func slugWords(f *gofakeit.Faker, n int) []string {
	words := make([]string, n)
	for i := range words {
		words[i] = asciiLower(f.Noun())
		if words[i] == "" {
			words[i] = "item"
		}
	}
	return words
}

// asciiLower lower-cases s and drops everything but ASCII letters and digits.
func asciiLower(s string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(s) {
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			b.WriteRune(c)
		}
	}
	return b.String()
}

// fakeHostname returns a realistic domain name made of valid labels.
func fakeHostname(f *gofakeit.Faker) string {
	if d := f.DomainName(); isHostname(d) {
		return strings.ToLower(d)
	}
	return slugWords(f, 1)[0] + ".com"
}

// fakeEmail returns an e-mail address, falling back to a plain one when the generated
// name contains characters not allowed in addresses.
func fakeEmail(f *gofakeit.Faker) string {
	if e := f.Email(); isEmail(e) {
		return e
	}
	return asciiLower(f.FirstName()) + "." + asciiLower(f.LastName()) + "@example.com"
}

// fakeURL returns an absolute https URL.
func fakeURL(f *gofakeit.Faker) string {
	if u := f.URL(); isURI(u) {
		return u
	}
	return "https://www." + fakeHostname(f) + "/" + strings.Join(slugWords(f, 2), "/")
}

// formatValue returns a value for a known format; ok is false for formats it does not know.
func (g *gen) formatValue(format string) (s string, ok bool) {
	f := g.f
	switch format {
	case "email", "idn-email":
		return fakeEmail(f), true
	case "uri", "url", "iri":
		return fakeURL(f), true
	case "uri-reference", "iri-reference":
		if f.Bool() {
			return fakeURL(f), true
		}
		return "/" + strings.Join(slugWords(f, 1+f.IntN(3)), "/"), true
	case "uri-template":
		return "https://api." + fakeHostname(f) + "/" + slugWords(f, 1)[0] + "/{id}", true
	case "hostname", "idn-hostname":
		return fakeHostname(f), true
	case "ipv4":
		return f.IPv4Address(), true
	case "ipv6":
		return f.IPv6Address(), true
	case "uuid":
		return f.UUID(), true
	case "date":
		return g.date(), true
	case "date-time":
		return g.dateTime(), true
	case "time":
		return fakeTime(f), true
	case "duration":
		return fakeDuration(f), true
	case "period":
		return g.dateTime() + "/" + fakeDuration(f), true
	case "json-pointer":
		return "/" + strings.Join(slugWords(f, 1+f.IntN(3)), "/"), true
	case "relative-json-pointer":
		return fmt.Sprintf("%d/%s", f.IntN(3), slugWords(f, 1)[0]), true
	case "semver":
		return fmt.Sprintf("%d.%d.%d", f.IntN(5), f.IntN(20), f.IntN(30)), true
	case "regex":
		return "^[a-z]+$", true
	case "phone", "tel":
		return f.PhoneFormatted(), true
	case "byte":
		return base64.StdEncoding.EncodeToString([]byte(f.Word())), true
	case "password":
		return f.Password(true, true, true, false, false, 14), true
	case "color", "hex-color":
		return f.HexColor(), true
	}
	return "", false
}
