// Package e2e holds black-box tests of the built skiff binary. TestMain
// builds (or takes $SKIFF_BIN) the binary, starts an in-process registry on
// 127.0.0.1 holding fixture images the tests assemble themselves, writes a
// registries.conf mapping docker.io to it, and creates the unprivileged users
// the rootless runs need. Each test gets private store directories through
// newEnv or forEachMode; see harness_test.go for the API.
package e2e
