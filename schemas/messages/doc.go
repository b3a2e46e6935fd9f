// Package messages holds the customer-facing texts of shiplens in English,
// Chinese (simplified), Spanish, French and German: the notification
// templates (Render), the standard explanation of each exception type
// (Explain, which the tracking page shows as well), short alert titles for
// customer-service e-mails (AlertTitle), dates in each language's style
// (FormatDate, FormatRange), country names (CountryName) and the choice of
// a customer's language (Choose).
//
// It must not import analytics (analytics imports schemas; the import
// would be a cycle), so the notification kinds, exception types and alert
// types are plain strings here, in Kinds, ExceptionTypes and AlertTypes,
// kept equal to alerts.Kinds, alerts.ExceptionTypes and alerts.Types by a
// test outside this package. It does no I/O; texts naming a status or a
// category take schemas' display text, so that a message and the tracking
// page say the same.
//
// # Templates
//
// Each language has one file, lang_<code>.go, with everything in that
// language: a subject and a plain-text body for every kind, written in
// text/template; the partials the kinds share ({{define}} blocks: the
// merchant phrase, the date and place of the scan, the ETA, the footer);
// the explanations; the alert titles; its date style. Templates execute
// against a struct (Data, plus what Render derives from it), never a map,
// so a misspelt field is an error; they are parsed with missingkey=error
// when the package loads, and each is executed once then against sample
// data with and without every optional field: a template that names a
// field that does not exist, or a language that lacks a kind, stops the
// program at start instead of failing a customer's message later.
//
// Every optional field is shown through {{with}} or {{if}}, so a message
// reads well without it. Two traps: a time.Time is always true to {{if}},
// so templates test it with the function known, or use {{with date .X}}
// (date gives "" for the zero time); and an ETA range is shown only when
// both ends are known and fall on different days (Render tidies this
// before the templates see it).
//
// The template functions, bound to the language of their template set:
// date (a time as a local date), between (the "between X and Y" phrase of
// two times), known (a time is set), country (a country code as a name)
// and status (a canonical status code as the tracking page's text).
//
// # Adding a language
//
//  1. Add its display texts to schemas/status.go first: messages take the
//     status and category texts from there, which fall back to English.
//  2. Copy lang_en.go to lang_<code>.go and translate every string: the
//     subjects and bodies, the partials (the partial names are free, only
//     the kinds' names are fixed), the explanations, the alert titles, and
//     write its date and range functions. Keep the {{with}}/{{if}}
//     structure, so that the message reads well without each optional field.
//  3. Add the code to Languages, the language to the languages map, a
//     column to countries (in the order of Languages) and its countries to
//     countryLanguage in choose.go.
//  4. In the tests, add its hand-written expectations: the dates in
//     dates_test.go, the expected strings in render_test.go, the Choose
//     cases; run `go test ./schemas/messages/ -update` to write its golden
//     file, and read that file through before committing it.
//
// # Adding a kind
//
//  1. Add it to alerts.Kinds (analytics/alerts) and to Kinds here, in the
//     same place.
//  2. Write its subject and body in every lang_<code>.go; the package
//     refuses to load while a language lacks it.
//  3. Say in render_test.go which placeholders it shows (kindShows), then
//     refresh and read the golden files (-update).
//
// A new exception type goes the same way: ExceptionTypes here and in
// alerts, an explanation in every language, and a title (an alert title,
// or a status text in exceptionTitle).
package messages
