"""The bare reference the gateway is measured against: a minimal Starlette
app that reads stored FHIR JSON by id from an indexed SQLite table and
returns it as it is, served by the same uvicorn as the gateway. No token,
no policy, no audit: what any server pays to answer a read over HTTP.

    python3 bench/reference_server.py --database /tmp/ref.sqlite3 --port 18100 [--workers 2]

``--fill FILE --count N`` first stores N copies of the resource in FILE
(ids ``ref-0`` .. ``ref-N-1``) and exits.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

FHIR_JSON = "application/fhir+json"


def fill(database: Path, resource_file: Path, count: int) -> None:
    resource = json.loads(resource_file.read_text())
    connection = sqlite3.connect(database)
    with connection:
        connection.execute("CREATE TABLE IF NOT EXISTS resource (type TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, "
                           "PRIMARY KEY (type, id))")
        connection.execute("DELETE FROM resource")
        rows = []
        for n in range(count):
            resource["id"] = f"ref-{n}"
            rows.append((resource["resourceType"], resource["id"], json.dumps(resource, separators=(",", ":"))))
        connection.executemany("INSERT INTO resource VALUES (?, ?, ?)", rows)
    connection.close()


def create_app() -> Starlette:
    """The app a worker serves (the database from $REFERENCE_DATABASE)."""
    connection = sqlite3.connect(os.environ["REFERENCE_DATABASE"], check_same_thread=False)

    async def read(request: Request) -> Response:
        row = connection.execute("SELECT body FROM resource WHERE type = ? AND id = ?",
                                 (request.path_params["type"], request.path_params["id"])).fetchone()
        if row is None:
            return Response('{"resourceType":"OperationOutcome"}', status_code=404, media_type=FHIR_JSON)
        return Response(row[0], media_type=FHIR_JSON)

    return Starlette(routes=[Route("/fhir/{type}/{id}", read)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", type=Path, required=True)
    parser.add_argument("--port", type=int, default=18100)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--fill", type=Path, metavar="FILE", help="store copies of this FHIR JSON resource, then exit")
    parser.add_argument("--count", type=int, default=10_000)
    args = parser.parse_args()
    if args.fill:
        fill(args.database, args.fill, args.count)
        return
    import uvicorn

    os.environ["REFERENCE_DATABASE"] = str(args.database)
    if args.workers == 1:
        uvicorn.run(create_app(), host="127.0.0.1", port=args.port, log_level="warning")
    else:  # served the way the gateway serves several workers: each its own SO_REUSEPORT socket
        from gateway.serving import WorkerSpec, serve_workers

        raise SystemExit(serve_workers(WorkerSpec("reference_server:create_app", "127.0.0.1", args.port, "WARNING",
                                                  app_dir=str(Path(__file__).resolve().parent)), args.workers))


if __name__ == "__main__":
    main()
