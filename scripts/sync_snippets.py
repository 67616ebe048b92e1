#!/usr/bin/env python3
"""Copies the code between `example-begin NAME` / `example-end NAME` markers of the compiled
examples and tests into the fenced blocks that follow `<!-- snippet: NAME -->` in README.md and
docs/*.md. With --check, only reports (exit 1) where a document differs from its source."""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
SOURCES = ["examples", "tests"]
BEGIN = re.compile(r"(?://|#) example-begin (\S+)")
END = "example-end"


def collect_snippets():
    snippets = {}
    for folder in SOURCES:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix not in {".cpp", ".hpp", ".py"}:
                continue
            lines = path.read_text().splitlines()
            for i, line in enumerate(lines):
                match = BEGIN.search(line)
                if not match:
                    continue
                name = match.group(1)
                body = []
                for inner in lines[i + 1:]:
                    if END in inner and name in inner:
                        break
                    body.append(inner)
                else:
                    sys.exit(f"{path}: example '{name}' has no end marker")
                indent = min((len(b) - len(b.lstrip()) for b in body if b.strip()), default=0)
                snippets[name] = "\n".join(b[indent:] for b in body)
    return snippets


def sync(document, snippets):
    text = document.read_text()
    pattern = re.compile(r"(<!-- snippet: (\S+) -->\n```(\w*)\n)(.*?)(```)", re.S)

    def replace(match):
        name = match.group(2)
        if name not in snippets:
            sys.exit(f"{document}: unknown snippet '{name}'")
        return match.group(1) + snippets[name] + "\n" + match.group(5)

    return text, pattern.sub(replace, text)


def main():
    check = "--check" in sys.argv
    snippets = collect_snippets()
    stale = []
    for document in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        old, new = sync(document, snippets)
        if old != new:
            stale.append(document.relative_to(ROOT))
            if not check:
                document.write_text(new)
    if check and stale:
        print("out of date (run scripts/sync_snippets.py):", *stale)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
