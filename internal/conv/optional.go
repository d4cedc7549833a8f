package conv

// Opt is a field of an update command that can be left alone, set to a value, or cleared
// (removed). The front doors map their wire forms onto it (for example a form value "null"
// becomes Clear); the domain never sees a sentinel string.
type Opt[T any] struct {
	state optState
	v     T
}

type optState uint8

const (
	optAbsent optState = iota
	optSet
	optClear
)

// Set returns an Opt holding v.
func Set[T any](v T) Opt[T] { return Opt[T]{state: optSet, v: v} }

// Clear returns an Opt that removes the value.
func Clear[T any]() Opt[T] { return Opt[T]{state: optClear} }

// Absent reports whether the field was not given (the zero Opt).
func (o Opt[T]) Absent() bool { return o.state == optAbsent }

// IsSet reports whether the field was given a value.
func (o Opt[T]) IsSet() bool { return o.state == optSet }

// IsClear reports whether the field asks to remove the value.
func (o Opt[T]) IsClear() bool { return o.state == optClear }

// Get returns the value and whether one was set.
func (o Opt[T]) Get() (T, bool) { return o.v, o.state == optSet }

// Value returns the value (the zero T unless IsSet).
func (o Opt[T]) Value() T { return o.v }
