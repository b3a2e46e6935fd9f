package gen_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/shiplens/shiplens/ingest/gen"
	"github.com/shiplens/shiplens/schemas"
)

// One shipment, without arrival noise: a Cainiao economy parcel from China to
// Canada, its scans in arrival order, which here is occurred_at order.
func ExampleGenerator_Run() {
	g, err := gen.New(gen.Config{Shipments: 1, Seed: 24, DisorderRate: -1, DuplicateRate: -1})
	if err != nil {
		panic(err)
	}
	err = g.Run(context.Background(), func(e *schemas.Event) error {
		where := "-"
		if l := e.Location; l != nil {
			where = strings.TrimSpace(l.Country + " " + l.City)
		}
		fmt.Printf("%s %-20s %-22s %s\n", e.OccurredAt.Format(time.DateTime), e.Status, e.CarrierStatus, where)
		return nil
	})
	if err != nil {
		panic(err)
	}
	// Output:
	// 2026-09-03 13:14:49 info_received        GWMS_ACCEPT            CN
	// 2026-09-04 07:57:15 picked_up            PU_PICKUP_SUCCESS      CN Guangzhou
	// 2026-09-05 06:00:44 in_transit           SC_INBOUND_SUCCESS     CN Guangzhou
	// 2026-09-06 06:24:44 in_transit           SC_OUTBOUND_SUCCESS    CN Guangzhou
	// 2026-09-09 20:53:44 in_transit           CC_EX_SUCCESS          CN Shanghai
	// 2026-09-10 06:01:40 in_transit           LH_HO_IN_SUCCESS       CN Shanghai
	// 2026-09-11 03:17:28 in_transit           LH_TRANSIT             KR Incheon
	// 2026-09-12 11:11:12 arrived_destination  LH_ARRIVE              CA Mississauga
	// 2026-09-13 00:03:38 customs_clearance    CC_IM_START            CA Mississauga
	// 2026-09-13 19:59:50 customs_released     CC_IM_SUCCESS          CA Mississauga
	// 2026-09-14 20:35:47 in_transit           GTMS_ACCEPT            CA Vancouver
	// 2026-09-15 00:37:35 in_transit           GTMS_DO_DEPART         CA Calgary
	// 2026-09-19 14:42:12 out_for_delivery     GTMS_DELIVERING        CA Calgary
	// 2026-09-19 17:50:16 delivered            GTMS_SIGNED            CA Calgary
}
