package bus

// Application property names set by snapcopy (the deferral counters are
// copyjob's: see copyjob.DeferState.SetProperties).
const (
	propJobKey  = "snapcopyJobKey"
	propOutcome = "snapcopyOutcome"
)
