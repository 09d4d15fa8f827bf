ALTER TABLE credit_ledger DROP COLUMN action;
