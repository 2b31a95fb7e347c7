-- The statements of the lock-table mode on PostgreSQL. ${p} is the table prefix, ${now} the "now"
-- statement below: the database's clock in epoch milliseconds (clock_timestamp(), not the
-- transaction's start). Placeholders (?) are bound in the order the provider's code names them.

-- name: now
(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT

-- name: lockName
SELECT name FROM ${p}names WHERE name = ? FOR UPDATE

-- name: ensureName
INSERT INTO ${p}names (name) VALUES (?) ON CONFLICT (name) DO NOTHING

-- name: deleteExpired
DELETE FROM ${p}holders WHERE name = ? AND expires_ms <= ${now}

-- name: holders
SELECT owner, mode, permits, max_permits, token FROM ${p}holders WHERE name = ?

-- name: insertHolder
INSERT INTO ${p}holders (name, owner, session_id, client_name, mode, permits, max_permits, token, acquired_ms, expires_ms, lease_timeout)
VALUES (?, ?, ?, ?, ?, ?, ?, nextval('${p}tokens'), ${now}, ${now} + ?, ?) RETURNING token

-- name: renew
UPDATE ${p}holders SET expires_ms = ${now} + ? WHERE name = ? AND owner = ? AND token = ? AND expires_ms > ${now}

-- name: releaseLive
DELETE FROM ${p}holders WHERE name = ? AND owner = ? AND token = ? AND expires_ms > ${now}

-- name: releaseAny
DELETE FROM ${p}holders WHERE name = ? AND owner = ? AND token = ?

-- name: notify
SELECT pg_notify(?, ?)

-- name: isCurrentHolder
SELECT 1 FROM ${p}holders WHERE name = ? AND token = ? AND expires_ms > ${now}

-- name: revoke
DELETE FROM ${p}holders WHERE name = ? AND expires_ms > ${now}

-- name: describeHolders
SELECT session_id, client_name, mode, permits, max_permits, token, ${now} - acquired_ms, expires_ms - ${now}, lease_timeout
FROM ${p}holders WHERE name = ? AND expires_ms > ${now} ORDER BY token

-- name: describeWaiters
SELECT session_id, client_name, mode, permits, max_permits, ${now} - since_ms, until_ms - ${now}
FROM ${p}waiters WHERE name = ? AND until_ms > ${now} ORDER BY seq

-- name: listNames
SELECT name FROM ${p}holders WHERE name LIKE ? ESCAPE '!' AND expires_ms > ${now}
UNION SELECT name FROM ${p}waiters WHERE name LIKE ? ESCAPE '!' AND until_ms > ${now}
ORDER BY name LIMIT ?

-- name: insertWaiter
INSERT INTO ${p}waiters (name, owner, session_id, client_name, mode, permits, max_permits, seq, since_ms, until_ms)
VALUES (?, ?, ?, ?, ?, ?, ?, nextval('${p}tokens'), ${now}, ${now} + ?)

-- name: deleteWaiter
DELETE FROM ${p}waiters WHERE name = ? AND owner = ?

-- name: purgeWaiters
DELETE FROM ${p}waiters WHERE until_ms <= ${now}

-- name: readRegister
SELECT version, data FROM ${p}registers WHERE name = ?

-- name: updateRegister
UPDATE ${p}registers SET version = version + 1, data = ? WHERE name = ? AND version = ?

-- name: holdsFence
SELECT 1 FROM ${p}holders WHERE name = ? AND owner = ? AND token = ? AND expires_ms > ${now} FOR UPDATE

-- name: insertRegister
INSERT INTO ${p}registers (name, version, data) VALUES (?, 1, ?) ON CONFLICT (name) DO NOTHING
