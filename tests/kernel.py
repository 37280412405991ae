"""A real ipykernel process with sm_notebook loaded, for tests that need a kernel's life:
several kernels on one job, or a kernel restart."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from sm_notebook.backends.supervised import alive


class Kernel:
    """A real ipykernel process with sm_notebook loaded, driven over its channels."""

    def __init__(self, cwd: Path):
        from jupyter_client.manager import start_new_kernel

        self.manager, self.client = start_new_kernel(kernel_name="python3", cwd=str(cwd),
                                                     startup_timeout=120)
        self.pid = int(self.run("import os; print(os.getpid())"))
        self.run("%load_ext sm_notebook")

    def run(self, code: str, timeout: float = 180) -> str:
        out: list[str] = []

        def hook(message: dict) -> None:
            if message["msg_type"] == "stream":
                out.append(message["content"]["text"])
            elif message["msg_type"] == "error":
                out.append("\n".join(message["content"]["traceback"]))

        reply = self.client.execute_interactive(code, timeout=timeout, output_hook=hook)
        assert reply["content"]["status"] == "ok", "".join(out)
        return "".join(out)

    def follow_to_the_end(self) -> dict:
        """What this kernel's handle ``job`` saw, once the job ended."""
        return json.loads(self.run(
            "import json\n"
            "job.wait(timeout=150)\n"
            "print(json.dumps({'status': job.status, 'count': job.line_count,\n"
            "                  'lines': [e.message for e in job.recent_lines()]}))\n")
            .strip().splitlines()[-1])

    def dead(self) -> bool:
        return not alive(self.pid)  # a killed kernel not yet reaped is dead too

    def close(self) -> None:
        self.client.stop_channels()
        with contextlib.suppress(Exception):
            self.manager.shutdown_kernel(now=True)
