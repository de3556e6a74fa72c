#!/bin/sh
# demo.sh: runs one container and shows, from inside, how isolated it is.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
bundle=$(mktemp -d /tmp/berth-demo.XXXXXX)
trap 'rm -rf "$bundle"' EXIT

"$here/hack/mkbundle.sh" "$bundle" sh -c '
echo "== hostname";  hostname
echo "== processes (the container is PID 1)"; ps
echo "== mounts";    cat /proc/self/mounts
echo "== user";      id
echo "== network";   ip -o link 2>/dev/null || cat /proc/net/dev'

echo "host: $(hostname), $(ps -e --no-headers | wc -l) processes"
echo "running: berth run demo-$$"
echo
"$here/berth" run --bundle "$bundle" "demo-$$"
