#!/usr/bin/env python3
"""Write the CloudWatch shapes the CBOR front needs (testing/src/cbor_front/cloudwatch.json).

The front turns moto's awsJson1.0 answers into RPC v2 CBOR, where a timestamp is a
tagged number, a blob a byte string and a double a float even when it is whole: JSON
cannot tell these apart, the model can. The shapes come from the CloudWatch model in
botocore, the library moto serialises its answers with, so the front reads them as
moto wrote them. Run it with the emulator's Python after moto or botocore moves:

    .venv/bin/python scripts/cloudwatch_shapes.py > testing/src/cbor_front/cloudwatch.json

Only types are kept: documentation, constraints and enum values are dropped.
"""

import gzip
import json
import os
import sys

import botocore

SCALARS = {"string", "boolean", "integer", "long", "float", "double", "timestamp", "blob"}


def main() -> None:
    path = os.path.join(
        os.path.dirname(botocore.__file__), "data", "cloudwatch", "2010-08-01", "service-2.json.gz"
    )
    with gzip.open(path) as f:
        model = json.load(f)
    shapes = model["shapes"]

    def ref(name: str) -> str:
        kind = shapes[name]["type"]
        return kind if kind in SCALARS else name

    out_shapes = {}
    for name, shape in sorted(shapes.items()):
        kind = shape["type"]
        if kind in SCALARS:
            continue
        if kind == "structure":
            members = {m: ref(v["shape"]) for m, v in shape.get("members", {}).items()}
            out_shapes[name] = {"union" if shape.get("union") else "structure": members}
        elif kind == "list":
            out_shapes[name] = {"list": ref(shape["member"]["shape"])}
        elif kind == "map":
            out_shapes[name] = {"map": ref(shape["value"]["shape"])}
        else:
            sys.exit(f"{name}: shape type {kind} is not handled")

    operations = {}
    for name, op in sorted(model["operations"].items()):
        entry = {}
        for side in ("input", "output"):
            if side in op:
                entry[side] = op[side]["shape"]
        operations[name] = entry

    meta = model["metadata"]
    doc = {
        "source": f"botocore {botocore.__version__} data/cloudwatch/2010-08-01/service-2.json "
        "(Apache-2.0), types only, by scripts/cloudwatch_shapes.py",
        "service": meta["targetPrefix"],
        "namespace": "com.amazonaws.cloudwatch",
        "operations": operations,
        "shapes": out_shapes,
    }
    # One shape or operation a line: diffs show what a model update changed.
    lines = ["{"]
    keys = list(doc)
    for i, key in enumerate(keys):
        end = "," if i < len(keys) - 1 else ""
        value = doc[key]
        if isinstance(value, dict):
            lines.append(f"  {json.dumps(key)}: {{")
            items = list(value.items())
            for j, (k, v) in enumerate(items):
                sep = "," if j < len(items) - 1 else ""
                lines.append(f"    {json.dumps(k)}: {json.dumps(v, sort_keys=True)}{sep}")
            lines.append(f"  }}{end}")
        else:
            lines.append(f"  {json.dumps(key)}: {json.dumps(value)}{end}")
    lines.append("}")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
