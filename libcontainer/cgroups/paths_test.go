package cgroups

import (
	"maps"
	"path"
	"strings"
	"testing"

	"github.com/moby/sys/mountinfo"
)

// Mount tables and /proc/self/cgroup of the kinds of host the resolution
// must handle.
const (
	hybridMounts = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`
	hybridOwn = `9:name=systemd:/
4:memory:/process_api/abc
1:cpu:/
0::/
`
	unifiedMounts = `22 1 0:21 / /proc rw - proc proc rw
30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate
90 30 0:40 / /run/systemd-compat rw - cgroup cgroup rw,xattr,name=systemd
`
	unifiedOwn = `1:name=systemd:/
0::/user.slice/user-0.slice/session-3.scope
`
	comountedMounts = `25 24 0:22 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd
26 24 0:23 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
27 24 0:24 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
`
	comountedOwn = `3:memory:/user.slice
2:cpu,cpuacct:/user.slice
1:name=systemd:/user.slice/user-0.slice/session-1.scope
0::/user.slice/user-0.slice/session-1.scope
`
	// A container's view without a cgroup namespace: only its own subtree
	// is mounted.
	subtreeMounts = `600 500 0:26 /docker/abc /sys/fs/cgroup ro,nosuid - cgroup2 cgroup2 rw
`
	subtreeOwn = "0::/docker/abc\n"
)

func TestResolvePaths(t *testing.T) {
	tests := []struct {
		name        string
		mounts, own string
		unified     bool
		cgroupsPath string
		id          string
		want        map[string]string
	}{{
		name: "hybrid relative", mounts: hybridMounts, own: hybridOwn,
		cgroupsPath: "berth/c1", id: "ignored",
		want: map[string]string{
			"cpu":          "/sys/fs/cgroup/cpu/berth/c1",
			"memory":       "/sys/fs/cgroup/memory/process_api/abc/berth/c1",
			"name=systemd": "/sys/fs/cgroup/systemd/berth/c1",
			"unified":      "/sys/fs/cgroup/unified/berth/c1",
		},
	}, {
		name: "hybrid empty path uses id", mounts: hybridMounts, own: hybridOwn,
		id: "c1",
		want: map[string]string{
			"cpu":          "/sys/fs/cgroup/cpu/c1",
			"memory":       "/sys/fs/cgroup/memory/process_api/abc/c1",
			"name=systemd": "/sys/fs/cgroup/systemd/c1",
			"unified":      "/sys/fs/cgroup/unified/c1",
		},
	}, {
		name: "hybrid absolute", mounts: hybridMounts, own: hybridOwn,
		cgroupsPath: "/berth/c1", id: "c1",
		want: map[string]string{
			"cpu":          "/sys/fs/cgroup/cpu/berth/c1",
			"memory":       "/sys/fs/cgroup/memory/berth/c1",
			"name=systemd": "/sys/fs/cgroup/systemd/berth/c1",
			"unified":      "/sys/fs/cgroup/unified/berth/c1",
		},
	}, {
		name: "unclean path is cleaned", mounts: hybridMounts, own: hybridOwn,
		cgroupsPath: "a//b/./c/", id: "c1",
		want: map[string]string{
			"cpu":          "/sys/fs/cgroup/cpu/a/b/c",
			"memory":       "/sys/fs/cgroup/memory/process_api/abc/a/b/c",
			"name=systemd": "/sys/fs/cgroup/systemd/a/b/c",
			"unified":      "/sys/fs/cgroup/unified/a/b/c",
		},
	}, {
		name: "unified relative ignores v1 named hierarchies", mounts: unifiedMounts, own: unifiedOwn,
		unified: true, cgroupsPath: "c1",
		want: map[string]string{"unified": "/sys/fs/cgroup/user.slice/user-0.slice/session-3.scope/c1"},
	}, {
		name: "unified empty path uses id", mounts: unifiedMounts, own: unifiedOwn,
		unified: true, id: "c1",
		want: map[string]string{"unified": "/sys/fs/cgroup/user.slice/user-0.slice/session-3.scope/c1"},
	}, {
		name: "unified absolute", mounts: unifiedMounts, own: unifiedOwn,
		unified: true, cgroupsPath: "/machine.slice/c1",
		want: map[string]string{"unified": "/sys/fs/cgroup/machine.slice/c1"},
	}, {
		name: "co-mounted controllers share a directory", mounts: comountedMounts, own: comountedOwn,
		cgroupsPath: "c1",
		want: map[string]string{
			"cpu":          "/sys/fs/cgroup/cpu,cpuacct/user.slice/c1",
			"cpuacct":      "/sys/fs/cgroup/cpu,cpuacct/user.slice/c1",
			"memory":       "/sys/fs/cgroup/memory/user.slice/c1",
			"name=systemd": "/sys/fs/cgroup/systemd/user.slice/user-0.slice/session-1.scope/c1",
		},
	}, {
		name: "subtree mount relative", mounts: subtreeMounts, own: subtreeOwn,
		unified: true, cgroupsPath: "c1",
		want: map[string]string{"unified": "/sys/fs/cgroup/c1"},
	}, {
		name: "subtree mount absolute", mounts: subtreeMounts, own: subtreeOwn,
		unified: true, cgroupsPath: "/docker/abc/sub/c1",
		want: map[string]string{"unified": "/sys/fs/cgroup/sub/c1"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := resolve(t, tt.mounts, tt.own, tt.unified, tt.cgroupsPath, tt.id)
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("got  %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestResolvePathsRejects(t *testing.T) {
	tests := []struct {
		name        string
		mounts, own string
		unified     bool
		cgroupsPath string
		id          string
		wantErr     string
	}{
		{name: "dotdot first", cgroupsPath: "../x", wantErr: `invalid cgroups path "../x": ".." is not allowed`},
		{name: "dotdot inside", cgroupsPath: "a/../b", wantErr: `".." is not allowed`},
		{name: "dotdot absolute", cgroupsPath: "/a/..", wantErr: `".." is not allowed`},
		{name: "dotdot id", id: "..", wantErr: `".." is not allowed`},
		{name: "nothing", wantErr: "neither a cgroupsPath nor a container id"},
		{name: "own cgroup", cgroupsPath: ".", wantErr: "contains the runtime's own cgroup"},
		{name: "root", cgroupsPath: "/", wantErr: "contains the runtime's own cgroup"},
		{name: "own memory cgroup", cgroupsPath: "/process_api/abc", wantErr: "cgroup /process_api/abc contains the runtime's own cgroup /process_api/abc"},
		{name: "ancestor of own", cgroupsPath: "/process_api", wantErr: "contains the runtime's own cgroup /process_api/abc"},
		{
			name: "outside the mounted subtree", mounts: subtreeMounts, own: subtreeOwn, unified: true,
			cgroupsPath: "/other/c1", wantErr: "cgroup /other/c1 is outside the part of the hierarchy mounted at /sys/fs/cgroup (/docker/abc)",
		},
		{name: "nothing mounted", mounts: "22 1 0:21 / /proc rw - proc proc rw\n", cgroupsPath: "c1", wantErr: "no cgroup hierarchy is mounted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.mounts == "" {
				tt.mounts, tt.own = hybridMounts, hybridOwn
			}
			if tt.own == "" {
				tt.own = hybridOwn
			}
			got, err := resolve(t, tt.mounts, tt.own, tt.unified, tt.cgroupsPath, tt.id)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v, %v; want error containing %q", got, err, tt.wantErr)
			}
		})
	}
}

func resolve(t *testing.T, mountsText, ownText string, unified bool, cgroupsPath, id string) (map[string]string, error) {
	t.Helper()
	mounts, err := mountinfo.GetMountsFromReader(strings.NewReader(mountsText), mountinfo.FSTypeFilter("cgroup", "cgroup2"))
	if err != nil {
		t.Fatal(err)
	}
	own, err := parseProcCgroup(ownText)
	if err != nil {
		t.Fatal(err)
	}
	return resolvePaths(own, mounts, unified, cgroupsPath, id)
}

func TestParseProcCgroup(t *testing.T) {
	got, err := parseProcCgroup("4:cpu,cpuacct:/a:b\n0::/\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || strings.Join(got[0].controllers, " ") != "cpu cpuacct" || got[0].path != "/a:b" ||
		got[1].controllers != nil || got[1].path != "/" {
		t.Errorf("got %+v", got)
	}
	for _, bad := range []string{"garbage\n", "1:cpu\n", "1:cpu:relative\n"} {
		if _, err := parseProcCgroup(bad); err == nil {
			t.Errorf("parseProcCgroup(%q) succeeded", bad)
		}
	}
}

// FuzzCgroupsPath resolves cgroupsPath (and the container id), as given
// and as --systemd-cgroup reads it, on each kind of host: whatever it
// accepts must be a cgroup strictly inside the mounted hierarchy and
// outside the runtime's own cgroup, which create would otherwise join,
// limit and remove.
func FuzzCgroupsPath(f *testing.F) {
	for _, seed := range []string{"", "berth/c1", "/abs/c2", "..", "a/../..", "/", "//x//", "./x", "system.slice:berth:c3", "kubepods-besteffort.slice:cri:abc", "-.slice::x", "a:b:c:d"} {
		f.Add(seed, "web", false)
		f.Add(seed, "web", true)
	}
	hosts := []struct {
		mounts, own string
		unified     bool
	}{
		{hybridMounts, hybridOwn, false}, {unifiedMounts, unifiedOwn, true},
		{comountedMounts, comountedOwn, false}, {subtreeMounts, subtreeOwn, true},
	}
	f.Fuzz(func(t *testing.T, cgroupsPath, id string, systemd bool) {
		if systemd {
			var err error
			if cgroupsPath, err = SystemdPath(cgroupsPath, id); err != nil {
				return
			}
		}
		for _, h := range hosts {
			paths, err := resolve(t, h.mounts, h.own, h.unified, cgroupsPath, id)
			if err != nil {
				continue
			}
			mounts, _ := mountinfo.GetMountsFromReader(strings.NewReader(h.mounts), mountinfo.FSTypeFilter("cgroup", "cgroup2"))
			own, _ := parseProcCgroup(h.own)
			for key, dir := range paths {
				inside := false
				for _, m := range mounts {
					inside = inside || strings.HasPrefix(dir, m.Mountpoint+"/")
					for _, o := range own {
						// The runtime's own cgroup as seen through m.
						if ownDir := path.Join(m.Mountpoint, strings.TrimPrefix(o.path, m.Root)); within(ownDir, dir) {
							t.Fatalf("cgroupsPath %q, id %q: %s cgroup %q holds the runtime's own %q", cgroupsPath, id, key, dir, ownDir)
						}
					}
				}
				if !inside || path.Clean(dir) != dir {
					t.Fatalf("cgroupsPath %q, id %q: %s cgroup %q is not inside a cgroup mount", cgroupsPath, id, key, dir)
				}
			}
		}
	})
}
