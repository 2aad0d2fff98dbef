package container

import "time"

// summaryRecord is the part of a container record that ps shows, filters
// on or reconciles: ListSummaries decodes records into it, so listing a
// thousand containers skips (scans without allocating) what ps never
// reads: the environment, most of the host config, the rootfs plan, the
// userdata paths. Field names and tags are Container's; a field ps starts
// to show must be added here too (TestSummaryFields checks the ones it
// shows today).
type summaryRecord struct {
	ID      string    `json:"Id"`
	Name    string    `json:"Name"`
	Created time.Time `json:"Created"`
	Image   string    `json:"Image"`
	ImageID string    `json:"ImageID"`
	Config  struct {
		Image        string              `json:"Image,omitempty"`
		Cmd          []string            `json:"Cmd,omitempty"`
		Entrypoint   []string            `json:"Entrypoint,omitempty"`
		Labels       map[string]string   `json:"Labels,omitempty"`
		ExposedPorts map[string]struct{} `json:"ExposedPorts,omitempty"`
	} `json:"Config"`
	HostConfig struct {
		NetworkMode string `json:"NetworkMode"`
	} `json:"HostConfig"`
	Mounts []Mount `json:"Mounts,omitempty"`
	State  State   `json:"State"`
}

// container is the summary as a (partial) Container.
func (r *summaryRecord) container() *Container {
	c := &Container{
		ID: r.ID, Name: r.Name, Created: r.Created, Image: r.Image, ImageID: r.ImageID,
		Mounts: r.Mounts, State: r.State,
	}
	c.Config.Image, c.Config.Cmd, c.Config.Entrypoint = r.Config.Image, r.Config.Cmd, r.Config.Entrypoint
	c.Config.Labels, c.Config.ExposedPorts = r.Config.Labels, r.Config.ExposedPorts
	c.HostConfig.NetworkMode = r.HostConfig.NetworkMode
	return c
}
