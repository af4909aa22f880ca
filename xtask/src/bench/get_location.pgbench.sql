-- What GET /api/v1/locations/{id} sends PostgreSQL, as its query log shows it: the token
-- lookup (its last-used stamp is written at most once a minute, and not sent when the
-- token's row shows a recent one), then one read-only snapshot with the location and its
-- child count, its ancestors, the location again (the item summaries check it exists), the
-- item totals here and the kept ones below (location_totals). The pool checks a connection
-- without a round trip.
-- :token and :n are filled in by the bench.
\set id random(1, :n)
SELECT "api_tokens"."id", "api_tokens"."user_id", "api_tokens"."label", "api_tokens"."token_hash", "api_tokens"."prefix", "api_tokens"."created_at", "api_tokens"."last_used_at", "api_tokens"."revoked_at", "api_tokens"."scope", "api_tokens"."expires_at", "users"."id", "users"."username", "users"."password_hash", "users"."role", "users"."created_at", "users"."updated_at", "users"."username_key" FROM ("api_tokens" INNER JOIN "users" ON ("api_tokens"."user_id" = "users"."id")) WHERE ((("api_tokens"."token_hash" = :token) AND ("api_tokens"."revoked_at" IS NULL)) AND (("api_tokens"."expires_at" IS NULL) OR ("api_tokens"."expires_at" > localtimestamp))) LIMIT 1;
BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;
SELECT "locations"."id", "locations"."name", "locations"."description", "locations"."location_type", "locations"."parent_id", "locations"."created_at", "locations"."updated_at", "locations"."name_key", (SELECT COUNT(*) FROM "locations" AS "children" WHERE ("children"."parent_id" = :id) LIMIT 1) FROM "locations" WHERE ("locations"."id" = :id) LIMIT 1;
WITH RECURSIVE chain (seed, id, parent_id, name, location_type, depth) AS (SELECT id, id, parent_id, name, location_type, 0 FROM locations WHERE id = ANY (ARRAY(SELECT (jsonb_array_elements_text(('[' || :id || ']')::jsonb))::bigint)) UNION ALL SELECT c.seed, l.id, l.parent_id, l.name, l.location_type, c.depth + 1 FROM chain c JOIN locations l ON l.id = c.parent_id WHERE c.depth < 100000) SELECT seed, id, name, location_type, depth FROM chain ORDER BY seed, depth DESC;
SELECT "locations"."id", "locations"."name", "locations"."description", "locations"."location_type", "locations"."parent_id", "locations"."created_at", "locations"."updated_at", "locations"."name_key" FROM "locations" WHERE ("locations"."id" = :id) LIMIT 1;
SELECT currency, count(*) AS items, CAST(coalesce(sum(quantity), 0) AS BIGINT) AS quantity, CAST(coalesce(sum((purchase_price_cents >> 20)::numeric * quantity), 0) AS TEXT) AS hi, CAST(coalesce(sum((purchase_price_cents & 1048575)::numeric * quantity), 0) AS TEXT) AS lo FROM items WHERE location_id = :id GROUP BY currency;
SELECT NULLIF(currency, '') AS currency, items, quantity, CAST(value_hi AS TEXT) AS hi, CAST(value_lo AS TEXT) AS lo FROM location_totals WHERE location_id = :id ORDER BY currency;
COMMIT;
