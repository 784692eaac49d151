"""Times the Python dockerfile-parse package on a folder of Dockerfiles (per file, in
memory), for comparison with strata's parse benchmark on the same files."""
import io
import os
import sys
import time

from dockerfile_parse import DockerfileParser

folder = sys.argv[1]
texts = []
for name in sorted(os.listdir(folder)):
    try:
        with open(os.path.join(folder, name), encoding="utf-8") as f:
            texts.append(f.read())
    except (UnicodeDecodeError, OSError):
        pass

best = None
for _ in range(3):
    start = time.perf_counter()
    froms = 0
    for text in texts:
        parser = DockerfileParser(fileobj=io.BytesIO(), cache_content=True)
        parser.content = text
        froms += len(parser.parent_images)
    elapsed = time.perf_counter() - start
    best = elapsed if best is None else min(best, elapsed)
print(f"dockerfile-parse (PyPI)  {best * 1e6 / len(texts):8.2f} µs/file  ({len(texts)} files, {froms} parent images)")
print(f"dockerfile-parse (PyPI)  {best * 1e3:8.1f} ms for all {len(texts)} files, parsing in memory only")
