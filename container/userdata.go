package container

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
)

// SetUserdataPaths points the record at its /etc/hosts, /etc/hostname and
// /etc/resolv.conf files in the container's directory (dir = Store.Dir).
func SetUserdataPaths(c *Container, dir string) {
	ud := filepath.Join(dir, "userdata")
	c.HostsPath = filepath.Join(ud, "hosts")
	c.HostnamePath = filepath.Join(ud, "hostname")
	c.ResolvConfPath = filepath.Join(ud, "resolv.conf")
}

// WriteUserdata (re)writes the three files from the record and the host,
// as Docker does on every start (so a changed host resolv.conf is picked up).
func WriteUserdata(c *Container) error {
	if c.HostsPath == "" {
		return fmt.Errorf("container %s has no userdata paths", shortID(c.ID))
	}
	host := c.HostConfig.NetworkMode == "host"
	files := []struct {
		path string
		data []byte
	}{
		{c.HostnamePath, []byte(c.Config.Hostname + "\n")},
		{c.HostsPath, append(hostsFile(c.Config.Hostname, host), extraHostLines(c.HostConfig.ExtraHosts, hostAddress)...)},
		{c.ResolvConfPath, withDNS(resolvConf(host), c.HostConfig)},
	}
	for _, f := range files {
		if sameContent(f.path, f.data) {
			continue // unchanged since the last start: no temp file and rename
		}
		// 0644: the files are read inside the container by any user.
		if err := writeRenamed(f.path, f.data, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", filepath.Base(f.path), err)
		}
	}
	return nil
}

// sameContent reports whether path holds exactly data (a few hundred
// bytes: reading is cheaper than the temp file, chmod and rename).
func sameContent(path string, data []byte) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	buf := make([]byte, len(data)+1)
	n, err := io.ReadFull(f, buf)
	return err == io.ErrUnexpectedEOF && bytes.Equal(buf[:n], data)
}

// writeRenamed replaces path atomically (temp file + rename) without
// fsync: these files are regenerated on every start, so a crash can cost
// nothing that matters, and create stays fast.
func writeRenamed(path string, data []byte, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), perm)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// hostsFile is Docker's default /etc/hosts for a container, or the host's
// own with --network host.
func hostsFile(hostname string, hostNet bool) []byte {
	if hostNet {
		if data, err := os.ReadFile("/etc/hosts"); err == nil {
			return data
		}
	}
	var b bytes.Buffer
	b.WriteString("127.0.0.1\tlocalhost\n")
	b.WriteString("::1\tlocalhost ip6-localhost ip6-loopback\n")
	b.WriteString("fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n")
	if hostname != "" {
		fmt.Fprintf(&b, "127.0.0.1\t%s\n", hostname)
	}
	return b.Bytes()
}

// resolvConf is the host's resolv.conf. With a private network namespace,
// Docker drops loopback nameservers (they would point into the container),
// reading systemd-resolved's upstream list instead of its 127.0.0.53 stub,
// and falls back to Google's public DNS when none remain.
func resolvConf(hostNet bool) []byte {
	data, err := os.ReadFile("/etc/resolv.conf")
	if err != nil {
		data = nil
	}
	if hostNet {
		return data
	}
	if bytes.Contains(data, []byte("127.0.0.53")) {
		if up, err := os.ReadFile("/run/systemd/resolve/resolv.conf"); err == nil {
			data = up
		}
	}
	return filterResolvConf(data)
}

func filterResolvConf(data []byte) []byte {
	var b bytes.Buffer
	servers := 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "nameserver" {
			ip := net.ParseIP(f[1])
			if ip != nil && ip.IsLoopback() {
				continue
			}
			servers++
		}
		b.WriteString(line + "\n")
	}
	if servers == 0 {
		b.WriteString("nameserver 8.8.8.8\nnameserver 8.8.4.4\n")
	}
	return b.Bytes()
}
