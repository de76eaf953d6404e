package schemagen

// toolSchemas are parameter schemas typical of function-calling tools, plus a few that
// exercise one keyword each.
var toolSchemas = []struct {
	name   string
	schema string
}{
	{"get_weather", `{"type":"object","properties":{
		"location":{"type":"string","description":"The city and state, e.g. San Francisco, CA"},
		"unit":{"type":"string","enum":["celsius","fahrenheit"]}},
		"required":["location"]}`},
	{"search_web", `{"type":"object","properties":{
		"query":{"type":"string","minLength":1},
		"max_results":{"type":"integer","minimum":1,"maximum":10},
		"filters":{"type":"object","properties":{
			"site":{"type":"string","format":"hostname"},
			"date_range":{"type":"string","enum":["day","week","month","year"]},
			"languages":{"type":"array","items":{"type":"string","enum":["en","de","fr","zh"]},"uniqueItems":true}},
			"additionalProperties":false}},
		"required":["query"],"additionalProperties":false}`},
	{"search_products", `{"type":"object","properties":{
		"keywords":{"type":"array","items":{"type":"string"},"minItems":1,"maxItems":4},
		"filters":{"type":"array","minItems":1,"maxItems":5,"items":{"type":"object","properties":{
			"field":{"type":"string","enum":["price","brand","rating","category"]},
			"op":{"type":"string","enum":["eq","lt","gt","in"]},
			"value":{"oneOf":[{"type":"string"},{"type":"number"},{"type":"array","items":{"type":"string"}}]}},
			"required":["field","op","value"],"additionalProperties":false}},
		"sort":{"type":"object","properties":{"by":{"type":"string"},"order":{"enum":["asc","desc"]}}}},
		"required":["keywords"]}`},
	{"book_flight", `{"type":"object","properties":{
		"origin":{"type":"string","pattern":"^[A-Z]{3}$"},
		"destination":{"type":"string","pattern":"^[A-Z]{3}$"},
		"departure":{"type":"string","format":"date-time"},
		"return_date":{"type":"string","format":"date"},
		"cabin":{"type":"string","enum":["economy","premium","business","first"],"default":"economy"},
		"passengers":{"type":"array","minItems":1,"maxItems":4,"items":{"type":"object","properties":{
			"name":{"type":"string"},"email":{"type":"string","format":"email"},
			"age":{"type":"integer","minimum":0,"maximum":120}},"required":["name","age"]}}},
		"required":["origin","destination","departure","passengers"],"additionalProperties":false}`},
	{"book_hotel", `{"type":"object","properties":{
		"hotel_id":{"type":"string"},"check_in":{"type":"string","format":"date"},
		"check_out":{"type":"string","format":"date"},"guests":{"type":"integer","minimum":1,"maximum":8},
		"contact_email":{"type":"string","format":"email"},"phone":{"type":"string"},
		"notes":{"type":"string","maxLength":200}},
		"required":["hotel_id","check_in","check_out","guests","contact_email"]}`},
	{"create_event", `{"type":"object","properties":{
		"title":{"type":"string","minLength":3,"maxLength":80},
		"start":{"type":"string","format":"date-time"},"duration":{"type":"string","format":"duration"},
		"attendees":{"type":"array","items":{"type":"string","format":"email"},"uniqueItems":true},
		"reminder_minutes":{"type":"integer","minimum":0,"maximum":120,"multipleOf":5},
		"location":{"type":["string","null"]}},
		"required":["title","start","attendees"]}`},
	{"integer_ranges", `{"type":"object","properties":{
		"a":{"type":"integer","exclusiveMinimum":0,"exclusiveMaximum":5},
		"b":{"type":"number","minimum":-1.5,"maximum":-1.25},
		"c":{"type":"integer","minimum":1000000},
		"d":{"type":"integer","maximum":-40},
		"e":{"type":"number","exclusiveMinimum":0.1,"exclusiveMaximum":0.11}},
		"required":["a","b","c","d","e"]}`},
	{"multiple_of", `{"type":"object","properties":{
		"amount":{"type":"number","multipleOf":0.01,"minimum":0,"maximum":100},
		"step":{"type":"integer","multipleOf":7},
		"quarter":{"type":"number","multipleOf":0.25,"exclusiveMaximum":1,"minimum":0},
		"tenth":{"type":"number","multipleOf":0.1},
		"both":{"allOf":[{"multipleOf":4},{"multipleOf":6}],"type":"integer","maximum":100}},
		"required":["amount","step","quarter","tenth","both"]}`},
	{"patterns", `{"type":"object","properties":{
		"order_id":{"type":"string","pattern":"^[A-Z]{3}-\\d{4}$"},
		"zip":{"type":"string","pattern":"^\\d{5}(-\\d{4})?$"},
		"slug":{"type":"string","pattern":"^[a-z0-9_]+$","minLength":12,"maxLength":20},
		"hex":{"type":"string","pattern":"^#[0-9a-fA-F]{6}$"}},
		"required":["order_id","zip","slug","hex"]}`},
	{"payment_oneof", `{"type":"object","properties":{"payment":{"oneOf":[
		{"type":"object","properties":{"method":{"const":"card"},"card_number":{"type":"string","pattern":"^\\d{16}$"}},"required":["method","card_number"],"additionalProperties":false},
		{"type":"object","properties":{"method":{"const":"paypal"},"email":{"type":"string","format":"email"}},"required":["method","email"],"additionalProperties":false}]}},
		"required":["payment"]}`},
	{"oneof_overlap", `{"type":"object","properties":{"n":{"oneOf":[
		{"type":"integer","multipleOf":2},{"type":"integer","multipleOf":3}]},
		"s":{"oneOf":[{"type":"string"},{"type":"string","maxLength":4}]}},"required":["n","s"]}`},
	{"allof_ref", `{"$defs":{"base":{"type":"object","properties":{
		"id":{"type":"string","format":"uuid"},"created_at":{"type":"string","format":"date-time"}},"required":["id"]}},
		"allOf":[{"$ref":"#/$defs/base"},{"properties":{"name":{"type":"string"},"tags":{"type":"array","items":{"type":"string"}}},"required":["name"]}]}`},
	{"recursive_tree", `{"$defs":{"node":{"type":"object","properties":{
		"name":{"type":"string"},"children":{"type":"array","items":{"$ref":"#/$defs/node"}}},
		"required":["name","children"]}},"$ref":"#/$defs/node"}`},
	{"draft7_definitions", `{"$schema":"http://json-schema.org/draft-07/schema#","definitions":{
		"address":{"type":"object","properties":{"street":{"type":"string"},"city":{"type":"string"},"zip":{"type":"string","pattern":"^\\d{5}$"}},"required":["street","city"]}},
		"type":"object","properties":{"billing":{"$ref":"#/definitions/address"},"shipping":{"$ref":"#/definitions/address"},
		"website":{"type":"string","format":"uri"},"ip":{"type":"string","format":"ipv4"}},"required":["billing"]}`},
	{"prefix_items", `{"type":"object","properties":{
		"point":{"type":"array","prefixItems":[{"type":"number","minimum":-90,"maximum":90},{"type":"number","minimum":-180,"maximum":180}],"items":false},
		"range":{"type":"array","prefixItems":[{"type":"string","format":"date"},{"type":"string","format":"date"}],"minItems":2}},
		"required":["point","range"]}`},
	{"draft7_tuple", `{"$schema":"http://json-schema.org/draft-07/schema#","type":"array",
		"items":[{"type":"string"},{"type":"integer"}],"additionalItems":false}`},
	{"unique_tags", `{"type":"object","properties":{"tags":{"type":"array","uniqueItems":true,"minItems":3,
		"items":{"enum":["urgent","billing","bug","feature","question"]}}},"required":["tags"]}`},
	{"closed_object", `{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"boolean"}},
		"patternProperties":{"^x-":{"type":"string"}},"additionalProperties":false,"minProperties":3}`},
	{"nullable_types", `{"type":"object","properties":{
		"nickname":{"type":["string","null"]},"age":{"type":["integer","null"],"minimum":1},
		"score":{"anyOf":[{"type":"number"},{"type":"null"}],"default":null}},
		"required":["nickname","age","score"]}`},
	{"consts", `{"type":"object","properties":{"action":{"const":"refund"},"version":{"const":2},
		"options":{"const":{"notify":true,"channels":["email"]}}},"required":["action","version","options"]}`},
	{"if_then_else", `{"type":"object","properties":{"country":{"enum":["US","CA"]},"postal_code":{"type":"string"}},
		"required":["country","postal_code"],
		"if":{"properties":{"country":{"const":"US"}}},
		"then":{"properties":{"postal_code":{"pattern":"^\\d{5}$"}}},
		"else":{"properties":{"postal_code":{"pattern":"^[A-Z]\\d[A-Z] \\d[A-Z]\\d$"}}}}`},
	{"not", `{"type":"object","properties":{"username":{"type":"string","not":{"enum":["admin","root"]}},
		"odd":{"type":"integer","minimum":1,"maximum":50,"not":{"multipleOf":2}},"anything":{"not":{"type":"string"}}},
		"required":["username","odd","anything"]}`},
	{"draft4_exclusive", `{"$schema":"http://json-schema.org/draft-04/schema#","type":"object","properties":{
		"ratio":{"type":"number","minimum":0,"exclusiveMinimum":true,"maximum":1,"exclusiveMaximum":true},
		"count":{"type":"integer","minimum":0,"exclusiveMinimum":true,"maximum":3}},"required":["ratio","count"]}`},
	{"inferred_types", `{"properties":{"limit":{"minimum":5,"maximum":9},"name":{"maxLength":10},
		"items":{"items":{"type":"boolean"}},"meta":{"properties":{"k":{}}},"city":{}},
		"required":["limit","name","items","meta","city"]}`},
	{"dependencies", `{"type":"object","properties":{"name":{"type":"string"},"credit_card":{"type":"string","pattern":"^\\d{16}$"},
		"billing_address":{"type":"string"},"gift":{"type":"boolean"}},"required":["name"],
		"dependentRequired":{"credit_card":["billing_address"]},
		"dependentSchemas":{"gift":{"properties":{"message":{"type":"string","maxLength":40}},"required":["message"]}}}`},
	{"formats", `{"type":"object","properties":{"homepage":{"type":"string","format":"uri"},"host":{"type":"string","format":"hostname"},
		"v4":{"type":"string","format":"ipv4"},"v6":{"type":"string","format":"ipv6"},"id":{"type":"string","format":"uuid"},
		"day":{"type":"string","format":"date"},"at":{"type":"string","format":"time"},"wait":{"type":"string","format":"duration"},
		"ptr":{"type":"string","format":"json-pointer"},"ver":{"type":"string","format":"semver"},"tpl":{"type":"string","format":"uri-template"}},
		"required":["homepage","host","v4","v6","id","day","at","wait","ptr","ver","tpl"]}`},
	{"unevaluated", `{"type":"object","allOf":[{"properties":{"a":{"type":"integer"}},"required":["a"]}],
		"properties":{"b":{"type":"string"}},"unevaluatedProperties":false}`},
	{"contains", `{"type":"array","items":{"type":"integer","minimum":0,"maximum":100},
		"contains":{"type":"integer","minimum":90},"minContains":2,"maxContains":3}`},
	{"realistic_names", `{"type":"object","properties":{"first_name":{"type":"string"},"lastName":{"type":"string"},
		"email":{"type":"string"},"phone_number":{"type":"string"},"company":{"type":"string"},"country":{"type":"string"},
		"address":{"type":"string"},"website":{"type":"string"},"birth_date":{"type":"string"},"price":{"type":"number"},
		"latitude":{"type":"number"},"age":{"type":"integer"}},
		"required":["first_name","lastName","email","phone_number","company","country","address","website","birth_date","price","latitude","age"]}`},
	{"empty", `{}`},
	{"true", `true`},
}
