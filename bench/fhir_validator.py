"""Throughput of the FHIR profile validator on the example resources.

    python3 bench/fhir_validator.py                 # every example, 2 s each
    python3 bench/fhir_validator.py --seconds 5 --only EpisodeOfCare

Prints the cold start (loading and indexing the core package and our
profiles, once per process), the first validation of each example (snapshot
generation and FHIRPath parsing, once per profile and expression), then
resources/second and p50/p95 per resource. It asserts nothing about time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gateway.conformance.fhir import FhirValidator  # noqa: E402
from gateway.contracts import contract  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time spent on each example")
    parser.add_argument("--only", default="", help="only the examples whose file name contains this")
    args = parser.parse_args()

    started = time.perf_counter()
    validator = FhirValidator.default()
    print(f"cold start (package + profiles indexed): {(time.perf_counter() - started) * 1000:.0f} ms")

    examples = sorted(p for p in contract("fhir", "examples").glob("*.json") if args.only in p.name)
    print(f"{'example':48} {'first':>9} {'res/s':>8} {'p50':>8} {'p95':>8}")
    for path in examples:
        resource = json.loads(path.read_text(encoding="utf-8"))
        first = time.perf_counter()
        result = validator.validate(resource)
        first_ms = (time.perf_counter() - first) * 1000
        if not result.valid:
            print(f"{path.name}: not valid, skipped")
            continue
        samples: list[float] = []
        deadline = time.perf_counter() + args.seconds
        while time.perf_counter() < deadline:
            t = time.perf_counter()
            validator.validate(resource)
            samples.append(time.perf_counter() - t)
        samples.sort()
        rate = len(samples) / sum(samples)
        p50 = statistics.median(samples) * 1000
        p95 = samples[int(len(samples) * 0.95) - 1] * 1000
        print(f"{path.name:48} {first_ms:7.1f}ms {rate:8.0f} {p50:6.2f}ms {p95:6.2f}ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
