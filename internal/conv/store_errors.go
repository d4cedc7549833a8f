package conv

import "errors"

// ErrStorageFull means the store could not write because its storage is full (SQLite's
// SQLITE_FULL, PostgreSQL's SQLSTATE 53100 disk_full). Engines map their driver's code to it
// (possibly wrapped); the HTTP layer answers 503 (20503) with a message that says so. Nothing
// was written: the client may retry once space is freed.
var ErrStorageFull = errors.New("storage full")
