package messages

import "fmt"

func zhDate(d day) string { return fmt.Sprintf("%d年%d月%d日", d.year, d.month, d.day) }

// zh is simplified Chinese. Its texts use full-width punctuation and put a
// space on both sides of a Latin placeholder that is always present
// (tracking number, carrier, merchant), none around dates and places.
var zh = &language{
	code: "zh",
	date: zhDate,
	between: func(a, b day) string {
		switch {
		case a.year == b.year && a.month == b.month:
			return fmt.Sprintf("%d年%d月%d日至%d日之间", a.year, a.month, a.day, b.day)
		case a.year == b.year:
			return fmt.Sprintf("%d年%d月%d日至%d月%d日之间", a.year, a.month, a.day, b.month, b.day)
		}
		return zhDate(a) + "至" + zhDate(b) + "之间"
	},
	partials: `
{{define "parcel"}}{{with .Merchant}}您在 {{.}} 订购的包裹{{else}}您的包裹{{end}}{{end}}
{{define "when"}}{{with date .OccurredAt}}于{{.}}{{end}}{{with .Place}}在{{.}}{{end}}{{end}}
{{define "eta"}}{{if known .ETA}}{{date .ETA}}{{with between .ETAFrom .ETATo}}（{{.}}）{{end}}{{else}}{{between .ETAFrom .ETATo}}{{end}}{{end}}
{{define "etaLine"}}{{if .HasETA}}

预计送达：{{template "eta" .}}。{{end}}{{end}}
{{define "footer"}}运单号：{{.TrackingNumber}}
承运商：{{.Carrier}}
{{- with status .Status}}
状态：{{.}}
{{- end}}
{{- if and .Origin .Destination}}
路线：{{country .Origin}} → {{country .Destination}}
{{- else}}{{with .Destination}}
目的地：{{country .}}
{{- end}}{{end}}
{{- with .TrackingURL}}
查询物流：{{.}}
{{- end}}{{end}}
`,
	messages: map[string]message{
		"shipped": {
			subject: `您的包裹 {{.TrackingNumber}} 已发货`,
			body: `您好，

{{template "parcel" .}}已发货，{{.Carrier}} 已{{template "when" .}}揽收。{{template "etaLine" .}}

{{template "footer" .}}`,
		},
		"arrived_destination": {
			subject: `您的包裹 {{.TrackingNumber}} 已到达目的国`,
			body: `您好，

{{template "parcel" .}}已{{template "when" .}}到达目的国{{with .Destination}}（{{country .}}）{{end}}。接下来，包裹将视需要办理进口清关，随后交由当地派送。{{template "etaLine" .}}

{{template "footer" .}}`,
		},
		"cleared_customs": {
			subject: `您的包裹 {{.TrackingNumber}} 已清关`,
			body: `您好，

{{template "parcel" .}}已{{template "when" .}}清关放行，正在运往您的收货地址。{{template "etaLine" .}}

{{template "footer" .}}`,
		},
		"out_for_delivery": {
			subject: `您的包裹 {{.TrackingNumber}} {{if eq .Status "available_for_pickup"}}已可取件{{else}}正在派送中{{end}}`,
			body: `您好，

{{if eq .Status "available_for_pickup" -}}
{{template "parcel" .}}已可取件{{with .Place}}（{{.}}）{{end}}。具体取件地点、营业时间及需携带的证件，请查看 {{.Carrier}} 的取件通知。
{{- else -}}
{{template "parcel" .}}已{{template "when" .}}开始派送，请确保届时有人签收。
{{- end}}

{{template "footer" .}}`,
		},
		"delivered": {
			subject: `您的包裹 {{.TrackingNumber}} 已送达`,
			body: `您好，

{{template "parcel" .}}已{{template "when" .}}送达。

如果您并未收到包裹，请联系 {{.Carrier}}{{with .Merchant}} 或 {{.}}{{end}}。

{{template "footer" .}}`,
		},
		"exception": {
			subject: `您的包裹 {{.TrackingNumber}}：{{.Title}}`,
			body: `您好，

{{.Carrier}} {{template "when" .}}更新了您包裹的物流信息。

{{.What}}
{{- if and (eq .ExceptionType "delivery_failed") .Attempts}}目前已尝试投递{{.Attempts}}次。{{end}}{{.Next}}

{{template "footer" .}}`,
		},
		"eta_changed": {
			subject: `您的包裹 {{.TrackingNumber}} 预计送达时间有更新`,
			body: `您好，

{{template "parcel" .}}预计送达时间已更新。
{{- if or .HasETA (known .PreviousETA)}}
{{if .HasETA}}
新的预计送达时间：{{template "eta" .}}。
{{- end}}
{{- with date .PreviousETA}}
原预计送达时间：{{.}}。
{{- end}}
{{- end}}

{{template "footer" .}}`,
		},
		"eta_reminder": {
			subject: `您的包裹 {{.TrackingNumber}} {{with date .ETA}}预计{{.}}送达{{else}}即将送达{{end}}`,
			body: `您好，

{{template "parcel" .}}正在运往您的收货地址，即将送达。{{template "etaLine" .}}

请确保届时有人签收。

{{template "footer" .}}`,
		},
	},
	explanations: map[string]explanation{
		"customs_held": {
			"海关正在扣留您的包裹，通常是因为需要补充资料或缴纳进口关税。",
			"如需您配合，承运商或海关会与您联系；海关放行后，包裹将继续运送。",
		},
		"customs_failed": {
			"您的包裹未能通过海关清关，原因可能是资料不全、关税未缴纳，或商品属于禁止进口的物品。",
			"包裹通常会被退回发件人。请联系卖家协商补发或退款。",
		},
		"delivery_failed": {
			"承运商尝试投递您的包裹，但未能成功，原因可能是无人签收或地址无法找到。",
			"承运商通常会再次投递，或将包裹存放在附近的自提点。请留意承运商的通知，或直接联系承运商安排投递。",
		},
		"returned": {
			"您的包裹正在退回发件人，或已退回。",
			"包裹退回后，卖家会收到通知。请联系卖家协商重新发货或退款。",
		},
		"lost": {
			"自报告异常以来，您的包裹已连续多日没有物流更新，可能已丢失。",
			"请联系卖家：卖家可以请承运商查找包裹；如果最终未能找到，可为您安排补发或退款。",
		},
		"exception": {
			"承运商报告您的包裹出现异常，例如包裹破损或地址有误。",
			"承运商通常会自行处理；如需您提供信息（例如更正地址），会与您联系。包裹恢复运送后，物流信息将随之更新。",
		},
	},
	alertTitles: map[string]string{
		"stalled":        "物流信息长时间未更新",
		"slow":           "运输时间长于平常",
		"customs_failed": "清关失败",
		"lost":           "疑似丢失",
		"predicted_late": "预计延误",
	},
}
