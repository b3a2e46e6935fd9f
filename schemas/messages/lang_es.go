package messages

import "fmt"

var esMonths = [12]string{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"}

func esDate(d day) string { return fmt.Sprintf("%d de %s de %d", d.day, esMonths[d.month-1], d.year) }

// es addresses the customer as usted, which reads well on both sides of
// the Atlantic.
var es = &language{
	code: "es",
	date: esDate,
	between: func(a, b day) string {
		switch {
		case a.year == b.year && a.month == b.month:
			return fmt.Sprintf("entre el %d y el %d de %s de %d", a.day, b.day, esMonths[b.month-1], b.year)
		case a.year == b.year:
			return fmt.Sprintf("entre el %d de %s y el %d de %s de %d", a.day, esMonths[a.month-1], b.day, esMonths[b.month-1], b.year)
		}
		return "entre el " + esDate(a) + " y el " + esDate(b)
	},
	partials: `
{{define "from"}}{{with .Merchant}} de {{.}}{{end}}{{end}}
{{define "when"}}{{with date .OccurredAt}} el {{.}}{{end}}{{with .Place}} en {{.}}{{end}}{{end}}
{{define "eta"}}{{if known .ETA}}{{date .ETA}}{{with between .ETAFrom .ETATo}} ({{.}}){{end}}{{else}}{{between .ETAFrom .ETATo}}{{end}}{{end}}
{{define "etaLine"}}{{if .HasETA}}

Entrega estimada: {{template "eta" .}}.{{end}}{{end}}
{{define "footer"}}Número de seguimiento: {{.TrackingNumber}}
Transportista: {{.Carrier}}
{{- with status .Status}}
Estado: {{.}}
{{- end}}
{{- if and .Origin .Destination}}
Ruta: {{country .Origin}} → {{country .Destination}}
{{- else}}{{with .Destination}}
Destino: {{country .}}
{{- end}}{{end}}
{{- with .TrackingURL}}
Siga su envío: {{.}}
{{- end}}{{end}}
`,
	messages: map[string]message{
		"shipped": {
			subject: `Su paquete {{.TrackingNumber}} está en camino`,
			body: `Hola:

Su paquete{{template "from" .}} está en camino: {{.Carrier}} lo recogió{{template "when" .}}.{{template "etaLine" .}}

{{template "footer" .}}`,
		},
		"arrived_destination": {
			subject: `Su paquete {{.TrackingNumber}} ha llegado al país de destino`,
			body: `Hola:

Su paquete{{template "from" .}} llegó al país de destino{{with .Destination}} ({{country .}}){{end}}{{template "when" .}}. A continuación pasará por la aduana, si corresponde, y después saldrá a reparto.{{template "etaLine" .}}

{{template "footer" .}}`,
		},
		"cleared_customs": {
			subject: `Su paquete {{.TrackingNumber}} ha sido liberado por la aduana`,
			body: `Hola:

La aduana liberó su paquete{{template "from" .}}{{template "when" .}} y ya va de camino hacia usted.{{template "etaLine" .}}

{{template "footer" .}}`,
		},
		"out_for_delivery": {
			subject: `Su paquete {{.TrackingNumber}} {{if eq .Status "available_for_pickup"}}está disponible para recoger{{else}}está en reparto{{end}}`,
			body: `Hola:

{{if eq .Status "available_for_pickup" -}}
Su paquete{{template "from" .}} está disponible para recoger{{with .Place}} en {{.}}{{end}}. Consulte el aviso de {{.Carrier}} para conocer el punto de recogida exacto, su horario y qué debe llevar.
{{- else -}}
Su paquete{{template "from" .}} salió a reparto{{template "when" .}}. Asegúrese de que haya alguien para recibirlo.
{{- end}}

{{template "footer" .}}`,
		},
		"delivered": {
			subject: `Su paquete {{.TrackingNumber}} ha sido entregado`,
			body: `Hola:

Su paquete{{template "from" .}} fue entregado{{template "when" .}}.

Si no lo ha recibido, póngase en contacto con {{.Carrier}}{{with .Merchant}} o con {{.}}{{end}}.

{{template "footer" .}}`,
		},
		"exception": {
			subject: `Su paquete {{.TrackingNumber}}: {{.Title}}`,
			body: `Hola:

{{.Carrier}} envió una actualización sobre su paquete{{template "when" .}}.

{{.What}}
{{- if and (eq .ExceptionType "delivery_failed") .Attempts}} {{if eq .Attempts 1}}Este fue el primer intento de entrega.{{else}}Hasta ahora se han realizado {{.Attempts}} intentos de entrega.{{end}}{{end}} {{.Next}}

{{template "footer" .}}`,
		},
		"eta_changed": {
			subject: `Nueva fecha estimada de entrega de su paquete {{.TrackingNumber}}`,
			body: `Hola:

La fecha estimada de entrega de su paquete{{template "from" .}} ha cambiado.
{{- if or .HasETA (known .PreviousETA)}}
{{if .HasETA}}
Nueva fecha estimada de entrega: {{template "eta" .}}.
{{- end}}
{{- with date .PreviousETA}}
Estimación anterior: {{.}}.
{{- end}}
{{- end}}

{{template "footer" .}}`,
		},
		"eta_reminder": {
			subject: `Su paquete {{.TrackingNumber}} {{with date .ETA}}llegará previsiblemente el {{.}}{{else}}llegará pronto{{end}}`,
			body: `Hola:

Su paquete{{template "from" .}} está en camino y llegará pronto.{{template "etaLine" .}}

Asegúrese de que haya alguien para recibirlo.

{{template "footer" .}}`,
		},
	},
	explanations: map[string]explanation{
		"customs_held": {
			"La aduana está reteniendo su paquete, normalmente por documentación pendiente o por aranceles de importación.",
			"Si hace falta algo, el transportista o la aduana se pondrán en contacto con usted; el paquete seguirá su camino en cuanto sea liberado.",
		},
		"customs_failed": {
			"Su paquete no ha podido pasar la aduana, por ejemplo por falta de documentación, aranceles sin pagar o mercancía cuya importación no está permitida.",
			"Normalmente se devuelve al remitente. Póngase en contacto con el vendedor para solicitar un nuevo envío o un reembolso.",
		},
		"delivery_failed": {
			"El transportista intentó entregar su paquete, pero no fue posible, por ejemplo porque no había nadie para recibirlo o no se encontró la dirección.",
			"Normalmente el transportista vuelve a intentarlo o deja el paquete en un punto de recogida cercano. Consulte el aviso del transportista o póngase en contacto con él para concertar la entrega.",
		},
		"returned": {
			"Su paquete se está devolviendo al remitente o ya le ha sido devuelto.",
			"El vendedor recibirá un aviso cuando le llegue. Póngase en contacto con él para acordar un nuevo envío o un reembolso.",
		},
		"lost": {
			"No hay novedades de seguimiento desde hace varios días, después de que se notificara una incidencia, y es posible que su paquete se haya extraviado.",
			"Póngase en contacto con el vendedor: puede pedir al transportista que busque el paquete y, si no aparece, gestionar un nuevo envío o un reembolso.",
		},
		"exception": {
			"El transportista ha notificado una incidencia con su paquete, como un daño o un problema con la dirección.",
			"Normalmente el transportista la resuelve por su cuenta y se pondrá en contacto con usted si necesita algo, por ejemplo una dirección corregida. El seguimiento se actualizará en cuanto el paquete continúe su camino.",
		},
	},
	alertTitles: map[string]string{
		"stalled":        "Sin novedades de seguimiento",
		"slow":           "Más lento de lo habitual",
		"customs_failed": "Despacho de aduanas no superado",
		"lost":           "Posiblemente extraviado",
		"predicted_late": "Probable retraso en la entrega",
	},
}
