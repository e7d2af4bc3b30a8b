#!/usr/bin/env python3
"""Fetch files from a package's source distribution on PyPI, checked by its SHA-256.

The real data sets of workflows/examples/real_data_seeds.sh ship inside other projects' sdists
(concise's PUM2 eCLIP sites, janggu's Oct4 and Mafk ChIP-seq peaks). Rather than copying them
into this repository (janggu is GPL-3), the example fetches the pinned sdist once into a cache
and extracts the members it needs:

    python3 fetch_sdist.py NAME VERSION SHA256 MEMBER [MEMBER ...] -o DIR [--cache DIR]

Each MEMBER is a path inside the tarball; it is written to DIR under its base name. Exit 1 with
one message when the download fails, the digest differs or a member is missing.
"""
import argparse
import hashlib
import pathlib
import re
import sys
import tarfile
import urllib.request


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("name")
    p.add_argument("version")
    p.add_argument("sha256")
    p.add_argument("members", nargs="+")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--cache", default=str(pathlib.Path.home() / ".cache" / "gkd" / "packages"))
    a = p.parse_args()
    cache = pathlib.Path(a.cache)
    cache.mkdir(parents=True, exist_ok=True)
    tarball = cache / f"{a.name}-{a.version}.tar.gz"
    if not tarball.exists() or hashlib.sha256(tarball.read_bytes()).hexdigest() != a.sha256:
        index = f"https://pypi.org/simple/{a.name}/"
        try:
            html = urllib.request.urlopen(index, timeout=120).read().decode()
            links = re.findall(rf'href="([^"#]+/{re.escape(tarball.name)})#sha256=([0-9a-f]+)"', html)
            if not links:
                sys.exit(f"fetch_sdist: {index} lists no {tarball.name}")
            data = urllib.request.urlopen(links[0][0], timeout=600).read()
        except OSError as e:
            sys.exit(f"fetch_sdist: cannot download {tarball.name} from PyPI: {e}")
        digest = hashlib.sha256(data).hexdigest()
        if digest != a.sha256:
            sys.exit(f"fetch_sdist: {tarball.name} has SHA-256 {digest}, expected {a.sha256}")
        partial = tarball.with_suffix(".partial")
        partial.write_bytes(data)
        partial.rename(tarball)
    out = pathlib.Path(a.output)
    out.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tarball) as tar:
        for member in a.members:
            try:
                source = tar.extractfile(member)
            except KeyError:
                source = None
            if source is None:
                sys.exit(f"fetch_sdist: {tarball}: no file {member}")
            (out / pathlib.Path(member).name).write_bytes(source.read())


if __name__ == "__main__":
    main()
