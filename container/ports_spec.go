package container

// Docker's -p and --expose syntax, parsed as the docker CLI parses it:
// with go-connections/nat (which docker/cli itself uses) for the short
// form [ip:][hostPort[-end]:]containerPort[-end][/proto], after turning
// the long form (target=80,published=8080,protocol=udp) into it.

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/docker/go-connections/nat"
)

// ParsePublish turns -p values into port bindings and --expose values
// (and every published port) into exposed ports, keyed "80/tcp". A host
// port may stay a range ("8080-8081") when the container port is single:
// the supervisor then takes the first free port of it, as dockerd does.
func ParsePublish(publish, expose []string) (exposed map[string]struct{}, bindings map[string][]PortBinding, err error) {
	specs, err := longPublishToShort(publish)
	if err != nil {
		return nil, nil, err
	}
	ports, natBindings, err := nat.ParsePortSpecs(specs)
	if err != nil {
		return nil, nil, err
	}
	exposed = map[string]struct{}{}
	for p := range ports {
		exposed[string(p)] = struct{}{}
	}
	for p, bs := range natBindings {
		if bindings == nil {
			bindings = map[string][]PortBinding{}
		}
		for _, b := range bs {
			bindings[string(p)] = append(bindings[string(p)], PortBinding{HostIP: b.HostIP, HostPort: b.HostPort})
		}
	}
	for _, e := range expose {
		proto, port := nat.SplitProtoPort(e)
		proto = strings.ToLower(proto)
		start, end, err := nat.ParsePortRange(port)
		if err == nil && proto != "tcp" && proto != "udp" && proto != "sctp" {
			err = fmt.Errorf("invalid proto: %s", proto)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("invalid range format for --expose: %w", err)
		}
		for p := start; p <= end; p++ {
			exposed[strconv.FormatUint(p, 10)+"/"+proto] = struct{}{}
		}
	}
	if len(exposed) == 0 {
		exposed = nil
	}
	return exposed, bindings, nil
}

// longPublishToShort rewrites -p's long form into the short one, as the
// docker CLI's convertToStandardNotation.
func longPublishToShort(publish []string) ([]string, error) {
	out := make([]string, 0, len(publish))
	for _, p := range publish {
		if !strings.Contains(p, "=") {
			out = append(out, p)
			continue
		}
		params := map[string]string{"protocol": "tcp"}
		for _, param := range strings.Split(p, ",") {
			k, v, ok := strings.Cut(param, "=")
			if !ok || k == "" {
				return nil, fmt.Errorf("invalid publish opts format (should be name=value but got '%s')", param)
			}
			params[k] = v
		}
		out = append(out, fmt.Sprintf("%s:%s/%s", params["published"], params["target"], params["protocol"]))
	}
	return out, nil
}
