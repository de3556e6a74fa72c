# Turns a config.json or process.json an engine handed its runtime into a
# fixture that runs anywhere (README.md says what and why).
def volume: .destination | split("/") | last | ltrimstr(".");
if has("root") then
	.root.path = "rootfs"
	| .linux.cgroupsPath = "$CGROUP"
	| del(.hooks)
	| .linux.namespaces |= map(del(.path))
	| .mounts |= map(if .type == "bind" and (.source | startswith("/tmp/"))
		then .source = "$DIR/volumes/" + volume else . end)
else . end
