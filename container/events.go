package container

import (
	"maps"

	"github.com/skiff-dev/skiff/store"
)

// Emit records a container event (store.Emit) with Docker's attributes:
// the container's labels, its image and name, and extra (exitCode,
// signal, ...).
func (s *Store) Emit(c *Container, action string, extra map[string]string) {
	Emit(s.st, c, action, extra)
}

// Emit is Store.Emit for callers that hold only the store (the engine's
// stop, kill and exec need no container store to report an event).
func Emit(st *store.Store, c *Container, action string, extra map[string]string) {
	attrs := make(map[string]string, len(c.Config.Labels)+2+len(extra))
	maps.Copy(attrs, c.Config.Labels)
	if c.Config.Image != "" {
		attrs["image"] = c.Config.Image
	} else if c.Image != "" {
		attrs["image"] = c.Image
	}
	if c.Name != "" {
		attrs["name"] = c.Name
	}
	maps.Copy(attrs, extra)
	st.Emit("container", action, c.ID, attrs)
}
