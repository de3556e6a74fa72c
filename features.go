package main

import (
	"encoding/json"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"
	"github.com/urfave/cli/v2"

	"github.com/berthrt/berth/libcontainer"
	"github.com/berthrt/berth/libcontainer/capabilities"
	"github.com/berthrt/berth/libcontainer/rootfs"
	"github.com/berthrt/berth/libcontainer/seccomp"
)

var featuresCommand = &cli.Command{
	Name:  "features",
	Usage: "print what this berth supports, as the runtime spec's features JSON",
	Action: func(c *cli.Context) error {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(supportedFeatures())
	},
}

// supportedFeatures lists only what berth implements today. Fields left
// nil mean "unknown" to a reader, so parts berth lacks are left out rather
// than claimed.
func supportedFeatures() *features.Features {
	yes, no := true, false
	return &features.Features{
		OCIVersionMin: "1.0.0",
		OCIVersionMax: specs.Version,
		Hooks:         libcontainer.HookKinds(),
		MountOptions:  rootfs.MountOptions(),
		Linux: &features.Linux{
			Namespaces:   libcontainer.Namespaces(),
			Capabilities: capabilities.Known(),
			Cgroup: &features.Cgroup{
				V1:          &yes,
				V2:          &yes,
				Systemd:     &no,
				SystemdUser: &no,
				Rdma:        &no,
			},
			Seccomp: &features.Seccomp{
				Enabled:        &yes,
				Actions:        seccomp.Actions(),
				Operators:      seccomp.Operators(),
				Archs:          seccomp.Archs(),
				KnownFlags:     seccomp.KnownFlags(),
				SupportedFlags: seccomp.SupportedFlags(),
			},
			Apparmor:        &features.Apparmor{Enabled: &yes},
			Selinux:         &features.Selinux{Enabled: &yes},
			IntelRdt:        &features.IntelRdt{Enabled: &no},
			MountExtensions: &features.MountExtensions{IDMap: &features.IDMap{Enabled: &yes}},
			NetDevices:      &features.NetDevices{Enabled: &no},
		},
		Annotations: map[string]string{
			"io.github.seccomp.libseccomp.version": seccomp.Version(),
			"io.github.berthrt.berth.version":      version,
			"io.github.berthrt.berth.commit":       gitCommit,
		},
	}
}
