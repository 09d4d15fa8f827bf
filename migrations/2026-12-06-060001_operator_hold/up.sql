-- An operator's suspension is a hold that only an operator lifts: a payment ends a suspension for non-payment,
-- not this one.
ALTER TABLE tenants ADD COLUMN operator_hold boolean NOT NULL DEFAULT false;
UPDATE tenants t SET operator_hold = true
 WHERE t.status = 'suspended'
   AND (SELECT a.action FROM audit_events a
         WHERE a.tenant_id = t.id AND a.action IN ('billing.suspended', 'billing.reinstated')
         ORDER BY a.created_at DESC, a.id DESC LIMIT 1) = 'billing.suspended';
