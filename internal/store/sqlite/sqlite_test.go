package sqlite_test

import (
	"testing"

	"github.com/parley-dev/parley/internal/store/storetest"
)

// TestConformance runs the store conformance suite on SQLite.
func TestConformance(t *testing.T) {
	storetest.Conformance(t, storetest.SQLite)
}
