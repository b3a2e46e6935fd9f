package report

import (
	"math"
	"strconv"
	"strings"
)

// Texts are the words of the document in one language. Column names double
// as the labels of the figures in the summary and in the phone layout.
type Texts struct {
	Title, Period, Filters, Generated              string
	Carrier, Lane, Service, Merchant               string
	Delivered, WithPromise, OnTime, OnTimeRate     string
	TransitP50, TransitP90, CustomsP50, CustomsP90 string
	Exceptions, Carriers                           string
	ChartOnTime, ChartTransit                      string
	ChartDelivered, ChartOnTimeWeek                string
	LegendP50, LegendP90                           string
	ByCarrierLane, AllLanes, NoData, Empty, Notes  string
	Colon                                          string // after a label, with the spaces the language puts around it
}

// texts holds the Texts of every language of schemas.Languages; the tests
// check that none is missing and no field is empty.
var texts = map[string]*Texts{
	"en": {
		Title: "Carrier scorecard", Period: "Delivery period", Filters: "Filters", Generated: "Generated",
		Carrier: "Carrier", Lane: "Lane", Service: "Service", Merchant: "Merchant",
		Delivered: "Delivered", WithPromise: "With promise", OnTime: "On time", OnTimeRate: "On-time rate",
		TransitP50: "Transit p50 (h)", TransitP90: "Transit p90 (h)", CustomsP50: "Customs p50 (h)", CustomsP90: "Customs p90 (h)",
		Exceptions: "Exceptions", Carriers: "Carriers",
		ChartOnTime: "On-time rate by carrier", ChartTransit: "Transit time by carrier (hours)",
		ChartDelivered: "Deliveries per day", ChartOnTimeWeek: "On-time rate per week",
		LegendP50: "Median (p50)", LegendP90: "90th percentile (p90)",
		ByCarrierLane: "By carrier and lane", AllLanes: "All lanes", NoData: "no data",
		Empty: "No shipment was delivered or had an exception in this period.",
		Notes: "On-time rate: the share of delivered shipments with a promised date that arrived by it. " +
			"Transit: hours from pickup to the first delivery. Customs: hours held in customs. " +
			"p50 is the median; p90 the time that 90% of shipments stay within.",
		Colon: ": ",
	},
	"zh": {
		Title: "承运商绩效报告", Period: "签收期间", Filters: "筛选条件", Generated: "生成时间",
		Carrier: "承运商", Lane: "线路", Service: "服务", Merchant: "商户",
		Delivered: "已签收", WithPromise: "有承诺时效", OnTime: "准时", OnTimeRate: "准时率",
		TransitP50: "运输时长 p50（小时）", TransitP90: "运输时长 p90（小时）", CustomsP50: "清关时长 p50（小时）", CustomsP90: "清关时长 p90（小时）",
		Exceptions: "异常", Carriers: "承运商数",
		ChartOnTime: "各承运商准时率", ChartTransit: "各承运商运输时长（小时）",
		ChartDelivered: "每日签收量", ChartOnTimeWeek: "每周准时率",
		LegendP50: "中位数（p50）", LegendP90: "第 90 百分位（p90）",
		ByCarrierLane: "按承运商和线路", AllLanes: "全部线路", NoData: "无数据",
		Empty: "此期间内没有签收或出现异常的包裹。",
		Notes: "准时率：有承诺送达时间的已签收包裹中按时送达的比例。运输时长：从揽收到首次签收的小时数。" +
			"清关时长：在海关滞留的小时数。p50 为中位数，p90 表示 90% 的包裹不超过该时长。",
		Colon: "：",
	},
	"es": {
		Title: "Evaluación de transportistas", Period: "Periodo de entrega", Filters: "Filtros", Generated: "Generado",
		Carrier: "Transportista", Lane: "Ruta", Service: "Servicio", Merchant: "Comercio",
		Delivered: "Entregados", WithPromise: "Con fecha prometida", OnTime: "A tiempo", OnTimeRate: "Puntualidad",
		TransitP50: "Tránsito p50 (h)", TransitP90: "Tránsito p90 (h)", CustomsP50: "Aduana p50 (h)", CustomsP90: "Aduana p90 (h)",
		Exceptions: "Incidencias", Carriers: "Transportistas",
		ChartOnTime: "Puntualidad por transportista", ChartTransit: "Tiempo de tránsito por transportista (horas)",
		ChartDelivered: "Entregas por día", ChartOnTimeWeek: "Puntualidad por semana",
		LegendP50: "Mediana (p50)", LegendP90: "Percentil 90 (p90)",
		ByCarrierLane: "Por transportista y ruta", AllLanes: "Todas las rutas", NoData: "sin datos",
		Empty: "Ningún envío se entregó ni tuvo incidencias en este periodo.",
		Notes: "Puntualidad: proporción de los envíos entregados con fecha prometida que llegaron a tiempo. " +
			"Tránsito: horas desde la recogida hasta la primera entrega. Aduana: horas retenido en aduanas. " +
			"p50 es la mediana; p90, el tiempo que no supera el 90 % de los envíos.",
		Colon: ": ",
	},
	"fr": {
		Title: "Tableau de bord des transporteurs", Period: "Période de livraison", Filters: "Filtres", Generated: "Généré le",
		Carrier: "Transporteur", Lane: "Liaison", Service: "Service", Merchant: "Marchand",
		Delivered: "Livrés", WithPromise: "Avec date promise", OnTime: "À l'heure", OnTimeRate: "Taux de ponctualité",
		TransitP50: "Transit p50 (h)", TransitP90: "Transit p90 (h)", CustomsP50: "Douane p50 (h)", CustomsP90: "Douane p90 (h)",
		Exceptions: "Incidents", Carriers: "Transporteurs",
		ChartOnTime: "Ponctualité par transporteur", ChartTransit: "Délai de transit par transporteur (heures)",
		ChartDelivered: "Livraisons par jour", ChartOnTimeWeek: "Ponctualité par semaine",
		LegendP50: "Médiane (p50)", LegendP90: "90e centile (p90)",
		ByCarrierLane: "Par transporteur et liaison", AllLanes: "Toutes les liaisons", NoData: "pas de données",
		Empty: "Aucun envoi livré ni incident sur cette période.",
		Notes: "Ponctualité : part des envois livrés avec une date promise qui sont arrivés à temps. " +
			"Transit : heures entre la prise en charge et la première livraison. Douane : heures de rétention en douane. " +
			"p50 est la médiane ; p90, la durée que 90 % des envois ne dépassent pas.",
		Colon: "\u00a0: ",
	},
	"de": {
		Title: "Leistungsbericht Versanddienstleister", Period: "Zustellzeitraum", Filters: "Filter", Generated: "Erstellt",
		Carrier: "Versanddienstleister", Lane: "Relation", Service: "Service", Merchant: "Händler",
		Delivered: "Zugestellt", WithPromise: "Mit Lieferzusage", OnTime: "Pünktlich", OnTimeRate: "Pünktlichkeitsquote",
		TransitP50: "Laufzeit p50 (h)", TransitP90: "Laufzeit p90 (h)", CustomsP50: "Zoll p50 (h)", CustomsP90: "Zoll p90 (h)",
		Exceptions: "Probleme", Carriers: "Versanddienstleister",
		ChartOnTime: "Pünktlichkeitsquote je Versanddienstleister", ChartTransit: "Laufzeit je Versanddienstleister (Stunden)",
		ChartDelivered: "Zustellungen pro Tag", ChartOnTimeWeek: "Pünktlichkeitsquote pro Woche",
		LegendP50: "Median (p50)", LegendP90: "90. Perzentil (p90)",
		ByCarrierLane: "Nach Versanddienstleister und Relation", AllLanes: "Alle Relationen", NoData: "keine Daten",
		Empty: "In diesem Zeitraum wurde keine Sendung zugestellt und keine hatte ein Problem.",
		Notes: "Pünktlichkeitsquote: Anteil der zugestellten Sendungen mit Lieferzusage, die rechtzeitig ankamen. " +
			"Laufzeit: Stunden von der Abholung bis zur ersten Zustellung. Zoll: Stunden in der Zollabfertigung. " +
			"p50 ist der Median, p90 die Dauer, die 90 % der Sendungen nicht überschreiten.",
		Colon: ": ",
	},
}

// numberStyle is how a language writes numbers, after CLDR: the decimal
// and grouping separators, the fewest integer digits that get grouped
// (Spanish writes 1234 but 12.345), and what goes between a number and %.
type numberStyle struct {
	decimal, group string
	minGroup       int
	percentGap     string
}

var numberStyles = map[string]numberStyle{
	"en": {".", ",", 4, ""},
	"zh": {".", ",", 4, ""},
	"es": {",", ".", 5, "\u00a0"},
	"fr": {",", "\u202f", 4, "\u202f"},
	"de": {",", ".", 4, "\u00a0"},
}

// number writes f with decimals digits after the separator, as lang writes it.
func number(lang string, f float64, decimals int) string {
	st := numberStyles[lang]
	// Half away from zero, as people round (FormatFloat rounds half to even).
	scale := math.Pow(10, float64(decimals))
	s := strconv.FormatFloat(math.Round(f*scale)/scale, 'f', decimals, 64)
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
		if strings.Trim(s, "0.") == "" { // -0.0 after rounding
			sign = ""
		}
	}
	intPart, frac, _ := strings.Cut(s, ".")
	if len(intPart) >= st.minGroup {
		var b strings.Builder
		for i, d := range intPart {
			if i > 0 && (len(intPart)-i)%3 == 0 {
				b.WriteString(st.group)
			}
			b.WriteRune(d)
		}
		intPart = b.String()
	}
	if frac != "" {
		intPart += st.decimal + frac
	}
	return sign + intPart
}

// count writes a whole number as lang writes it.
func count(lang string, n int64) string { return number(lang, float64(n), 0) }

// percent writes a rate of 0..1 as a percentage with one decimal.
func percent(lang string, rate float64) string {
	return number(lang, rate*100, 1) + numberStyles[lang].percentGap + "%"
}

// percentTick writes an axis label of a rate, without decimals.
func percentTick(lang string, rate float64) string {
	return number(lang, math.Round(rate*100), 0) + numberStyles[lang].percentGap + "%"
}
