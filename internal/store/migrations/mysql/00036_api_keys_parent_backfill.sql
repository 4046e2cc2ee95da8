-- +goose Up
-- Keys made by another key before keys lost that right: the creating key is named at the end
-- of the audit event's detail ("... (with API key 12)"), after the quoted key name, so a name
-- cannot fake it. Only a key of the same owner counts.
UPDATE api_keys k
JOIN audit_events a ON a.event = 'api_key_created' AND a.subject_id = k.user_id
    AND a.detail LIKE CONCAT('key ', k.id, ' %')
JOIN api_keys p ON p.user_id = k.user_id AND p.id <> k.id
    AND a.detail LIKE CONCAT('% (with API key ', p.id, ')')
SET k.parent_key_id = p.id
WHERE k.parent_key_id IS NULL;

-- +goose Down
UPDATE api_keys SET parent_key_id = NULL;
