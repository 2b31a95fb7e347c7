package holdfast

// Background work: every goroutine of a Client is started through its one
// spawner (Config.Go, carried by its transport as spawn), as every wait is on
// its one Clock. goroutine is the spawner of a Client given none; this file
// is the only one of the library with a go statement (sources_test.go holds
// the others to that).

// goroutine runs f in a goroutine of its own: the default of Config.Go.
func goroutine(f func()) { go f() }
