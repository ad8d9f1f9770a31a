#!/usr/bin/env python3
"""List the workspace's direct dependencies that are more than a minor release behind.

`make outdated` runs it. The locked versions come from `cargo metadata`, the newest
release of each crate from `cargo info` (cargo's own registry client, run outside the
workspace so it reports the registry's newest version, not the locked one). A crate is
listed when the newest release is a new major version, or two or more minor releases
ahead (for 0.x crates, where the minor is the breaking part: two or more of those).
Patch releases and a single minor step are what `cargo update` and the weekly SDK
releases bring anyway, so they are not listed.

cargo-outdated was tried first: it re-resolves the whole tree at the newest versions,
which fails on this workspace (bolero's derive pins an indexmap the SDK's HTTP client
has outgrown), and it leaves dev-dependencies out.
"""

import json
import re
import subprocess
import sys
import tempfile


def cargo(*args: str, cwd: str | None = None) -> str:
    done = subprocess.run(["cargo", *args], cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"cargo {' '.join(args)} failed:\n{done.stderr.strip()}")
    return done.stdout


def parse(version: str) -> tuple[int, int, int]:
    m = re.match(r"(\d+)\.(\d+)\.(\d+)", version)
    if not m:
        sys.exit(f"not a version: {version}")
    return int(m[1]), int(m[2]), int(m[3])


def far_behind(locked: str, newest: str) -> bool:
    (lmaj, lmin, _), (nmaj, nmin, _) = parse(locked), parse(newest)
    if nmaj != lmaj:
        return nmaj > lmaj
    return nmin - lmin >= 2


def main() -> None:
    meta = json.loads(cargo("metadata", "--format-version", "1", "--locked"))
    packages = {p["id"]: p for p in meta["packages"]}
    members = set(meta["workspace_members"])
    nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}

    # (crate, locked version) -> the members and kinds that use it.
    used: dict[tuple[str, str], set[str]] = {}
    for member in sorted(members):
        for dep in nodes[member]["deps"]:
            if dep["pkg"] in members:
                continue
            pkg = packages[dep["pkg"]]
            kinds = {k["kind"] or "normal" for k in dep["dep_kinds"]}
            who = f"{packages[member]['name']} ({', '.join(sorted(kinds))})"
            used.setdefault((pkg["name"], pkg["version"]), set()).add(who)

    newest: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as outside:
        for name in sorted({n for n, _ in used}):
            info = cargo("info", name, cwd=outside)
            m = re.search(r"^version: (\S+)", info, re.MULTILINE)
            if not m:
                sys.exit(f"cargo info {name}: no version line")
            newest[name] = m[1]

    behind = [
        (name, locked, newest[name], sorted(who))
        for (name, locked), who in sorted(used.items())
        if far_behind(locked, newest[name])
    ]
    print(f"{len(newest)} direct dependencies checked; more than a minor release behind: {len(behind)}")
    for name, locked, latest, who in behind:
        print(f"  {name} {locked} -> {latest}  (used by {'; '.join(who)})")


if __name__ == "__main__":
    main()
