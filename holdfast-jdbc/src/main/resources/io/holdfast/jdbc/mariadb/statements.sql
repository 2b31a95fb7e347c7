-- The statements of the lock-table mode on MariaDB. ${p} is the table prefix, ${now} the "now"
-- statement below: the database's clock in epoch milliseconds (NOW(3) in a session whose time_zone is '+00:00'; not the
-- client's). Placeholders (?) are bound in the order the provider's code names them.

-- name: now
CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS SIGNED)

-- name: lockName
SELECT name FROM ${p}names WHERE name = ? FOR UPDATE

-- name: ensureName
INSERT IGNORE INTO ${p}names (name) VALUES (?)

-- name: deleteExpired
DELETE FROM ${p}holders WHERE name = ? AND expires_ms <= ${now}

-- name: holders
SELECT owner, mode, permits, max_permits, token FROM ${p}holders WHERE name = ?

-- name: insertHolder
INSERT INTO ${p}holders (name, owner, session_id, client_name, mode, permits, max_permits, token, acquired_ms, expires_ms, lease_timeout)
VALUES (?, ?, ?, ?, ?, ?, ?, NEXTVAL(${p}tokens), ${now}, ${now} + ?, ?) RETURNING token

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
VALUES (?, ?, ?, ?, ?, ?, ?, NEXTVAL(${p}tokens), ${now}, ${now} + ?)

-- name: deleteWaiter
DELETE FROM ${p}waiters WHERE name = ? AND owner = ?

-- name: purgeWaiters
DELETE FROM ${p}waiters WHERE until_ms <= ${now}

-- name: holdsFence
SELECT 1 FROM ${p}holders WHERE name = ? AND owner = ? AND token = ? AND expires_ms > ${now} FOR UPDATE

-- ---- keys (TableKeys, KeyWork, KeySessions): the registers' rows with their lifetime. A row of
-- version 0 is a placeholder that exists only inside a transaction (so that an absent key has a row
-- to lock); every read skips it.

-- name: readKey
SELECT r.version, r.data, r.owner FROM ${p}registers r LEFT JOIN ${p}sessions s ON s.session_id = r.owner
WHERE r.name = ? AND r.version > 0 AND (r.expires_ms IS NULL OR r.expires_ms > ${now})
AND (r.owner IS NULL OR s.expires_ms > ${now})

-- name: listKeys
SELECT r.name, r.version, r.data, r.owner FROM ${p}registers r LEFT JOIN ${p}sessions s ON s.session_id = r.owner
WHERE r.name >= ? AND r.name > ? AND r.version > 0 AND (r.expires_ms IS NULL OR r.expires_ms > ${now})
AND (r.owner IS NULL OR s.expires_ms > ${now}) ORDER BY r.name LIMIT ?

-- name: ensureKey
INSERT IGNORE INTO ${p}registers (name, version, data) VALUES (?, 0, ?)

-- name: lockKey
SELECT version, data, owner, expires_ms FROM ${p}registers WHERE name = ? FOR UPDATE

-- name: writeKey
UPDATE ${p}registers SET version = ?, data = ?, owner = ?, expires_ms = ? WHERE name = ?

-- name: deleteKey
DELETE FROM ${p}registers WHERE name = ?

-- name: ownedKeys
SELECT COUNT(*) FROM ${p}registers WHERE owner = ? AND version > 0 AND (expires_ms IS NULL OR expires_ms > ${now})

-- name: clock
SELECT ${now}

-- name: sessionExpires
SELECT expires_ms FROM ${p}sessions WHERE session_id = ?

-- name: lockSession
SELECT expires_ms FROM ${p}sessions WHERE session_id = ? FOR UPDATE

-- name: lockSessionHolders
SELECT name FROM ${p}holders WHERE session_id = ? AND expires_ms > ${now} FOR UPDATE

-- name: lockFence
SELECT 1 FROM ${p}holders WHERE name = ? AND token = ? AND session_id = ? AND expires_ms > ${now} FOR UPDATE

-- name: lockHolder
SELECT 1 FROM ${p}holders WHERE name = ? AND session_id = ? AND expires_ms > ${now} FOR UPDATE

-- name: insertSession
INSERT INTO ${p}sessions (session_id, client_name, expires_ms) VALUES (?, ?, ${now} + ?)

-- name: renewSession
UPDATE ${p}sessions SET expires_ms = ${now} + ? WHERE session_id = ? AND expires_ms > ${now}

-- name: deleteSession
DELETE FROM ${p}sessions WHERE session_id = ?

-- name: keysOf
SELECT name FROM ${p}registers WHERE owner = ? AND version > 0

-- name: deleteKeysOf
DELETE FROM ${p}registers WHERE owner = ?

-- name: endedSessions
SELECT session_id FROM ${p}sessions WHERE expires_ms <= ${now}

-- name: lapsedKeys
SELECT name FROM ${p}registers WHERE expires_ms <= ${now}

-- name: lockLapsedKey
SELECT 1 FROM ${p}registers WHERE name = ? AND expires_ms <= ${now} FOR UPDATE

-- name: keysSchema
SELECT r.owner, r.expires_ms, s.expires_ms FROM ${p}registers r LEFT JOIN ${p}sessions s ON s.session_id = r.owner WHERE 1 = 0
