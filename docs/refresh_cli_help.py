"""Rewrite the ``--help`` blocks of docs/user_guide/cli.rst from the installed CLI.

Run ``python docs/refresh_cli_help.py`` after changing an argument; tests/test_cli.py checks
that the page shows the current help (``--check`` prints the stale blocks and exits 1).
"""

import contextlib
import io
import os
import re
import sys
from pathlib import Path

PAGE = Path(__file__).parent / "user_guide" / "cli.rst"
WIDTH = "90"  # the page's help blocks are formatted for a 90-column terminal
_BLOCK = re.compile(
    r"(\.\. code-block:: text\n\n)((?:   usage: posterml[^\n]*\n)(?:(?:   [^\n]*)?\n)*)"
)


def current_help(command):
    """``posterml [command] --help`` as printed in a 90-column terminal."""
    from posterml.cli import build_parser

    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = WIDTH
    try:
        parser = build_parser()
        if command:
            parser = parser._subparsers._group_actions[0].choices[command]
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            parser.print_help()
    finally:
        if old is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = old
    return out.getvalue()


def _indented(text):
    return "".join(f"   {line}".rstrip() + "\n" for line in text.rstrip("\n").split("\n")) + "\n"


def refreshed(page_text):
    """The page with every ``usage: posterml ...`` block replaced; and the stale commands."""
    stale = []

    def replace(match):
        usage = match.group(2).split("\n", 1)[0]
        command = usage.split()[2] if len(usage.split()) > 2 else ""
        command = "" if command.startswith("[") else command
        block = _indented(current_help(command))
        if block != match.group(2):
            stale.append(command or "posterml")
        return match.group(1) + block

    return _BLOCK.sub(replace, page_text), stale


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    text = PAGE.read_text(encoding="utf-8")
    new, stale = refreshed(text)
    if "--check" in argv:
        if stale:
            print(f"{PAGE}: stale --help blocks for {stale}; run python {__file__}")
            return 1
        return 0
    PAGE.write_text(new, encoding="utf-8")
    print(f"{PAGE}: refreshed {stale or 'nothing'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
