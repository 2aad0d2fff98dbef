package e2e

// Registry authentication: Docker Hub's anonymous bearer-token flow, login and
// logout in Docker's config format, and $REGISTRY_AUTH_FILE.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPullBearerAnonymous(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, env *Env) {
		ref := authHost + "/library/busybox"
		env.mustRun("pull", "-q", ref)
		if got := inspectID(t, env, ref); got != fx.Busybox.ID {
			t.Errorf("image id %s, want %s", got, fx.Busybox.ID)
		}
		env.mustFail(125, "pull", authHost+"/private/busybox")
	})
}

func TestLoginLogout(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, env *Env) {
		private := authHost + "/private/busybox"
		pushed := authHost + "/private/pushed-" + env.Mode + ":v1"
		config := filepath.Join(env.Home, ".docker", "config.json")

		res := env.runInput(strings.NewReader("wrong\n"), "login", "-u", authUser, "--password-stdin", authHost)
		if res.Code == 0 || len(errorLines(res.Stderr)) != 1 {
			t.Errorf("login with a wrong password: %s", res)
		}
		env.mustRun("pull", "-q", "busybox")
		env.mustRun("tag", "busybox", pushed)
		env.mustFail(125, "push", pushed)

		res = env.runInput(strings.NewReader(authPassword+"\n"), "login", "-u", authUser, "--password-stdin", authHost)
		if res.Code != 0 || !strings.Contains(res.Stdout, "Login Succeeded") {
			t.Fatalf("login: %s", res)
		}
		if b, err := os.ReadFile(config); err != nil || !strings.Contains(string(b), authHost) {
			t.Errorf("~/.docker/config.json after login: %v %s", err, b)
		}
		env.mustRun("push", pushed)
		env.mustRun("pull", "-q", private)

		if out := env.mustRun("logout", authHost); !strings.Contains(out, "Removing login credentials for "+authHost) {
			t.Errorf("logout printed %q", out)
		}
		if b, _ := os.ReadFile(config); strings.Contains(string(b), authHost) {
			t.Errorf("~/.docker/config.json still names %s after logout: %s", authHost, b)
		}
		env.mustRun("rmi", private)
		env.mustFail(125, "pull", private)
	})
}

func TestRegistryAuthFile(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, env *Env) {
		env.Vars = append(env.Vars, "REGISTRY_AUTH_FILE="+env.WriteFile("auth.json", authConfig()))
		ref := authHost + "/private/busybox"
		env.mustRun("pull", "-q", ref)
		if got := inspectID(t, env, ref); got != fx.Busybox.ID {
			t.Errorf("image id %s, want %s", got, fx.Busybox.ID)
		}
	})
}
