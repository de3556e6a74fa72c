package seccomp

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// runStub runs the stub on one syscall, as the kernel's classic BPF
// interpreter would, for the instructions the stub uses; running off its
// end means libseccomp's program decides, which it reports as "next".
func runStub(t *testing.T, stub []unix.SockFilter, arch, nr uint32) string {
	t.Helper()
	var acc uint32
	for pc := 0; pc < len(stub); pc++ {
		in := stub[pc]
		switch in.Code {
		case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
			acc = map[uint32]uint32{dataNr: nr, dataArch: arch}[in.K]
		case unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K, unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K:
			taken := map[uint16]bool{
				unix.BPF_JEQ: acc == in.K, unix.BPF_JGE: acc >= in.K, unix.BPF_JGT: acc > in.K,
			}[in.Code&0xf0]
			if taken {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case unix.BPF_RET | unix.BPF_K:
			if in.K != unix.SECCOMP_RET_ERRNO|uint32(unix.ENOSYS) {
				t.Fatalf("the stub returns %#x, want ERRNO(ENOSYS)", in.K)
			}
			return "ENOSYS"
		default:
			t.Fatalf("instruction %d: unexpected code %#x", pc, in.Code)
		}
	}
	return "next"
}

func TestEnosysStub(t *testing.T) {
	profile := &specs.LinuxSeccomp{
		DefaultAction: specs.ActErrno,
		Syscalls: []specs.LinuxSyscall{
			{Names: []string{"read", "write", "openat", "no_such_syscall"}, Action: specs.ActAllow},
		},
	}
	archs := []libseccomp.ScmpArch{libseccomp.ArchAMD64, libseccomp.ArchX86, libseccomp.ArchX32}
	stub := enosysStub(profile, libseccomp.ActErrno.SetReturnCode(int16(unix.EPERM)), archs)
	const openatX86_64, openatI386 = 257, 295
	for _, tc := range []struct {
		name     string
		arch, nr uint32
		want     string
	}{
		{"x86_64, the newest syscall the profile names", unix.AUDIT_ARCH_X86_64, openatX86_64, "next"},
		{"x86_64, an older one it does not name", unix.AUDIT_ARCH_X86_64, 83, "next"},
		{"x86_64, a newer one", unix.AUDIT_ARCH_X86_64, openatX86_64 + 1, "ENOSYS"},
		{"x86_64, far newer", unix.AUDIT_ARCH_X86_64, 1000, "ENOSYS"},
		{"x32, left to libseccomp", unix.AUDIT_ARCH_X86_64, x32SyscallBit | 1000, "next"},
		{"i386, its own newest", unix.AUDIT_ARCH_I386, openatI386, "next"},
		{"i386, a newer one", unix.AUDIT_ARCH_I386, openatI386 + 1, "ENOSYS"},
		{"an architecture the filter lacks", unix.AUDIT_ARCH_AARCH64, 1000, "next"},
	} {
		if got := runStub(t, stub, tc.arch, tc.nr); got != tc.want {
			t.Errorf("%s (nr %d): %s, want %s", tc.name, tc.nr, got, tc.want)
		}
	}

	for _, def := range []libseccomp.ScmpAction{libseccomp.ActAllow, libseccomp.ActLog, libseccomp.ActErrno.SetReturnCode(int16(unix.ENOSYS))} {
		if stub := enosysStub(profile, def, archs); stub != nil {
			t.Errorf("default action %v: a stub of %d instructions, want none: new syscalls get the default", def, len(stub))
		}
	}
}
