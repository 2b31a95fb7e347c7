-- Holdfast lock tables for PostgreSQL (9.6 or newer; tested with 14).
-- The provider runs this on first use (holdfast.createSchema=true, the default). To create the schema
-- yourself, replace ${p} by your table prefix (default holdfast_) and run it once; every statement is
-- idempotent, so running it again, or from two processes at once, does no harm.

-- One row per lock name ever used: the point where acquirers of one name serialize (SELECT ... FOR
-- UPDATE). It holds no state. Rows of names nobody holds may be deleted at any time.
CREATE TABLE IF NOT EXISTS ${p}names (
    name VARCHAR(512) COLLATE "C" NOT NULL PRIMARY KEY
);

-- One row per holder: an exclusive holder, each shared holder, each semaphore holder. Times are
-- milliseconds since the epoch by the DATABASE's clock, never a client's.
CREATE TABLE IF NOT EXISTS ${p}holders (
    name VARCHAR(512) COLLATE "C" NOT NULL,
    owner VARCHAR(128) NOT NULL,          -- session id ':' attempt number, unique per grant
    session_id VARCHAR(64) NOT NULL,
    client_name VARCHAR(256) NOT NULL,
    mode VARCHAR(16) NOT NULL,            -- EXCLUSIVE, SHARED or PERMITS
    permits INTEGER NOT NULL,
    max_permits INTEGER NOT NULL,         -- 1 for locks, the semaphore's size for semaphores
    token BIGINT NOT NULL,                -- fencing token, from ${p}tokens
    acquired_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL,           -- the grant lapses at this database time unless renewed
    lease_timeout BOOLEAN NOT NULL,       -- whether the holder asked for an explicit lease timeout
    PRIMARY KEY (name, owner)
);

-- Who waits, for operators (Admin.describe): the provider polls, so this is information, not a queue.
CREATE TABLE IF NOT EXISTS ${p}waiters (
    name VARCHAR(512) COLLATE "C" NOT NULL,
    owner VARCHAR(128) NOT NULL,
    session_id VARCHAR(64) NOT NULL,
    client_name VARCHAR(256) NOT NULL,
    mode VARCHAR(16) NOT NULL,
    permits INTEGER NOT NULL,
    max_permits INTEGER NOT NULL,
    seq BIGINT NOT NULL,                  -- arrival order
    since_ms BIGINT NOT NULL,
    until_ms BIGINT NOT NULL,             -- the waiter's deadline; a row past it is ignored
    PRIMARY KEY (name, owner)
);

-- Fencing tokens: one sequence for every name, so tokens grow across names too. NO CYCLE, and
-- CACHE 1 (the default) so that values are handed out in order across sessions.
CREATE SEQUENCE IF NOT EXISTS ${p}tokens CACHE 1 NO CYCLE;

-- Versioned registers (VersionedRegister): one row per key, in a name space of their own (a
-- register and a lock of one name do not meet). version is 1 after the first write and grows by one
-- per write; a compare-and-set is one UPDATE ... WHERE version = the expected one.
CREATE TABLE IF NOT EXISTS ${p}registers (
    name VARCHAR(512) COLLATE "C" NOT NULL PRIMARY KEY,
    version BIGINT NOT NULL,
    data BYTEA NOT NULL                   -- at most 64 KiB
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

-- The sessions that have keys attached (Keys, PutOptions.attach()): a row from the session's first
-- attached key until it ends. Its client renews expires_ms (database time) every third of the
-- session's TTL; a row past it has ended, and the sweep deletes it and its keys in one transaction.
CREATE TABLE IF NOT EXISTS ${p}sessions (
    session_id VARCHAR(64) NOT NULL PRIMARY KEY,
    client_name VARCHAR(256) NOT NULL,
    expires_ms BIGINT NOT NULL
);
