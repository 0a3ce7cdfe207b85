"""imagechat-tui: review images together from a terminal."""

__version__ = "0.1.0"
