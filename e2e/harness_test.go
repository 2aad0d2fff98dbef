package e2e

// The harness: TestMain (binary, registry, fixtures, users) and Env, a private
// skiff store plus the user it runs as. Writing a test:
//
//	func TestPullSomething(t *testing.T) {
//		forEachMode(t, func(t *testing.T, env *Env) { // root, skiffsub, skiffnosub
//			env.mustRun("pull", "busybox")
//			res := env.run("images", "-q")           // Result{Stdout, Stderr, Code}
//			env.mustFail(125, "pull", "nope:nope")   // exit code + one-line error
//		})
//	}
//
// newEnv(t) gives a root-only env; newEnvAs(t, users["skiffsub"]) a specific
// user. env.runInput(stdin, args...) feeds stdin; env.command(ctx, args...)
// is the configured *exec.Cmd for background runs and signals (killGroup);
// env.Path/WriteFile place files the env's user owns; env.Vars adds
// environment; eventually(t, d, what, cond) polls. Fixtures are in fx
// (fixtures_test.go: fx.Busybox.ID, .Digest, .Short...), the registry is reg
// (reg.push, reg.ref, reg.blobGets), the token-auth one authHost. Every
// command's transcript is logged when the test fails (always with
// E2E_TRANSCRIPT=1). Name tests that need containers TestRun... .

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/moby/sys/mountinfo"
)

var (
	baseDir     string // suite temp dir, 0755, under a world-executable path
	skiffBin    string // the binary under test, 0755
	regConf     string // registries.conf every skiff call gets
	envCounter  atomic.Int64
	defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
)

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "e2e: the suite runs as root (it creates test users and runs skiff as them)")
		return 1
	}
	dir, err := os.MkdirTemp(tempParent(), "skiff-e2e-")
	if err == nil {
		err = os.Chmod(dir, 0o755)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	baseDir = dir
	defer removeTree(dir)
	if err := setup(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: setup:", err)
		return 1
	}
	defer reg.close()
	code := m.Run()
	if err := checkSentinel(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: FAIL: a hostile layer escaped the store:", err)
		code = 1
	}
	return code
}

// tempParent is $TMPDIR when the test users can traverse it, else /tmp.
func tempParent() string {
	for d := os.TempDir(); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil || fi.Mode().Perm()&0o001 == 0 {
			return "/tmp"
		}
		if d == "/" {
			return os.TempDir()
		}
	}
}

// eventually polls cond every 50ms until it holds or timeout passes.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// setup builds what every test needs; the independent slow parts (compiling
// skiff and hello) run concurrently.
func setup() error {
	for _, d := range []string{"bin", "fixtures", "envs"} {
		if err := os.MkdirAll(filepath.Join(baseDir, d), 0o755); err != nil {
			return err
		}
	}
	var wg sync.WaitGroup
	var binErr, helloErr, userErr error
	var hello []byte
	wg.Add(3)
	go func() { defer wg.Done(); binErr = prepareBinary() }()
	go func() { defer wg.Done(); hello, helloErr = buildHello() }()
	go func() { defer wg.Done(); userErr = setupUsers() }()
	wg.Wait()
	if err := errors.Join(binErr, helloErr, userErr); err != nil {
		return err
	}
	if err := startRegistry(); err != nil {
		return err
	}
	if err := startAuthRegistry(); err != nil {
		return err
	}
	if err := writeRegistriesConf(); err != nil {
		return err
	}
	if err := makeSentinel(); err != nil {
		return err
	}
	return buildFixtures(hello)
}

// prepareBinary copies $SKIFF_BIN (or a fresh CGO_ENABLED=0 build) into the
// suite dir, so the test users can execute it whatever the source path's
// permissions.
func prepareBinary() error {
	skiffBin = filepath.Join(baseDir, "bin", "skiff")
	if src := os.Getenv("SKIFF_BIN"); src != "" {
		return copyFile(src, skiffBin, 0o755)
	}
	repo, err := filepath.Abs("..")
	if err != nil {
		return err
	}
	cmd := exec.Command("go", "build", "-trimpath", "-o", skiffBin, ".")
	cmd.Dir = repo
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build skiff: %v\n%s", err, out)
	}
	return os.Chmod(skiffBin, 0o755)
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Chmod(dst, mode)
}

// Env is one private skiff store and the user that drives it.
type Env struct {
	t       testing.TB
	Mode    string    // "root", "skiffsub" or "skiffnosub"
	User    *TestUser // nil for root
	Dir     string    // private dir owned by the user: put files for the test here
	Root    string    // --root ($XDG_DATA_HOME/skiff)
	RunRoot string    // --runroot ($XDG_RUNTIME_DIR/skiff)
	// DefaultRoots drops --root/--runroot so skiff picks its defaults (for
	// rootless users these are Root and RunRoot through the XDG variables;
	// never set it for root, whose defaults are the host's /var/lib/skiff).
	DefaultRoots bool
	Home         string
	Timeout      time.Duration // per command; default 2 minutes
	Vars         []string      // extra environment for every command

	mu         sync.Mutex
	transcript []string
}

// Result is what one skiff invocation did.
type Result struct {
	Args   []string
	Stdout string
	Stderr string
	Code   int // -1: killed by the harness's timeout
}

func (r Result) String() string {
	return fmt.Sprintf("$ skiff %s\n[exit %d]\n[stdout]\n%s[stderr]\n%s", shellJoin(r.Args), r.Code, clip(r.Stdout), clip(r.Stderr))
}

// Lines returns stdout's non-empty lines with trailing spaces trimmed.
func (r Result) Lines() []string { return lines(r.Stdout) }

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimRight(l, " \r\t"); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func clip(s string) string {
	const max = 4000
	if len(s) > max {
		s = s[:max/2] + "\n...[clipped]...\n" + s[len(s)-max/2:]
	}
	if s != "" && !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	return s
}

func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n'\"$*?{}[]|;&<>()\\") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}

// newEnv returns a fresh store run as root.
func newEnv(t testing.TB) *Env { return newEnvAs(t, nil) }

// newEnvAs returns a fresh store run as u (nil: root). Its directories are
// owned by u and removed when the test ends.
func newEnvAs(t testing.TB, u *TestUser) *Env {
	t.Helper()
	mode := "root"
	if u != nil {
		mode = u.Name
	}
	dir := filepath.Join(baseDir, "envs", fmt.Sprintf("%s-%d", mode, envCounter.Add(1)))
	e := &Env{t: t, Mode: mode, User: u, Dir: dir, Timeout: 2 * time.Minute,
		Root: filepath.Join(dir, "data", "skiff"), RunRoot: filepath.Join(dir, "run", "skiff"), Home: filepath.Join(dir, "home")}
	for _, d := range []string{dir, e.Home, filepath.Join(dir, "run"), filepath.Join(dir, "tmp"), filepath.Join(dir, "data"), filepath.Join(dir, "config")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := e.chown(d); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		if t.Failed() || os.Getenv("E2E_TRANSCRIPT") != "" {
			e.mu.Lock()
			t.Logf("transcript of %s env %s:\n%s", e.Mode, e.Dir, strings.Join(e.transcript, "\n"))
			e.mu.Unlock()
		}
		e.cleanup()
	})
	return e
}

func (e *Env) chown(path string) error {
	if e.User == nil {
		return nil
	}
	return os.Lchown(path, e.User.Uid, e.User.Gid)
}

// Path returns a path inside the env's private dir.
func (e *Env) Path(name string) string { return filepath.Join(e.Dir, name) }

// WriteFile writes a file in the env's dir, owned by the env's user.
func (e *Env) WriteFile(name string, data []byte) string {
	e.t.Helper()
	p := e.Path(name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		e.t.Fatal(err)
	}
	if err := e.chown(p); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// environ is the whole environment of a skiff call: nothing leaks in from the
// test process except coverage settings.
func (e *Env) environ() []string {
	env := []string{
		"PATH=" + defaultPath,
		"HOME=" + e.Home,
		"USER=" + e.Mode,
		"LOGNAME=" + e.Mode,
		"XDG_RUNTIME_DIR=" + filepath.Join(e.Dir, "run"),
		"XDG_DATA_HOME=" + filepath.Join(e.Dir, "data"),
		"XDG_CONFIG_HOME=" + filepath.Join(e.Dir, "config"),
		"TMPDIR=" + filepath.Join(e.Dir, "tmp"),
		"CONTAINERS_REGISTRIES_CONF=" + regConf,
	}
	if v := os.Getenv("GOCOVERDIR"); v != "" {
		env = append(env, "GOCOVERDIR="+v)
	}
	return append(env, e.Vars...)
}

// command returns a configured skiff process (global flags, user, env) for
// callers that need to start it themselves: background runs, signals, pipes.
// It runs in its own process group, so killGroup reaches its children.
func (e *Env) command(ctx context.Context, args ...string) *exec.Cmd {
	full := append([]string{"--root", e.Root, "--runroot", e.RunRoot}, args...)
	if e.DefaultRoots {
		if e.User == nil {
			e.t.Fatal("DefaultRoots as root would use the host's /var/lib/skiff")
		}
		full = args
	}
	cmd := exec.CommandContext(ctx, skiffBin, full...)
	cmd.Dir = e.Dir
	cmd.Env = e.environ()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if e.User != nil {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(e.User.Uid), Gid: uint32(e.User.Gid), Groups: []uint32{}}
	}
	cmd.Cancel = func() error { return killGroup(cmd, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// killGroup sends sig to cmd's process group.
func killGroup(cmd *exec.Cmd, sig syscall.Signal) error {
	if cmd.Process == nil {
		return nil
	}
	return syscall.Kill(-cmd.Process.Pid, sig)
}

// run runs skiff with args and returns what it did; it never fails the test.
func (e *Env) run(args ...string) Result { return e.runInput(nil, args...) }

// runInput is run with stdin.
func (e *Env) runInput(stdin io.Reader, args ...string) Result {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), e.Timeout)
	defer cancel()
	cmd := e.command(ctx, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	res := Result{Args: args, Stdout: stdout.String(), Stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		res.Code = -1
		res.Stderr += fmt.Sprintf("\n[e2e: killed after the %s timeout]\n", e.Timeout)
	case errors.As(err, &exitErr):
		res.Code = exitErr.ExitCode()
	case errors.Is(err, exec.ErrWaitDelay):
		// skiff exited but something it started (a supervisor?) still holds
		// its stdout/stderr: `$(skiff run -d ...)` in a shell would hang.
		res.Code = cmd.ProcessState.ExitCode()
		e.t.Errorf("skiff %s exited (%d) but a process it started kept its stdout/stderr open", shellJoin(args), res.Code)
	case err != nil:
		e.t.Fatalf("cannot run skiff %s: %v", shellJoin(args), err)
	}
	e.record(fmt.Sprintf("%s[%.2fs]\n", res, time.Since(start).Seconds()))
	return res
}

func (e *Env) record(s string) {
	e.mu.Lock()
	e.transcript = append(e.transcript, s)
	e.mu.Unlock()
}

// mustRun runs skiff, fails the test unless it exits 0, and returns stdout.
func (e *Env) mustRun(args ...string) string {
	e.t.Helper()
	res := e.run(args...)
	if res.Code != 0 {
		e.t.Fatalf("skiff %s: exit %d, want 0\nstderr: %s", shellJoin(args), res.Code, strings.TrimSpace(res.Stderr))
	}
	return res.Stdout
}

// mustFail runs skiff and fails the test unless it exits with code and says
// why in exactly one error line (warnings aside) on stderr.
func (e *Env) mustFail(code int, args ...string) Result {
	e.t.Helper()
	res := e.run(args...)
	if res.Code != code {
		e.t.Errorf("skiff %s: exit %d, want %d\nstdout: %s\nstderr: %s", shellJoin(args), res.Code, code, strings.TrimSpace(res.Stdout), strings.TrimSpace(res.Stderr))
		return res
	}
	if errs := errorLines(res.Stderr); len(errs) != 1 {
		e.t.Errorf("skiff %s: want a one-line error on stderr, got %d lines:\n%s", shellJoin(args), len(errs), res.Stderr)
	}
	return res
}

// errorLines is stderr without warnings (the rootless single-mapping notice
// is one) and blank lines.
func errorLines(stderr string) []string {
	var out []string
	for _, l := range lines(stderr) {
		low := strings.ToLower(l)
		if strings.HasPrefix(low, "warn") || strings.Contains(low, "level=warn") {
			continue
		}
		out = append(out, l)
	}
	return out
}

// cleanup removes leftover containers (best effort), unmounts anything left
// under the env and removes it, refusing to recurse across a mount point.
func (e *Env) cleanup() {
	if _, err := os.Stat(e.Root); err == nil {
		old := e.Timeout
		e.Timeout = 30 * time.Second
		res := e.run("ps", "-aq")
		if ids := res.Lines(); res.Code == 0 && len(ids) > 0 {
			e.run(append([]string{"rm", "-f"}, ids...)...)
		}
		e.Timeout = old
	}
	if err := removeTree(e.Dir); err != nil {
		e.t.Logf("cleanup %s: %v", e.Dir, err)
	}
}

// removeTree detaches mounts under dir, then removes it unless a mount is
// still there (removing through a bind mount would delete host files).
func removeTree(dir string) error {
	for i := 0; i < 3; i++ {
		mounts := mountsUnder(dir)
		if len(mounts) == 0 {
			return os.RemoveAll(dir)
		}
		for j := len(mounts) - 1; j >= 0; j-- {
			syscall.Unmount(mounts[j], syscall.MNT_DETACH)
		}
	}
	return fmt.Errorf("mounts remain under %s: %v", dir, mountsUnder(dir))
}

// mountsUnder lists mount points at or below dir, in mount order.
func mountsUnder(dir string) []string {
	infos, err := mountinfo.GetMounts(mountinfo.PrefixFilter(dir))
	if err != nil {
		return nil
	}
	out := make([]string, len(infos))
	for i, m := range infos {
		out[i] = m.Mountpoint
	}
	return out
}

// modes are the users every forEachMode test runs as.
var modes = []string{"root", "skiffsub", "skiffnosub"}

// forEachMode runs fn as root, as a user with subuid ranges and as one
// without, each in its own fresh env, in parallel.
func forEachMode(t *testing.T, fn func(t *testing.T, env *Env)) {
	t.Helper()
	forModes(t, modes, fn)
}

// forModes runs fn as each of the users ms names, each in its own fresh env,
// in parallel.
func forModes(t *testing.T, ms []string, fn func(t *testing.T, env *Env)) {
	t.Helper()
	for _, m := range ms {
		t.Run(m, func(t *testing.T) {
			t.Parallel()
			fn(t, newEnvAs(t, users[m]))
		})
	}
}
