"""sm_notebook's own model server: a script's handlers behind SageMaker's HTTP contract.

``python model_server.py --script train.py --model-dir DIR [--port 0] [--framework F]
[--ready-file FILE] [--host H]`` loads the handlers and calls ``model_fn`` once, then
answers ``GET /ping`` (200 when the model is loaded) and ``POST /invocations``
(``Content-Type`` and ``Accept`` headers) on 127.0.0.1 (``--host 0.0.0.0`` only inside a
container, whose port is published on the host's 127.0.0.1); ``--port 0`` takes a free
port.  The port (or
the one-line reason it could not start) is written to ``--ready-file`` as JSON, so the
caller neither polls nor parses the log.  A handler's error is a 500 with the traceback
in the log (stderr); a format refused is a 415.  Standard library only: it runs with the
job's Python and in containers without a serving stack.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

try:  # imported as part of the package (the backends, tests)
    from .inference import Context, HandlerError, Handlers, load_script
except ImportError:  # run as a file (python model_server.py ...): its sibling is on the path
    from inference import Context, HandlerError, Handlers, load_script  # type: ignore[no-redef]

HOST = "127.0.0.1"
MAX_BODY = 100 << 20  # bytes of a request body (SageMaker's own limit is 6 MB; 25 MB async)


class Service:
    """The loaded handlers and model, shared by the request threads."""

    def __init__(self, handlers: Handlers, model: Any, model_dir: str):
        self.handlers, self.model, self.model_dir = handlers, model, model_dir
        self.requests = 0
        self.lock = threading.Lock()


def make_handler(service: Service) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "sm_notebook-model-server"
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            if self.path.split("?", 1)[0] == "/ping":
                self._send(200, b"", "text/plain")
            else:
                self._send(404, b"GET /ping or POST /invocations", "text/plain")

        def do_POST(self) -> None:
            if self.path.split("?", 1)[0] != "/invocations":
                self._send(404, b"POST /invocations", "text/plain")
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._send(413, f"a body of {length} bytes is over {MAX_BODY}".encode(),
                           "text/plain")
                return
            body = self.rfile.read(length)
            context = Context(service.model_dir, {"model_dir": service.model_dir},
                              dict(self.headers.items()))
            began = time.perf_counter()
            try:
                reply = service.handlers.invoke(service.model, body,
                                                self.headers.get("Content-Type"),
                                                self.headers.get("Accept"), context)
            except Exception as exc:
                traceback.print_exc(file=sys.stderr)
                self._send(500, f"{type(exc).__name__}: {exc}".encode(), "text/plain")
                return
            with service.lock:
                service.requests += 1
            _log(f"POST /invocations {reply.status} {len(reply.body)} bytes "  # before the
                 f"{(time.perf_counter() - began) * 1000:.1f} ms")  # reply: a log read after
            self._send(reply.status, reply.body, reply.content_type)  # it has the line

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # one line per invocation is written above; pings are not logged

    return Handler


def _log(message: str) -> None:
    print(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def _ready(path: str | None, **fields: Any) -> None:
    """Say how the start went, atomically (the caller waits for this file)."""
    if not path:
        return
    partial = f"{path}.partial"
    with open(partial, "w") as f:
        json.dump(fields, f)
    os.replace(partial, path)


def serve(script: str, model_dir: str, port: int = 0, framework: str | None = None,
          ready_file: str | None = None, host: str = HOST) -> int:
    try:
        handlers = Handlers(load_script(script), framework, name=Path(script).name)
        model = handlers.load_model(model_dir, Context(model_dir, {"model_dir": model_dir}))
    except HandlerError as exc:
        traceback.print_exc(file=sys.stderr)
        _ready(ready_file, error=str(exc))
        return 1
    except Exception as exc:  # model_fn's own error
        traceback.print_exc(file=sys.stderr)
        _ready(ready_file, error=f"model_fn failed: {type(exc).__name__}: {exc}")
        return 1
    try:
        server = ThreadingHTTPServer((host, port), make_handler(Service(handlers, model,
                                                                        model_dir)))
    except OSError as exc:
        _ready(ready_file, error=f"port {port} on {host}: {exc.strerror or exc}")
        return 1
    server.daemon_threads = True
    bound = server.server_address[1]
    _log(f"serving {Path(script).name} on http://{host}:{bound} (model from {model_dir})")
    _ready(ready_file, port=bound, pid=os.getpid())
    try:
        server.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--script", required=True)
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--framework", default=None)
    parser.add_argument("--ready-file", default=None)
    parser.add_argument("--host", default=HOST)
    args = parser.parse_args(argv)
    return serve(args.script, args.model_dir, args.port, args.framework, args.ready_file,
                 args.host)


if __name__ == "__main__":
    sys.exit(main())
