// Package testenv provides what tests need from the machine they run on:
// external commands (installed from Debian packages when the test runs as
// root on Debian) and their configuration files. A missing requirement fails
// the test with a message saying what to install; it never skips it.
package testenv

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
)

// Build builds the Go package pkg (an import path, or a directory relative
// to the test's) into the program out, as the README installs f2b-notify:
// static (CGO_ENABLED=0), -trimpath, symbols stripped.
func Build(out, pkg string) error {
	gobin, err := exec.LookPath("go")
	if err != nil {
		//lint:ignore SA1019 the fallback when go is not in PATH: the toolchain that built this test
		gobin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	cmd := exec.Command(gobin, "build", "-trimpath", "-ldflags=-s -w", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return nil
}

// extraDirs are searched after PATH: sendmail-like programs live in sbin,
// which a non-root PATH often lacks.
var extraDirs = []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin", "/usr/local/bin", "/usr/local/sbin"}

var (
	installMu sync.Mutex
	installed = map[string]error{} // Debian package → result of the one install attempt
)

// NeedCommand returns the path of the command name. If it is missing and the
// test runs as root on Debian, it installs debianPackage with apt-get (once
// per process; `apt-get update` is run first if the plain install fails) and
// looks again. Otherwise it fails the test, naming the package to install.
func NeedCommand(t testing.TB, name, debianPackage string) string {
	t.Helper()
	if p, ok := lookCommand(name); ok {
		return p
	}
	why := "not running as root on Debian, so it cannot be installed here"
	if canInstall() {
		if err := installOnce(debianPackage); err != nil {
			why = fmt.Sprintf("installing Debian package %s failed: %v", debianPackage, err)
		} else if p, ok := lookCommand(name); ok {
			return p
		} else {
			why = fmt.Sprintf("Debian package %s was installed but provides no %s", debianPackage, name)
		}
	}
	t.Fatalf("test needs the command %q, which is not in PATH or %v (%s); install it with: apt-get install %s",
		name, extraDirs, why, debianPackage)
	return ""
}

// lookCommand finds name in PATH, then in extraDirs.
func lookCommand(name string) (string, bool) {
	if p, err := exec.LookPath(name); err == nil {
		return p, true
	}
	if filepath.Base(name) != name {
		return "", false
	}
	for _, dir := range extraDirs {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, true
		}
	}
	return "", false
}

// canInstall reports whether packages can be installed: root, Debian, apt-get.
func canInstall() bool {
	if os.Geteuid() != 0 {
		return false
	}
	if _, err := os.Stat("/etc/debian_version"); err != nil {
		return false
	}
	_, ok := lookCommand("apt-get")
	return ok
}

// installOnce installs pkg the first time it is asked for and remembers the
// outcome.
func installOnce(pkg string) error {
	installMu.Lock()
	defer installMu.Unlock()
	if err, done := installed[pkg]; done {
		return err
	}
	err := aptGet("install", "-y", "--no-install-recommends", pkg)
	if err != nil {
		if uerr := aptGet("update"); uerr != nil {
			err = fmt.Errorf("%w; then apt-get update: %w", err, uerr)
		} else {
			err = aptGet("install", "-y", "--no-install-recommends", pkg)
		}
	}
	installed[pkg] = err
	return err
}

// aptGet runs apt-get non-interactively, waiting for the dpkg lock if another
// test process holds it. The error quotes the end of apt-get's output.
func aptGet(args ...string) error {
	argv := append([]string{"-q", "-o", "DPkg::Lock::Timeout=300"}, args...)
	cmd := exec.Command("apt-get", argv...)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		tail := out.Bytes()
		if len(tail) > 2000 {
			tail = tail[len(tail)-2000:]
		}
		return fmt.Errorf("apt-get %v: %w: %s", args, err, bytes.TrimSpace(tail))
	}
	return nil
}

// MsmtpConfig writes an msmtp configuration to dir/msmtprc (mode 0600) that
// relays every message to host:port in plain SMTP, without TLS or AUTH, and
// logs to dir/msmtp.log. It returns the file's path, for `msmtp -C PATH`.
func MsmtpConfig(t testing.TB, dir, host string, port int) string {
	t.Helper()
	rc := filepath.Join(dir, "msmtprc")
	content := "# written by internal/testenv for a test\n" +
		"account default\n" +
		"host " + host + "\n" +
		"port " + strconv.Itoa(port) + "\n" +
		"from f2b-notify@localhost\n" +
		"auth off\n" +
		"tls off\n" +
		"timeout 10\n" +
		"syslog off\n" +
		"logfile " + filepath.Join(dir, "msmtp.log") + "\n"
	if err := os.WriteFile(rc, []byte(content), 0o600); err != nil {
		t.Fatalf("testenv: write msmtp configuration: %v", err)
	}
	// WriteFile keeps the mode of an existing file; msmtp refuses a readable one.
	if err := os.Chmod(rc, 0o600); err != nil {
		t.Fatalf("testenv: chmod %s: %v", rc, err)
	}
	return rc
}
