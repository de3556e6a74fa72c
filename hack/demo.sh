#!/bin/sh
# demo.sh: runs one container and shows, from inside, how isolated it is.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
bundle=$(mktemp -d /tmp/berth-demo.XXXXXX)
trap 'rm -rf "$bundle"' EXIT

"$here/hack/mkbundle.sh" "$bundle" /bin/demo
cat > "$bundle/rootfs/bin/demo" <<'SCRIPT'
#!/bin/sh
echo "== hostname:  $(hostname)"
echo "== user:      $(id)"
echo "== processes (the container's own; its first is PID 1):"
ps -o pid,user,args
echo "== network interfaces:"
ip -o link | cut -d' ' -f2,3
echo "== mounts:"
cat /proc/self/mounts
SCRIPT
chmod 755 "$bundle/rootfs/bin/demo"

echo "host: $(hostname), $(ps -e --no-headers | wc -l) processes, $(ip -o link | wc -l) network interfaces"
echo "running: berth run demo-$$"
echo
"$here/berth" run --bundle "$bundle" "demo-$$"
