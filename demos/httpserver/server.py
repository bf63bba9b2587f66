# SPDX-License-Identifier: MIT
"""The demo's web server: http.server's ThreadingHTTPServer on 127.0.0.1
serving a small static site, and logging what it does with `logging`. No
tracing code: pyust is preloaded (LD_PRELOAD=libpyust.so) by the demos.

Each page gets an ETag, a checksum of its bytes, from the C extension
sitehash when it can be imported (demo step 4 builds it; it is imported on
the first request), else from zlib.

Usage: server.py SITE_DIR PORT_FILE [LIFETIME_SECONDS]
Writes the port it listens on into PORT_FILE, serves until SIGTERM or
SIGINT, or LIFETIME_SECONDS (default 120) have passed."""

import logging
import mimetypes
import os
import signal
import sys
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

log = logging.getLogger("httpserver")
_sitehash = None


def format_etag(checksum):
    """The text of an ETag: called from C by sitehash.etag()."""
    return f'"{checksum:08x}"'


def etag(body):
    global _sitehash
    if _sitehash is None:
        try:
            import sitehash
            _sitehash = sitehash
            log.info("ETags from the C extension %s", sitehash.__file__)
        except ImportError:
            _sitehash = False
    if _sitehash:
        return _sitehash.etag(body, format_etag)
    return format_etag(zlib.adler32(body))


class Site:
    """The static files, read at each request as SimpleHTTPRequestHandler does."""

    def __init__(self, root):
        self.root = os.path.realpath(root)

    def page(self, url_path):
        path = unquote(urlsplit(url_path).path)
        if path.endswith("/"):
            path += "index.html"
        full = os.path.realpath(os.path.join(self.root, path.lstrip("/")))
        if not full.startswith(self.root + os.sep):
            return None
        try:
            with open(full, "rb") as f:
                body = f.read()
        except OSError:
            return None
        return body, mimetypes.guess_type(full)[0] or "application/octet-stream", etag(body)


class Handler(BaseHTTPRequestHandler):
    server_version = "pyust-demo/1"
    protocol_version = "HTTP/1.0"

    def do_GET(self):
        found = self.server.site.page(self.path)
        if found is None:
            self.send_error(404, "no such page")
            return
        body, ctype, tag = found
        if self.headers.get("If-None-Match") == tag:
            self.send_response(304)
            self.send_header("ETag", tag)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", tag)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        log.info("%s %s", self.address_string(), format % args)

    def log_error(self, format, *args):
        log.warning("%s %s", self.address_string(), format % args)


def main(site_dir, port_file, lifetime=120.0):
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(threadName)s %(levelname)s %(message)s")
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.site = Site(site_dir)
    stopping = threading.Event()

    def stop(*_):
        if not stopping.is_set():
            stopping.set()
            threading.Thread(target=server.shutdown, name="shutdown").start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    timer = threading.Timer(lifetime, stop)
    timer.daemon = True
    timer.start()
    port = server.server_address[1]
    with open(port_file + ".tmp", "w") as f:
        f.write(f"{port}\n")
    os.rename(port_file + ".tmp", port_file)
    log.info("serving %s on http://127.0.0.1:%d", site_dir, port)
    server.serve_forever(poll_interval=0.2)
    server.server_close()
    log.info("stopped")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], *(float(a) for a in sys.argv[3:4]))
