package container

import (
	"fmt"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/skiff-dev/skiff/store"
)

// --network container:ID: the container joins another one's network
// namespace, as Docker's container network mode. It takes that
// container's hostname and its /etc/hosts, /etc/hostname and
// /etc/resolv.conf, which describe the network it now shares.

// joinedNetwork is the id of the container whose network c joins.
func joinedNetwork(c *Container) (string, bool) {
	id, ok := strings.CutPrefix(c.HostConfig.NetworkMode, "container:")
	return id, ok && id != ""
}

// joinNetwork points spec at the running target's network namespace and
// /etc files.
func joinNetwork(cs *Store, c *Container, spec *specs.Spec) error {
	id, ok := joinedNetwork(c)
	if !ok {
		return nil
	}
	target, err := cs.Get(id)
	if err != nil {
		return err
	}
	if !target.IsRunning() || target.State.Pid == 0 {
		return store.Conflict("cannot join network of a non running container: %s", id)
	}
	for i, ns := range spec.Linux.Namespaces {
		if ns.Type == specs.NetworkNamespace {
			spec.Linux.Namespaces[i].Path = fmt.Sprintf("/proc/%d/ns/net", target.State.Pid)
		}
	}
	spec.Hostname = target.Config.Hostname
	files := map[string]string{"/etc/hosts": target.HostsPath, "/etc/hostname": target.HostnamePath, "/etc/resolv.conf": target.ResolvConfPath}
	for i, m := range spec.Mounts {
		if src := files[m.Destination]; src != "" && m.Type == "bind" && (m.Source == c.HostsPath || m.Source == c.HostnamePath || m.Source == c.ResolvConfPath) {
			spec.Mounts[i].Source = src
		}
	}
	return nil
}
