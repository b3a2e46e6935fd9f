package schemas

import "fmt"

// Status is a canonical shipment status (DESIGN section 2). Its zero value is
// StatusUnknown, which no valid event carries.
type Status uint8

// The canonical statuses, in the order a parcel usually meets them.
const (
	StatusUnknown Status = iota
	InfoReceived
	PickedUp
	InTransit
	ArrivedDestination
	CustomsClearance
	CustomsHeld
	CustomsReleased
	OutForDelivery
	AvailableForPickup
	DeliveryFailed
	Delivered
	Returned
	Exception
	numStatuses
)

// Category is the coarse group of statuses a person sees on a tracking page.
type Category uint8

// The categories of DESIGN section 2.
const (
	CategoryUnknown Category = iota
	Pending
	CategoryPickedUp
	CategoryInTransit
	InCustoms
	CategoryOutForDelivery
	CategoryDelivered
	CategoryException
	numCategories
)

// Languages lists the languages every status and category has display text in.
var Languages = []string{"en", "zh", "es", "fr", "de"}

type statusInfo struct {
	code      string
	category  Category
	exception bool
	text      [5]string // in the order of Languages
}

var statuses = [numStatuses]statusInfo{
	StatusUnknown:      {code: "unknown", text: [5]string{"Unknown", "未知", "Desconocido", "Inconnu", "Unbekannt"}},
	InfoReceived:       {"info_received", Pending, false, [5]string{"Information received", "已收到信息", "Información recibida", "Informations reçues", "Informationen erhalten"}},
	PickedUp:           {"picked_up", CategoryPickedUp, false, [5]string{"Picked up", "已揽收", "Recogido", "Pris en charge", "Abgeholt"}},
	InTransit:          {"in_transit", CategoryInTransit, false, [5]string{"In transit", "运输中", "En tránsito", "En transit", "Unterwegs"}},
	ArrivedDestination: {"arrived_destination", CategoryInTransit, false, [5]string{"Arrived in destination country", "已到达目的国", "Llegó al país de destino", "Arrivé dans le pays de destination", "Im Zielland angekommen"}},
	CustomsClearance:   {"customs_clearance", InCustoms, false, [5]string{"Customs clearance in progress", "清关中", "En despacho de aduanas", "Dédouanement en cours", "Verzollung läuft"}},
	CustomsHeld:        {"customs_held", InCustoms, true, [5]string{"Held by customs", "海关扣留", "Retenido en aduanas", "Retenu en douane", "Vom Zoll zurückgehalten"}},
	CustomsReleased:    {"customs_released", CategoryInTransit, false, [5]string{"Released by customs", "已清关", "Liberado por aduanas", "Dédouané", "Vom Zoll freigegeben"}},
	OutForDelivery:     {"out_for_delivery", CategoryOutForDelivery, false, [5]string{"Out for delivery", "派送中", "En reparto", "En cours de livraison", "In Zustellung"}},
	AvailableForPickup: {"available_for_pickup", CategoryOutForDelivery, false, [5]string{"Available for pickup", "待取件", "Disponible para recoger", "Disponible au retrait", "Zur Abholung bereit"}},
	DeliveryFailed:     {"delivery_failed", CategoryException, true, [5]string{"Delivery attempt failed", "投递失败", "Intento de entrega fallido", "Échec de livraison", "Zustellversuch fehlgeschlagen"}},
	Delivered:          {"delivered", CategoryDelivered, false, [5]string{"Delivered", "已签收", "Entregado", "Livré", "Zugestellt"}},
	Returned:           {"returned", CategoryException, true, [5]string{"Returned to sender", "已退回发件人", "Devuelto al remitente", "Retourné à l'expéditeur", "An Absender zurückgesandt"}},
	Exception:          {"exception", CategoryException, true, [5]string{"Exception", "异常", "Incidencia", "Incident", "Problem"}},
}

var categories = [numCategories]struct {
	code string
	text [5]string
}{
	CategoryUnknown:        {"unknown", [5]string{"Unknown", "未知", "Desconocido", "Inconnu", "Unbekannt"}},
	Pending:                {"pending", [5]string{"Pending", "待处理", "Pendiente", "En attente", "Ausstehend"}},
	CategoryPickedUp:       {"picked_up", [5]string{"Picked up", "已揽收", "Recogido", "Pris en charge", "Abgeholt"}},
	CategoryInTransit:      {"in_transit", [5]string{"In transit", "运输途中", "En tránsito", "En transit", "Unterwegs"}},
	InCustoms:              {"in_customs", [5]string{"In customs", "海关处理中", "En aduanas", "En douane", "Beim Zoll"}},
	CategoryOutForDelivery: {"out_for_delivery", [5]string{"Out for delivery", "派送中", "En reparto", "En cours de livraison", "In Zustellung"}},
	CategoryDelivered:      {"delivered", [5]string{"Delivered", "已送达", "Entregado", "Livré", "Zugestellt"}},
	CategoryException:      {"exception", [5]string{"Exception", "异常", "Incidencia", "Incident", "Problem"}},
}

// statusesByLen lists the statuses by the length of their code: a lookup
// that costs a few string comparisons, less than hashing, on the decoder's
// path.
var statusesByLen = func() (t [32][]Status) {
	for s := InfoReceived; s < numStatuses; s++ {
		n := len(statuses[s].code)
		t[n] = append(t[n], s)
	}
	return t
}()

// Statuses returns every canonical status in taxonomy order.
func Statuses() []Status {
	out := make([]Status, 0, numStatuses-1)
	for s := InfoReceived; s < numStatuses; s++ {
		out = append(out, s)
	}
	return out
}

// ParseStatus returns the status whose code is s, or an error for anything
// outside the canonical set.
func ParseStatus(s string) (Status, error) {
	if len(s) < len(statusesByLen) {
		for _, st := range statusesByLen[len(s)] {
			if statuses[st].code == s {
				return st, nil
			}
		}
	}
	return StatusUnknown, fmt.Errorf("unknown status %q", s)
}

// String returns the status code, e.g. "customs_held".
func (s Status) String() string {
	if s >= numStatuses {
		return statuses[StatusUnknown].code
	}
	return statuses[s].code
}

// Valid reports whether s is one of the canonical statuses.
func (s Status) Valid() bool { return s > StatusUnknown && s < numStatuses }

// Category returns the category a person sees for s.
func (s Status) Category() Category {
	if !s.Valid() {
		return CategoryUnknown
	}
	return statuses[s].category
}

// IsException reports whether an event with status s marks its shipment as
// having an exception (DESIGN section 3: customs_held, delivery_failed,
// returned, exception).
func (s Status) IsException() bool { return s.Valid() && statuses[s].exception }

// EndsCustoms reports whether s closes a customs dwell that is open
// (customs_released, out_for_delivery, available_for_pickup, delivered).
func (s Status) EndsCustoms() bool {
	switch s {
	case CustomsReleased, OutForDelivery, AvailableForPickup, Delivered:
		return true
	}
	return false
}

// StartsCustoms reports whether s opens a customs dwell.
func (s Status) StartsCustoms() bool { return s == CustomsClearance || s == CustomsHeld }

// Text returns the display text of s in lang (en, zh, es, fr, de), falling
// back to English for other languages.
func (s Status) Text(lang string) string {
	if s >= numStatuses {
		s = StatusUnknown
	}
	return statuses[s].text[langIndex(lang)]
}

// MarshalText encodes s as its code.
func (s Status) MarshalText() ([]byte, error) {
	if !s.Valid() {
		return nil, fmt.Errorf("cannot marshal invalid status %d", uint8(s))
	}
	return []byte(statuses[s].code), nil
}

// UnmarshalText decodes a status code.
func (s *Status) UnmarshalText(b []byte) error {
	st, err := ParseStatus(string(b))
	if err != nil {
		return err
	}
	*s = st
	return nil
}

// String returns the category code, e.g. "in_customs".
func (c Category) String() string {
	if c >= numCategories {
		c = CategoryUnknown
	}
	return categories[c].code
}

// Text returns the display text of c in lang, falling back to English.
func (c Category) Text(lang string) string {
	if c >= numCategories {
		c = CategoryUnknown
	}
	return categories[c].text[langIndex(lang)]
}

func langIndex(lang string) int {
	for i, l := range Languages {
		if l == lang {
			return i
		}
	}
	return 0
}
