package cgroups

import "testing"

func TestSystemdPath(t *testing.T) {
	for in, want := range map[string]string{
		// docker, podman and the kubelet (through containerd) with the
		// systemd cgroup driver.
		"system.slice:docker:abc":                            "/system.slice/docker-abc.scope",
		"machine.slice:libpod:abc":                           "/machine.slice/libpod-abc.scope",
		"kubepods-besteffort-pod12.slice:cri-containerd:abc": "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod12.slice/cri-containerd-abc.scope",
		"-.slice:berth:abc":                                  "/berth-abc.scope",
		":berth:abc":                                         "/system.slice/berth-abc.scope",
		"user.slice::abc":                                    "/user.slice/abc.scope",
		"system.slice:berth:":                                "/system.slice/berth-ctr.scope",
		"a-b.slice:x:a-b-c.slice":                            "/a.slice/a-b.slice/a-b-c.slice",
		"":                                                   "",
	} {
		got, err := SystemdPath(in, "ctr")
		if err != nil || got != want {
			t.Errorf("SystemdPath(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{
		"/system.slice/docker-abc.scope", // a cgroupfs path
		"system.slice:docker",
		"system:docker:abc",
		"a--b.slice:x:y",
		"-a.slice:x:y",
		"a-.slice:x:y",
		"../x.slice:x:y",
		"system.slice:x:a/b",
	} {
		if got, err := SystemdPath(bad, "ctr"); err == nil {
			t.Errorf("SystemdPath(%q) = %q, want an error", bad, got)
		}
	}
}
