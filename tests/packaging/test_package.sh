#!/usr/bin/env bash
# Builds the Debian packages with CPack from a finished build tree and checks what they hold:
# both programs, their man pages, the configs, the .desktop file, icon and AppStream metadata (validated), and
# Depends filled in from the linked libraries. Usage: test_package.sh BUILD_DIR [cli-only]
# (cli-only: a build without Qt, the headless preset, makes the ijepa-cli package alone).
set -euo pipefail
build=$1; what=${2:-all}
src=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cpack --config "$build/CPackConfig.cmake" -B "$out" >"$out/cpack.log" 2>&1 || { cat "$out/cpack.log"; exit 1; }
cli=$(ls "$out"/ijepa-cli_*.deb)
fail() { echo "FAIL: $*"; exit 1; }
cli_files=$(dpkg-deb -c "$cli")
grep -q './usr/bin/ijepa$' <<<"$cli_files" || fail "ijepa not in $cli"
grep -q 'share/ijepa/configs/fashion_mnist.yaml' <<<"$cli_files" || fail "configs not in $cli"
grep -q 'share/man/man1/ijepa.1.gz' <<<"$cli_files" || fail "the ijepa(1) man page not in $cli"
dpkg-deb --fsys-tarfile "$cli" | tar -xO ./usr/share/man/man1/ijepa.1.gz | gzip -d | grep -q '^\.SS "ijepa train"' ||
  fail "ijepa(1) lacks the train subcommand"
dpkg-deb -f "$cli" Depends | grep -q 'libc6' || fail "ijepa-cli has no shlib Depends"
if [ "$what" = cli-only ]; then
  ls "$out"/ijepa-workbench_*.deb >/dev/null 2>&1 && fail "a build without Qt made a workbench package"
  echo "packages: $(basename "$cli") $(du -h "$cli" | cut -f1) (no Qt: no workbench package)"
  exit 0
fi
gui=$(ls "$out"/ijepa-workbench_*.deb)
gui_files=$(dpkg-deb -c "$gui")
for f in usr/bin/ijepa-workbench share/applications/ijepa-workbench.desktop \
         share/icons/hicolor/scalable/apps/ijepa-workbench.svg share/metainfo/io.github.ijepa_workbench.metainfo.xml \
         share/man/man1/ijepa-workbench.1.gz; do
  grep -q "$f" <<<"$gui_files" || fail "$f not in $gui"
done
dpkg-deb -f "$gui" Depends | grep -q 'ijepa-cli' || fail "ijepa-workbench does not depend on ijepa-cli"
dpkg-deb -f "$gui" Depends | grep -qi 'qt6\|libqt6' || fail "ijepa-workbench does not depend on Qt 6"
desktop-file-validate "$src/packaging/ijepa-workbench.desktop"
appstreamcli validate --no-net "$src/packaging/io.github.ijepa_workbench.metainfo.xml" >/dev/null
echo "packages: $(basename "$cli") $(du -h "$cli" | cut -f1), $(basename "$gui") $(du -h "$gui" | cut -f1)"
