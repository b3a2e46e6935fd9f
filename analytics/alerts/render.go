package alerts

import (
	"strings"

	"github.com/shiplens/shiplens/analytics"
	"github.com/shiplens/shiplens/schemas"
	"github.com/shiplens/shiplens/schemas/messages"
)

// NewRenderer returns the Renderer of the message templates (package
// messages): the language is the shipment's locale when shiplens has it,
// else the merchant's setting in the rules file, else the destination
// country's, else English.
func NewRenderer(r *Rules) Renderer {
	merchants := r.Notifications.Merchants
	return func(n *Notification, s *analytics.Shipment, ev *schemas.Event) error {
		origin, dest, _ := strings.Cut(s.Lane(), "-")
		lang, source := messages.Choose(s.Locale(), merchants[s.Merchant()], dest)
		d := messages.Data{TrackingNumber: n.TrackingNumber, Carrier: n.Carrier, Merchant: n.Merchant, Origin: origin, Destination: dest,
			Status: n.Status, OccurredAt: n.OccurredAt, ETA: n.ETA, ETAFrom: n.ETAFrom, ETATo: n.ETATo, PreviousETA: n.PreviousETA}
		d.Attempts = n.Attempts
		if ev != nil && ev.Location != nil {
			d.Place = ev.Location.City
		}
		subject, body, err := messages.Render(string(n.Kind), n.ExceptionType, lang, d)
		if err != nil {
			return err
		}
		n.Locale, n.LocaleSource, n.Subject, n.Body = lang, source, subject, body
		return nil
	}
}
