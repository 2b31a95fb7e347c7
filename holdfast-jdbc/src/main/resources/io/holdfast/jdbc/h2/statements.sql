-- The statements of the lock-table mode on H2. ${p} is the table prefix, ${now} the "now"
-- statement below: the database's clock in epoch milliseconds (CURRENT_TIMESTAMP: the start of the current statement or
-- transaction on the server, never the client's clock). Placeholders (?) are bound in the order the provider's code names them.

-- name: now
CAST(EXTRACT(EPOCH FROM CURRENT_TIMESTAMP) * 1000 AS BIGINT)

-- name: lockName
SELECT name FROM ${p}names WHERE name = ? FOR UPDATE

-- name: ensureName
MERGE INTO ${p}names (name) KEY (name) VALUES (?)

-- name: deleteExpired
DELETE FROM ${p}holders WHERE name = ? AND expires_ms <= ${now}

-- name: holders
SELECT owner, mode, permits, max_permits, token FROM ${p}holders WHERE name = ?

-- name: insertHolder
SELECT token FROM FINAL TABLE (INSERT INTO ${p}holders (name, owner, session_id, client_name, mode, permits, max_permits, token, acquired_ms, expires_ms, lease_timeout)
VALUES (?, ?, ?, ?, ?, ?, ?, NEXT VALUE FOR ${p}tokens, ${now}, ${now} + ?, ?))

-- name: renew
UPDATE ${p}holders SET expires_ms = ${now} + ? WHERE name = ? AND owner = ? AND token = ? AND expires_ms > ${now}

-- name: releaseLive
DELETE FROM ${p}holders WHERE name = ? AND owner = ? AND token = ? AND expires_ms > ${now}

-- name: releaseAny
DELETE FROM ${p}holders WHERE name = ? AND owner = ? AND token = ?

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
VALUES (?, ?, ?, ?, ?, ?, ?, NEXT VALUE FOR ${p}tokens, ${now}, ${now} + ?)

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
INSERT INTO ${p}registers (name, version, data) VALUES (?, 1, ?)
