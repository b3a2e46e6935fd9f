package messages

import "fmt"

var deMonths = [12]string{"Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"}

func deDate(d day) string { return fmt.Sprintf("%d. %s %d", d.day, deMonths[d.month-1], d.year) }

// de addresses the customer as Sie and calls the carrier
// Versanddienstleister, as German shops do.
var de = &language{
	code: "de",
	date: deDate,
	between: func(a, b day) string {
		switch {
		case a.year == b.year && a.month == b.month:
			return fmt.Sprintf("zwischen dem %d. und %d. %s %d", a.day, b.day, deMonths[b.month-1], b.year)
		case a.year == b.year:
			return fmt.Sprintf("zwischen dem %d. %s und dem %d. %s %d", a.day, deMonths[a.month-1], b.day, deMonths[b.month-1], b.year)
		}
		return "zwischen dem " + deDate(a) + " und dem " + deDate(b)
	},
	partials: `
{{define "from"}}{{with .Merchant}} von {{.}}{{end}}{{end}}
{{define "when"}}{{with date .OccurredAt}} am {{.}}{{end}}{{with .Place}} in {{.}}{{end}}{{end}}
{{define "eta"}}{{if known .ETA}}{{date .ETA}}{{with between .ETAFrom .ETATo}} ({{.}}){{end}}{{else}}{{between .ETAFrom .ETATo}}{{end}}{{end}}
{{define "etaLine"}}{{if .HasETA}}

Voraussichtliche Zustellung: {{template "eta" .}}.{{end}}{{end}}
{{define "footer"}}Sendungsnummer: {{.TrackingNumber}}
Versanddienstleister: {{.Carrier}}
{{- with status .Status}}
Status: {{.}}
{{- end}}
{{- if and .Origin .Destination}}
Versandweg: {{country .Origin}} → {{country .Destination}}
{{- else}}{{with .Destination}}
Zielland: {{country .}}
{{- end}}{{end}}
{{- with .TrackingURL}}
Sendung verfolgen: {{.}}
{{- end}}{{end}}
`,
	messages: map[string]message{
		"shipped": {
			subject: `Ihr Paket {{.TrackingNumber}} ist unterwegs`,
			body: `Guten Tag,

Ihr Paket{{template "from" .}} ist unterwegs: {{.Carrier}} hat es{{template "when" .}} abgeholt.{{template "etaLine" .}}

{{template "footer" .}}`,
		},
		"arrived_destination": {
			subject: `Ihr Paket {{.TrackingNumber}} ist im Zielland angekommen`,
			body: `Guten Tag,

Ihr Paket{{template "from" .}} ist{{template "when" .}} im Zielland{{with .Destination}} ({{country .}}){{end}} angekommen. Als Nächstes wird es, falls nötig, verzollt und anschließend zur Zustellung übergeben.{{template "etaLine" .}}

{{template "footer" .}}`,
		},
		"cleared_customs": {
			subject: `Ihr Paket {{.TrackingNumber}} wurde vom Zoll freigegeben`,
			body: `Guten Tag,

Ihr Paket{{template "from" .}} wurde{{template "when" .}} vom Zoll freigegeben und ist nun auf dem Weg zu Ihnen.{{template "etaLine" .}}

{{template "footer" .}}`,
		},
		"out_for_delivery": {
			subject: `Ihr Paket {{.TrackingNumber}} {{if eq .Status "available_for_pickup"}}liegt zur Abholung bereit{{else}}ist in Zustellung{{end}}`,
			body: `Guten Tag,

{{if eq .Status "available_for_pickup" -}}
Ihr Paket{{template "from" .}} liegt{{with .Place}} in {{.}}{{end}} zur Abholung bereit. Wo genau Sie es abholen können, wann geöffnet ist und was Sie mitbringen müssen, entnehmen Sie bitte der Benachrichtigung von {{.Carrier}}.
{{- else -}}
Ihr Paket{{template "from" .}} ist{{template "when" .}} in die Zustellung gegangen. Bitte sorgen Sie dafür, dass jemand es entgegennehmen kann.
{{- end}}

{{template "footer" .}}`,
		},
		"delivered": {
			subject: `Ihr Paket {{.TrackingNumber}} wurde zugestellt`,
			body: `Guten Tag,

Ihr Paket{{template "from" .}} wurde{{template "when" .}} zugestellt.

Falls Sie es nicht erhalten haben, wenden Sie sich bitte an {{.Carrier}}{{with .Merchant}} oder {{.}}{{end}}.

{{template "footer" .}}`,
		},
		"exception": {
			subject: `Ihr Paket {{.TrackingNumber}}: {{.Title}}`,
			body: `Guten Tag,

{{.Carrier}} hat{{template "when" .}} eine neue Meldung zu Ihrem Paket übermittelt.

{{.What}}
{{- if and (eq .ExceptionType "delivery_failed") .Attempts}} {{if eq .Attempts 1}}Dies war der erste Zustellversuch.{{else}}Bisher gab es {{.Attempts}} Zustellversuche.{{end}}{{end}} {{.Next}}

{{template "footer" .}}`,
		},
		"eta_changed": {
			subject: `Neuer voraussichtlicher Zustelltermin für Ihr Paket {{.TrackingNumber}}`,
			body: `Guten Tag,

Der voraussichtliche Zustelltermin Ihres Pakets{{template "from" .}} hat sich geändert.
{{- if or .HasETA (known .PreviousETA)}}
{{if .HasETA}}
Neuer voraussichtlicher Zustelltermin: {{template "eta" .}}.
{{- end}}
{{- with date .PreviousETA}}
Bisheriger Termin: {{.}}.
{{- end}}
{{- end}}

{{template "footer" .}}`,
		},
		"eta_reminder": {
			subject: `Ihr Paket {{.TrackingNumber}} {{with date .ETA}}wird voraussichtlich am {{.}} zugestellt{{else}}kommt bald an{{end}}`,
			body: `Guten Tag,

Ihr Paket{{template "from" .}} ist auf dem Weg zu Ihnen und kommt bald an.{{template "etaLine" .}}

Bitte sorgen Sie dafür, dass jemand es entgegennehmen kann.

{{template "footer" .}}`,
		},
	},
	explanations: map[string]explanation{
		"customs_held": {
			"Ihr Paket wird vom Zoll zurückgehalten, meist wegen fehlender Unterlagen oder noch zu zahlender Einfuhrabgaben.",
			"Falls etwas benötigt wird, meldet sich der Versanddienstleister oder der Zoll bei Ihnen; nach der Freigabe wird Ihr Paket weiterbefördert.",
		},
		"customs_failed": {
			"Ihr Paket konnte nicht verzollt werden, zum Beispiel wegen fehlender Unterlagen, nicht bezahlter Abgaben oder Waren, deren Einfuhr nicht erlaubt ist.",
			"In der Regel wird es an den Absender zurückgeschickt. Bitte wenden Sie sich wegen einer Ersatzlieferung oder einer Erstattung an den Verkäufer.",
		},
		"delivery_failed": {
			"Der Versanddienstleister konnte Ihr Paket nicht zustellen, zum Beispiel weil niemand angetroffen wurde oder die Adresse nicht gefunden wurde.",
			"Meist folgt ein weiterer Zustellversuch, oder das Paket wird an einer Abholstelle in der Nähe hinterlegt. Bitte beachten Sie die Benachrichtigung des Versanddienstleisters oder vereinbaren Sie mit ihm einen neuen Zustelltermin.",
		},
		"returned": {
			"Ihr Paket wird an den Absender zurückgeschickt oder ist dort bereits angekommen.",
			"Der Verkäufer wird benachrichtigt, sobald es bei ihm eintrifft. Bitte wenden Sie sich wegen einer erneuten Lieferung oder einer Erstattung an ihn.",
		},
		"lost": {
			"Seit einer gemeldeten Störung gibt es schon mehrere Tage keine neuen Sendungsdaten; Ihr Paket ist möglicherweise verloren gegangen.",
			"Bitte wenden Sie sich an den Verkäufer: Er kann beim Versanddienstleister einen Nachforschungsauftrag stellen und, falls das Paket nicht gefunden wird, eine Ersatzlieferung oder eine Erstattung veranlassen.",
		},
		"exception": {
			"Der Versanddienstleister hat ein Problem mit Ihrem Paket gemeldet, etwa eine Beschädigung oder eine fehlerhafte Adresse.",
			"In der Regel klärt der Versanddienstleister das selbst und meldet sich bei Ihnen, falls er etwas benötigt, zum Beispiel eine korrigierte Adresse. Die Sendungsverfolgung wird aktualisiert, sobald Ihr Paket weiterbefördert wird.",
		},
	},
	alertTitles: map[string]string{
		"stalled":        "Keine neuen Sendungsdaten",
		"slow":           "Langsamer als üblich",
		"customs_failed": "Verzollung fehlgeschlagen",
		"lost":           "Möglicherweise verloren",
		"predicted_late": "Voraussichtlich verspätet",
	},
}
