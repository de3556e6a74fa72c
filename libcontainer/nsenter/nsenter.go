// Package nsenter joins a running container's namespaces before the Go
// runtime starts (see nsenter.c). Importing it is all it takes; the parent
// side is libcontainer's exec.
package nsenter

import "C"
