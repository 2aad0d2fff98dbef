package container

import (
	"fmt"
	"strconv"

	units "github.com/docker/go-units"

	"github.com/skiff-dev/skiff/store"
)

// LogConfig is --log-driver and --log-opt, as inspect's HostConfig shows
// them. skiff writes one log format, Docker's json-file; "local" is taken
// as the same, and "none" keeps no log at all.
type LogConfig struct {
	Type   string            `json:"Type"`
	Config map[string]string `json:"Config"`
}

// DefaultLogDriver is Docker's default.
const DefaultLogDriver = "json-file"

// ParseLogConfig checks the driver and its options: max-size (rotate the
// log past this size), max-file (rotated files kept, the current one
// included) and compress=false.
func ParseLogConfig(driver string, opts map[string]string) (LogConfig, error) {
	if driver == "" {
		driver = DefaultLogDriver
	}
	c := LogConfig{Type: driver, Config: map[string]string{}}
	switch driver {
	case "json-file", "local":
	case "none":
		if len(opts) > 0 {
			return c, store.Invalid("logging driver %q takes no options", driver)
		}
		return c, nil
	default:
		return c, store.Invalid("logging driver %q is not supported (json-file, local or none)", driver)
	}
	for k, v := range opts {
		switch k {
		case "max-size":
			if n, err := units.RAMInBytes(v); err != nil || n <= 0 {
				return c, store.Invalid("invalid log-opt max-size %q: must be a positive size", v)
			}
		case "max-file":
			if n, err := strconv.Atoi(v); err != nil || n < 1 {
				return c, store.Invalid("invalid log-opt max-file %q: must be a positive number", v)
			}
		case "compress":
			if b, err := strconv.ParseBool(v); err != nil || b {
				return c, store.Invalid("log-opt compress=%s is not supported", v)
			}
		default:
			return c, store.Invalid("unknown log opt '%s' for %s log driver", k, driver)
		}
		c.Config[k] = v
	}
	if c.Config["max-file"] != "" && c.Config["max-file"] != "1" && c.Config["max-size"] == "" {
		return c, store.Invalid("max-file cannot be set without max-size")
	}
	return c, nil
}

// rotation is the log's size limit (0: none) and how many files to keep.
func (c LogConfig) rotation() (maxSize int64, maxFile int) {
	maxFile = 1
	if v := c.Config["max-size"]; v != "" {
		maxSize, _ = units.RAMInBytes(v)
	}
	if v := c.Config["max-file"]; v != "" {
		maxFile, _ = strconv.Atoi(v)
	}
	return maxSize, maxFile
}

// rotatedName is the n-th older log beside path (path.1 the newest).
func rotatedName(path string, n int) string { return fmt.Sprintf("%s.%d", path, n) }
