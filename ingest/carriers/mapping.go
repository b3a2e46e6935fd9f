package carriers

// This file is the one place where carrier vocabulary becomes the canonical
// taxonomy (DESIGN section 2). Each source has its own table, keyed by the
// raw code the source sends; the raw code stays in carrier_status and the
// raw text in description, so a changed mapping can be replayed.
//
// Conventions, so that reviewers can check a row without the carrier's manual:
//   - Customs: customs_clearance when import clearance is under way,
//     customs_held when customs stops the parcel (inspection, documents,
//     duties), customs_released when it lets it go. Export customs is
//     ordinary transit (see exportCustoms), so it never opens a customs dwell.
//   - A failed delivery attempt (nobody home, refused, no access) is
//     delivery_failed; an address that cannot be served, loss, damage,
//     delay, cancellation are exception; returning and returned to sender
//     are returned.
//   - Delivered to a locker or pick-up point by the carrier's own account is
//     delivered; "ready for pickup / awaiting collection" is
//     available_for_pickup.

import (
	"strings"

	"github.com/shiplens/shiplens/schemas"
)

// Short names for the tables below.
const (
	infoReceived       = schemas.InfoReceived
	pickedUp           = schemas.PickedUp
	inTransit          = schemas.InTransit
	arrivedDestination = schemas.ArrivedDestination
	customsClearance   = schemas.CustomsClearance
	customsHeld        = schemas.CustomsHeld
	customsReleased    = schemas.CustomsReleased
	outForDelivery     = schemas.OutForDelivery
	availableForPickup = schemas.AvailableForPickup
	deliveryFailed     = schemas.DeliveryFailed
	delivered          = schemas.Delivered
	returned           = schemas.Returned
	exception          = schemas.Exception
)

// codeTable maps a source's raw code to a canonical status.
type codeTable map[string]schemas.Status

// carrierAliases maps carrier names and aggregator courier slugs, squashed
// to lower-case letters and digits (see squash), to shiplens carrier codes.
// Anything else keeps its own sanitised slug (carrierCode).
var carrierAliases = map[string]string{
	"chinapost":                  "chinapost", // AfterShip china-post, 17TRACK "China Post"
	"chinapostregisteredmail":    "chinapost",
	"chinapostepacket":           "chinapost",
	"chinaems":                   "ems", // AfterShip china-ems, 17TRACK "China EMS"
	"ems":                        "ems",
	"emschina":                   "ems",
	"chinaemsepacket":            "ems",
	"cainiao":                    "cainiao",
	"cainiaoglobal":              "cainiao",
	"aliexpressstandardshipping": "cainiao",
	"yunexpress":                 "yunexpress",
	"4px":                        "4px",
	"4pxexpress":                 "4px",
	"4pxworldwideexpress":        "4px",
	"yanwen":                     "yanwen",
	"yanwenexpress":              "yanwen",
	"yanwenlogistics":            "yanwen",
	"dhl":                        "dhl",
	"dhlexpress":                 "dhl",
	"dhlparcel":                  "dhl",
	"dhlpaket":                   "dhl",
	"fedex":                      "fedex",
	"federalexpress":             "fedex",
	"ups":                        "ups",
	"unitedparcelservice":        "ups",
	"usps":                       "usps",
	"unitedstatespostalservice":  "usps",
	"hongkongpost":               "hkpost",
	"hkpost":                     "hkpost",
	"deutschepost":               "deutschepost",
	"deutschpost":                "deutschepost", // AfterShip's slug is deutsch-post
	"dpd":                        "dpd",
	"laposte":                    "laposte",
	"lapostecolissimo":           "laposte",
	"colissimo":                  "laposte",
	"australiapost":              "australiapost",
	"auspost":                    "australiapost",
	"sendle":                     "sendle",
	"seko":                       "seko",
	"sekologistics":              "seko",
	"omniparcel":                 "seko",
}

// track17Carriers maps 17TRACK's numeric carrier keys to carrier codes. Only
// keys that are certain are listed; for any other key the adapter uses the
// provider name that 17TRACK sends with the events (through
// carrierAliases), so a missing row costs nothing but a name lookup.
var track17Carriers = map[int64]string{
	3011:   "chinapost",
	3013:   "ems",
	21051:  "usps",
	100001: "dhl",
	100002: "ups",
	100003: "fedex",
}

// aftershipSubtags maps AfterShip checkpoint subtags (the "delivery
// sub-statuses" of its docs) to canonical statuses; aftershipTags covers a
// checkpoint with a tag only, or with a subtag not listed here.
var aftershipSubtags = codeTable{
	"InfoReceived_001":       infoReceived,
	"InTransit_001":          inTransit,          // in transit
	"InTransit_002":          pickedUp,           // acceptance scan
	"InTransit_003":          inTransit,          // arrival scan at a hub
	"InTransit_004":          arrivedDestination, // arrived at the destination country
	"InTransit_005":          customsReleased,    // customs clearance completed
	"InTransit_006":          customsClearance,   // customs clearance started
	"InTransit_007":          inTransit,          // departure scan
	"InTransit_008":          inTransit,          // problem resolved
	"InTransit_009":          inTransit,          // forwarded to a different address
	"OutForDelivery_001":     outForDelivery,
	"OutForDelivery_003":     outForDelivery, // customer contacted
	"OutForDelivery_004":     outForDelivery, // delivery appointment scheduled
	"AvailableForPickup_001": availableForPickup,
	"AttemptFail_001":        deliveryFailed, // recipient unavailable
	"AttemptFail_002":        deliveryFailed,
	"AttemptFail_003":        deliveryFailed,
	"Delivered_001":          delivered,
	"Delivered_002":          delivered,      // picked up by the customer
	"Delivered_003":          delivered,      // signed by the customer
	"Delivered_004":          delivered,      // delivered, cash on delivery collected
	"Delivered_005":          delivered,      // delivered to a neighbour
	"Exception_001":          exception,      // unspecified shipping exception
	"Exception_002":          exception,      // customer moved
	"Exception_003":          deliveryFailed, // customer refused delivery
	"Exception_004":          customsHeld,    // delayed by customs clearance
	"Exception_005":          exception,      // delayed by external factors
	"Exception_006":          customsHeld,    // held for payment of duties
	"Exception_007":          exception,      // incorrect address
	"Exception_008":          exception,      // not picked up from the pick-up point
	"Exception_009":          exception,      // rejected by the carrier
	"Exception_010":          returned,       // returning to sender
	"Exception_011":          returned,       // returned to sender
	"Exception_012":          exception,      // damaged
	"Exception_013":          exception,      // lost
	"Exception_016":          exception,      // delayed by a processing issue
	"Exception_017":          exception,      // delayed by extreme weather
	"Exception_018":          customsHeld,    // held: incorrect or missing documents for regulators
}

var aftershipTags = codeTable{
	"Pending":            infoReceived,
	"InfoReceived":       infoReceived,
	"InTransit":          inTransit,
	"OutForDelivery":     outForDelivery,
	"AvailableForPickup": availableForPickup,
	"AttemptFail":        deliveryFailed,
	"Delivered":          delivered,
	"Exception":          exception,
	"Expired":            exception, // no update for 30 days
}

// track17SubStatus maps 17TRACK sub-statuses (tracking v2) to canonical
// statuses; track17Stages maps an event's stage when it has no sub-status.
var track17SubStatus = codeTable{
	"InfoReceived":                          infoReceived,
	"InTransit_PickedUp":                    pickedUp,
	"InTransit_Other":                       inTransit,
	"InTransit_Departure":                   inTransit, // departed the origin country
	"InTransit_Arrival":                     arrivedDestination,
	"InTransit_CustomsProcessing":           customsClearance,
	"InTransit_CustomsReleased":             customsReleased,
	"InTransit_CustomsRequiringInformation": customsHeld, // customs wants documents or payment
	"OutForDelivery_Other":                  outForDelivery,
	"AvailableForPickup_Other":              availableForPickup,
	"DeliveryFailure_Other":                 deliveryFailed,
	"DeliveryFailure_NoBody":                deliveryFailed,
	"DeliveryFailure_Security":              customsHeld, // security or customs stopped it
	"DeliveryFailure_Rejected":              deliveryFailed,
	"DeliveryFailure_InvalidAddress":        exception,
	"Delivered_Other":                       delivered,
	"Exception_Other":                       exception,
	"Exception_Returning":                   returned,
	"Exception_Returned":                    returned,
	"Exception_NoBody":                      exception, // recipient cannot be found
	"Exception_Security":                    customsHeld,
	"Exception_Damage":                      exception,
	"Exception_Rejected":                    deliveryFailed, // refused by the recipient
	"Exception_Delayed":                     exception,
	"Exception_Lost":                        exception,
	"Exception_Destroyed":                   exception,
	"Exception_Cancel":                      exception,
	"Expired_Other":                         exception,
}

var track17Stages = codeTable{
	"InfoReceived":       infoReceived,
	"PickedUp":           pickedUp,
	"Departure":          inTransit,
	"Arrival":            arrivedDestination,
	"AvailableForPickup": availableForPickup,
	"OutForDelivery":     outForDelivery,
	"Delivered":          delivered,
	"DeliveryFailure":    deliveryFailed,
	"Returning":          returned,
	"Returned":           returned,
	"Exception":          exception,
}

// dhlLabels maps DHL's short status labels (upper-cased) to canonical
// statuses; a recognised label wins over the five-value statusCode, which is
// too coarse to tell a pick-up from a customs hold. dhlStatusCodes is the
// fallback, refined by the text where it is coarse (transit, failure).
var dhlLabels = codeTable{
	"SHIPMENT INFORMATION RECEIVED": infoReceived,
	"SHIPMENT PICKED UP":            pickedUp,
	"PICKED UP":                     pickedUp,
	"PROCESSED AT LOCATION":         inTransit,
	"ARRIVED AT DHL FACILITY":       inTransit,
	"DEPARTED FACILITY":             inTransit,
	"CUSTOMS STATUS UPDATED":        customsClearance,
	"CLEARANCE EVENT":               customsClearance,
	"CLEARANCE PROCESSING COMPLETE": customsReleased,
	"WITH DELIVERY COURIER":         outForDelivery,
	"OUT FOR DELIVERY":              outForDelivery,
	"DELIVERY ATTEMPTED":            deliveryFailed,
	"AWAITING COLLECTION":           availableForPickup,
	"READY FOR PICKUP":              availableForPickup,
	"DELIVERED":                     delivered,
	"RETURNED TO SHIPPER":           returned,
	"SHIPMENT ON HOLD":              exception,
}

var dhlStatusCodes = codeTable{
	"pre-transit": infoReceived,
	"transit":     inTransit,
	"delivered":   delivered,
	"failure":     exception,
}

// fedexEventTypes maps FedEx Track API scan event types; fedexDerived maps
// derivedStatusCode for a type not listed. SE, DY and IT are refined by the
// scan's text (a customs hold reported as a shipment exception).
var fedexEventTypes = codeTable{
	"OC": infoReceived, // shipment information sent to FedEx
	"IN": infoReceived, // initiated
	"PU": pickedUp,
	"PX": pickedUp, // picked up, see details
	"AR": inTransit,
	"AF": inTransit, // at a FedEx facility
	"DP": inTransit,
	"IT": inTransit,
	"IX": inTransit,
	"AA": inTransit, // at airport
	"AC": inTransit, // at Canada Post facility
	"AX": inTransit, // at USPS facility
	"EA": inTransit, // enroute to airport
	"EO": inTransit, // enroute to origin airport
	"LO": inTransit, // left origin
	"OF": inTransit, // at origin facility
	"FD": inTransit, // at destination facility
	"PF": inTransit, // plane in flight
	"PL": inTransit, // plane landed
	"PM": inTransit, // in progress
	"SF": inTransit, // at sort facility
	"TR": inTransit, // transfer
	"AO": inTransit, // shipment arriving on time
	"AE": inTransit, // shipment arriving early
	"CH": inTransit, // location changed
	"SP": inTransit, // split status, multiple pieces
	"OD": outForDelivery,
	"ED": outForDelivery, // enroute to delivery
	"AD": outForDelivery, // at delivery
	"DL": delivered,
	"DE": deliveryFailed,     // delivery exception: not available, business closed, redirected
	"HL": availableForPickup, // hold at location
	"HP": availableForPickup, // ready for recipient pickup
	"CC": customsReleased,
	"CD": customsHeld, // clearance delay
	"CP": customsClearance,
	"DY": exception, // delay
	"DD": exception, // delivery delay
	"PD": exception, // pickup delay
	"SE": exception, // shipment exception
	"CA": exception, // shipment cancelled
	"RS": returned,  // return to shipper
}

var fedexDerived = codeTable{
	"IN": infoReceived,
	"PU": pickedUp,
	"IT": inTransit,
	"DL": delivered,
	"DE": deliveryFailed,
	"HL": availableForPickup,
	"DY": exception,
	"DD": exception,
	"SE": exception,
	"CA": exception,
	"RS": returned,
}

// upsTypes maps UPS Track API activity status types. The type is coarse:
// "X" covers customs holds, customs releases, failed attempts and returns
// alike, so it is refined by the activity's description ("Your package was
// released by the customs agency." is customs_released, not a hold).
var upsTypes = codeTable{
	"M":  infoReceived, // manifest: label created
	"MV": exception,    // manifest voided
	"P":  pickedUp,
	"I":  inTransit,
	"W":  inTransit, // warehousing
	"DO": inTransit, // delivered to origin freight station
	"DD": inTransit, // delivered to destination freight station
	"O":  outForDelivery,
	"D":  delivered,
	"X":  exception,
	"RS": returned, // returned to shipper
}

// uspsEventCodes maps USPS Tracking API v3 event codes.
var uspsEventCodes = codeTable{
	"GX": infoReceived, // shipping label created, USPS awaiting item
	"MA": infoReceived, // pre-shipment info sent to USPS
	"03": pickedUp,     // accepted at USPS origin facility / USPS in possession
	"OA": pickedUp,     // accepted
	"80": pickedUp,     // picked up by shipping partner
	"06": inTransit,    // forwarded
	"07": inTransit,    // arrived at post office (arrival at unit)
	"08": inTransit,    // missent, rerouted
	"10": inTransit,    // arrived at USPS regional origin facility
	"A1": inTransit,    // arrived at USPS regional facility
	"L1": inTransit,    // departed USPS facility
	"PC": inTransit,    // sorting complete
	"SF": inTransit,    // departed post office
	"T1": inTransit,    // departed USPS regional facility
	"TL": inTransit,    // in transit to next facility
	"U1": inTransit,    // arrived at USPS facility
	"81": inTransit,    // arrived at shipping partner facility
	"82": inTransit,    // departed shipping partner facility
	"OF": outForDelivery,
	"01": delivered,
	"17": delivered,          // picked up by agent
	"43": delivered,          // picked up at postal facility
	"16": availableForPickup, // available for pickup
	"02": deliveryFailed,     // notice left, no authorised recipient available
	"04": deliveryFailed,     // refused
	"05": exception,          // undeliverable as addressed
	"21": exception,          // no such number
	"22": exception,          // insufficient address
	"23": exception,          // moved, left no address
	"25": exception,          // addressee unknown
	"26": exception,          // vacant
	"28": exception,          // deceased
	"51": deliveryFailed,     // business closed
	"52": deliveryFailed,     // notice left, receptacle full
	"53": deliveryFailed,     // no access
	"54": deliveryFailed,     // no secure location
	"55": deliveryFailed,     // delivery attempted
	"56": deliveryFailed,     // delivery attempted, weather or safety
	"09": returned,           // return to sender
	"24": returned,           // forward expired
	"27": returned,           // unclaimed
	"29": returned,           // return to sender, not picked up
	"31": returned,           // return to sender, processed
	"11": exception,          // dead letter
	"15": exception,          // mis-shipped
}

// laposteCodes maps La Poste / Colissimo Suivi v2 event codes.
var laposteCodes = codeTable{
	"DR1": infoReceived,       // déclaratif réceptionné: label announced
	"PC1": pickedUp,           // pris en charge
	"PC2": pickedUp,           // pris en charge dans le pays d'expédition
	"ET1": inTransit,          // en cours de traitement
	"ET2": inTransit,          // en cours de traitement dans le pays d'expédition
	"ET3": arrivedDestination, // en cours de traitement dans le pays de destination
	"ET4": inTransit,          // en cours de traitement dans un pays de transit
	"EP1": inTransit,          // en attente de présentation
	"DO1": customsClearance,   // entrée en douane
	"DO2": customsReleased,    // sortie de douane
	"DO3": customsHeld,        // retenu en douane
	"PB1": exception,          // problème en cours
	"PB2": inTransit,          // problème résolu
	"MD2": outForDelivery,     // mis en distribution
	"ND1": deliveryFailed,     // non distribuable
	"AG1": availableForPickup, // en attente d'être retiré au guichet
	"RE1": returned,           // retourné à l'expéditeur
	"DI1": delivered,          // distribué
	"DI2": returned,           // distribué à l'expéditeur
}

// sekoOmniCodes maps SEKO (OmniParcel) OmniCodes; the carrier-specific Code
// next to it varies with the last-mile partner.
var sekoOmniCodes = codeTable{
	"OP-1":  infoReceived,       // pending
	"OP-8":  infoReceived,       // manifest received by carrier
	"OP-9":  infoReceived,       // not yet received by carrier
	"OP-12": infoReceived,       // collection request received
	"OP-10": pickedUp,           // received by carrier
	"OP-11": pickedUp,           // received by carrier, no manifest sent
	"OP-14": pickedUp,           // parcel received and accepted
	"OP-33": pickedUp,           // collected from sender
	"OP-89": pickedUp,           // collected from sender
	"OP-3":  inTransit,          // processed through export hub
	"OP-4":  inTransit,          // international transit to destination country
	"OP-7":  inTransit,          // picked up by delivery courier
	"OP-18": inTransit,          // in transit
	"OP-20": inTransit,          // sub-contractor update
	"OP-22": inTransit,          // received by sub-contractor
	"OP-31": inTransit,          // information
	"OP-32": inTransit,          // information
	"OP-36": inTransit,          // delivery arranged with receiver
	"OP-39": inTransit,          // package repacked
	"OP-44": inTransit,          // selected for redelivery
	"OP-46": inTransit,          // customer enquiry lodged
	"OP-47": inTransit,          // processed through sorting facility
	"OP-50": inTransit,          // arrived at courier processing facility
	"OP-51": inTransit,          // departed courier processing facility
	"OP-52": inTransit,          // redirection requested
	"OP-53": inTransit,          // redirected
	"OP-56": inTransit,          // transferred to delivery provider
	"OP-78": inTransit,          // flight arrived
	"OP-79": inTransit,          // in transit
	"OP-80": inTransit,          // reshipped
	"OP-81": inTransit,          // flight departed
	"OP-82": inTransit,          // inbound freight received
	"OP-5":  customsReleased,    // customs cleared
	"OP-6":  customsHeld,        // held by customs for inspection and clearance
	"OP-21": outForDelivery,     // out for delivery
	"OP-48": outForDelivery,     // with delivery courier
	"OP-19": availableForPickup, // awaiting collection
	"OP-25": availableForPickup, // customer to collect from carrier
	"OP-42": availableForPickup, // awaiting collection
	"OP-54": availableForPickup, // transferred to collection point
	"OP-71": delivered,          // delivered in part
	"OP-72": delivered,
	"OP-73": delivered,                                                         // to a neighbour
	"OP-74": delivered,                                                         // authority to leave / safe drop
	"OP-75": delivered,                                                         // parcel collected
	"OP-76": delivered,                                                         // to a locker or collection point
	"OP-77": delivered,                                                         // to an alternate delivery point
	"OP-24": deliveryFailed,                                                    // attempted, receiver carded
	"OP-27": deliveryFailed,                                                    // attempted, customer not known at address
	"OP-28": deliveryFailed,                                                    // attempted, refused
	"OP-30": deliveryFailed,                                                    // non delivery
	"OP-37": deliveryFailed,                                                    // attempted, no access
	"OP-38": deliveryFailed,                                                    // attempted, identification failed
	"OP-45": deliveryFailed,                                                    // attempted delivery
	"OP-83": deliveryFailed,                                                    // delivery exception
	"OP-84": deliveryFailed,                                                    // recipient not available
	"OP-86": deliveryFailed,                                                    // attempted delivery
	"OP-2":  exception,                                                         // held at export hub
	"OP-13": exception,                                                         // misdirected
	"OP-15": exception,                                                         // lost
	"OP-16": exception,                                                         // delayed
	"OP-17": exception,                                                         // damaged
	"OP-23": exception,                                                         // invalid or insufficient address
	"OP-26": exception,                                                         // held by carrier
	"OP-34": exception,                                                         // cancelled
	"OP-35": exception,                                                         // mis-sorted
	"OP-40": exception,                                                         // disposed
	"OP-41": exception,                                                         // incorrect details declared by sender
	"OP-43": exception,                                                         // not collected from store
	"OP-49": exception,                                                         // held by delivery courier
	"OP-67": exception,                                                         // cancelled order
	"OP-70": exception,                                                         // parcel blocked
	"OP-87": exception,                                                         // aged parcel, high value unpaid
	"OP-88": exception,                                                         // held at export hub, payment required
	"OP-91": exception,                                                         // blocked, lithium batteries declared
	"OP-92": exception,                                                         // destroyed
	"OP-29": returned,                                                          // return to sender
	"OP-55": returned,                                                          // attempted delivery, returned to sender
	"OP-57": returned, "OP-58": returned, "OP-59": returned, "OP-60": returned, // RTS received, various reasons
	"OP-61": returned, "OP-62": returned, "OP-63": returned, "OP-64": returned,
	"OP-65": returned, "OP-66": returned, "OP-68": returned, "OP-69": returned,
	"OP-85": returned, // RTS in transit
	"OP-90": returned, // return processed
	"OP-94": returned, // RTS consolidated
}

// sendleEventTypes maps Sendle tracking event types.
var sendleEventTypes = codeTable{
	// A failed pick-up leaves the parcel with the sender, so the shipment has
	// not started; it is not a delivery failure of the carrier.
	"Pickup Attempted":   infoReceived,
	"Pickup":             pickedUp,
	"Drop Off":           pickedUp,
	"Dropped Off":        pickedUp,
	"In Transit":         inTransit,
	"Local Delivery":     inTransit,
	"Out for Delivery":   outForDelivery,
	"Delivery Attempted": deliveryFailed,
	"Card Left":          deliveryFailed,
	"Left with Agent":    availableForPickup,
	"Delivered":          delivered,
	"Damaged":            exception,
	"Lost":               exception,
	"Cancelled":          exception,
	"Return to Sender":   returned,
	"Returned to Sender": returned,
}

// textRule maps carrier text containing any of its phrases (lower case) to
// a status. The rules are tried in order and the first match wins, so the
// specific (returns, customs, failed attempts) come before the general.
type textRule struct {
	status  schemas.Status
	phrases []string
}

var textRules = []textRule{
	{returned, []string{"return to sender", "returned to sender", "returning to sender", "return to shipper",
		"returned to shipper", "returning to shipper", "returned to the sender", "return to the sender",
		"returned to the shipper", "being returned", "will be returned", "delivered to sender",
		"delivered to the sender", "delivered back to sender", "retour à l'expéditeur",
		"retourné à l'expéditeur", "zurück an den absender", "rücksendung", "退回", "退件", "退运"}},
	{customsReleased, []string{"released by customs", "released by the customs", "released from customs",
		"cleared by customs", "cleared customs", "customs cleared", "cleared through customs",
		"customs clearance complete", "clearance complete", "clearance processing complete", "import release",
		"dédouané", "verzollt", "清关完成", "已清关", "海关放行", "清关成功"}},
	{customsHeld, []string{"held by customs", "held by the customs", "held in customs", "held at customs",
		"customs hold", "on hold at customs", "clearance delay", "customs delay", "delayed in customs",
		"customs requires", "customs agency requires", "duties and taxes", "import duties", "retenu en douane",
		"vom zoll zurückgehalten", "海关扣", "扣关", "海关查验"}},
	{deliveryFailed, []string{"delivery attempt", "attempted delivery", "delivery attempted", "unable to deliver",
		"could not be delivered", "not delivered", "undeliverable", "undelivered", "failed delivery",
		"delivery failed", "receiver was not available", "recipient was not available", "recipient not available",
		"customer not available", "no one available", "nobody available", "notice left", "card left", "refused",
		"avis de passage", "non distribuable", "zustellversuch", "投递失败", "未妥投", "派送不成功"}},
	{customsClearance, []string{"customs", "clearance", "douane", "zoll", "清关", "海关"}},
	{availableForPickup, []string{"available for pickup", "available for pick up", "available for pick-up",
		"ready for pickup", "ready for pick up", "ready for recipient pickup", "awaiting collection",
		"ready for collection", "available for collection", "held at post office", "at pickup point",
		"disponible en point", "abholbereit", "待取件", "待自提", "到达自提点"}},
	{outForDelivery, []string{"out for delivery", "onboard for delivery", "on board for delivery",
		"on vehicle for delivery", "with delivery courier", "expected to be delivered", "en cours de livraison",
		"in zustellung", "派送中", "正在派送", "派件中"}},
	{delivered, []string{"delivered", "picked up by customer", "picked up by the customer",
		"collected by customer", "collected by the customer", "livré", "distribué", "zugestellt", "签收", "妥投"}},
	{infoReceived, []string{"shipping information", "shipment information", "information received",
		"label created", "shipping label", "awaiting item", "pre-shipment", "electronic notification",
		"order ready", "order processed", "number allocated", "data was entered", "not yet handed over",
		"manifest", "déclaratif", "va bientôt nous être confié", "已下单", "电子信息"}},
	{pickedUp, []string{"picked up", "pickup scan", "received item from sender", "collected from sender",
		"received by", "accepted", "acceptance", "in possession of", "pris en charge", "déposé",
		"揽收", "收寄", "已揽件"}},
	{arrivedDestination, []string{"arrived in destination country", "arrived in the destination country",
		"arrived at destination country", "arrival at destination country", "arrival in destination country",
		"arrival at inward office of exchange", "arrivé dans le pays", "im zielland", "到达目的国", "抵达目的国",
		"到达目的地国家"}},
	{exception, []string{"damaged", "lost", "missing", "incorrect address", "address problem",
		"insufficient address", "delay", "exception", "on hold", "cancelled", "canceled", "destroyed",
		"disposed", "endommagé", "perdu", "beschädigt", "异常", "破损", "丢失"}},
	{inTransit, []string{"in transit", "transit", "processed", "processing", "arrived", "arrival", "departed",
		"departure", "depart", "facility", "hub", "sorting", "dispatch", "despatch", "on the way", "en route",
		"enroute", "air carrier", "flight", "airline", "forwarded", "transferred", "handed over", "scan",
		"acheminement", "en cours de traitement", "unterwegs", "运输", "转运", "到达", "离开", "发往", "航班"}},
}

// notYet marks "delivered" in the future tense, which is no delivery.
var notYet = []string{"be delivered", "being delivered"}

// exportWords mark export customs: outbound clearance is ordinary transit
// for shiplens (customs_dwell measures import clearance), and an export
// hold is an exception, not a customs hold.
var exportWords = []string{"export", "outbound", "出口"}

// classifyText maps carrier text to a canonical status by textRules, for
// text-only sources (Australia Post) and codes no table knows.
func classifyText(s string) (schemas.Status, bool) {
	t := strings.ToLower(s)
	if strings.TrimSpace(t) == "" {
		return 0, false
	}
	// "Arrived in New Zealand": the carrier names the destination country.
	if rest, ok := strings.CutPrefix(strings.TrimSpace(t), "arrived in "); ok && country(rest) != "" {
		return arrivedDestination, true
	}
	export := containsAny(t, exportWords)
	for _, r := range textRules {
		if !containsAny(t, r.phrases) {
			continue
		}
		switch {
		case r.status == delivered && containsAny(t, notYet):
			continue
		case export && r.status == customsHeld,
			export && r.status == customsClearance && containsAny(t, []string{"held", "hold"}):
			return exception, true
		case export && (r.status == customsClearance || r.status == customsReleased):
			return inTransit, true
		}
		return r.status, true
	}
	return 0, false
}

// refine sharpens a coarse status (in_transit or exception, as UPS "X", DHL
// "transit" or FedEx "SE" give it) with what the text says about customs,
// failed attempts, returns, pick-up points and arrival in the destination
// country. Any other status, and any other reading of the text, is kept:
// text never overrides a specific code.
func refine(base schemas.Status, s string) schemas.Status {
	if base != inTransit && base != exception {
		return base
	}
	st, ok := classifyText(s)
	if !ok {
		return base
	}
	switch st {
	case customsClearance:
		if base == exception {
			return customsHeld // customs is why the parcel is stuck
		}
		return st
	case customsHeld, customsReleased, returned, deliveryFailed, availableForPickup, arrivedDestination:
		return st
	case outForDelivery:
		if base == inTransit {
			return st // UPS reports "Out For Delivery Today" with type I
		}
	}
	return base
}

// exportCustoms applies the export rule to a status a code gave: customs at
// export is transit (a hold there is an exception), so that customs dwell
// only ever measures import clearance. Aggregators mark export clearance
// with the same sub-statuses as import clearance ("[Hangzhou] Export
// customs clearance completed" is InTransit_CustomsReleased on 17TRACK).
func exportCustoms(st schemas.Status, text string) schemas.Status {
	if !st.StartsCustoms() && st != customsReleased || !containsAny(strings.ToLower(text), exportWords) {
		return st
	}
	if st == customsHeld {
		return exception
	}
	return inTransit
}

// sharpen is the status of a scan whose code gave st: refined by its text
// where the code is coarse, then the export rule.
func sharpen(st schemas.Status, text string) schemas.Status {
	return exportCustoms(refine(st, text), text)
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
