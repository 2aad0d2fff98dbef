package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Docker is measured with Debian's docker.io (20.10): its client, not the
// newer one a host may have in /usr/local/bin, so client and daemon match.
const (
	dockerCLI    = "/usr/bin/docker"
	dockerDaemon = "/usr/sbin/dockerd"
)

// dockerd is a private Docker daemon for the bench: its own data-root,
// exec-root, pidfile, socket and config file, so it neither sees nor
// disturbs a system Docker, and everything it made goes away with dir.
type dockerd struct {
	dir       string // data, exec-root, socket, log
	sock      string
	cgroup    string // --cgroup-parent, removed at stop
	bridge    string // "docker0", a private bridge's name, or "none"
	ownBridge string // the bridge made for or by this daemon: deleted at stop
	// noBridgeWhy says why the daemon runs with --bridge=none.
	noBridgeWhy string
	cmd         *exec.Cmd
	done        chan struct{} // closed when the daemon exits
	mirror      string
	// newDirs are host directories dockerd and its shims make outside
	// their roots whatever the config says; removed at stop when empty.
	newDirs []string
}

// strayDirs are made by dockerd (plugin discovery) and containerd's shims
// (their sockets) at fixed paths.
var strayDirs = []string{"/run/docker", "/run/docker/plugins", "/run/containerd", "/run/containerd/s"}

// ensureDocker installs docker.io from Debian when its daemon or client is
// missing. Installing must not start a system dockerd: a policy-rc.d that
// refuses every start is put in place for the install when none exists
// (no systemd runs here, so invoke-rc.d is what would start it).
func ensureDocker() error {
	_, derr := os.Stat(dockerDaemon)
	_, cerr := os.Stat(dockerCLI)
	if derr == nil && cerr == nil {
		return nil
	}
	const policy = "/usr/sbin/policy-rc.d"
	if _, err := os.Stat(policy); errors.Is(err, os.ErrNotExist) {
		if err := os.WriteFile(policy, []byte("#!/bin/sh\n# bench: no service starts while docker.io installs\nexit 101\n"), 0o755); err != nil {
			return fmt.Errorf("install docker.io: %w", err)
		}
		defer os.Remove(policy)
	}
	logf("installing docker.io (apt-get, no recommends; services not started)")
	for _, args := range [][]string{{"update", "-qq"}, {"install", "-y", "-qq", "--no-install-recommends", "docker.io"}} {
		cmd := exec.Command("apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("install docker.io: apt-get %s: %w", args[0], err)
		}
	}
	return nil
}

// daemonConfig is the daemon.json the bench's dockerd runs with; every
// setting is in the file (dockerd refuses one given both as a flag and in
// the file). DEVELOPERS.md describes the same settings.
func (d *dockerd) daemonConfig(bridge string) map[string]any {
	conf := map[string]any{
		"data-root": filepath.Join(d.dir, "data"),
		"exec-root": filepath.Join(d.dir, "x"),
		"pidfile":   filepath.Join(d.dir, "dockerd.pid"),
		// 20.10 writes its trust key to /etc/docker/key.json otherwise.
		"deprecated-key-path": filepath.Join(d.dir, "key.json"),
		"hosts":               []string{"unix://" + d.sock},
		"storage-driver":      "overlay2",
		"cgroup-parent":       d.cgroup,
		"iptables":            false,
		"ip-masq":             false,
		"ip-forward":          false,
		"registry-mirrors":    []string{"http://" + d.mirror},
		"insecure-registries": []string{d.mirror},
		"log-level":           "warn",
		"features":            map[string]bool{"buildkit": false},
	}
	if bridge != "docker0" {
		conf["bridge"] = bridge
	}
	return conf
}

// startDockerd starts a private dockerd (which starts its own containerd)
// with regHost as its registry mirror. Its containers get a bridge as a
// user's Docker gives them: docker0 made by dockerd, or, when a docker0
// exists already (another Docker's: sharing it would hand out the same
// addresses twice), a bridge the bench makes for it. Only when no bridge
// can be set up does it run with --bridge=none, and never while a docker0
// exists, since dockerd then deletes docker0.
func startDockerd(base, regHost string) (*dockerd, error) {
	d := &dockerd{dir: filepath.Join(base, "d"), mirror: regHost,
		cgroup: fmt.Sprintf("/skb-docker-%d", os.Getpid())}
	d.sock = filepath.Join(d.dir, "docker.sock")
	if err := os.MkdirAll(d.dir, 0o700); err != nil {
		return nil, err
	}
	for _, dir := range strayDirs {
		if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
			d.newDirs = append(d.newDirs, dir)
		}
	}
	var errs []string
	try := func(bridge string) bool {
		if err := d.start(bridge); err != nil {
			logf("dockerd with bridge %s: %v", bridge, err)
			errs = append(errs, fmt.Sprintf("bridge %s: %v", bridge, err))
			return false
		}
		d.bridge = bridge
		return true
	}
	if _, err := net.InterfaceByName("docker0"); err != nil {
		if try("docker0") {
			d.ownBridge = "docker0"
			return d, nil
		}
		d.deleteBridge("docker0") // half made by the failed start, if at all
		d.noBridgeWhy = "the default bridge could not be set up here"
		if try("none") {
			return d, nil
		}
	} else {
		name, err := makeBridge()
		if err == nil {
			d.ownBridge = name
			if try(name) {
				return d, nil
			}
		} else {
			errs = append(errs, err.Error())
		}
	}
	d.stop()
	return nil, errors.New(strings.Join(errs, "; "))
}

// makeBridge makes a private bridge for dockerd ("bridge": name), with the
// first free 172.30.N.1/24, for a host whose docker0 is another daemon's.
func makeBridge() (string, error) {
	name := fmt.Sprintf("skbd%d", os.Getpid()%100000)
	used := map[string]bool{}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil {
				used[ipn.IP.Mask(net.CIDRMask(24, 32)).String()] = true
			}
		}
	}
	for n := 0; n < 256; n++ {
		if used[fmt.Sprintf("172.30.%d.0", n)] {
			continue
		}
		for _, args := range [][]string{
			{"link", "add", name, "type", "bridge"},
			{"addr", "add", fmt.Sprintf("172.30.%d.1/24", n), "dev", name},
			{"link", "set", name, "up"},
		} {
			if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
				exec.Command("ip", "link", "delete", name).Run()
				return "", fmt.Errorf("bridge %s: ip %s: %v: %s", name, strings.Join(args, " "), err, lastLine(string(out)))
			}
		}
		return name, nil
	}
	return "", errors.New("no free 172.30.N.0/24 for a private docker bridge")
}

func (d *dockerd) deleteBridge(name string) {
	if _, err := net.InterfaceByName(name); err != nil {
		return
	}
	if out, err := exec.Command("ip", "link", "delete", name).CombinedOutput(); err != nil {
		logf("delete bridge %s: %v: %s", name, err, lastLine(string(out)))
	}
}

func (d *dockerd) start(bridge string) error {
	conf := filepath.Join(d.dir, "daemon.json")
	data, err := json.MarshalIndent(d.daemonConfig(bridge), "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(conf, data, 0o600); err != nil {
		return err
	}
	logPath := filepath.Join(d.dir, "dockerd.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logFile.Close()
	d.cmd = exec.Command(dockerDaemon, "--config-file", conf)
	d.cmd.Stdout, d.cmd.Stderr = logFile, logFile
	// Its own process group: a Ctrl-C of the bench must reach the daemon
	// through the bench's clean stop, not kill it half-way.
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := d.cmd.Start(); err != nil {
		return fmt.Errorf("start dockerd: %w", err)
	}
	d.done = make(chan struct{})
	go func() { d.cmd.Wait(); close(d.done) }()
	if err := d.waitReady(60 * time.Second); err != nil {
		d.halt()
		log, _ := os.ReadFile(logPath)
		return fmt.Errorf("%w; dockerd log: %s", err, lastLine(string(log)))
	}
	return nil
}

// waitReady polls the API's /_ping until the daemon answers.
func (d *dockerd) waitReady(timeout time.Duration) error {
	client := d.client()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-d.done:
			return fmt.Errorf("dockerd exited: %v", d.cmd.ProcessState)
		default:
		}
		if resp, err := client.Get("http://docker/_ping"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("dockerd not ready after %s", timeout)
}

func (d *dockerd) client() *http.Client {
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var dl net.Dialer
			return dl.DialContext(ctx, "unix", d.sock)
		}}}
}

// halt stops the daemon process: SIGTERM (dockerd then stops its
// containers and its containerd), SIGKILL after 30 s.
func (d *dockerd) halt() {
	if d.cmd == nil || d.cmd.Process == nil || d.done == nil {
		return
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(30 * time.Second):
		logf("dockerd did not stop in 30 s: killing it")
		d.cmd.Process.Kill()
		<-d.done
	}
	d.cmd = nil
}

// stop stops the daemon and removes every trace of it: processes still
// running from its exec-root (containerd, shims), its mounts and files, its
// cgroups and the bridge it made.
func (d *dockerd) stop() {
	d.halt()
	for _, pid := range pidsUsing(d.dir) {
		logf("dockerd left pid %d running: killing it", pid)
		syscall.Kill(pid, syscall.SIGKILL)
	}
	if len(pidsUsing(d.dir)) > 0 {
		time.Sleep(500 * time.Millisecond)
	}
	if err := removeTree(d.dir); err != nil {
		logf("remove %s: %v", d.dir, err)
	}
	removeCgroups(d.cgroup)
	for i := len(d.newDirs) - 1; i >= 0; i-- {
		os.Remove(d.newDirs[i]) // only when empty: another daemon may use it now
	}
	if d.ownBridge != "" {
		d.deleteBridge(d.ownBridge)
	}
}

// pidsUsing lists processes whose command line mentions dir (containerd
// and its shims get the exec-root's socket path as an argument).
func pidsUsing(dir string) []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(cmdline), dir) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// removeCgroups removes the daemon's cgroup parent (empty by now) from
// every hierarchy, children first.
func removeCgroups(parent string) {
	hier, _ := filepath.Glob("/sys/fs/cgroup/*")
	for _, h := range append(hier, "/sys/fs/cgroup") {
		root := filepath.Join(h, parent)
		dirs, _ := filepath.Glob(filepath.Join(root, "*"))
		for _, sub := range dirs {
			if fi, err := os.Stat(sub); err == nil && fi.IsDir() {
				os.Remove(sub)
			}
		}
		os.Remove(root)
	}
}

// networkNote says how docker containers were networked, as the report
// does for the other engines.
func (d *dockerd) networkNote() string {
	if d.bridge == "none" {
		return "docker: " + d.noBridgeWhy + ", so dockerd ran with --bridge=none: containers get only loopback (as skiff's default)."
	}
	which := "the default bridge network (docker0"
	if d.bridge != "docker0" {
		which = "a bridge network as the default one, on a bridge of its own since docker0 was another Docker's (" + d.bridge
	}
	return "docker: " + which + ", a veth per container) with --iptables=false and --ip-masq=false: no NAT rules, so containers reach nothing outside; pulls go from dockerd itself to the registry mirror on 127.0.0.1."
}

// bridgeShort names the docker network mode for a row's note.
func (d *dockerd) bridgeShort() string {
	if d.bridge == "none" {
		return "--bridge=none, loopback only"
	}
	return "bridge " + d.bridge + " without iptables"
}
