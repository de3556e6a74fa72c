package engines

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// criConfig is the CRI plugin's configuration: berth a runtime handler next
// to runc, as docs/integration.md shows it, which a Kubernetes RuntimeClass
// names. The rest keeps the run private and offline: the sandbox image is
// the local one, pod networks come from a bridge in containerd's own
// network namespace, and the runtime's root is under dir.
func criConfig(dir string) string {
	return fmt.Sprintf(`
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %[4]q
  # This host's root lacks CAP_SYS_RESOURCE: a pod's sandbox asks for
  # oomScoreAdj -998, which it may not set; keep it at containerd's own.
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    conf_dir = "%[1]s/cni"
    bin_dir = "/usr/lib/cni"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.%[2]s]
    runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.%[2]s.options]
      BinaryName = %[3]q
      Root = "%[1]s/runtime"
`, dir, runtimeName(), runtimePath, pauseImage)
}

// criNetwork is the pods' network: a bridge with addresses from
// host-local, whose leases stay under dir.
func criNetwork(dir string) string {
	return fmt.Sprintf(`{"cniVersion": "0.4.0", "name": "pods", "plugins": [
  {"type": "bridge", "bridge": "cni0", "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.88.0.0/16"}]], "dataDir": "%s/cni-leases"}},
  {"type": "loopback"}]}`, dir)
}

// crictlPath is $CRICTL (make engines builds it from the Go module proxy:
// Debian has no cri-tools) or crictl in $PATH.
func crictlPath(t *testing.T) string {
	t.Helper()
	if path := os.Getenv("CRICTL"); path != "" {
		return path
	}
	path, err := exec.LookPath("crictl")
	if err != nil {
		t.Fatal("crictl is missing: `make engines` builds it")
	}
	return path
}

// criClient runs crictl against a private containerd, in its network
// namespace: exec streams through a server containerd listens for there.
type criClient struct {
	argv []string
}

func (c *criClient) run(t *testing.T, args ...string) result {
	t.Helper()
	return run(t, nil, "", append(append([]string{}, c.argv...), args...)...)
}

func (c *criClient) must(t *testing.T, args ...string) string {
	t.Helper()
	return strings.TrimSpace(mustRun(t, nil, append(append([]string{}, c.argv...), args...)...).Stdout)
}

// inspect returns crictl's JSON inspection of a container or ("p") a pod.
func (c *criClient) inspect(t *testing.T, cmd, id string, v any) {
	t.Helper()
	out := c.must(t, cmd, "--output", "json", id)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("crictl %s: %v\n%s", cmd, err, out)
	}
}

// writeJSON writes v as JSON to a file in dir and returns its path.
func writeJSON(t *testing.T, dir, name string, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestKubernetesCRI runs a pod the way the kubelet does, through
// containerd's CRI plugin, with berth as the pod's runtime handler: what a
// RuntimeClass whose handler is berth asks for.
func TestKubernetesCRI(t *testing.T) {
	crictl := crictlPath(t)
	imgs, err := buildImages()
	if err != nil {
		t.Fatal(err)
	}
	cg := newCgroupParent(t)
	dir := filepath.Join(workDir, "cri")
	t.Cleanup(func() { checkEngineGone(t, dir) })
	for _, d := range []string{"cni", "logs"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "cni", "10-pods.conflist"), []byte(criNetwork(dir)), 0o644); err != nil {
		t.Fatal(err)
	}
	c := startContainerd(t, dir, criConfig(dir))
	for _, archive := range []string{imgs.Pause, imgs.OCI} {
		mustRun(t, nil, "ctr", "--address", c.address, "--namespace", "k8s.io", "images", "import", archive)
	}
	crictlConf := filepath.Join(dir, "crictl.yaml")
	endpoint := "unix://" + c.address
	if err := os.WriteFile(crictlConf, []byte("runtime-endpoint: "+endpoint+"\nimage-endpoint: "+endpoint+"\ntimeout: 60\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cri := &criClient{argv: []string{"nsenter", "--net=/proc/" + strconv.Itoa(c.pid) + "/ns/net", crictl, "--config", crictlConf}}
	// Before containerd stops: the pods, with their containers.
	t.Cleanup(func() { cri.run(t, "rmp", "--all", "--force") })
	runtimeRoot := filepath.Join(dir, "runtime", "k8s.io")
	podConfig := writeJSON(t, dir, "pod.json", map[string]any{
		"metadata":      map[string]string{"name": "web", "namespace": "default", "uid": "pod-web"},
		"hostname":      "berth-pod",
		"log_directory": filepath.Join(dir, "logs"),
		"linux":         map[string]any{"cgroup_parent": cg.Path},
	})
	pod := cri.must(t, "runp", "--runtime", runtimeName(), podConfig)
	var podInfo struct {
		Status struct {
			Network struct{ IP string }
		}
		Info struct{ RuntimeHandler string }
	}
	cri.inspect(t, "inspectp", pod, &podInfo)
	if podInfo.Info.RuntimeHandler != runtimeName() || !strings.HasPrefix(podInfo.Status.Network.IP, "10.88.") {
		t.Errorf("the pod has runtime handler %q and address %q, want %s and one of 10.88.0.0/16", podInfo.Info.RuntimeHandler, podInfo.Status.Network.IP, runtimeName())
	}
	if status, _ := runtimeStateAt(t, runtimeRoot, pod); status != "running" {
		t.Fatalf("%s says the pod's sandbox is %q, want running", runtimeName(), status)
	}

	app := writeJSON(t, dir, "app.json", map[string]any{
		"metadata": map[string]string{"name": "app"},
		"image":    map[string]string{"image": image},
		"log_path": "app.log",
		"command": []string{"sh", "-c", "trap 'echo got-term; exit 0' TERM; hostname; readlink /proc/self/ns/net; " +
			"ip -o -4 addr show eth0; echo ready; sleep 1000 & wait"},
		"linux": map[string]any{"resources": map[string]int{"memory_limit_in_bytes": 64 * mib, "cpu_period": 100000, "cpu_quota": 50000}},
	})
	ctr := cri.must(t, "create", pod, app, podConfig)
	cri.must(t, "start", ctr)
	var logs string
	waitFor(t, "the container to be ready", time.Minute, func() bool {
		logs = cri.run(t, "logs", ctr).Output()
		return strings.Contains(logs, "ready")
	})

	t.Run("pod-namespaces", func(t *testing.T) {
		_, sandboxPid := runtimeStateAt(t, runtimeRoot, pod)
		podNet, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", sandboxPid))
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range []string{"berth-pod\n", podNet + "\n", podInfo.Status.Network.IP + "/16"} {
			if !strings.Contains(logs, w) {
				t.Errorf("the container's output lacks %q: it does not share the pod's hostname, network namespace and address\n%s", w, logs)
			}
		}
	})

	t.Run("resources-and-update", func(t *testing.T) {
		_, pid := runtimeStateAt(t, runtimeRoot, ctr)
		if got := cgroupValue(t, pid, "memory", "memory.limit_in_bytes", "memory.max"); got != strconv.Itoa(64*mib) {
			t.Errorf("memory limit %s, want %d", got, 64*mib)
		}
		checkQuota(t, pid, 50000)
		cri.must(t, "update", "--memory", strconv.Itoa(96*mib), "--cpu-quota", "75000", ctr)
		if got := cgroupValue(t, pid, "memory", "memory.limit_in_bytes", "memory.max"); got != strconv.Itoa(96*mib) {
			t.Errorf("after update the memory limit is %s, want %d", got, 96*mib)
		}
		checkQuota(t, pid, 75000)
	})

	t.Run("exec", func(t *testing.T) {
		// The kubelet's probes use ExecSync; kubectl exec streams.
		if out := cri.must(t, "exec", "--sync", ctr, "sh", "-c", "echo sync-$((6*7))"); out != "sync-42" {
			t.Errorf("exec --sync printed %q, want sync-42", out)
		}
		r := cri.run(t, "exec", ctr, "sh", "-c", "echo streamed-$((6*7)); exit 3")
		if !strings.Contains(r.Stdout, "streamed-42") || !strings.Contains(r.Output(), "exit code 3") {
			t.Errorf("exec: %v, want streamed-42 and exit code 3", r)
		}
	})

	t.Run("stop-and-remove", func(t *testing.T) {
		cri.must(t, "stop", "--timeout", "60", ctr)
		var info struct {
			Status struct {
				State    string
				ExitCode int
			}
		}
		cri.inspect(t, "inspect", ctr, &info)
		if info.Status.State != "CONTAINER_EXITED" || info.Status.ExitCode != 0 {
			t.Errorf("after stop the container is %s with exit code %d, want CONTAINER_EXITED with 0 from its trap", info.Status.State, info.Status.ExitCode)
		}
		if logs := cri.run(t, "logs", ctr).Output(); !strings.Contains(logs, "got-term") {
			t.Errorf("the container never got SIGTERM: %q", logs)
		}
		cri.must(t, "rm", ctr)
		cri.must(t, "stopp", pod)
		cri.must(t, "rmp", pod)
		if ids := runtimeListAt(t, runtimeRoot); len(ids) > 0 {
			t.Errorf("after the pod is removed %s still lists %v", runtimeName(), ids)
		}
	})

	t.Run("errors", func(t *testing.T) {
		// Only the runtime sees that the kernel has no such sysctl: its
		// message must reach whoever asked for the pod.
		bad := writeJSON(t, dir, "bad-pod.json", map[string]any{
			"metadata": map[string]string{"name": "bad", "namespace": "default", "uid": "pod-bad"},
			"linux":    map[string]any{"cgroup_parent": cg.Path, "sysctls": map[string]string{"net.ipv4.no_such_knob": "1"}},
		})
		if r := cri.run(t, "runp", "--runtime", runtimeName(), bad); r.Code == 0 || !strings.Contains(r.Output(), "no_such_knob") {
			t.Errorf("a pod with a sysctl the kernel lacks: %v", r)
		}
		pod := cri.must(t, "runp", "--runtime", runtimeName(), podConfig)
		missing := writeJSON(t, dir, "missing.json", map[string]any{
			"metadata": map[string]string{"name": "missing"},
			"image":    map[string]string{"image": image},
			"command":  []string{"/no/such/command"},
		})
		ctr := cri.must(t, "create", pod, missing, podConfig)
		if r := cri.run(t, "start", ctr); r.Code == 0 || !strings.Contains(r.Output(), "/no/such/command") {
			t.Errorf("starting a container whose command is missing: %v", r)
		}
	})
}
