from __future__ import annotations

import json

from imagechat_tui.protocol import Joined, RoomImage, User, decode_server_frame, encode


def test_joined_carries_the_rooms_image_and_old_frames_still_decode() -> None:
    image = RoomImage(digest="ab" * 32, width=1600, height=900, title="mock.png")
    frame = Joined(room="r", seq=3, recovered=False, user=User(id="u", name="U"), image=image)
    data = encode(frame)
    assert json.loads(data)["image"] == {
        "digest": "ab" * 32,
        "width": 1600,
        "height": 900,
        "title": "mock.png",
    }
    assert decode_server_frame(data) == frame
    old = b'{"type":"joined","room":"r","seq":0,"recovered":false,"user":{"id":"u","name":"U"}}'
    decoded = decode_server_frame(old)
    assert isinstance(decoded, Joined) and decoded.image is None
