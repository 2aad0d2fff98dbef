// Package container owns the container record and its state machine, names
// and ids, OCI spec generation from an image config and run options, the
// per-container supervisor, logs, and the attach/exec session protocol.
package container
