# Sourced by the scripts that build, test, check or ship f2b-notify, from the
# top of the checkout: every go command they run uses the Go release named by
# go.mod's `toolchain` line, whatever GOTOOLCHAIN the machine sets (a
# GOTOOLCHAIN=local in the environment or in go.env ignores that line). The
# go command installed runs it, downloading it from the Go module proxy into
# the module cache on first use (76 MB).
#
# Not sourced by the README's `go run ./cmd/f2b-notify demo`, which runs with
# the machine's own setting.

go_toolchain=$(sed -n 's/^toolchain[[:space:]]\{1,\}\(go[0-9][0-9a-z.]*\)[[:space:]]*$/\1/p' go.mod)
if [ -z "$go_toolchain" ]; then
  echo "$0: go.mod has no toolchain line (toolchain goX.Y.Z) naming the Go release to build with" >&2
  exit 1
fi
export GOTOOLCHAIN=$go_toolchain
if ! go_version=$(go env GOVERSION); then
  echo "$0: cannot run $go_toolchain, the Go release go.mod's toolchain line names: the go command ($(command -v go)) downloads it from the Go module proxy ($(GOTOOLCHAIN=local go env GOPROXY)) on first use" >&2
  exit 1
fi
if [ "$go_version" != "$go_toolchain" ]; then
  echo "$0: GOTOOLCHAIN=$go_toolchain runs $go_version, not $go_toolchain" >&2
  exit 1
fi
