-- Holdfast lock tables for MariaDB (10.5 or newer: sequences and INSERT ... RETURNING; tested with
-- 11.4) and MySQL-compatible servers that have both. The provider runs this on first use
-- (holdfast.createSchema=true, the default). To create the schema yourself, replace ${p} by your
-- table prefix (default holdfast_) and run it once; every statement is idempotent.
-- Names are compared byte for byte (utf8mb4_nopad_bin): 'A' and 'a', or 'a' and 'a ', are two locks.

-- One row per lock name ever used: the point where acquirers of one name serialize (SELECT ... FOR
-- UPDATE). It holds no state. Rows of names nobody holds may be deleted at any time.
CREATE TABLE IF NOT EXISTS ${p}names (
    name VARCHAR(512) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL PRIMARY KEY
) ENGINE=InnoDB;

-- One row per holder: an exclusive holder, each shared holder, each semaphore holder. Times are
-- milliseconds since the epoch by the DATABASE's clock, never a client's.
CREATE TABLE IF NOT EXISTS ${p}holders (
    name VARCHAR(512) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL,
    owner VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    session_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    client_name VARCHAR(256) CHARACTER SET utf8mb4 NOT NULL,
    mode VARCHAR(16) NOT NULL,
    permits INT NOT NULL,
    max_permits INT NOT NULL,
    token BIGINT NOT NULL,
    acquired_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL,
    lease_timeout BOOLEAN NOT NULL,
    PRIMARY KEY (name, owner)
) ENGINE=InnoDB;

-- Who waits, for operators (Admin.describe): the provider polls, so this is information, not a queue.
CREATE TABLE IF NOT EXISTS ${p}waiters (
    name VARCHAR(512) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL,
    owner VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    session_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    client_name VARCHAR(256) CHARACTER SET utf8mb4 NOT NULL,
    mode VARCHAR(16) NOT NULL,
    permits INT NOT NULL,
    max_permits INT NOT NULL,
    seq BIGINT NOT NULL,
    since_ms BIGINT NOT NULL,
    until_ms BIGINT NOT NULL,
    PRIMARY KEY (name, owner)
) ENGINE=InnoDB;

-- Fencing tokens: one sequence for every name, so tokens grow across names too. NOCACHE, so that
-- a restart never hands out a value below one already given.
CREATE SEQUENCE IF NOT EXISTS ${p}tokens START WITH 1 INCREMENT BY 1 NOCACHE NOCYCLE;

-- Versioned registers (VersionedRegister): one row per key, in a name space of their own (a
-- register and a lock of one name do not meet). version is 1 after the first write and grows by one
-- per write; a compare-and-set is one UPDATE ... WHERE version = the expected one. MEDIUMBLOB, since
-- a BLOB stops one byte short of the 64 KiB a register may hold.
CREATE TABLE IF NOT EXISTS ${p}registers (
    name VARCHAR(512) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL PRIMARY KEY,
    version BIGINT NOT NULL,
    data MEDIUMBLOB NOT NULL
) ENGINE=InnoDB;

-- Keys (Keys) are the registers' rows: a register and a key of one name are one record. A key
-- attached to a session names it in owner; one with a time to live has expires_ms (the database's
-- clock, epoch milliseconds); neither is set for a key that lives until deleted. A key whose
-- expires_ms has passed, or whose owner's session has ended, is absent to every read at once, and
-- deleted by the next sweep. Databases created before keys get the columns here.
ALTER TABLE ${p}registers ADD COLUMN IF NOT EXISTS owner VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
ALTER TABLE ${p}registers ADD COLUMN IF NOT EXISTS expires_ms BIGINT;
CREATE INDEX IF NOT EXISTS ${p}registers_owner ON ${p}registers (owner);
CREATE INDEX IF NOT EXISTS ${p}registers_expires ON ${p}registers (expires_ms);

-- The sessions that have keys attached (Keys, PutOptions.attach()): a row from the session's first
-- attached key until it ends. Its client renews expires_ms (database time) every third of the
-- session's TTL; a row past it has ended, and the sweep deletes it and its keys in one transaction.
CREATE TABLE IF NOT EXISTS ${p}sessions (
    session_id VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL PRIMARY KEY,
    client_name VARCHAR(256) CHARACTER SET utf8mb4 NOT NULL,
    expires_ms BIGINT NOT NULL
) ENGINE=InnoDB;
