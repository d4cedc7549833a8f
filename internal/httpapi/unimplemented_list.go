package httpapi

import "slices"

// Unimplemented returns the spec operations, as (method, path template) pairs, that Parley
// does not serve yet and answers with 501 (20501): a copy of the list in unimplemented.go.
func Unimplemented() [][2]string { return slices.Clone(unimplemented) }
