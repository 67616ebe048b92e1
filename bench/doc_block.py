"""docs/performance.md is assembled from blocks, each written by one generator script between
`<!-- begin: NAME -->` and `<!-- end: NAME -->` lines; text outside the blocks is written by hand.
A generator replaces only its own block (appending it at the end the first time)."""
from pathlib import Path


def replace_block(path, name, text):
    path = Path(path)
    begin, end = f"<!-- begin: {name} -->", f"<!-- end: {name} -->"
    block = f"{begin}\n{text.rstrip()}\n{end}"
    doc = path.read_text() if path.exists() else "# Performance\n"
    if begin in doc and end in doc:
        head, rest = doc.split(begin, 1)
        tail = rest.split(end, 1)[1]
        doc = head + block + tail
    else:
        doc = doc.rstrip() + "\n\n" + block + "\n"
    path.write_text(doc)
