"""Seccomp policies for the analyst sandbox, compiled to classic BPF by libseccomp (through
pyseccomp, a ctypes binding with the API of libseccomp's own Python module, which is not on PyPI).

Two stages, because the sandbox must start a Python interpreter before it can run anything:
``startup`` is handed to ``bwrap --seccomp`` and holds from the interpreter's first instruction
(no sockets, no namespaces/mounts, no ptrace, no kernel-module or keyring calls); ``analyst`` is
installed by the sandbox runner itself just before the analyst's code is compiled, and
additionally forbids starting programs and processes (threads remain allowed). Filters stack, so
the second can only narrow the first. Denied calls fail with EPERM (clear errors in the analyst's
traceback) instead of killing the process.
"""
from __future__ import annotations

import errno
import tempfile

import pyseccomp as sc

CLONE_THREAD = 0x00010000

DENIED_AT_STARTUP = (
    "socket", "socketpair", "connect", "bind", "listen", "accept", "accept4",
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp",
    "mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "move_mount", "open_tree",
    "fsopen", "fsmount", "fsconfig", "fspick",
    "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd",
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module", "reboot",
    "swapon", "swapoff", "syslog", "acct", "quotactl", "open_by_handle_at", "name_to_handle_at",
    "iopl", "ioperm", "clock_settime", "settimeofday", "adjtimex", "mknod", "mknodat",
    "io_uring_setup", "io_uring_enter", "io_uring_register", "fanotify_init", "personality",
)
DENIED_FOR_ANALYST = ("execve", "execveat", "fork", "vfork")


def _export(f: sc.SyscallFilter) -> bytes:
    with tempfile.TemporaryFile() as out:
        f.export_bpf(out)
        out.seek(0)
        return out.read()


def _deny(f: sc.SyscallFilter, names: tuple[str, ...]) -> None:
    for name in names:
        try:
            f.add_rule(sc.ERRNO(errno.EPERM), name)
        except (RuntimeError, ValueError, OSError):
            pass  # a call this architecture does not have


def startup_bpf() -> bytes:
    f = sc.SyscallFilter(defaction=sc.ALLOW)
    _deny(f, DENIED_AT_STARTUP)
    return _export(f)


def analyst_bpf() -> bytes:
    """Stage two: no exec, no new processes. clone is allowed only with CLONE_THREAD; clone3
    answers ENOSYS so that glibc falls back to clone, whose flags a BPF filter can inspect."""
    f = sc.SyscallFilter(defaction=sc.ALLOW)
    _deny(f, DENIED_FOR_ANALYST)
    f.add_rule(sc.ERRNO(errno.EPERM), "clone", sc.Arg(0, sc.MASKED_EQ, CLONE_THREAD, 0))
    f.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
    return _export(f)
