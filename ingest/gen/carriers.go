package gen

import "github.com/shiplens/shiplens/schemas"

// class is the speed class of a carrier product; it selects the leg
// durations of a journey (see legTables).
type class uint8

const (
	express  class = iota // air express integrators: 2-6 days door to door
	standard              // tracked air mail and specialist lines: 7-15 days
	economy               // untracked-ish postal small packets: 10-30+ days
	road                  // trucked parcels inside a continent: 2-5 days
	numClasses
)

// service is a carrier product on a lane.
type service struct {
	name     string   // the event's service field
	class    class    // leg durations
	speed    float64  // multiplier on transport legs; < 1 is faster
	weight   float64  // share among the carrier's products on a lane
	prefixes []string // S10 service indicators, for postal carriers
	upsCode  string   // service digits of a 1Z number
}

// trackFormat says how a carrier writes tracking numbers.
type trackFormat uint8

const (
	fmtS10        trackFormat = iota // UPU S10: "LX123456785CN"
	fmtUPS                           // "1Z" + shipper + service + serial + check digit
	fmtFedEx                         // 12 digits
	fmtDHL                           // 10 digits, the last a mod-7 check digit
	fmtDPD                           // 14 digits
	fmtCainiao                       // "LP" + 14 digits
	fmtYunExpress                    // "YT" + year, week + 12 digits
	fmt4PX                           // "4PX" + 13 digits + origin country
	fmtYanwen                        // "YW" + 12 digits
)

// carrier describes how one carrier behaves and reports.
type carrier struct {
	code      string
	kind      string // postal, express, specialist or parcel; for docs
	format    trackFormat
	dialect   *dialect
	intl      []service // products on air lanes
	road      []service // products on road lanes; nil means intl
	optimism  float64   // promised business days multiplier; < 1 promises too early
	noPromise float64   // share of shipments without a promised date
	density   float64   // probability of optional scans (facility departures, releases)
	failRate  float64   // first delivery attempt fails
	locker    float64   // delivered to a pickup point or locker instead of the door
	lost      float64   // multiplier on the class's lost-parcel rate
	postal    bool      // failed attempts leave a notice: collect at the post office
	handover  bool      // hands the parcel to a last-mile partner in the destination
	coords    bool      // scans carry latitude and longitude
	minutes   bool      // scan times are whole minutes

	ranges *[numKinds]scanRange // where its texts are in scans; set at init
}

// carriers is the modelled set, in the order Carriers reports it.
var carriers = []*carrier{
	{code: "chinapost", kind: "postal", format: fmtS10, dialect: &chinaPostText,
		intl: []service{
			{name: "economy", class: economy, speed: 1.15, weight: 0.6, prefixes: []string{"UA", "UB", "UC", "UJ"}},
			{name: "standard", class: standard, speed: 1.1, weight: 0.4, prefixes: []string{"LX", "LZ", "RB", "RR"}},
		},
		optimism: 0.9, noPromise: 0.30, density: 0.5, failRate: 0.08, locker: 0.04, lost: 1.4, postal: true, handover: true, minutes: true},
	{code: "ems", kind: "postal", format: fmtS10, dialect: &emsText,
		intl:     []service{{name: "express", class: standard, speed: 0.75, weight: 1, prefixes: []string{"EA", "EB", "EE"}}},
		optimism: 0.95, noPromise: 0.15, density: 0.6, failRate: 0.07, locker: 0.03, lost: 0.8, postal: true, minutes: true},
	{code: "cainiao", kind: "specialist", format: fmtCainiao, dialect: &cainiaoText,
		intl: []service{
			{name: "economy", class: economy, speed: 0.95, weight: 0.5},
			{name: "standard", class: standard, speed: 0.95, weight: 0.5},
		},
		optimism: 1.0, noPromise: 0.10, density: 0.9, failRate: 0.06, locker: 0.06, lost: 0.8, handover: true},
	{code: "yunexpress", kind: "specialist", format: fmtYunExpress, dialect: &yunExpressText,
		intl: []service{
			{name: "standard", class: standard, speed: 1.0, weight: 0.7},
			{name: "economy", class: economy, speed: 1.0, weight: 0.2},
			{name: "express", class: standard, speed: 0.7, weight: 0.1},
		},
		optimism: 0.95, noPromise: 0.10, density: 0.8, failRate: 0.07, locker: 0.04, lost: 1, handover: true},
	{code: "4px", kind: "specialist", format: fmt4PX, dialect: &fourPXText,
		intl: []service{
			{name: "standard", class: standard, speed: 1.0, weight: 0.6},
			{name: "economy", class: economy, speed: 1.05, weight: 0.4},
		},
		optimism: 1.0, noPromise: 0.12, density: 0.7, failRate: 0.07, locker: 0.04, lost: 1, handover: true},
	{code: "yanwen", kind: "specialist", format: fmtYanwen, dialect: &yanwenText,
		intl: []service{
			{name: "economy", class: economy, speed: 1.25, weight: 0.8},
			{name: "standard", class: standard, speed: 1.15, weight: 0.2},
		},
		optimism: 0.85, noPromise: 0.30, density: 0.4, failRate: 0.09, locker: 0.03, lost: 1.6, handover: true},
	{code: "hkpost", kind: "postal", format: fmtS10, dialect: &hkPostText,
		intl: []service{
			{name: "economy", class: economy, speed: 0.85, weight: 0.7, prefixes: []string{"LK", "LM", "UM"}},
			{name: "standard", class: standard, speed: 0.9, weight: 0.3, prefixes: []string{"RB", "RC", "CP"}},
		},
		optimism: 1.0, noPromise: 0.30, density: 0.5, failRate: 0.07, locker: 0.03, lost: 1, postal: true, handover: true, minutes: true},
	{code: "deutschepost", kind: "postal", format: fmtS10, dialect: &deutschePostText,
		intl: []service{
			{name: "economy", class: economy, speed: 0.8, weight: 0.7, prefixes: []string{"LX", "LY"}},
			{name: "standard", class: standard, speed: 0.9, weight: 0.3, prefixes: []string{"RR", "RX"}},
		},
		road: []service{
			{name: "economy", class: road, speed: 1.8, weight: 0.7, prefixes: []string{"LX", "LY"}},
			{name: "standard", class: road, speed: 1.4, weight: 0.3, prefixes: []string{"RR", "RX"}},
		},
		optimism: 1.0, noPromise: 0.25, density: 0.5, failRate: 0.06, locker: 0.05, lost: 1, postal: true, handover: true, minutes: true},
	{code: "dhl", kind: "express", format: fmtDHL, dialect: &dhlText,
		intl: []service{{name: "express", class: express, speed: 0.9, weight: 1}},
		road: []service{
			{name: "standard", class: road, speed: 1.0, weight: 0.8},
			{name: "express", class: express, speed: 0.8, weight: 0.2},
		},
		optimism: 1.0, noPromise: 0.04, density: 0.95, failRate: 0.05, locker: 0.10, lost: 0.5, coords: true},
	{code: "fedex", kind: "express", format: fmtFedEx, dialect: &fedexText,
		intl: []service{
			{name: "express", class: express, speed: 0.95, weight: 0.7},
			{name: "economy", class: standard, speed: 0.6, weight: 0.3},
		},
		road: []service{
			{name: "standard", class: road, speed: 1.1, weight: 0.6},
			{name: "express", class: express, speed: 1.0, weight: 0.4},
		},
		optimism: 0.95, noPromise: 0.04, density: 0.95, failRate: 0.05, locker: 0.04, lost: 0.5, coords: true},
	{code: "ups", kind: "express", format: fmtUPS, dialect: &upsText,
		intl: []service{
			{name: "express", class: express, speed: 1.0, weight: 0.7, upsCode: "66"},
			{name: "standard", class: standard, speed: 0.6, weight: 0.3, upsCode: "08"},
		},
		road: []service{
			{name: "standard", class: road, speed: 1.0, weight: 0.75, upsCode: "11"},
			{name: "express", class: express, speed: 0.9, weight: 0.25, upsCode: "66"},
		},
		optimism: 1.0, noPromise: 0.04, density: 0.95, failRate: 0.05, locker: 0.05, lost: 0.5, coords: true},
	{code: "usps", kind: "postal", format: fmtS10, dialect: &uspsText,
		intl: []service{
			{name: "express", class: express, speed: 1.4, weight: 0.1, prefixes: []string{"EC", "EA"}},
			{name: "standard", class: standard, speed: 0.8, weight: 0.4, prefixes: []string{"CP", "CJ"}},
			{name: "economy", class: economy, speed: 0.7, weight: 0.5, prefixes: []string{"LZ", "LX"}},
		},
		optimism: 0.9, noPromise: 0.15, density: 0.7, failRate: 0.06, locker: 0.04, lost: 1, postal: true, handover: true},
	{code: "dpd", kind: "parcel", format: fmtDPD, dialect: &dpdText,
		road: []service{
			{name: "standard", class: road, speed: 1.0, weight: 0.85},
			{name: "express", class: road, speed: 0.55, weight: 0.15},
		},
		optimism: 1.0, noPromise: 0.08, density: 0.8, failRate: 0.06, locker: 0.15, lost: 0.6, coords: true},
}

func carrierByCode(code string) *carrier {
	for _, c := range carriers {
		if c.code == code {
			return c
		}
	}
	panic("gen: unknown carrier " + code)
}

// kind is a step of a journey. Each kind has one canonical status and, per
// carrier, one or more raw codes and texts.
type kind uint8

const (
	kInfo            kind = iota // label created, electronic pre-advice
	kPickup                      // accepted by the carrier
	kHubIn                       // arrived at an origin sorting centre
	kHubOut                      // departed an origin sorting centre
	kExport                      // export clearance done, handed to the airline
	kDepart                      // left the origin country (flight or truck)
	kTransitHub                  // passed a hub in a third country
	kArrive                      // arrived in the destination country
	kCustoms                     // import clearance started
	kHeld                        // held by customs
	kReleased                    // released by customs
	kDestHub                     // arrived at the delivery facility
	kHandover                    // handed to the last-mile partner
	kOFD                         // out for delivery
	kFailed                      // delivery attempt failed
	kPickupPoint                 // waiting at a post office, locker or parcel shop
	kDelivered                   // delivered
	kReturnUnclaimed             // not collected, sent back
	kReturnRefused               // refused by the recipient
	kReturnCustoms               // refused or unpaid at customs, sent back
	kReturned                    // back with the sender
	kLost                        // lost or damaged: no further scans
	kSeized                      // seized or destroyed by customs
	kDelay                       // recoverable problem (address, weather)
	numKinds
)

var kindStatus = [numKinds]schemas.Status{
	kInfo:            schemas.InfoReceived,
	kPickup:          schemas.PickedUp,
	kHubIn:           schemas.InTransit,
	kHubOut:          schemas.InTransit,
	kExport:          schemas.InTransit,
	kDepart:          schemas.InTransit,
	kTransitHub:      schemas.InTransit,
	kArrive:          schemas.ArrivedDestination,
	kCustoms:         schemas.CustomsClearance,
	kHeld:            schemas.CustomsHeld,
	kReleased:        schemas.CustomsReleased,
	kDestHub:         schemas.InTransit,
	kHandover:        schemas.InTransit,
	kOFD:             schemas.OutForDelivery,
	kFailed:          schemas.DeliveryFailed,
	kPickupPoint:     schemas.AvailableForPickup,
	kDelivered:       schemas.Delivered,
	kReturnUnclaimed: schemas.Returned,
	kReturnRefused:   schemas.Returned,
	kReturnCustoms:   schemas.Returned,
	kReturned:        schemas.Returned,
	kLost:            schemas.Exception,
	kSeized:          schemas.Exception,
	kDelay:           schemas.Exception,
}

// scanText is a raw carrier status code and its description.
type scanText struct{ code, desc string }

// dialect is how one carrier reports each kind; one variant is drawn per event.
type dialect [numKinds][]scanText

// scan is a flattened dialect entry; events refer to it by index.
type scan struct {
	kind       kind
	code, desc string
}

var scans []scan

// scanRange is where a carrier's texts for one kind lie in scans.
type scanRange struct{ first, n uint16 }

func initScans() {
	for _, c := range carriers {
		c.ranges = new([numKinds]scanRange)
		for k := kind(0); k < numKinds; k++ {
			v := c.dialect[k]
			if len(v) == 0 {
				panic("gen: carrier " + c.code + " has no text for a journey step")
			}
			c.ranges[k] = scanRange{first: uint16(len(scans)), n: uint16(len(v))}
			for _, t := range v {
				scans = append(scans, scan{kind: k, code: t.code, desc: t.desc})
			}
		}
	}
}

// Postal carriers speak the UPU EMSEVT vocabulary (EMA posting, EMB/EMC
// outward office of exchange, EMD inward, EDx customs and delivery office,
// EMH attempt, EMI delivery), each in its own words.
var chinaPostText = dialect{
	kInfo:            {{"EMX", "收到电子信息 Electronic information received"}},
	kPickup:          {{"EMA", "已收寄 Posting/collection"}},
	kHubIn:           {{"EDD", "到达处理中心 Item into sorting centre"}},
	kHubOut:          {{"EDE", "离开处理中心 Item out of sorting centre"}},
	kExport:          {{"EXC", "出口海关放行 Export customs clearance completed"}, {"EMB", "到达互换局 Arrival at outward office of exchange"}},
	kDepart:          {{"EMC", "离开互换局，发往寄达国 Departure from outward office of exchange"}, {"EXX", "航班已起飞 Dispatched by airline"}},
	kTransitHub:      {{"EMJ", "到达转运局 Arrival at transit office of exchange"}},
	kArrive:          {{"EMD", "到达寄达国 Arrival at inward office of exchange"}},
	kCustoms:         {{"EDB", "送交进口海关 Item presented to import customs"}, {"EME", "交海关查验 Handed over to customs"}},
	kHeld:            {{"EDA", "海关扣留 Held at inward office of exchange"}, {"EDF", "待缴关税 On hold: duties to be paid"}},
	kReleased:        {{"EDC", "海关放行 Item returned from customs"}},
	kDestHub:         {{"EMF", "离开互换局 Departure from inward office of exchange"}, {"EMG", "到达投递局 Arrival at delivery office"}},
	kHandover:        {{"EMG", "交寄达国邮政投递 Handed over to destination postal operator"}},
	kOFD:             {{"EDG", "投递中 Item out for delivery"}},
	kFailed:          {{"EMH", "投递未成功 收件人不在 Unsuccessful delivery: addressee absent"}, {"EMH", "投递未成功 地址不详 Unsuccessful delivery: incomplete address"}},
	kPickupPoint:     {{"EDH", "到达待取点 Item arrived at collection point for pickup"}},
	kDelivered:       {{"EMI", "已妥投 Final delivery"}, {"EMI", "已妥投 投入信箱 Delivered to letterbox"}},
	kReturnUnclaimed: {{"EMH", "逾期未领 退回 Unclaimed, returned to sender"}},
	kReturnRefused:   {{"EMH", "收件人拒收 退回 Refused by addressee, returned to sender"}},
	kReturnCustoms:   {{"EDC", "海关退运 Returned by customs to sender"}},
	kReturned:        {{"EMI", "已退回寄件人 Returned item delivered to sender"}},
	kLost:            {{"EXX", "邮件丢失 Item lost"}, {"EXX", "邮件破损 Item damaged"}},
	kSeized:          {{"EDX", "海关没收 Item seized by customs"}},
	kDelay:           {{"EDF", "邮件延误 Item delayed: flight cancelled"}},
}

var emsText = dialect{
	kInfo:            {{"EMX", "Shipment information received"}},
	kPickup:          {{"EMA", "Posting/collection"}},
	kHubIn:           {{"EDD", "Item into sorting centre"}},
	kHubOut:          {{"EDE", "Item out of sorting centre"}},
	kExport:          {{"EMB", "Arrival at outward office of exchange"}},
	kDepart:          {{"EMC", "Departure from outward office of exchange"}},
	kTransitHub:      {{"EMJ", "Arrival at transit office of exchange"}},
	kArrive:          {{"EMD", "Arrival at inward office of exchange"}},
	kCustoms:         {{"EDB", "Item presented to import customs"}},
	kHeld:            {{"EDA", "Held at inward office of exchange"}, {"EDA", "Held by customs: documents required"}},
	kReleased:        {{"EDC", "Item returned from customs"}},
	kDestHub:         {{"EMG", "Arrival at delivery office"}},
	kHandover:        {{"EMF", "Departure from inward office of exchange"}},
	kOFD:             {{"EDG", "Item out for delivery"}},
	kFailed:          {{"EMH", "Attempted/unsuccessful delivery"}},
	kPickupPoint:     {{"EDH", "Item arrived at collection point for pickup"}},
	kDelivered:       {{"EMI", "Final delivery"}},
	kReturnUnclaimed: {{"EMH", "Unsuccessful delivery: item not collected, returned"}},
	kReturnRefused:   {{"EMH", "Unsuccessful delivery: refused by addressee"}},
	kReturnCustoms:   {{"EDC", "Returned by customs"}},
	kReturned:        {{"EMI", "Final delivery to sender (return)"}},
	kLost:            {{"EXX", "Item lost"}, {"EXX", "Item damaged"}},
	kSeized:          {{"EDX", "Item seized by customs"}},
	kDelay:           {{"EDF", "Item on hold: incorrect address"}},
}

var hkPostText = dialect{
	kInfo:            {{"EMX", "Item information received (Hongkong Post)"}},
	kPickup:          {{"EMA", "Item posted"}},
	kHubIn:           {{"EDD", "Item is being processed at the International Mail Centre"}},
	kHubOut:          {{"EDE", "Item processed"}},
	kExport:          {{"EMB", "Item is being processed for despatch"}},
	kDepart:          {{"EMC", "Item despatched to destination"}},
	kTransitHub:      {{"EMJ", "Item arrived at transit office"}},
	kArrive:          {{"EMD", "Item arrived at destination"}},
	kCustoms:         {{"EDB", "Item is being processed by customs"}},
	kHeld:            {{"EDA", "Item held by customs"}},
	kReleased:        {{"EDC", "Item released by customs"}},
	kDestHub:         {{"EMG", "Item arrived at the delivery office"}},
	kHandover:        {{"EMF", "Item handed over to the local postal operator"}},
	kOFD:             {{"EDG", "Item out for delivery"}},
	kFailed:          {{"EMH", "Delivery attempted. Notice card left"}},
	kPickupPoint:     {{"EDH", "Item awaiting collection at the post office"}},
	kDelivered:       {{"EMI", "Item delivered"}},
	kReturnUnclaimed: {{"EMH", "Item unclaimed, being returned to sender"}},
	kReturnRefused:   {{"EMH", "Item refused by addressee, being returned to sender"}},
	kReturnCustoms:   {{"EDC", "Item returned by customs"}},
	kReturned:        {{"EMI", "Item returned to sender"}},
	kLost:            {{"EXX", "Item could not be traced"}},
	kSeized:          {{"EDX", "Item detained by customs"}},
	kDelay:           {{"EDF", "Item delayed"}},
}

var deutschePostText = dialect{
	kInfo:            {{"EMX", "Die Sendung wurde elektronisch angekündigt."}},
	kPickup:          {{"EMA", "Die Sendung wurde eingeliefert."}},
	kHubIn:           {{"EDD", "Die Sendung wurde im Start-Paketzentrum bearbeitet."}},
	kHubOut:          {{"EDE", "Die Sendung hat das Start-Paketzentrum verlassen."}},
	kExport:          {{"EMB", "Die Sendung wurde für den Transport ins Zielland vorbereitet."}},
	kDepart:          {{"EMC", "Die Sendung hat das Abgangsland verlassen."}},
	kTransitHub:      {{"EMJ", "Die Sendung wurde im Transitland umgeschlagen."}},
	kArrive:          {{"EMD", "Die Sendung ist im Zielland eingetroffen."}},
	kCustoms:         {{"EDB", "Die Sendung wurde dem Zoll im Zielland vorgelegt."}},
	kHeld:            {{"EDA", "Die Sendung wird vom Zoll zurückgehalten."}, {"EDF", "Einfuhrabgaben sind zu entrichten."}},
	kReleased:        {{"EDC", "Die Sendung wurde vom Zoll freigegeben."}},
	kDestHub:         {{"EMG", "Die Sendung ist in der Zustellbasis eingetroffen."}},
	kHandover:        {{"EMF", "Die Sendung wurde an den Zustellpartner im Zielland übergeben."}},
	kOFD:             {{"EDG", "Die Sendung wurde in das Zustellfahrzeug geladen."}},
	kFailed:          {{"EMH", "Der Empfänger wurde nicht angetroffen. Eine Benachrichtigungskarte wurde hinterlassen."}},
	kPickupPoint:     {{"EDH", "Die Sendung liegt in der Filiale zur Abholung bereit."}},
	kDelivered:       {{"EMI", "Die Sendung wurde zugestellt."}, {"EMI", "Die Sendung wurde an einen Nachbarn zugestellt."}},
	kReturnUnclaimed: {{"EMH", "Die Sendung wurde nicht abgeholt und wird zurückgesandt."}},
	kReturnRefused:   {{"EMH", "Die Annahme der Sendung wurde verweigert. Rücksendung an den Absender."}},
	kReturnCustoms:   {{"EDC", "Die Sendung wird vom Zoll an den Absender zurückgesandt."}},
	kReturned:        {{"EMI", "Die Sendung wurde an den Absender zurückgeliefert."}},
	kLost:            {{"EXX", "Die Sendung konnte nicht ermittelt werden."}},
	kSeized:          {{"EDX", "Die Sendung wurde vom Zoll einbehalten."}},
	kDelay:           {{"EDF", "Die Adresse ist unvollständig. Die Sendung wird geprüft."}},
}

var uspsText = dialect{
	kInfo:            {{"GX", "Shipping Label Created, USPS Awaiting Item"}},
	kPickup:          {{"03", "USPS in possession of item"}, {"OA", "Accepted at USPS Origin Facility"}},
	kHubIn:           {{"10", "Arrived at USPS Regional Facility"}},
	kHubOut:          {{"EF", "Departed USPS Regional Facility"}},
	kExport:          {{"L1", "Processed Through USPS Facility, International Service Center"}},
	kDepart:          {{"PC", "Departed; International Dispatch Ready"}},
	kTransitHub:      {{"A1", "Arrived at Transit Office"}},
	kArrive:          {{"80", "Arrived in Destination Country"}},
	kCustoms:         {{"PD", "Customs Clearance"}},
	kHeld:            {{"HC", "Held in Customs"}, {"HC", "Held in Customs: Duties Payable"}},
	kReleased:        {{"CR", "Customs Clearance Processing Complete"}},
	kDestHub:         {{"07", "Processed Through Facility"}},
	kHandover:        {{"T1", "Handed Over to Destination Postal Operator"}},
	kOFD:             {{"OF", "Out for Delivery"}},
	kFailed:          {{"02", "Notice Left (No Authorized Recipient Available)"}, {"53", "Delivery Attempted: No Access to Delivery Location"}},
	kPickupPoint:     {{"52", "Available for Pickup"}},
	kDelivered:       {{"01", "Delivered, In/At Mailbox"}, {"01", "Delivered, Front Door/Porch"}, {"01", "Delivered, Left with Individual"}},
	kReturnUnclaimed: {{"31", "Unclaimed, Being Returned to Sender"}},
	kReturnRefused:   {{"04", "Refused, Being Returned to Sender"}},
	kReturnCustoms:   {{"HR", "Returned by Customs"}},
	kReturned:        {{"09", "Delivered, To Original Sender"}},
	kLost:            {{"44", "Missing Mail Search Closed: Item Not Found"}, {"45", "Damaged, Contents Removed"}},
	kSeized:          {{"HD", "Seized by Customs"}},
	kDelay:           {{"AL", "Alert: Delivery Delayed by Weather"}, {"21", "Addressee Unknown: Address Correction Pending"}},
}

var upsText = dialect{
	kInfo:            {{"MP", "Shipper created a label, UPS has not received the package yet."}},
	kPickup:          {{"PU", "Pickup Scan"}, {"OR", "Origin Scan"}},
	kHubIn:           {{"AR", "Arrived at Facility"}},
	kHubOut:          {{"DP", "Departed from Facility"}},
	kExport:          {{"EP", "Export Scan"}},
	kDepart:          {{"DP", "Departed from Facility"}, {"IT", "In Transit"}},
	kTransitHub:      {{"AR", "Arrived at Facility"}},
	kArrive:          {{"IP", "Import Scan"}},
	kCustoms:         {{"CL", "Your package is in the clearance process."}},
	kHeld:            {{"CH", "Your package is being held for clearance. Additional information is needed."}, {"BR", "Import charges are due before release."}},
	kReleased:        {{"CR", "Clearance Processing Complete"}},
	kDestHub:         {{"AR", "Arrived at Facility"}, {"DS", "Destination Scan"}},
	kHandover:        {{"DS", "Destination Scan"}},
	kOFD:             {{"OT", "Out For Delivery Today"}},
	kFailed:          {{"48", "The receiver was not available for delivery. We'll make a second attempt the next business day."}, {"U2", "The address is incomplete. We're attempting to update this address."}},
	kPickupPoint:     {{"ZP", "Delivered to UPS Access Point™ and awaiting customer pickup."}},
	kDelivered:       {{"KB", "DELIVERED"}, {"FS", "Delivered: Front Door"}, {"KM", "Delivered: Receptionist"}},
	kReturnUnclaimed: {{"RS", "Not collected at UPS Access Point™. Returning to sender."}},
	kReturnRefused:   {{"RF", "The receiver refused the delivery. Returning to sender."}},
	kReturnCustoms:   {{"RC", "Clearance not completed. The package will be returned to the sender."}},
	kReturned:        {{"RT", "Returned to Sender"}},
	kLost:            {{"LS", "Lost: we are unable to locate the package."}, {"DM", "Damaged: package contents damaged in transit."}},
	kSeized:          {{"SZ", "The package was seized by a government agency."}},
	kDelay:           {{"WE", "Severe weather conditions have delayed delivery."}, {"AC", "The address has been corrected."}},
}

// FedEx scan event codes are the ones its Track API returns.
var fedexText = dialect{
	kInfo:            {{"OC", "Shipment information sent to FedEx"}},
	kPickup:          {{"PU", "Picked up"}},
	kHubIn:           {{"AR", "Arrived at FedEx location"}},
	kHubOut:          {{"DP", "Departed FedEx location"}},
	kExport:          {{"CC", "International shipment release - Export"}},
	kDepart:          {{"IT", "In transit"}, {"DP", "Left FedEx origin facility"}},
	kTransitHub:      {{"AR", "Arrived at FedEx hub"}},
	kArrive:          {{"AR", "At destination sort facility"}},
	kCustoms:         {{"CP", "Clearance in progress"}},
	kHeld:            {{"CD", "Clearance delay - Import"}, {"CD", "Clearance delay - Duties and taxes unpaid"}},
	kReleased:        {{"CC", "International shipment release - Import"}},
	kDestHub:         {{"AF", "At local FedEx facility"}},
	kHandover:        {{"AF", "At local FedEx facility"}},
	kOFD:             {{"OD", "On FedEx vehicle for delivery"}},
	kFailed:          {{"DE", "Delivery exception - Customer not available or business closed"}, {"DE", "Delivery exception - Incorrect address"}},
	kPickupPoint:     {{"HL", "Ready for pickup at FedEx location"}},
	kDelivered:       {{"DL", "Delivered"}},
	kReturnUnclaimed: {{"RS", "Return to shipper - Not picked up"}},
	kReturnRefused:   {{"RS", "Return to shipper - Refused by recipient"}},
	kReturnCustoms:   {{"RS", "Return to shipper - Clearance not completed"}},
	kReturned:        {{"DL", "Delivered to shipper"}},
	kLost:            {{"SE", "Shipment exception - Package not found"}, {"SE", "Shipment exception - Package damaged"}},
	kSeized:          {{"SE", "Shipment exception - Seized by customs"}},
	kDelay:           {{"DY", "Delay - Weather"}, {"DE", "Delivery exception - Address correction"}},
}

// DHL Express checkpoint codes.
var dhlText = dialect{
	kInfo:            {{"SA", "Shipment information received"}},
	kPickup:          {{"PU", "Shipment picked up"}},
	kHubIn:           {{"PL", "Processed at"}, {"AF", "Arrived at Sort Facility"}},
	kHubOut:          {{"DF", "Departed Facility"}},
	kExport:          {{"CR", "Customs clearance status updated: export"}},
	kDepart:          {{"DF", "Departed Facility"}},
	kTransitHub:      {{"AF", "Arrived at Sort Facility"}, {"PL", "Processed at"}},
	kArrive:          {{"AF", "Arrived at Sort Facility"}},
	kCustoms:         {{"CC", "Clearance event"}},
	kHeld:            {{"OH", "Shipment is on hold"}, {"HP", "Held for payment of duties and taxes"}},
	kReleased:        {{"CR", "Clearance processing complete"}},
	kDestHub:         {{"AR", "Arrived at Delivery Facility"}},
	kHandover:        {{"AR", "Arrived at Delivery Facility"}},
	kOFD:             {{"WC", "With delivery courier"}},
	kFailed:          {{"NH", "Recipient not home"}, {"CA", "Closed on arrival"}, {"BA", "Bad address"}},
	kPickupPoint:     {{"TP", "Awaiting collection at DHL Service Point"}},
	kDelivered:       {{"OK", "Delivered"}},
	kReturnUnclaimed: {{"RT", "Returned to shipper: not collected"}},
	kReturnRefused:   {{"RD", "Refused delivery"}},
	kReturnCustoms:   {{"RT", "Returned to shipper: clearance not completed"}},
	kReturned:        {{"OK", "Delivered to shipper"}},
	kLost:            {{"MS", "Shipment not found"}, {"SD", "Shipment damaged"}},
	kSeized:          {{"CS", "Shipment seized by customs"}},
	kDelay:           {{"MD", "Missed delivery cycle"}, {"BA", "Address information needed"}},
}

// Cainiao's action codes name the system that scanned (GWMS warehouse,
// SC sorting centre, LH linehaul, CC customs, GTMS last mile).
var cainiaoText = dialect{
	kInfo:            {{"GWMS_ACCEPT", "Order received by warehouse, waiting for parcel"}},
	kPickup:          {{"PU_PICKUP_SUCCESS", "Parcel picked up"}, {"GWMS_OUTBOUND", "Parcel left the warehouse"}},
	kHubIn:           {{"SC_INBOUND_SUCCESS", "Arrived at sorting center"}},
	kHubOut:          {{"SC_OUTBOUND_SUCCESS", "Departed from sorting center"}},
	kExport:          {{"CC_EX_SUCCESS", "Export customs clearance complete"}},
	kDepart:          {{"LH_HO_IN_SUCCESS", "Received by line-haul"}, {"LH_DEPART", "Departed from departure country/region"}},
	kTransitHub:      {{"LH_TRANSIT", "Arrived at transit hub"}},
	kArrive:          {{"LH_ARRIVE", "Arrived at linehaul office"}},
	kCustoms:         {{"CC_IM_START", "Import customs clearance started"}},
	kHeld:            {{"CC_IM_DELAY", "Import customs clearance delay"}},
	kReleased:        {{"CC_IM_SUCCESS", "Import customs clearance complete"}},
	kDestHub:         {{"GTMS_ACCEPT", "Received by local delivery company"}},
	kHandover:        {{"GTMS_DO_DEPART", "Departed from local delivery hub"}},
	kOFD:             {{"GTMS_DELIVERING", "Out for delivery"}},
	kFailed:          {{"GTMS_SIGN_FAILED", "Delivery attempt failed"}},
	kPickupPoint:     {{"GTMS_WAIT_SELF_PICK", "Arrived at pickup point"}},
	kDelivered:       {{"GTMS_SIGNED", "Delivered"}, {"GTMS_SIGNED", "Delivered to pickup point, collected"}},
	kReturnUnclaimed: {{"RETURN_UNCLAIMED", "Not collected, returning to sender"}},
	kReturnRefused:   {{"RETURN_REJECTED", "Recipient refused the parcel, returning to sender"}},
	kReturnCustoms:   {{"CC_IM_RETURN", "Import clearance failed, returning to sender"}},
	kReturned:        {{"RETURN_SIGNED", "Returned to sender"}},
	kLost:            {{"LOST", "Parcel lost"}, {"DAMAGE", "Parcel damaged"}},
	kSeized:          {{"CC_IM_CONFISCATED", "Parcel confiscated by customs"}},
	kDelay:           {{"LH_DELAY", "Flight delayed"}, {"ADDRESS_ISSUE", "Address problem, contacting recipient"}},
}

var yunExpressText = dialect{
	kInfo:            {{"10", "Shipment information received"}},
	kPickup:          {{"20", "Picked up by YunExpress"}},
	kHubIn:           {{"30", "Arrived at YunExpress facility"}},
	kHubOut:          {{"31", "Departed YunExpress facility"}},
	kExport:          {{"40", "Export customs clearance completed"}},
	kDepart:          {{"41", "Departed from airport of origin"}},
	kTransitHub:      {{"42", "Arrived at transit airport"}},
	kArrive:          {{"50", "Arrived at destination airport"}},
	kCustoms:         {{"51", "Import customs clearance started"}},
	kHeld:            {{"52", "Held by customs"}},
	kReleased:        {{"53", "Import customs clearance completed"}},
	kDestHub:         {{"60", "Arrived at the last-mile carrier's facility"}},
	kHandover:        {{"61", "Delivery to local courier"}},
	kOFD:             {{"70", "Out for delivery"}},
	kFailed:          {{"71", "Delivery attempt failed"}},
	kPickupPoint:     {{"72", "Available for pickup"}},
	kDelivered:       {{"80", "Delivered"}},
	kReturnUnclaimed: {{"90", "Unclaimed, returning to sender"}},
	kReturnRefused:   {{"91", "Refused by recipient, returning to sender"}},
	kReturnCustoms:   {{"92", "Returned by customs"}},
	kReturned:        {{"93", "Returned to sender"}},
	kLost:            {{"99", "Shipment lost"}},
	kSeized:          {{"98", "Confiscated by customs"}},
	kDelay:           {{"95", "Delayed: address correction required"}},
}

var fourPXText = dialect{
	kInfo:            {{"FPX_C_SPLS", "Shipment information received by 4PX"}},
	kPickup:          {{"FPX_C_AAF", "Parcel arrived at 4PX facility"}},
	kHubIn:           {{"FPX_C_SOF", "Parcel sorted at 4PX facility"}},
	kHubOut:          {{"FPX_C_ADFF", "Departed from 4PX facility"}},
	kExport:          {{"FPX_L_ECC", "Export customs clearance completed"}},
	kDepart:          {{"FPX_L_RPIF", "Flight departed"}},
	kTransitHub:      {{"FPX_L_TRN", "Arrived at transit hub"}},
	kArrive:          {{"FPX_L_ARR", "Arrived at destination country"}},
	kCustoms:         {{"FPX_I_CCS", "Import customs clearance started"}},
	kHeld:            {{"FPX_I_CCH", "Import customs clearance on hold"}},
	kReleased:        {{"FPX_I_CCC", "Import customs clearance completed"}},
	kDestHub:         {{"FPX_I_LMA", "Arrived at last mile hub"}},
	kHandover:        {{"FPX_I_LMH", "Handed over to last mile carrier"}},
	kOFD:             {{"FPX_S_OFD", "Out for delivery"}},
	kFailed:          {{"FPX_S_DAF", "Delivery attempt failed"}},
	kPickupPoint:     {{"FPX_S_APU", "Awaiting pickup at collection point"}},
	kDelivered:       {{"FPX_S_OK", "Delivered"}},
	kReturnUnclaimed: {{"FPX_R_UNC", "Unclaimed, return to sender"}},
	kReturnRefused:   {{"FPX_R_REF", "Refused, return to sender"}},
	kReturnCustoms:   {{"FPX_R_CUS", "Customs return"}},
	kReturned:        {{"FPX_R_DLV", "Returned to sender"}},
	kLost:            {{"FPX_E_LST", "Parcel lost"}},
	kSeized:          {{"FPX_E_CON", "Parcel confiscated"}},
	kDelay:           {{"FPX_E_DLY", "Shipment delayed"}},
}

var yanwenText = dialect{
	kInfo:            {{"O_001", "燕文已收到订单信息 Order information received"}},
	kPickup:          {{"O_002", "燕文已揽收 Picked up by Yanwen"}},
	kHubIn:           {{"O_003", "到达燕文处理中心 Arrived at Yanwen processing center"}},
	kHubOut:          {{"O_004", "离开燕文处理中心 Departed Yanwen processing center"}},
	kExport:          {{"O_010", "出口报关完成 Export declaration completed"}},
	kDepart:          {{"O_011", "航班起飞 Flight departed"}},
	kTransitHub:      {{"O_012", "到达中转地 Arrived at transit point"}},
	kArrive:          {{"I_001", "到达目的国 Arrived at destination country"}},
	kCustoms:         {{"I_002", "进口清关中 Import customs clearance in progress"}},
	kHeld:            {{"I_003", "海关扣留 Held by customs"}},
	kReleased:        {{"I_004", "清关完成 Customs clearance completed"}},
	kDestHub:         {{"I_010", "到达派送处理中心 Arrived at delivery center"}},
	kHandover:        {{"I_011", "已交末端派送商 Handed over to last-mile carrier"}},
	kOFD:             {{"I_020", "派送中 Out for delivery"}},
	kFailed:          {{"I_021", "派送失败 Delivery failed"}},
	kPickupPoint:     {{"I_022", "待自提 Awaiting pickup"}},
	kDelivered:       {{"I_030", "已签收 Delivered"}},
	kReturnUnclaimed: {{"R_001", "无人领取 退回 Unclaimed, returning"}},
	kReturnRefused:   {{"R_002", "拒收 退回 Refused, returning"}},
	kReturnCustoms:   {{"R_003", "海关退运 Returned by customs"}},
	kReturned:        {{"R_010", "已退回 Returned to sender"}},
	kLost:            {{"E_001", "包裹丢失 Parcel lost"}},
	kSeized:          {{"E_002", "海关没收 Confiscated by customs"}},
	kDelay:           {{"E_010", "派送延误 Delivery delayed"}},
}

var dpdText = dialect{
	kInfo:            {{"ACCEPTED", "Order information has been transmitted to DPD."}},
	kPickup:          {{"PICKUP", "Parcel has been picked up."}},
	kHubIn:           {{"AT_SENDING_DEPOT", "At parcel delivery centre."}},
	kHubOut:          {{"ON_THE_ROAD", "In transit."}},
	kExport:          {{"EXPORT", "Export declaration submitted."}},
	kDepart:          {{"ON_THE_ROAD", "In transit to the destination country."}},
	kTransitHub:      {{"HUB_SCAN", "At DPD hub."}},
	kArrive:          {{"AT_HUB", "At parcel delivery centre in the destination country."}},
	kCustoms:         {{"CUSTOMS", "Customs clearance process started."}},
	kHeld:            {{"CUSTOMS_HELD", "Held at customs: duties and taxes outstanding."}},
	kReleased:        {{"CUSTOMS_CLEARED", "Customs clearance completed."}},
	kDestHub:         {{"AT_DELIVERY_DEPOT", "At delivery depot."}},
	kHandover:        {{"AT_DELIVERY_DEPOT", "Parcel sorted for delivery."}},
	kOFD:             {{"OUT_FOR_DELIVERY", "Out for delivery."}},
	kFailed:          {{"NOT_DELIVERED", "Unfortunately we have not been able to deliver your parcel."}},
	kPickupPoint:     {{"PICKUP_POINT", "Your parcel is at a DPD Pickup parcelshop."}},
	kDelivered:       {{"DELIVERED", "Delivered."}, {"DELIVERED", "Delivered to a neighbour."}},
	kReturnUnclaimed: {{"RETURN", "Not collected from the Pickup parcelshop. Returning to sender."}},
	kReturnRefused:   {{"RETURN", "Delivery refused. Returning to sender."}},
	kReturnCustoms:   {{"RETURN", "Customs clearance failed. Returning to sender."}},
	kReturned:        {{"RETURNED", "Returned to sender."}},
	kLost:            {{"INVESTIGATION", "Parcel could not be found."}},
	kSeized:          {{"CUSTOMS_SEIZED", "Parcel seized by customs."}},
	kDelay:           {{"DELAY", "Address incomplete. We are checking the address."}},
}
