// Package seccomp loads the spec's linux.seccomp filter through libseccomp.
package seccomp

import (
	"fmt"

	libseccomp "github.com/seccomp/libseccomp-golang"
)

// Version returns the version of the libseccomp that berth is linked with.
func Version() string {
	major, minor, micro := libseccomp.GetLibraryVersion()
	return fmt.Sprintf("%d.%d.%d", major, minor, micro)
}
