package conv

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// SnapshotVersion is the version of the snapshot documents this Parley reads and writes.
const SnapshotVersion = 1

// ErrSnapshotInvalid is wrapped by stores when a snapshot row does not fit its table.
var ErrSnapshotInvalid = errors.New("invalid snapshot")

// Snapshot is an account's whole state: the rows of each of the store's tables that hold
// it, keyed by table name, each row by column name. Values are strings, integers, booleans,
// nil, and dates (date_* columns) as RFC 3339 strings. Trigger-kept counters and storage
// sequence numbers are left out (they are derived on restore).
type Snapshot struct {
	Version           int
	AccountSid        string
	DefaultServiceSid string
	Tables            map[string][]SnapshotRow
}

// SnapshotRow is one row of a Snapshot table.
type SnapshotRow map[string]any

// ControlStore is the part of the Store the control plane uses.
type ControlStore interface {
	// Ping checks that the store answers.
	Ping(ctx context.Context) error
	// ResetAccount deletes every resource of the account but the account, its API keys and
	// credentials, and clears its default service (call it inside WithTx).
	ResetAccount(ctx context.Context, accountSid string) error
	// ExportAccount returns the account's state (call it first in a WithTx transaction for
	// one consistent state).
	ExportAccount(ctx context.Context, accountSid string) (*Snapshot, error)
	// ImportAccount inserts a snapshot's rows into an emptied account (inside WithTx). A row
	// that does not fit is refused with an error wrapping ErrSnapshotInvalid.
	ImportAccount(ctx context.Context, accountSid string, s *Snapshot) error
	// GetClockOffset returns the shared clock offset (0 when never set).
	GetClockOffset(ctx context.Context) (time.Duration, error)
	// SetClockOffset stores the shared clock offset.
	SetClockOffset(ctx context.Context, d time.Duration) error
}

// Ping checks that the store answers.
func (s *Service) Ping(ctx context.Context) error { return s.store.Ping(ctx) }

// Snapshot returns the account's whole state, as of one moment (it is read in one
// transaction).
func (s *Service) Snapshot(ctx context.Context, accountSid string) (*Snapshot, error) {
	var snap *Snapshot
	err := s.store.WithTx(ctx, func(tx Store) error {
		var err error
		snap, err = tx.ExportAccount(ctx, accountSid)
		return err
	})
	return snap, mapStoreErr(err)
}

// Restore replaces the account's state with snap, in one transaction: everything Reset
// removes is removed, then snap's rows are inserted. snap is checked first; a snapshot that
// breaks a rule (unknown version, another account, a row naming a service or conversation
// the snapshot lacks, two participants with one identity in a conversation, a default service
// that is not in it) is refused with 20422 and nothing changes.
func (s *Service) Restore(ctx context.Context, accountSid string, snap *Snapshot) error {
	if err := checkSnapshot(accountSid, snap); err != nil {
		return err
	}
	err := s.store.WithTx(ctx, func(tx Store) error {
		if err := tx.ResetAccount(ctx, accountSid); err != nil {
			return err
		}
		return tx.ImportAccount(ctx, accountSid, snap)
	})
	s.cache.clear()
	if errors.Is(err, ErrSnapshotInvalid) {
		return invalid(20422, "Invalid snapshot: %v", err)
	}
	return err
}

// snapshotInvalid is the 400 of a snapshot that breaks a rule.
func snapshotInvalid(format string, args ...any) error {
	return invalid(20422, "Invalid snapshot: "+format, args...)
}

func rowString(r SnapshotRow, col string) (string, bool) {
	v, ok := r[col]
	if !ok || v == nil {
		return "", false
	}
	str, isStr := v.(string)
	if !isStr {
		return fmt.Sprint(v), true
	}
	return str, true
}

// checkSnapshot checks the rules a snapshot must keep beyond its tables' shapes.
func checkSnapshot(accountSid string, snap *Snapshot) error {
	if snap == nil {
		return snapshotInvalid("no document")
	}
	if snap.Version != SnapshotVersion {
		return snapshotInvalid("version %d is not supported (this Parley reads version %d)", snap.Version, SnapshotVersion)
	}
	if snap.AccountSid != "" && snap.AccountSid != accountSid {
		// A snapshot of another account may be restored: its rows are moved to this one.
		for _, rows := range snap.Tables {
			for _, r := range rows {
				if a, ok := rowString(r, "account_sid"); ok && a == snap.AccountSid {
					r["account_sid"] = accountSid
				}
			}
		}
	}
	services := map[string]bool{}
	for i, r := range snap.Tables["services"] {
		sid, _ := rowString(r, "sid")
		if !IsSID(PrefixService, sid) {
			return snapshotInvalid("services[%d]: sid %q is not a Conversation Service SID", i, sid)
		}
		services[sid] = true
	}
	if snap.DefaultServiceSid == "" || !services[snap.DefaultServiceSid] {
		return snapshotInvalid("default_service_sid %q is not one of the snapshot's services", snap.DefaultServiceSid)
	}
	conversations := map[string]bool{}
	for i, r := range snap.Tables["conversations"] {
		sid, _ := rowString(r, "sid")
		if !IsSID(PrefixConversation, sid) {
			return snapshotInvalid("conversations[%d]: sid %q is not a Conversation SID", i, sid)
		}
		conversations[sid] = true
	}
	identities := map[[2]string]bool{}
	for table, rows := range snap.Tables {
		for i, r := range rows {
			if sv, ok := rowString(r, "service_sid"); ok && table != "services" && !services[sv] {
				return snapshotInvalid("%s[%d]: service_sid %s is not one of the snapshot's services", table, i, sv)
			}
			if c, ok := rowString(r, "conversation_sid"); ok && !conversations[c] {
				return snapshotInvalid("%s[%d]: conversation_sid %s is not one of the snapshot's conversations", table, i, c)
			}
			if table != "participants" {
				continue
			}
			c, _ := rowString(r, "conversation_sid")
			if c == "" {
				return snapshotInvalid("participants[%d]: conversation_sid is missing", i)
			}
			if id, ok := rowString(r, "identity"); ok {
				if identities[[2]string{c, id}] {
					return snapshotInvalid("participants[%d]: conversation %s already has a participant with identity %q", i, c, id)
				}
				identities[[2]string{c, id}] = true
			}
		}
	}
	return nil
}
