"""Where a mention is, in comment text: the one rule the app (notices, highlighting, the
mention picker) and the Markdown export (which makes every mention inert) share.

The rule is GitHub's and GitLab's: ``@`` then a user id, unless the ``@`` follows a
word character, where only ASCII letters, digits and ``_`` are word characters (their
mention filters run Ruby regular expressions, whose ``\\w`` is ASCII): ``bob@x.org`` is
an address, ``é@bob``, ``日本@bob`` and ``@@bob`` mention bob. A final dot is punctuation.
"""

from __future__ import annotations

import re
from typing import Final

#: What, right before an ``@``, makes it start no mention (a character class body).
WORD_BEFORE: Final = "A-Za-z0-9_"
#: ``@`` then an id (the app's ids: letters of any script, digits, ``_ . + - @``).
MENTION: Final = re.compile(rf"(?<![{WORD_BEFORE}])@([\w][\w.+\-@]*[\w]|[\w])")
#: What is being typed at the cursor when it is a mention in progress.
TYPING: Final = re.compile(rf"(?<![{WORD_BEFORE}])@([\w.+\-@]*)$")
#: A run of the characters an e-mail address or a GitHub/GitLab user name is made of
#: that holds an ``@``: the export makes each one inert (a mention, an address, or a
#: part of one a renderer could still link); every ``MENTION`` of an ASCII id lies in one.
ADDRESS_RUN: Final = re.compile(rf"[{WORD_BEFORE}.+\-@]*@[{WORD_BEFORE}.+\-@]*")
