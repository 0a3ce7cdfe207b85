from __future__ import annotations

import hashlib
import io
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from PIL import Image

from imagechat_tui.client.halfblock import FLAT_BACKGROUND, opaque
from imagechat_tui.client.image_source import ImageLoadError, load_image, room_for

ROOM_PATTERN = re.compile(r"^[A-Za-z0-9_.:\-/]+$")


def png_bytes(image: Image.Image, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", **params)
    return buffer.getvalue()


class FileServer:
    """A real HTTP server on loopback serving fixed bodies, with ETag revalidation."""

    def __init__(self) -> None:
        self.bodies: dict[str, bytes] = {}
        self.requests: list[tuple[str, str | None]] = []
        self.delay = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.requests.append((self.path, self.headers.get("If-None-Match")))
                if self.path == "/slow":
                    outer.delay.wait(5)
                body = outer.bodies.get(self.path)
                if body is None:
                    self.send_error(404, "Not Found")
                    return
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("ETag", etag)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}{path}"

    def close(self) -> None:
        self.delay.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def http() -> Iterator[FileServer]:
    server = FileServer()
    yield server
    server.close()


def test_local_png_loads_as_rgb(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    path.write_bytes(png_bytes(Image.new("RGB", (30, 20), (200, 10, 10))))
    loaded = load_image(str(path))
    assert loaded.image.mode == "RGB" and loaded.image.size == (30, 20)
    assert loaded.image.getpixel((5, 5)) == (200, 10, 10)
    assert not loaded.is_remote
    assert loaded.default_room == room_for(None, hashlib.sha256(path.read_bytes()).hexdigest())


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    image = Image.new("RGB", (40, 10), (0, 0, 255))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    path = tmp_path / "rotated.jpg"
    image.save(path, format="JPEG", exif=exif.tobytes())
    assert load_image(str(path)).image.size == (10, 40)


def test_transparency_is_kept_for_the_app_and_flattened_for_files(tmp_path: Path) -> None:
    image = Image.new("RGBA", (4, 4), (255, 0, 0, 0))
    image.putpixel((0, 0), (0, 255, 0, 255))
    path = tmp_path / "alpha.png"
    path.write_bytes(png_bytes(image))
    loaded = load_image(str(path)).image
    assert loaded.mode == "RGBA"  # the app draws it over checks
    flat = opaque(loaded)
    assert flat.mode == "RGB"
    assert flat.getpixel((0, 0)) == (0, 255, 0)
    assert flat.getpixel((3, 3)) == FLAT_BACKGROUND


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"this is plain text, not an image", "not an image"),
        (b"", "empty"),
    ],
)
def test_files_that_are_not_images(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "notes.png"
    path.write_bytes(content)
    with pytest.raises(ImageLoadError, match=expected):
        load_image(str(path))


def test_truncated_image(tmp_path: Path) -> None:
    data = png_bytes(Image.effect_noise((200, 200), 50).convert("RGB"))
    path = tmp_path / "cut.png"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageLoadError, match=r"truncated|damaged|decoded"):
        load_image(str(path))


def test_decompression_bomb_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(png_bytes(Image.new("1", (10_000, 9_000))))  # 90 Mpx, a few KB
    with pytest.raises(ImageLoadError, match=r"too large|decompression bomb"):
        load_image(str(path))


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(ImageLoadError, match="No such file"):
        load_image(str(tmp_path / "nope.png"))
    with pytest.raises(ImageLoadError, match="directory"):
        load_image(str(tmp_path))


def test_error_messages_are_one_line_and_inert(tmp_path: Path) -> None:
    with pytest.raises(ImageLoadError) as caught:
        load_image(str(tmp_path / "evil\x1b[2J\nname.png"))
    message = str(caught.value)
    assert "\n" not in message and "\x1b" not in message


def test_room_names_match_the_protocol_pattern() -> None:
    for room in (room_for("https://example.com/a b?x=1", "0" * 64), room_for(None, "f" * 64)):
        assert ROOM_PATTERN.match(room) and len(room) <= 128
    assert room_for("https://a/1", "x") != room_for("https://a/2", "x")


def test_download_reports_progress_and_revalidates_the_cache(
    http: FileServer, tmp_path: Path
) -> None:
    body = png_bytes(Image.effect_noise((300, 300), 60).convert("RGB"))
    http.bodies["/shot.png"] = body
    seen: list[tuple[int, int | None]] = []
    first = load_image(
        http.url("/shot.png"), cache=tmp_path, progress=lambda n, t: seen.append((n, t))
    )
    assert first.is_remote and first.image.size == (300, 300)
    assert seen[-1] == (len(body), len(body))
    second = load_image(http.url("/shot.png"), cache=tmp_path)
    assert second.digest == first.digest
    assert http.requests[-1][1] is not None  # sent If-None-Match, answered 304
    assert first.default_room == room_for(http.url("/shot.png"), first.digest)


def test_http_errors_are_one_line(http: FileServer, tmp_path: Path) -> None:
    with pytest.raises(ImageLoadError, match="HTTP 404"):
        load_image(http.url("/missing.png"), cache=tmp_path)
    http.bodies["/text"] = b"<html>hello</html>"
    with pytest.raises(ImageLoadError, match="not an image"):
        load_image(http.url("/text"), cache=tmp_path)


def test_download_timeout(http: FileServer, tmp_path: Path) -> None:
    http.bodies["/slow"] = b"x"
    with pytest.raises(ImageLoadError, match="Timed out"):
        load_image(http.url("/slow"), cache=tmp_path, timeout=0.3)


def test_unreachable_server(tmp_path: Path) -> None:
    with pytest.raises(ImageLoadError, match="Could not download"):
        load_image("http://127.0.0.1:9/x.png", cache=tmp_path, timeout=2)
