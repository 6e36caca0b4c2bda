"""Reproduce api/console/static/vendor/ from pinned npm tarballs (no Node needed).

Each package is downloaded from the npm registry, checked against its pinned sha512 integrity
(the registry's own ``dist.integrity``), and only the listed dist files and licences are
extracted. Run it after changing a pin; `--check` verifies the committed files match.

    python scripts/vendor_frontend.py           # (re)write the vendored files
    python scripts/vendor_frontend.py --check   # exit 1 if a committed file differs
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import sys
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "api" / "console" / "static" / "vendor"
REGISTRY = "https://registry.npmjs.org"


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    integrity: str  # sha512-<base64>, as the registry publishes it
    folder: str  # under vendor/
    files: dict[str, str]  # path in the tarball (below package/) -> name under folder


PACKAGES = (
    # Map: tiles when configured, vector routes on a plain background otherwise, scale bar.
    Package(
        "leaflet",
        "1.9.4",
        "sha512-nxS1ynzJOmOlHp+iL3FyWqK89GtNL8U8rvlMOsQdTTssxZwCXh8N2NB3GDQOL+YR3XnWyZAxwQixURb+FA74PA==",
        "leaflet",
        {
            "dist/leaflet.js": "leaflet.js",
            "dist/leaflet.css": "leaflet.css",
            "LICENSE": "LICENSE",
        },
    ),
    # Charts: the funnel per provider and period.
    Package(
        "chart.js",
        "4.6.2",
        "sha512-xachB+pPHjp0syJi7llUBA1w3kMYl6NF3o7eVrvjnWCT+IB2zMaF2pX5UYDiwbbfsioFEIRnAjreNOMsGj5TIA==",
        "chartjs",
        {"dist/chart.umd.min.js": "chart.umd.min.js", "LICENSE.md": "LICENSE.md"},
    ),
    # The OpenAPI viewer at /api/v1/docs, served by the app itself.
    Package(
        "swagger-ui-dist",
        "5.36.0",
        "sha512-Lt6/Kb0gXmLdiabLhvso4VdJP9V7qJWB0zh0gzeXUV3+CMOTzMmvpJRSXN7EAjfwixwmoi9ezDbLHiexC7lA9A==",
        "swagger-ui",
        {
            "swagger-ui-bundle.js": "swagger-ui-bundle.js",
            "swagger-ui.css": "swagger-ui.css",
            "swagger-ui-bundle.js.LICENSE.txt": "swagger-ui-bundle.js.LICENSE.txt",
            "LICENSE": "LICENSE",
            "NOTICE": "NOTICE",
        },
    ),
)


def tarball_url(p: Package) -> str:
    return f"{REGISTRY}/{p.name}/-/{p.name.split('/')[-1]}-{p.version}.tgz"


def fetch(p: Package) -> bytes:
    with urllib.request.urlopen(tarball_url(p), timeout=60) as response:  # noqa: S310
        data = response.read()
    algo, _, expected = p.integrity.partition("-")
    actual = base64.b64encode(hashlib.new(algo, data).digest()).decode()
    if actual != expected:
        sys.exit(f"{p.name}@{p.version}: integrity mismatch ({algo}-{actual}); refusing it")
    return data


def extract(p: Package, data: bytes) -> dict[Path, bytes]:
    out: dict[Path, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for src, dest in p.files.items():
            member = tar.getmember(f"package/{src}")
            handle = tar.extractfile(member)
            if handle is None:
                sys.exit(f"{p.name}: {src} is not a file")
            out[VENDOR / p.folder / dest] = handle.read()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare with the files here")
    args = parser.parse_args()
    differ = []
    for p in PACKAGES:
        files = extract(p, fetch(p))
        for path, content in files.items():
            if args.check:
                if not path.exists() or path.read_bytes() != content:
                    differ.append(str(path.relative_to(ROOT)))
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        if not args.check:
            (VENDOR / p.folder / "VERSION").write_text(
                f"{p.name}@{p.version} {p.integrity}\n", encoding="utf-8"
            )
        print(f"{p.name}@{p.version}: {len(files)} files {'checked' if args.check else 'written'}")
    if differ:
        sys.exit("differ from the pinned packages: " + ", ".join(differ))


if __name__ == "__main__":
    main()
