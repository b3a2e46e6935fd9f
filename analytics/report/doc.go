// Package report renders the carrier scorecard as one self-contained HTML
// document: a file a logistics manager can e-mail, open on a phone or print,
// without Grafana or a network connection. Charts are inline SVG, styles are
// inline CSS, and the document references nothing outside itself: no
// scripts, fonts, images or style sheets to fetch.
//
// Texts exist in every language of schemas.Languages, and numbers are
// written the way each language writes them (a decimal comma in es, fr and
// de). Every figure shown also carries its exact value in a data-value
// attribute, next to data-scope (lane, carrier, total, day, week),
// data-field (the JSON key of analytics.ScoreRow, or of Day and Week) and
// data-carrier, data-lane, data-day or data-week, and the whole Report is
// embedded as JSON in <script type="application/json" id="report-data">, so
// a program can check what the page shows against the figures it was given.
//
// The package only renders: it must not query storage (the caller passes the
// figures, as store returns them) and must not compute the figures
// themselves beyond adding up counts.
package report
