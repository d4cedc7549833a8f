package sqlstore

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestMigrationFilesOrderedByNumber(t *testing.T) {
	fsys := fstest.MapFS{
		"0008_account_origin.sql": {}, "0007_clock.sql": {}, "10000_later.sql": {}, "0001_init.sql": {},
		"README.md": {},
	}
	got, err := migrationFiles(fsys)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range got {
		names = append(names, m.name)
	}
	if want := "0001_init.sql 0007_clock.sql 0008_account_origin.sql 10000_later.sql"; strings.Join(names, " ") != want {
		t.Errorf("order: %v, want %s", names, want)
	}
}

func TestMigrationFilesRefuseOneNumberTwice(t *testing.T) {
	_, err := migrationFiles(fstest.MapFS{"0007_clock.sql": {}, "0007_account_origin.sql": {}})
	if err == nil || !strings.Contains(err.Error(), "same number") {
		t.Errorf("two 0007 migrations: %v", err)
	}
}

func TestMigrationFilesNeedANumber(t *testing.T) {
	if _, err := migrationFiles(fstest.MapFS{"init.sql": {}}); err == nil {
		t.Error("a migration without a number was accepted")
	}
}
