"""The browser client of a room link: static ES modules and CSS (``static/``), shipped in
the wheel and served as they are (no build step), and the pure pieces the server needs
to serve them: the files with their ETags (``assets``), the page's HTML shell and CSP
(``page``), the credential cookie (``cookie``) and the WebSocket Origin rule (``origin``).
"""
