-- +goose Up
-- Keys made by another key before keys lost that right: the creating key is named at the end
-- of the audit event's detail ("... (with API key 12)"), after the quoted key name, so a name
-- cannot fake it. Only a key of the same owner counts.
UPDATE api_keys SET parent_key_id = (
    SELECT p.id FROM audit_events a
    JOIN api_keys p ON p.user_id = api_keys.user_id AND p.id <> api_keys.id
    WHERE a.event = 'api_key_created' AND a.subject_id = api_keys.user_id
      AND a.detail LIKE 'key ' || api_keys.id || ' %'
      AND a.detail LIKE '% (with API key ' || p.id || ')'
    ORDER BY a.id
    LIMIT 1)
WHERE parent_key_id IS NULL;

-- +goose Down
UPDATE api_keys SET parent_key_id = NULL;
