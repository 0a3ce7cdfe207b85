"""The upload gate with real Pillow, real bytes; the bomb's memory measured in a child."""

from __future__ import annotations

import io
import subprocess
import sys
from http import HTTPStatus

import pytest
from PIL import Image

from imagechat_tui.server.uploads import UploadRejected, check_image
from tests.sharing.images import png, png_bomb, sha


def rejected(data: bytes, digest: str | None = None, **kw: int) -> UploadRejected:
    with pytest.raises(UploadRejected) as error:
        check_image(data, digest or sha(data), **kw)
    assert "\n" not in error.value.message
    return error.value


def test_a_real_image_is_accepted_with_its_size_and_type() -> None:
    data = png(64, 48)
    info = check_image(data, sha(data))
    assert (info.width, info.height, info.mime, info.size) == (64, 48, "image/png", len(data))


def test_bad_uploads_get_their_status() -> None:
    data = png()
    assert rejected(b"hello, not an image").status == HTTPStatus.BAD_REQUEST
    assert rejected(data, sha(b"other")).status == HTTPStatus.BAD_REQUEST
    assert rejected(data[: len(data) // 2]).status == HTTPStatus.BAD_REQUEST  # truncated
    assert rejected(data, "not-a-digest").status == HTTPStatus.BAD_REQUEST
    assert rejected(b"").status == HTTPStatus.BAD_REQUEST
    assert rejected(data, max_bytes=len(data) - 1).status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert rejected(png(100, 100), max_pixels=9999).status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'
    assert rejected(svg).status == HTTPStatus.BAD_REQUEST


@pytest.mark.parametrize("side", [20000, 9000])
def test_a_decompression_bomb_is_refused_before_it_is_decoded(side: int) -> None:
    """Run in a fresh interpreter and read its peak RSS: decoding the 20000x20000 bomb
    would need at least 400 MB (and 9000x9000, which is under Pillow's own bomb
    threshold so only our limit stops it, 81 MB); refusing it from the header keeps the
    peak near the interpreter's own size."""
    script = (
        "import resource, sys\n"
        "from tests.sharing.images import png_bomb, sha\n"
        "from imagechat_tui.server.uploads import check_image, UploadRejected\n"
        f"data = png_bomb({side}, {side})\n"
        "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "try:\n"
        "    check_image(data, sha(data))\n"
        "except UploadRejected as e:\n"
        "    print(int(e.status), len(data), base,"
        " resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.split()
    status, size, base_kb, peak_kb = map(int, out)
    assert status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert size < 1_000_000  # a small file ...
    assert peak_kb - base_kb < 20_000  # ... that never grew the process by 20 MB


def test_the_bomb_helper_really_is_a_20000_pixel_square_png() -> None:
    with Image.open(io.BytesIO(png_bomb(300, 200))) as image:
        image.load()
        assert image.size == (300, 200)


@pytest.mark.parametrize("progressive", [False, True])
def test_a_truncated_jpeg_is_refused_though_decoded_at_an_eighth(progressive: bool) -> None:
    """The JPEG check decodes at 1/8 scale (draft mode); every scan is still read."""
    from tests.sharing.images import encode, gradient

    data = encode(gradient(512), "JPEG", quality=90, progressive=progressive)
    assert check_image(data, sha(data)).width == 512
    assert rejected(data[: len(data) * 2 // 3]).status == HTTPStatus.BAD_REQUEST


def test_a_webp_bomb_is_refused_from_its_header() -> None:
    from tests.sharing.images import webp_bomb

    assert rejected(webp_bomb()).status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE


def test_a_jpeg_whose_first_scan_lacks_components_is_costed_as_buffered_whole() -> None:
    """libjpeg keeps every coefficient of a JPEG whose first scan has fewer components
    than the frame (a multi-scan sequential JPEG, as a progressive one): 6.25 bytes a
    pixel at 4:4:4, so at the pixel limit it is refused from its header (here: the
    interleaved file's first scan made to claim one component, which the cost reads)."""
    from tests.sharing.images import encode, gradient

    data = encode(gradient(100), "JPEG", quality=80, subsampling=0)
    assert check_image(data, sha(data), max_pixels=100 * 100).width == 100  # one scan
    sos = data.index(b"\xff\xda")
    one_component = data[: sos + 4] + b"\x01" + data[sos + 5 :]
    refused = rejected(one_component, max_pixels=100 * 100)
    assert refused.status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert "multi-scan JPEG" in refused.message
