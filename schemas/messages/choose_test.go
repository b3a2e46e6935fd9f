package messages_test

import (
	"testing"

	"github.com/shiplens/shiplens/schemas/messages"
)

func TestChoose(t *testing.T) {
	cases := []struct {
		locale, merchant, country string
		lang, source              string
	}{
		{"zh-CN", "", "", "zh", "shipment"},
		{"ZH_tw", "", "", "zh", "shipment"},
		{"zh-Hans-CN", "de", "DE", "zh", "shipment"},
		{"de", "fr", "US", "de", "shipment"},
		{"fr-CA", "", "CA", "fr", "shipment"},
		{"es-419", "", "", "es", "shipment"},
		{"en-GB", "de", "CN", "en", "shipment"},
		{"de_DE.UTF-8", "", "", "de", "shipment"},
		{" FR ", "", "", "fr", "shipment"},
		// Unsupported shipment locales fall through.
		{"pt-BR", "es-MX", "BR", "es", "merchant"},
		{"pt-BR", "", "FR", "fr", "country"},
		{"pt-BR", "", "BR", "en", "default"},
		{"", "DE-ch", "US", "de", "merchant"},
		{"ja", "ko", "DE", "de", "country"},
		{"english", "", "", "en", "default"},
		{"C", "POSIX", "", "en", "default"},
		{"-de", "", "", "en", "default"},
		// By destination country.
		{"", "", "DE", "de", "country"},
		{"", "", "at", "de", "country"},
		{"", "", " CH ", "de", "country"},
		{"", "", "FR", "fr", "country"},
		{"", "", "BE", "fr", "country"},
		{"", "", "LU", "fr", "country"},
		{"", "", "MC", "fr", "country"},
		{"", "", "RE", "fr", "country"},
		{"", "", "ES", "es", "country"},
		{"", "", "MX", "es", "country"},
		{"", "", "AR", "es", "country"},
		{"", "", "CO", "es", "country"},
		{"", "", "CL", "es", "country"},
		{"", "", "PE", "es", "country"},
		{"", "", "CN", "zh", "country"},
		{"", "", "TW", "zh", "country"},
		{"", "", "HK", "zh", "country"},
		{"", "", "SG", "en", "country"},
		{"", "", "US", "en", "country"},
		{"", "", "GB", "en", "country"},
		{"", "", "CA", "en", "country"},
		{"", "", "BR", "en", "default"},
		{"", "", "JP", "en", "default"},
		{"", "", "XX", "en", "default"},
		{"", "", "", "en", "default"},
	}
	for _, c := range cases {
		lang, source := messages.Choose(c.locale, c.merchant, c.country)
		if lang != c.lang || source != c.source {
			t.Errorf("Choose(%q, %q, %q) = %s, %s; want %s, %s", c.locale, c.merchant, c.country, lang, source, c.lang, c.source)
		}
	}
}
