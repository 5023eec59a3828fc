"""Where a key is in a TOML file: the line a configuration error points at.

tomllib gives values, not positions, so this reads the text itself: each table header
(`[signing]`, `[[users]]`, `[users.claims]`) gets the path it opens — with the index of its
array-of-tables entry, `("users", 2)` for the third `[[users]]` — and the key lines under it.
A path such as `("users", 2, "password")` then resolves to the `password = …` line of the third
user, or to that user's header when the key is missing. Good enough for files people write;
a key inside an inline table or a multi-line array resolves to the line its outer key starts on.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

Path = tuple[str | int, ...]

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\[\]]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(r"""^\s*(?:"([^"]*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*[.=]""")
_DOTTED_PART = re.compile(r"""\s*(?:"([^"]*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*""")


@dataclass(frozen=True)
class Section:
    path: Path
    line: int  # 1-based line of the header; 0 for the top of the file
    start: int  # index of the first line after the header
    end: int  # index one past the section's last line


def _dotted(text: str) -> list[str]:
    """`users.claims` or `"a.b".c` as its parts."""
    parts = []
    for piece in re.split(r"\.(?=(?:[^\"']|\"[^\"]*\"|'[^']*')*$)", text):
        match = _DOTTED_PART.fullmatch(piece)
        parts.append(next(g for g in match.groups() if g is not None) if match else piece.strip())
    return parts


def sections(text: str) -> list[Section]:
    """The file's sections in order, each with the concrete path its header opens."""
    lines = text.splitlines()
    latest: dict[Path, int] = {}  # an array of tables' path → the index of its latest entry
    found: list[tuple[Path, int]] = [((), 0)]
    in_multiline = False
    for number, line in enumerate(lines, start=1):
        # Skip the inside of multi-line strings: a `[` there is text, not a header.
        if line.count('"""') % 2 == 1 or line.count("'''") % 2 == 1:
            in_multiline = not in_multiline
            continue
        if in_multiline:
            continue
        match = _HEADER.match(line)
        if match is None:
            continue
        concrete: list[str | int] = []
        names = _dotted(match.group(2))
        for name in names[:-1]:
            concrete.append(name)
            if tuple(concrete) in latest:
                concrete.append(latest[tuple(concrete)])
        concrete.append(names[-1])
        if match.group(1) == "[[":
            key = tuple(concrete)
            latest[key] = latest.get(key, -1) + 1
            concrete.append(latest[key])
        found.append((tuple(concrete), number))
    result = []
    for index, (path, number) in enumerate(found):
        end = found[index + 1][1] - 1 if index + 1 < len(found) else len(lines)
        result.append(Section(path=path, line=number, start=number, end=end))
    return result


def key_line(lines: Sequence[str], start: int, end: int, key: str) -> int | None:
    """The 1-based line where `key = …` (or `key.sub = …`) is written between two lines."""
    for index in range(start, end):
        match = _KEY.match(lines[index])
        if match and next(g for g in match.groups() if g is not None) == key:
            return index + 1
    return None


def locate(text: str, path: Sequence[str | int], value: object = None) -> int | None:
    """The line best showing `path`: its key's line, else the nearest enclosing header's.

    With the offending `value` (a string), an item of a multi-line array is found on its own
    line: the first line from the key on that holds it in quotes.
    """
    lines = text.splitlines()
    wanted = tuple(path)
    best: Section | None = None
    for section in sections(text):
        depth = len(section.path)
        if wanted[:depth] == section.path and (best is None or depth >= len(best.path)):
            best = section
    if best is None:
        return None
    rest = wanted[len(best.path) :]
    if rest and isinstance(rest[0], str):
        line = key_line(lines, best.start, best.end, rest[0])
        if line is not None:
            if isinstance(value, str) and len(rest) > 1:
                for index in range(line - 1, best.end):
                    if f'"{value}"' in lines[index] or f"'{value}'" in lines[index]:
                        return index + 1
            return line
    return best.line or None
