"""The cookie size limit the narration states (RFC 6265bis 5.4), measured in the real Chromium:
name plus value of 4096 bytes is kept, 4097 is dropped, and the attributes do not count."""

from __future__ import annotations

import http.server
import threading

from authcli.server.schemes.jwt_cookie import COOKIE_LIMIT


class _SetsCookies(http.server.BaseHTTPRequestHandler):
    """GET /N answers Set-Cookie with a name plus value of exactly N bytes, and attributes."""

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        size = int(self.path.strip("/")) if self.path.strip("/").isdigit() else 0
        self.send_response(200)
        if size:
            name = f"c{size}"
            self.send_header("Set-Cookie", f"{name}={'a' * (size - len(name))}; Path=/; HttpOnly; SameSite=Lax")
        self.send_header("Content-Length", "0")
        self.end_headers()


def test_chromium_keeps_a_cookie_of_4096_bytes_of_name_and_value_and_drops_4097(browser):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _SetsCookies)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    context = browser.new_context()
    try:
        tab = context.new_page()
        for size in (COOKIE_LIMIT - 1, COOKIE_LIMIT, COOKIE_LIMIT + 1, 4724):
            tab.goto(f"http://127.0.0.1:{server.server_port}/{size}")
        kept = sorted(len(c["name"]) + len(c["value"]) for c in context.cookies())
    finally:
        context.close()
        server.shutdown()
        server.server_close()
        thread.join()
    # Attributes do not count: each Set-Cookie line was longer than its name plus value.
    assert kept == [COOKIE_LIMIT - 1, COOKIE_LIMIT]
