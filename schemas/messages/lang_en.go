package messages

import "fmt"

var enMonths = [12]string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}

func enDate(d day) string { return fmt.Sprintf("%d %s %d", d.day, enMonths[d.month-1], d.year) }

var en = &language{
	code: "en",
	date: enDate,
	between: func(a, b day) string {
		switch {
		case a.year == b.year && a.month == b.month:
			return fmt.Sprintf("between %d and %d %s %d", a.day, b.day, enMonths[b.month-1], b.year)
		case a.year == b.year:
			return fmt.Sprintf("between %d %s and %d %s %d", a.day, enMonths[a.month-1], b.day, enMonths[b.month-1], b.year)
		}
		return "between " + enDate(a) + " and " + enDate(b)
	},
	partials: `
{{define "from"}}{{with .Merchant}} from {{.}}{{end}}{{end}}
{{define "when"}}{{with date .OccurredAt}} on {{.}}{{end}}{{with .Place}} in {{.}}{{end}}{{end}}
{{define "eta"}}{{if known .ETA}}{{date .ETA}}{{with between .ETAFrom .ETATo}} ({{.}}){{end}}{{else}}{{between .ETAFrom .ETATo}}{{end}}{{end}}
{{define "etaLine"}}{{if .HasETA}}

Estimated delivery: {{template "eta" .}}.{{end}}{{end}}
{{define "footer"}}Tracking number: {{.TrackingNumber}}
Carrier: {{.Carrier}}
{{- with status .Status}}
Status: {{.}}
{{- end}}
{{- if and .Origin .Destination}}
Route: {{country .Origin}} → {{country .Destination}}
{{- else}}{{with .Destination}}
Destination: {{country .}}
{{- end}}{{end}}
{{- with .TrackingURL}}
Track your parcel: {{.}}
{{- end}}{{end}}
`,
	messages: map[string]message{
		"shipped": {
			subject: `Your parcel {{.TrackingNumber}} is on its way`,
			body: `Hello,

Your parcel{{template "from" .}} is on its way: {{.Carrier}} picked it up{{template "when" .}}.{{template "etaLine" .}}

{{template "footer" .}}`,
		},
		"arrived_destination": {
			subject: `Your parcel {{.TrackingNumber}} has arrived in the destination country`,
			body: `Hello,

Your parcel{{template "from" .}} arrived in the destination country{{with .Destination}} ({{country .}}){{end}}{{template "when" .}}. Next, it goes through customs where required and is then handed over for delivery.{{template "etaLine" .}}

{{template "footer" .}}`,
		},
		"cleared_customs": {
			subject: `Your parcel {{.TrackingNumber}} has cleared customs`,
			body: `Hello,

Your parcel{{template "from" .}} was released by customs{{template "when" .}} and is now on its way to you.{{template "etaLine" .}}

{{template "footer" .}}`,
		},
		"out_for_delivery": {
			subject: `Your parcel {{.TrackingNumber}} is {{if eq .Status "available_for_pickup"}}ready for pickup{{else}}out for delivery{{end}}`,
			body: `Hello,

{{if eq .Status "available_for_pickup" -}}
Your parcel{{template "from" .}} is ready for pickup{{with .Place}} in {{.}}{{end}}. Please check the notice from {{.Carrier}} for the exact pickup point, its opening hours and what to bring.
{{- else -}}
Your parcel{{template "from" .}} went out for delivery{{template "when" .}}. Please make sure someone is available to receive it.
{{- end}}

{{template "footer" .}}`,
		},
		"delivered": {
			subject: `Your parcel {{.TrackingNumber}} has been delivered`,
			body: `Hello,

Your parcel{{template "from" .}} was delivered{{template "when" .}}.

If you have not received it, please contact {{.Carrier}}{{with .Merchant}} or {{.}}{{end}}.

{{template "footer" .}}`,
		},
		"exception": {
			subject: `Your parcel {{.TrackingNumber}}: {{.Title}}`,
			body: `Hello,

{{.Carrier}} sent an update about your parcel{{template "when" .}}.

{{.What}}
{{- if and (eq .ExceptionType "delivery_failed") .Attempts}} {{if eq .Attempts 1}}This was the first delivery attempt.{{else}}There have been {{.Attempts}} delivery attempts so far.{{end}}{{end}} {{.Next}}

{{template "footer" .}}`,
		},
		"eta_changed": {
			subject: `New estimated delivery date for your parcel {{.TrackingNumber}}`,
			body: `Hello,

The estimated delivery date of your parcel{{template "from" .}} has changed.
{{- if or .HasETA (known .PreviousETA)}}
{{if .HasETA}}
New estimated delivery: {{template "eta" .}}.
{{- end}}
{{- with date .PreviousETA}}
Previous estimate: {{.}}.
{{- end}}
{{- end}}

{{template "footer" .}}`,
		},
		"eta_reminder": {
			subject: `Your parcel {{.TrackingNumber}} is {{with date .ETA}}expected on {{.}}{{else}}arriving soon{{end}}`,
			body: `Hello,

Your parcel{{template "from" .}} is on its way to you and should arrive soon.{{template "etaLine" .}}

Please make sure someone is available to receive it.

{{template "footer" .}}`,
		},
	},
	explanations: map[string]explanation{
		"customs_held": {
			"Customs is holding your parcel, usually for documents or import duties.",
			"If anything is needed, the carrier or customs will contact you; your parcel continues its journey once it is released.",
		},
		"customs_failed": {
			"Your parcel could not clear customs, for example because of missing documents, unpaid duties or goods that may not be imported.",
			"It is usually sent back to the sender. Please contact the seller about a replacement or a refund.",
		},
		"delivery_failed": {
			"The carrier tried to deliver your parcel but could not, for example because nobody was available to receive it or the address could not be found.",
			"The carrier usually tries again or leaves the parcel at a nearby pickup point. Please check the carrier's notice, or contact the carrier to arrange delivery.",
		},
		"returned": {
			"Your parcel is on its way back to the sender, or has already arrived there.",
			"The seller is told when it arrives. Please contact the seller about a new delivery or a refund.",
		},
		"lost": {
			"There have been no tracking updates for several days since a problem was reported, and your parcel may be lost.",
			"Please contact the seller: they can ask the carrier to search for the parcel and arrange a replacement or a refund if it is not found.",
		},
		"exception": {
			"The carrier reported a problem with your parcel, such as damage or an issue with the address.",
			"Carriers usually resolve this themselves and contact you if they need anything, such as a corrected address. The tracking will update as soon as your parcel continues.",
		},
	},
	alertTitles: map[string]string{
		"stalled":        "No tracking updates",
		"slow":           "Slower than usual",
		"customs_failed": "Customs clearance failed",
		"lost":           "Possibly lost",
		"predicted_late": "Likely to arrive late",
	},
}
