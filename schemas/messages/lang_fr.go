package messages

import (
	"fmt"
	"strconv"
)

var frMonths = [12]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"}

// frDay writes the first of a month as an ordinal, as French does: "1er".
func frDay(n int) string {
	if n == 1 {
		return "1er"
	}
	return strconv.Itoa(n)
}

func frDate(d day) string { return fmt.Sprintf("%s %s %d", frDay(d.day), frMonths[d.month-1], d.year) }

// fr addresses the customer as vous. It puts a space before a colon, and
// avoids "de" before a placeholder, which would need elision ("d'UPS").
var fr = &language{
	code: "fr",
	date: frDate,
	between: func(a, b day) string {
		switch {
		case a.year == b.year && a.month == b.month:
			return fmt.Sprintf("entre le %s et le %s %s %d", frDay(a.day), frDay(b.day), frMonths[b.month-1], b.year)
		case a.year == b.year:
			return fmt.Sprintf("entre le %s %s et le %s %s %d", frDay(a.day), frMonths[a.month-1], frDay(b.day), frMonths[b.month-1], b.year)
		}
		return "entre le " + frDate(a) + " et le " + frDate(b)
	},
	partials: `
{{define "from"}}{{with .Merchant}} envoyé par {{.}}{{end}}{{end}}
{{define "when"}}{{with date .OccurredAt}} le {{.}}{{end}}{{with .Place}} à {{.}}{{end}}{{end}}
{{define "eta"}}{{if known .ETA}}{{date .ETA}}{{with between .ETAFrom .ETATo}} ({{.}}){{end}}{{else}}{{between .ETAFrom .ETATo}}{{end}}{{end}}
{{define "etaLine"}}{{if .HasETA}}

Livraison estimée : {{template "eta" .}}.{{end}}{{end}}
{{define "footer"}}Numéro de suivi : {{.TrackingNumber}}
Transporteur : {{.Carrier}}
{{- with status .Status}}
Statut : {{.}}
{{- end}}
{{- if and .Origin .Destination}}
Itinéraire : {{country .Origin}} → {{country .Destination}}
{{- else}}{{with .Destination}}
Pays de destination : {{country .}}
{{- end}}{{end}}
{{- with .TrackingURL}}
Suivre votre colis : {{.}}
{{- end}}{{end}}
`,
	messages: map[string]message{
		"shipped": {
			subject: `Votre colis {{.TrackingNumber}} est en route`,
			body: `Bonjour,

Votre colis{{template "from" .}} est en route : {{.Carrier}} l'a pris en charge{{template "when" .}}.{{template "etaLine" .}}

{{template "footer" .}}`,
		},
		"arrived_destination": {
			subject: `Votre colis {{.TrackingNumber}} est arrivé dans le pays de destination`,
			body: `Bonjour,

Votre colis{{template "from" .}} est arrivé dans le pays de destination{{with .Destination}} ({{country .}}){{end}}{{template "when" .}}. Il passera ensuite par la douane si nécessaire, puis sera confié au service de livraison.{{template "etaLine" .}}

{{template "footer" .}}`,
		},
		"cleared_customs": {
			subject: `Votre colis {{.TrackingNumber}} a été dédouané`,
			body: `Bonjour,

Votre colis{{template "from" .}} a été dédouané{{template "when" .}} et poursuit sa route jusqu'à vous.{{template "etaLine" .}}

{{template "footer" .}}`,
		},
		"out_for_delivery": {
			subject: `Votre colis {{.TrackingNumber}} {{if eq .Status "available_for_pickup"}}est disponible au retrait{{else}}est en cours de livraison{{end}}`,
			body: `Bonjour,

{{if eq .Status "available_for_pickup" -}}
Votre colis{{template "from" .}} est disponible au retrait{{with .Place}} à {{.}}{{end}}. Consultez l'avis du transporteur ({{.Carrier}}) pour connaître le point de retrait exact, ses horaires d'ouverture et les documents à présenter.
{{- else -}}
Votre colis{{template "from" .}} est parti en livraison{{template "when" .}}. Veuillez vous assurer que quelqu'un pourra le réceptionner.
{{- end}}

{{template "footer" .}}`,
		},
		"delivered": {
			subject: `Votre colis {{.TrackingNumber}} a été livré`,
			body: `Bonjour,

Votre colis{{template "from" .}} a été livré{{template "when" .}}.

Si vous ne l'avez pas reçu, veuillez contacter {{.Carrier}}{{with .Merchant}} ou {{.}}{{end}}.

{{template "footer" .}}`,
		},
		"exception": {
			subject: `Votre colis {{.TrackingNumber}} : {{.Title}}`,
			body: `Bonjour,

Le transporteur {{.Carrier}} a transmis une nouvelle information sur votre colis{{template "when" .}}.

{{.What}}
{{- if and (eq .ExceptionType "delivery_failed") .Attempts}} {{if eq .Attempts 1}}Il s'agissait de la première tentative de livraison.{{else}}À ce jour, {{.Attempts}} tentatives de livraison ont eu lieu.{{end}}{{end}} {{.Next}}

{{template "footer" .}}`,
		},
		"eta_changed": {
			subject: `Nouvelle date de livraison estimée pour votre colis {{.TrackingNumber}}`,
			body: `Bonjour,

La date de livraison estimée de votre colis{{template "from" .}} a changé.
{{- if or .HasETA (known .PreviousETA)}}
{{if .HasETA}}
Nouvelle date de livraison estimée : {{template "eta" .}}.
{{- end}}
{{- with date .PreviousETA}}
Estimation précédente : {{.}}.
{{- end}}
{{- end}}

{{template "footer" .}}`,
		},
		"eta_reminder": {
			subject: `Votre colis {{.TrackingNumber}} {{with date .ETA}}est attendu le {{.}}{{else}}arrive bientôt{{end}}`,
			body: `Bonjour,

Votre colis{{template "from" .}} est en route et devrait bientôt arriver.{{template "etaLine" .}}

Veuillez vous assurer que quelqu'un pourra le réceptionner.

{{template "footer" .}}`,
		},
	},
	explanations: map[string]explanation{
		"customs_held": {
			"Votre colis est retenu en douane, généralement pour des documents manquants ou des droits d'importation à régler.",
			"Si une démarche est nécessaire, le transporteur ou la douane vous contactera ; l'acheminement reprendra dès que le colis aura été libéré.",
		},
		"customs_failed": {
			"Votre colis n'a pas pu être dédouané, par exemple en raison de documents manquants, de droits impayés ou de marchandises interdites à l'importation.",
			"Il est généralement renvoyé à l'expéditeur. Veuillez contacter le vendeur pour obtenir un nouvel envoi ou un remboursement.",
		},
		"delivery_failed": {
			"Le transporteur a tenté de livrer votre colis, sans succès, par exemple parce que personne n'était présent pour le réceptionner ou que l'adresse était introuvable.",
			"Le transporteur effectue généralement une nouvelle tentative ou dépose le colis dans un point relais proche. Consultez l'avis de passage, ou contactez le transporteur pour convenir de la livraison.",
		},
		"returned": {
			"Votre colis est en cours de retour à l'expéditeur, ou lui a déjà été retourné.",
			"Le vendeur sera informé à sa réception. Veuillez le contacter pour convenir d'un nouvel envoi ou d'un remboursement.",
		},
		"lost": {
			"Le suivi n'a plus été mis à jour depuis plusieurs jours, après le signalement d'un incident : votre colis est peut-être perdu.",
			"Veuillez contacter le vendeur : il peut demander au transporteur de rechercher le colis et, s'il reste introuvable, organiser un nouvel envoi ou un remboursement.",
		},
		"exception": {
			"Le transporteur a signalé un incident concernant votre colis, par exemple un dommage ou un problème d'adresse.",
			"Le transporteur le résout généralement lui-même et vous contactera s'il a besoin de quelque chose, par exemple d'une adresse corrigée. Le suivi sera mis à jour dès que votre colis reprendra sa route.",
		},
	},
	alertTitles: map[string]string{
		"stalled":        "Aucune mise à jour du suivi",
		"slow":           "Plus lent que d'habitude",
		"customs_failed": "Échec du dédouanement",
		"lost":           "Perte possible",
		"predicted_late": "Retard de livraison probable",
	},
}
