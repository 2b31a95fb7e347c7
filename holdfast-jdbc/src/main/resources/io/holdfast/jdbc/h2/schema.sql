-- Holdfast lock tables for H2 (2.x; tested with 2.5.252). The provider runs this on first use
-- (holdfast.createSchema=true, the default). To create the schema yourself, replace ${p} by your
-- table prefix (default holdfast_) and run it once; every statement is idempotent.
-- Share an H2 database between processes through its TCP server (jdbc:h2:tcp://...), never an
-- embedded file URL: an embedded database is one process's.

-- One row per lock name ever used: the point where acquirers of one name serialize (SELECT ... FOR
-- UPDATE). It holds no state. Rows of names nobody holds may be deleted at any time.
CREATE TABLE IF NOT EXISTS ${p}names (
    name VARCHAR(512) NOT NULL PRIMARY KEY
);

-- One row per holder: an exclusive holder, each shared holder, each semaphore holder. Times are
-- milliseconds since the epoch by the DATABASE's clock, never a client's.
CREATE TABLE IF NOT EXISTS ${p}holders (
    name VARCHAR(512) NOT NULL,
    owner VARCHAR(128) NOT NULL,
    session_id VARCHAR(64) NOT NULL,
    client_name VARCHAR(256) NOT NULL,
    mode VARCHAR(16) NOT NULL,
    permits INT NOT NULL,
    max_permits INT NOT NULL,
    token BIGINT NOT NULL,
    acquired_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL,
    lease_timeout BOOLEAN NOT NULL,
    PRIMARY KEY (name, owner)
);

-- Who waits, for operators (Admin.describe): the provider polls, so this is information, not a queue.
CREATE TABLE IF NOT EXISTS ${p}waiters (
    name VARCHAR(512) NOT NULL,
    owner VARCHAR(128) NOT NULL,
    session_id VARCHAR(64) NOT NULL,
    client_name VARCHAR(256) NOT NULL,
    mode VARCHAR(16) NOT NULL,
    permits INT NOT NULL,
    max_permits INT NOT NULL,
    seq BIGINT NOT NULL,
    since_ms BIGINT NOT NULL,
    until_ms BIGINT NOT NULL,
    PRIMARY KEY (name, owner)
);

-- Fencing tokens: one sequence for every name, so tokens grow across names too. NO CACHE, so that
-- a crash never loses track of values already handed out.
CREATE SEQUENCE IF NOT EXISTS ${p}tokens START WITH 1 NO CACHE;

-- Versioned registers (VersionedRegister): one row per key, in a name space of their own (a
-- register and a lock of one name do not meet). version is 1 after the first write and grows by one
-- per write; a compare-and-set is one UPDATE ... WHERE version = the expected one.
CREATE TABLE IF NOT EXISTS ${p}registers (
    name VARCHAR(512) NOT NULL PRIMARY KEY,
    version BIGINT NOT NULL,
    data VARBINARY(65536) NOT NULL
);

-- Keys (Keys) are the registers' rows: a register and a key of one name are one record. A key
-- attached to a session names it in owner; one with a time to live has expires_ms (the database's
-- clock, epoch milliseconds); neither is set for a key that lives until deleted. A key whose
-- expires_ms has passed, or whose owner's session has ended, is absent to every read at once, and
-- deleted by the next sweep. Databases created before keys get the columns here.
ALTER TABLE ${p}registers ADD COLUMN IF NOT EXISTS owner VARCHAR(64);
ALTER TABLE ${p}registers ADD COLUMN IF NOT EXISTS expires_ms BIGINT;
CREATE INDEX IF NOT EXISTS ${p}registers_owner ON ${p}registers (owner);
CREATE INDEX IF NOT EXISTS ${p}registers_expires ON ${p}registers (expires_ms);
-- H2 compares VARCHAR by UTF-16 code units, not by the bytes of UTF-8: listings order by this column.
ALTER TABLE ${p}registers ADD COLUMN IF NOT EXISTS name_utf8 VARBINARY(2048) GENERATED ALWAYS AS (CAST(name AS VARBINARY(2048)));
CREATE INDEX IF NOT EXISTS ${p}registers_utf8 ON ${p}registers (name_utf8);

-- The sessions that have keys attached (Keys, PutOptions.attach()): a row from the session's first
-- attached key until it ends. Its client renews expires_ms (database time) every third of the
-- session's TTL; a row past it has ended, and the sweep deletes it and its keys in one transaction.
CREATE TABLE IF NOT EXISTS ${p}sessions (
    session_id VARCHAR(64) NOT NULL PRIMARY KEY,
    client_name VARCHAR(256) NOT NULL,
    expires_ms BIGINT NOT NULL
);
