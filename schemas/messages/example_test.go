package messages_test

import (
	"fmt"
	"time"

	"github.com/shiplens/shiplens/schemas/messages"
)

func ExampleRender() {
	// A Brazilian locale is not one of ours; the merchant sets none, so the
	// destination country decides.
	lang, source := messages.Choose("pt-BR", "", "AT")
	subject, body, err := messages.Render("exception", "customs_held", lang, messages.Data{
		TrackingNumber: "LX123456789CN",
		Carrier:        "DHL",
		Origin:         "CN",
		Destination:    "AT",
		Place:          "Wien",
		Status:         "customs_held",
		OccurredAt:     time.Date(2026, 12, 2, 9, 30, 0, 0, time.UTC),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(lang, source)
	fmt.Println(subject)
	fmt.Println(body)
	// Output:
	// de country
	// Ihr Paket LX123456789CN: Vom Zoll zurückgehalten
	// Guten Tag,
	//
	// DHL hat am 2. Dezember 2026 in Wien eine neue Meldung zu Ihrem Paket übermittelt.
	//
	// Ihr Paket wird vom Zoll zurückgehalten, meist wegen fehlender Unterlagen oder noch zu zahlender Einfuhrabgaben. Falls etwas benötigt wird, meldet sich der Versanddienstleister oder der Zoll bei Ihnen; nach der Freigabe wird Ihr Paket weiterbefördert.
	//
	// Sendungsnummer: LX123456789CN
	// Versanddienstleister: DHL
	// Status: Vom Zoll zurückgehalten
	// Versandweg: China → Österreich
}

func ExampleExplain() {
	what, next := messages.Explain("customs_held", "en")
	fmt.Println(what)
	fmt.Println(next)
	// Output:
	// Customs is holding your parcel, usually for documents or import duties.
	// If anything is needed, the carrier or customs will contact you; your parcel continues its journey once it is released.
}

func ExampleFormatRange() {
	from := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	to := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	for _, lang := range messages.Languages {
		fmt.Println(messages.FormatRange(from, to, lang))
	}
	// Output:
	// between 30 November and 3 December 2026
	// 2026年11月30日至12月3日之间
	// entre el 30 de noviembre y el 3 de diciembre de 2026
	// entre le 30 novembre et le 3 décembre 2026
	// zwischen dem 30. November und dem 3. Dezember 2026
}
