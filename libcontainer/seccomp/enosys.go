package seccomp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// A profile names the syscalls its author knew of; the kernel and libc may
// be newer. A syscall newer than the profile falls to its default action,
// and when that refuses (EPERM, say, or a kill), a program that tries the
// new syscall and falls back to an old one on ENOSYS (glibc's clone3 to
// clone, faccessat2 to faccessat) breaks. As runc does, berth puts a few
// instructions before libseccomp's program that answer ENOSYS, per
// architecture, for every syscall numbered above the newest one the
// profile names; every other syscall goes to libseccomp's program as
// before.

// auditArchs are the AUDIT_ARCH_* values the kernel reports in
// seccomp_data.arch, by libseccomp architecture. x32 is missing on purpose:
// its syscalls arrive as x86_64 ones with bit 30 set, which the x86_64
// check passes on to libseccomp's program.
var auditArchs = map[libseccomp.ScmpArch]uint32{
	libseccomp.ArchX86:         unix.AUDIT_ARCH_I386,
	libseccomp.ArchAMD64:       unix.AUDIT_ARCH_X86_64,
	libseccomp.ArchARM:         unix.AUDIT_ARCH_ARM,
	libseccomp.ArchARM64:       unix.AUDIT_ARCH_AARCH64,
	libseccomp.ArchMIPS:        unix.AUDIT_ARCH_MIPS,
	libseccomp.ArchMIPS64:      unix.AUDIT_ARCH_MIPS64,
	libseccomp.ArchMIPS64N32:   unix.AUDIT_ARCH_MIPS64N32,
	libseccomp.ArchMIPSEL:      unix.AUDIT_ARCH_MIPSEL,
	libseccomp.ArchMIPSEL64:    unix.AUDIT_ARCH_MIPSEL64,
	libseccomp.ArchMIPSEL64N32: unix.AUDIT_ARCH_MIPSEL64N32,
	libseccomp.ArchPPC:         unix.AUDIT_ARCH_PPC,
	libseccomp.ArchPPC64:       unix.AUDIT_ARCH_PPC64,
	libseccomp.ArchPPC64LE:     unix.AUDIT_ARCH_PPC64LE,
	libseccomp.ArchS390:        unix.AUDIT_ARCH_S390,
	libseccomp.ArchS390X:       unix.AUDIT_ARCH_S390X,
	libseccomp.ArchRISCV64:     unix.AUDIT_ARCH_RISCV64,
	libseccomp.ArchLOONGARCH64: unix.AUDIT_ARCH_LOONGARCH64,
}

// x32SyscallBit marks an x32 syscall on x86_64.
const x32SyscallBit = 0x40000000

// The offsets of seccomp_data's fields.
const (
	dataNr   = 0
	dataArch = 4
)

// enosysStub returns the instructions that answer ENOSYS for syscalls
// newer than profile c, for the filter's architectures, or nil when there
// is nothing to answer: a default action that allows, or already says
// ENOSYS, lets new syscalls through as the author meant.
func enosysStub(c *specs.LinuxSeccomp, def libseccomp.ScmpAction, archs []libseccomp.ScmpArch) []unix.SockFilter {
	if def == libseccomp.ActAllow || def == libseccomp.ActLog || def == libseccomp.ActErrno.SetReturnCode(int16(unix.ENOSYS)) {
		return nil
	}
	type check struct {
		arch uint32
		last uint32
	}
	var checks []check
	for _, arch := range archs {
		audit, ok := auditArchs[arch]
		if !ok {
			continue
		}
		last := -1
		for _, call := range c.Syscalls {
			for _, name := range call.Names {
				// Unknown names are skipped as the rules skip them; a
				// negative number is a multiplexed call (socketcall).
				if nr, err := libseccomp.GetSyscallFromNameByArch(name, arch); err == nil && int(nr) > last {
					last = int(nr)
				}
			}
		}
		if last >= 0 {
			checks = append(checks, check{audit, uint32(last)})
		}
	}
	if len(checks) == 0 {
		return nil
	}
	// The stub ends with "return ENOSYS"; the instruction after it is the
	// first of libseccomp's program. Jumps count from the next instruction.
	var stub []unix.SockFilter
	stmt := func(code uint16, k uint32) { stub = append(stub, unix.SockFilter{Code: code, K: k}) }
	jump := func(code uint16, k uint32, jt, jf uint8) {
		stub = append(stub, unix.SockFilter{Code: code, Jt: jt, Jf: jf, K: k})
	}
	size := 2 // the load of arch, the return of ENOSYS
	for _, ch := range checks {
		size += 3
		if ch.arch == unix.AUDIT_ARCH_X86_64 {
			size++
		}
	}
	enosys := size - 1 // index of the return of ENOSYS
	stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, dataArch)
	for i, ch := range checks {
		blockLen := 2 // after the arch test: load nr, compare with last
		if ch.arch == unix.AUDIT_ARCH_X86_64 {
			blockLen++
		}
		// Not this architecture: the next check, or past the stub.
		next := uint8(blockLen)
		if i == len(checks)-1 {
			next = uint8(blockLen + 1)
		}
		jump(unix.BPF_JMP|unix.BPF_JEQ|unix.BPF_K, ch.arch, 0, next)
		stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, dataNr)
		if ch.arch == unix.AUDIT_ARCH_X86_64 {
			// x32: leave it to libseccomp's program.
			jump(unix.BPF_JMP|unix.BPF_JGE|unix.BPF_K, x32SyscallBit, uint8(size-len(stub)-1), 0)
		}
		jump(unix.BPF_JMP|unix.BPF_JGT|unix.BPF_K, ch.last, uint8(enosys-len(stub)-1), uint8(size-len(stub)-1))
	}
	stmt(unix.BPF_RET|unix.BPF_K, unix.SECCOMP_RET_ERRNO|uint32(unix.ENOSYS))
	return stub
}

// exportWithStub returns stub (which may be nil) followed by the program
// libseccomp makes of filter. libseccomp before 2.6 exports only to a
// file: a memfd here.
func exportWithStub(filter *libseccomp.ScmpFilter, stub []unix.SockFilter) ([]unix.SockFilter, error) {
	fd, err := unix.MemfdCreate("seccomp-bpf", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("export seccomp filter: %w", err)
	}
	mem := os.NewFile(uintptr(fd), "seccomp-bpf")
	defer mem.Close()
	if err := filter.ExportBPF(mem); err != nil {
		return nil, fmt.Errorf("export seccomp filter: %w", err)
	}
	// Read back through the fd itself, never a /proc path, which the
	// container's root may fake.
	if _, err := mem.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("export seccomp filter: %w", err)
	}
	raw, err := io.ReadAll(mem)
	if err != nil {
		return nil, fmt.Errorf("export seccomp filter: %w", err)
	}
	const insnSize = int(unsafe.Sizeof(unix.SockFilter{}))
	prog := append([]unix.SockFilter{}, stub...)
	for i := 0; i+insnSize <= len(raw); i += insnSize {
		prog = append(prog, unix.SockFilter{
			Code: binary.NativeEndian.Uint16(raw[i:]),
			Jt:   raw[i+2],
			Jf:   raw[i+3],
			K:    binary.NativeEndian.Uint32(raw[i+4:]),
		})
	}
	return prog, nil
}

// loadProgram loads f.prog with the flags libseccomp would have used, and
// returns the notify fd when a rule notifies. Like libseccomp's load, it
// needs no_new_privs or CAP_SYS_ADMIN.
func (f *Filter) loadProgram() (*os.File, error) {
	// libseccomp-golang synchronises the filter across threads; with a
	// listener the kernel wants TSYNC_ESRCH as well.
	flags := uintptr(f.flags() | unix.SECCOMP_FILTER_FLAG_TSYNC)
	if f.notify {
		flags |= unix.SECCOMP_FILTER_FLAG_NEW_LISTENER | unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH
		if wait, err := f.filter.GetWaitKill(); err == nil && wait {
			flags |= unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
		}
	}
	// New made sure the length fits (bpfMaxInsns).
	fprog := unix.SockFprog{Len: uint16(len(f.prog)), Filter: &f.prog[0]}
	fd, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, flags, uintptr(unsafe.Pointer(&fprog)))
	runtime.KeepAlive(f.prog)
	if errno != 0 {
		return nil, fmt.Errorf("load seccomp filter: %w", errno)
	}
	if !f.notify {
		return nil, nil
	}
	return os.NewFile(fd, "seccomp notify"), nil
}

// Program returns the filter as the seccomp(2) program and flags that Load
// would load, for a single-threaded caller that loads it itself
// (libcontainer/nsenter/exec.c). A filter whose rules notify has none: its
// listener fd must reach the agent, which Load arranges.
func (f *Filter) Program() ([]unix.SockFilter, uint32, error) {
	if f.notify {
		return nil, 0, errors.New("seccomp: a filter that notifies cannot be loaded from a plan")
	}
	return f.prog, f.flags(), nil
}

// flags are the seccomp(2) flags the profile asks for: LOG, SPEC_ALLOW.
func (f *Filter) flags() uint32 {
	var flags uint32
	if log, err := f.filter.GetLogBit(); err == nil && log {
		flags |= unix.SECCOMP_FILTER_FLAG_LOG
	}
	if ssb, err := f.filter.GetSSB(); err == nil && ssb {
		flags |= unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW
	}
	return flags
}
