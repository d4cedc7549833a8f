-- The control plane's clock (POST /parley/v1/Clock): how far the emulated time runs ahead of
-- the system clock, in milliseconds. One row, shared by every replica of a database, which
-- re-read it; it only ever grows (the emulated time never goes back).
CREATE TABLE control_clock (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	offset_ms BIGINT NOT NULL
);
