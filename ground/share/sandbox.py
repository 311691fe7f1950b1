"""Run an analyst's untrusted code under bubblewrap: every namespace unshared (no network, own
PID/IPC/UTS/user namespaces, uid 65534), a read-only root that holds nothing but the Python
runtime and the job's input, one writable directory for its output, resource limits set with
setrlimit in the child (CPU, address space, file size, processes, open files), two seccomp
stages (see ``seccomp_policy``) and a wall-clock timeout after which the whole PID namespace dies.
"""
from __future__ import annotations

import ctypes
import os
import resource
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ground.share import seccomp_policy

RUNNER = Path(__file__).with_name("sandbox_runner.py")
NOBODY = 65534
MODES = ("map_records", "map_batches", "reduce")
OUTPUT_FILES = {"map_records": "pairs.jsonl", "map_batches": "result.arrows", "reduce": "result.jsonl"}


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create namespaces here."""


@dataclass(frozen=True)
class SandboxLimits:
    cpu_seconds: int = 60
    memory_bytes: int = 2 << 30
    file_bytes: int = 256 << 20
    processes: int = 64
    open_files: int = 64
    wall_seconds: float = 120.0


@dataclass(frozen=True)
class SandboxResult:
    ok: bool
    returncode: int
    reason: str
    stderr: str
    output: Path

    @property
    def cpu_seconds(self) -> float:
        """CPU the job reported using (statistics only: self-reported, so never trusted)."""
        try:
            return max(0.0, float((self.output.parent / ".usage").read_text()[:32]))
        except (OSError, ValueError):
            return 0.0


@lru_cache(maxsize=1)
def _bpf() -> tuple[bytes, bytes]:
    return seccomp_policy.startup_bpf(), seccomp_policy.analyst_bpf()


def _python_mounts() -> list[str]:
    """Read-only binds for the interpreter, its standard library and the installed packages."""
    prefix = Path(sys.base_prefix).resolve()
    site = Path(sysconfig.get_paths()["purelib"]).resolve()
    args = ["--ro-bind", str(prefix), str(prefix), "--ro-bind", str(site), "/pylib"]
    return args


def _interpreter() -> str:
    base = Path(sys.base_prefix) / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    return str(base.resolve() if base.exists() else Path(sys.executable).resolve())


def bwrap_command(job_dir: Path, out_dir: Path, seccomp_fd: int, mode: str) -> list[str]:
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise SandboxUnavailable("bubblewrap (bwrap) is not installed: apt-get install bubblewrap")
    cmd = [bwrap, "--unshare-all", "--unshare-user", "--uid", str(NOBODY), "--gid", str(NOBODY),
           "--die-with-parent", "--new-session", "--hostname", "sandbox",
           "--ro-bind", "/usr", "/usr", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
           "--symlink", "usr/bin", "/bin", "--proc", "/proc", "--dev", "/dev",
           *_python_mounts(),
           "--ro-bind", str(job_dir), "/job", "--bind", str(out_dir), "/out",
           "--remount-ro", "/", "--chdir", "/out", "--clearenv",
           "--setenv", "PATH", "/usr/bin", "--setenv", "HOME", "/out", "--setenv", "LANG", "C.UTF-8",
           "--setenv", "OMP_NUM_THREADS", "1", "--setenv", "ARROW_DEFAULT_MEMORY_POOL", "system",
           "--seccomp", str(seccomp_fd),
           _interpreter(), "-I", "-S", "-B", "/job/runner.py", mode]
    return cmd


PR_SET_PDEATHSIG = 1


def _limiter(limits: SandboxLimits):
    libc = ctypes.CDLL(None, use_errno=True)

    def apply() -> None:
        # bwrap dies with the process that started it (a killed pool worker, service or Dask
        # worker never leaves a sandbox behind); --die-with-parent then takes the job with it.
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 1))  # SIGXCPU first
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
        resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))
        resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return apply


def prepare_job_dir(job_dir: Path, code: str) -> None:
    """Write the analyst's code, the runner and the second-stage filter where /job will be."""
    job_dir.mkdir(parents=True, exist_ok=True)
    (job_dir / "job.py").write_text(code, encoding="utf-8")
    shutil.copyfile(RUNNER, job_dir / "runner.py")
    (job_dir / "analyst.bpf").write_bytes(_bpf()[1])
    for p in job_dir.iterdir():
        p.chmod(0o644)
    job_dir.chmod(0o755)


def _describe(rc: int, limits: SandboxLimits) -> str:
    if rc == 3:
        return "analyst code raised an exception"
    if rc == 2:
        return "analyst code broke the job contract"
    if rc == -signal.SIGXCPU or rc == 128 + signal.SIGXCPU:
        return f"CPU limit of {limits.cpu_seconds} s exceeded"
    if rc == -signal.SIGXFSZ or rc == 128 + signal.SIGXFSZ:
        return f"output file size limit of {limits.file_bytes} bytes exceeded"
    if rc in (-signal.SIGKILL, 128 + signal.SIGKILL):
        return "killed (memory or CPU limit)"
    if rc == 1:
        return "analyst code failed (e.g. out of memory or a denied operation)"
    return f"sandbox exited with status {rc}"


def run_sandboxed(job_dir: Path, out_dir: Path, mode: str, limits: SandboxLimits = SandboxLimits()) -> SandboxResult:
    """Run ``mode`` over the inputs already in ``job_dir``; results land in ``out_dir``."""
    if mode not in MODES:
        raise ValueError(f"unknown sandbox mode {mode}")
    out_dir.mkdir(parents=True, exist_ok=True)
    out_dir.chmod(0o755)
    read_fd, write_fd = os.pipe()
    try:
        os.write(write_fd, _bpf()[0])
    finally:
        os.close(write_fd)
    cmd = bwrap_command(job_dir, out_dir, read_fd, mode)
    # stderr goes to a file, so RLIMIT_FSIZE bounds what a chatty job can make us hold
    with tempfile.TemporaryFile() as err_file:
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err_file,
                                    pass_fds=(read_fd,), preexec_fn=_limiter(limits))
        finally:
            os.close(read_fd)
        try:
            rc = proc.wait(timeout=limits.wall_seconds)
            reason = "" if rc == 0 else _describe(rc, limits)
        except subprocess.TimeoutExpired:
            proc.kill()  # bwrap; --die-with-parent kills the job and so its whole PID namespace
            rc = proc.wait()
            reason = f"wall-clock limit of {limits.wall_seconds:g} s exceeded"
        size = err_file.seek(0, os.SEEK_END)
        err_file.seek(max(0, size - 4000))
        err = err_file.read()
    text = err.decode("utf-8", "replace")[-4000:]
    if rc != 0 and "bwrap:" in text and "analyst" not in reason:
        reason = f"sandbox could not start: {text.strip().splitlines()[-1]}"
    return SandboxResult(rc == 0 and not reason, rc, reason, text, out_dir / OUTPUT_FILES[mode])
