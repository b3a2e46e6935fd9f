package alerts

import (
	"strings"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/schemas"
	"github.com/shiplens/shiplens/schemas/messages"
)

// NewRenderer returns the Renderer the processor uses: it chooses the
// notification's language (the shipment's locale when shiplens has it,
// else the merchant's setting in the rules file, else the destination
// country's, else English) and notes the place of the scan, and leaves the
// text to Render. Rendering templates costs more than processing the event
// that made the notification, so it is done where notifications are
// delivered (`shiplens notify`), not on the processor's hot path.
func NewRenderer(r *Rules) Renderer {
	merchants := r.Notifications.Merchants
	return func(n *Notification, s *analytics.Shipment, ev *schemas.Event) error {
		_, dest, _ := strings.Cut(s.Lane(), "-")
		n.Locale, n.LocaleSource = messages.Choose(s.Locale(), merchants[s.Merchant()], dest)
		if ev != nil && ev.Location != nil {
			n.Place = ev.Location.City
		}
		return nil
	}
}

// Render fills n's Subject and Body from the templates of package messages
// in n.Locale (English when that is not one of messages.Languages).
func Render(n *Notification) error {
	origin, dest, _ := strings.Cut(n.Lane, "-")
	lang := n.Locale
	if !slicesContains(messages.Languages, lang) {
		lang = messages.Default
	}
	d := messages.Data{TrackingNumber: n.TrackingNumber, Carrier: n.Carrier, Merchant: n.Merchant, Origin: origin, Destination: dest,
		Place: n.Place, Status: n.Status, OccurredAt: n.OccurredAt, ETA: n.ETA, ETAFrom: n.ETAFrom, ETATo: n.ETATo,
		PreviousETA: n.PreviousETA, Attempts: n.Attempts}
	subject, body, err := messages.Render(string(n.Kind), n.ExceptionType, lang, d)
	if err != nil {
		return err
	}
	n.Subject, n.Body = subject, body
	return nil
}

func slicesContains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
