"""nginx in front of app nodes, configured by deploy/nginx-examsys.conf (the deployment's own file),
for bench/load.py (the exam day as deployed) and tests/nodes (two nodes behind one proxy).

`render` replaces the upstream's server lines, the `listen` line and the checkout path
/srv/examsys/, and nothing else; `Nginx` runs it in the foreground (`daemon off`) with its prefix,
pid, logs and temp files in a directory of its own, and is killed at cleanup.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONF = ROOT / "deploy" / "nginx-examsys.conf"


def binary() -> str | None:
    """The nginx executable, or None (scripts/sysdeps.sh installs nginx-light)."""
    found = shutil.which("nginx") or "/usr/sbin/nginx"
    return found if Path(found).exists() else None


def render(conf: str, *, listen: int, nodes: list[int], root: Path = ROOT) -> str:
    """`conf` with these node ports, this listening port and `root` for /srv/examsys/."""
    servers = "".join(f"    server 127.0.0.1:{p} max_fails=3 fail_timeout=10s;\n" for p in nodes)
    out, n = re.subn(r"(upstream examsys_app \{\n(?:\s*#.*\n)*)(?:\s*server [^\n]*\n)+", r"\g<1>" + servers, conf)
    if n != 1:
        raise ValueError(f"{CONF}: no `upstream examsys_app` with server lines")
    out, n = re.subn(r"listen 80;", f"listen 127.0.0.1:{listen};", out)
    if n != 1:
        raise ValueError(f"{CONF}: no `listen 80;`")
    if "/srv/examsys/" not in out:
        raise ValueError(f"{CONF}: no /srv/examsys/ checkout path")
    return out.replace("/srv/examsys/", str(root) + "/")


class Nginx:
    """nginx on `listen` in front of `nodes` (ports). `workers`: nginx's worker processes (round
    robin is per worker: the two-node test wants one); `connections`: per worker."""

    def __init__(self, tmp: Path, listen: int, nodes: list[int], cleanup, *, workers: int = 1,
                 connections: int = 256, access_log: bool = True, wait_healthz=None):
        exe = binary()
        if exe is None:
            raise RuntimeError("nginx is not installed (make setup installs nginx-light)")
        self.dir = tmp / "nginx"
        self.dir.mkdir()
        self.port = listen
        site = render(CONF.read_text(encoding="utf-8"), listen=listen, nodes=nodes)
        (self.dir / "examsys.conf").write_text(site, encoding="utf-8")
        user = ""
        if os.geteuid() == 0:  # workers run as nobody: they write temp files here
            import pwd

            nobody = pwd.getpwnam("nobody")
            for sub in ("client_body", "proxy"):
                (self.dir / sub).mkdir()
                os.chown(self.dir / sub, nobody.pw_uid, nobody.pw_gid)
            user = "user nobody nogroup;\n"
        log = f"{self.dir}/access.log" if access_log else "off"
        (self.dir / "nginx.conf").write_text(
            f"{user}worker_processes {workers};\nworker_rlimit_nofile {max(1024, 2 * connections + 64)};\n"
            f"pid {self.dir}/nginx.pid;\nerror_log {self.dir}/error.log warn;\n"
            f"events {{ worker_connections {connections}; }}\n"
            "http {\n    include /etc/nginx/mime.types;\n"
            f"    access_log {log};\n"
            f"    client_body_temp_path {self.dir}/client_body;\n    proxy_temp_path {self.dir}/proxy;\n"
            f"    fastcgi_temp_path {self.dir}/fastcgi;\n    uwsgi_temp_path {self.dir}/uwsgi;\n"
            f"    scgi_temp_path {self.dir}/scgi;\n"
            f"    include {self.dir}/examsys.conf;\n}}\n", encoding="utf-8")
        cmd = [exe, "-p", str(self.dir), "-e", str(self.dir / "error.log"), "-c", str(self.dir / "nginx.conf"),
               "-g", "daemon off;"]
        check = subprocess.run([*cmd[:-2], "-t"], capture_output=True, text=True, timeout=30)
        if check.returncode != 0:
            raise RuntimeError(f"nginx -t: {check.stderr}")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
        cleanup.add("nginx", self.close)
        if wait_healthz is not None:
            wait_healthz(listen, self.proc, self.dir / "error.log", 20)

    def pids(self) -> list[int]:
        """The master and its workers."""
        out = subprocess.run(["pgrep", "-g", str(self.proc.pid)], capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]

    def close(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, 9)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(10)
