-- The customer's locale (a BCP 47 tag) of the earliest event that carried
-- one, and that event's (occurred_at, tie key), so that a restored shipment
-- keeps choosing the same locale whatever the arrival order. Customer
-- notifications are written in its language.
ALTER TABLE shipment_facts ADD COLUMN locale String DEFAULT '';
ALTER TABLE shipment_facts ADD COLUMN locale_at Int64 DEFAULT 0;
ALTER TABLE shipment_facts ADD COLUMN locale_key Int64 DEFAULT 0;
