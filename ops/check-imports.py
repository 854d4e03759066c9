#!/usr/bin/env python3
"""Fails when an import in Sources/ runs against Loupe's module layers (docs/architecture.md).

Each Loupe module sits on a layer and may import only modules on lower layers, plus the outside
packages listed for it. `--self-test` plants a wrong-way import in a copy of the tree and checks
that it is caught. Usage: ops/check-imports.py [--self-test] [SOURCES_DIR]
"""
import os
import re
import shutil
import sys
import tempfile

# Lower layers first. A module may import Loupe modules of lower layers only.
LAYERS = [
    ["CBLAS", "CLMDB", "CRdKafka", "LoupeBytes", "LoupeRandomness", "LoupeConcurrency"],
    ["LoupeEvents", "LoupeLMDB", "LoupeML"],
    ["LoupeConfig", "LoupeStore", "LoupeWorld"],
    ["LoupeLog"],
    ["LoupeKafka", "LoupeEmbeddedLog", "LoupeServing"],
    ["LoupeLearning", "LoupeLogBackends"],
    ["LoupeEvaluation", "LoupeHTTP", "LoupeCLI"],
    ["LoupeBench"],
    ["loupe", "loupe-bench"],
]
LAYER = {module: rank for rank, modules in enumerate(LAYERS) for module in modules}

SYSTEM = {"Foundation", "FoundationEssentials", "Glibc", "Dispatch", "CDispatch", "Synchronization"}
# C libraries, outside packages, by the modules allowed to import them (checked before the
# layers): the log contract links no backend, the pipeline no HTTP stack.
OUTSIDE = {
    "CRdKafka": {"LoupeKafka"},
    "CLMDB": {"LoupeLMDB"},
    "CBLAS": {"LoupeML", "LoupeServing", "LoupeBench"},
    "Yams": {"LoupeConfig", "LoupeLog", "loupe"},
    "Hummingbird": {"LoupeHTTP"},
    "HummingbirdCore": {"LoupeHTTP"},
    "NIOCore": {"LoupeHTTP"},
    "NIOHTTP1": {"LoupeHTTP"},
    "NIOHTTPTypes": {"LoupeHTTP"},
    "Prometheus": {"LoupeHTTP"},
    "Metrics": {"LoupeHTTP"},
    "Logging": {"LoupeHTTP", "loupe"},
    "ServiceLifecycle": {"LoupeLearning", "LoupeHTTP", "loupe"},
    "UnixSignals": {"loupe"},
    "ArgumentParser": {"loupe", "loupe-bench", "LoupeCLI"},
}
# Imports the layers would allow but the architecture does not: the log contract knows no
# backend and no store; the pipeline and the roles know the contract, not a backend.
FORBIDDEN = {
    # The shipped binary does not link the benchmarks (`loupe bench` runs loupe-bench).
    "loupe": {"LoupeBench"},
    "LoupeLog": {"LoupeLMDB", "LoupeStore"},
    "LoupeServing": {"LoupeLog", "LoupeKafka", "LoupeEmbeddedLog"},
    "LoupeLearning": {"LoupeKafka", "LoupeEmbeddedLog", "LoupeLogBackends", "LoupeServing"},
    "LoupeEvaluation": {"LoupeKafka", "LoupeEmbeddedLog", "LoupeLogBackends", "LoupeServing", "LoupeHTTP"},
}
IMPORT = re.compile(r"^\s*(?:@testable\s+|@_exported\s+)?(?:public\s+|package\s+|internal\s+)?import\s+(?:(?:struct|class|enum|func|protocol|typealias|var|let)\s+)?([A-Za-z0-9_]+)", re.M)


def problems(sources):
    found = []
    for module in sorted(os.listdir(sources)):
        directory = os.path.join(sources, module)
        if not os.path.isdir(directory):
            continue
        if module not in LAYER:
            found.append(f"{module}: not on any layer of ops/check-imports.py; place it there")
            continue
        for root, _, files in os.walk(directory):
            for name in sorted(files):
                if not name.endswith(".swift"):
                    continue
                path = os.path.join(root, name)
                with open(path, encoding="utf-8") as source:
                    imports = IMPORT.findall(source.read())
                for imported in imports:
                    where = os.path.relpath(path, os.path.dirname(sources))
                    if imported in SYSTEM:
                        continue
                    if imported in FORBIDDEN.get(module, ()):
                        found.append(f"{where}: {module} may not import {imported} (docs/architecture.md)")
                    elif imported in OUTSIDE:
                        if module not in OUTSIDE[imported]:
                            found.append(f"{where}: {module} may not import {imported}")
                    elif imported in LAYER:
                        if LAYER[imported] >= LAYER[module]:
                            found.append(
                                f"{where}: {module} (layer {LAYER[module]}) imports {imported} (layer {LAYER[imported]}): "
                                "imports run to lower layers only")
                    else:
                        found.append(f"{where}: {imported} is not a module ops/check-imports.py knows; list it")
    return found


def self_test(sources):
    with tempfile.TemporaryDirectory() as scratch:
        copy = os.path.join(scratch, "Sources")
        shutil.copytree(sources, copy)
        plants = [
            ("LoupeLog", "import CRdKafka"), ("LoupeLog", "import LoupeLMDB"), ("LoupeServing", "import Hummingbird"),
            ("LoupeStore", "@testable import LoupeLearning"), ("LoupeLearning", "import LoupeEmbeddedLog"),
        ]
        for index, (module, line) in enumerate(plants):
            with open(os.path.join(copy, module, f"Planted{index}.swift"), "w", encoding="utf-8") as planted:
                planted.write(line + "\n")
        caught = problems(copy)
        missed = [
            plant for index, plant in enumerate(plants)
            if not any(f"Sources/{plant[0]}/Planted{index}.swift" in problem for problem in caught)
        ]
        if missed:
            print(f"check-imports self-test: missed {missed}", file=sys.stderr)
            return 1
    print(f"check-imports self-test: caught all {len(plants)} planted wrong-way imports")
    return 0


def main(arguments):
    sources = next((a for a in arguments if not a.startswith("--")), os.path.join(os.path.dirname(__file__), "..", "Sources"))
    sources = os.path.normpath(sources)
    if "--self-test" in arguments and self_test(sources) != 0:
        return 1
    found = problems(sources)
    for problem in found:
        print(problem, file=sys.stderr)
    if found:
        print(f"check-imports: {len(found)} import(s) against the module layers", file=sys.stderr)
        return 1
    print(f"check-imports: every import in {sources} runs to a lower layer")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
