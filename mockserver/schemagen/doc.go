// Package schemagen generates realistic JSON values that validate against a JSON Schema,
// deterministically from a seeded gofakeit Faker. The mock server uses it to fill the
// arguments of tool calls from the "parameters" schema of OpenAI-style function tools.
//
//	args, err := schemagen.Generate([]byte(`{"type":"object","properties":{
//		"city":{"type":"string"},"unit":{"type":"string","enum":["celsius","fahrenheit"]},
//		"days":{"type":"integer","minimum":1,"maximum":7}},"required":["city","days"]}`),
//		gofakeit.New(42))
//	// args is {"city":"Kansas","unit":"celsius","days":4}
//
// Compile checks a schema once for many calls; a compiled Schema is safe for concurrent
// use.
//
// The same schema, options and Faker state always give the same bytes. Objects keep the
// order of "properties" as written in the schema. Note that gofakeit.New(0) seeds from
// the operating system: use a non-zero seed for reproducible output.
//
// # How values are made
//
// Every candidate is checked by a validator built into the package before it is used, and
// retried (a bounded number of times) when it fails; Generate returns an error rather than
// an invalid value. Values are built constructively for:
//
//   - type (one type or several; "integer" versus "number"; "null"), or, without type, a
//     type inferred from the other keywords and the property name (a string otherwise);
//   - enum and const of any type, and default and examples as candidate values;
//   - objects: properties in schema order, every required property, each optional one with
//     a seeded probability, additionalProperties false/true/schema (no extra keys are added
//     unless minProperties needs them), patternProperties, propertyNames, minProperties,
//     maxProperties, dependentRequired, dependentSchemas and draft-07 dependencies;
//   - arrays: items, prefixItems (and the draft-07 tuple form of items with
//     additionalItems), minItems/maxItems (1 to 3 items by default), uniqueItems, contains
//     with minContains/maxContains;
//   - strings: minLength/maxLength (in code points), pattern (gofakeit's regex generator and
//     a length-aware one of this package, each result checked with regexp), and realistic
//     values for the formats email, uri, url, uri-reference, uri-template, hostname, ipv4,
//     ipv6, uuid, date, date-time, time, duration, period, json-pointer, semver and a few
//     more; without a format, the property name picks a generator (city, name, country,
//     email, phone, url, address, company, date, ...), otherwise a short phrase; dates
//     lie in 2024–2027 (never read from the clock) and the dates of one value follow each
//     other in order (check-in before check-out);
//   - numbers: minimum/maximum, exclusiveMinimum/exclusiveMaximum in the draft-04 boolean
//     and the numeric forms, multipleOf (exact decimal arithmetic), realistic ranges from
//     the property name (age, price, latitude, limit, ...);
//   - allOf, $ref (to "#", "#/$defs/...", "#/definitions/..." or any JSON pointer or anchor
//     in the document): their constraints are merged; anyOf and oneOf: one branch is
//     chosen per attempt; if/then/else: one side is chosen per attempt.
//
// # Best effort
//
// Some keywords are only enforced by checking and retrying, so a schema that leaves few
// valid values may make Generate fail: oneOf is satisfied only when the chosen branch's
// value fails the other branches (retried with other branches and values otherwise); not
// only rejects candidates; if/else and maxContains likewise. Patterns use Go's RE2 syntax,
// so look-around and back-references are rejected by Check. unevaluatedProperties and
// unevaluatedItems are validated exactly but generation only avoids adding undeclared keys
// and items. Formats are asserted (values must conform) for drafts 04 to 07, as
// validators do by default, and are annotations for 2019-09 and 2020-12, where a format
// value that cannot meet the other limits is replaced by a plain string.
//
// # Limits
//
// Recursive schemas stop growing at the depth limit (WithMaxDepth, default 5): deeper
// objects get only their required properties and arrays their minimum number of items;
// required recursion that never ends fails. minItems above 256, minLength above 4096,
// more than 5000 generated values (WithMaxNodes) or an exhausted step budget make
// Generate fail, so time and size are bounded for any input. References must stay within
// the document; "$id" below the root, "$dynamicRef" and "$recursiveRef" are not supported.
// No input makes the package panic.
package schemagen
