"""A real HTTP MJPEG camera for tests: serves synthetic frames as multipart/x-mixed-replace.

It can be killed (connections closed, port released) and restarted on the same port, which is
what a camera power cycle or a network cut looks like to the worker.
"""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2

from imtui.engine.video.synthetic import SyntheticCamera

BOUNDARY = b"imtuiframe"


class MjpegCamera:
    def __init__(self, source: str = "synthetic:?size=320x240&fps=8&every=2&cross=1.6", port: int = 0) -> None:
        self.camera = SyntheticCamera.from_source(source)
        self.port = port or _free_port()
        self.server: ThreadingHTTPServer | None = None
        self.alive = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/video.mjpg"

    def start(self) -> None:
        camera, alive = self.camera, self.alive

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # noqa: ANN002
                pass

            def do_GET(self) -> None:  # noqa: N802
                self.send_response(200)
                self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY.decode()}")
                self.end_headers()
                i = 0
                try:
                    while alive.is_set():
                        frame, _ = camera.frame(i)
                        ok, jpg = cv2.imencode(".jpg", frame)
                        data = jpg.tobytes()
                        self.wfile.write(b"--" + BOUNDARY + b"\r\nContent-Type: image/jpeg\r\nContent-Length: "
                                         + str(len(data)).encode() + b"\r\n\r\n" + data + b"\r\n")
                        i += 1
                        time.sleep(1 / camera.fps)
                except OSError:
                    pass

        self.alive.set()
        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def kill(self) -> None:
        self.alive.clear()
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
