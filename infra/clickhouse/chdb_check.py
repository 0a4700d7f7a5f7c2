"""Runs SQL statements through chDB, the current ClickHouse engine in-process.

Reads JSON from stdin: {"database": "tower", "statements": ["...", ...]} and prints
JSON: {"engine": "<version>", "results": [{"ok": true, "output": "<JSONEachRow text>"} |
{"ok": false, "error": "..."}]}.
Statements run in order in one session with `database` as the current database, so
later statements see what earlier ones created. The test suite feeds it every
migration (split by the same code that applies them), and the queries the services
render, to prove that SQL written for ClickHouse 18.16 also runs on current releases
and gives the same answers.
"""
import json
import sys

import chdb
from chdb import session


def main() -> None:
    request = json.load(sys.stdin)
    database = request["database"]
    sess = session.Session()
    sess.query(f"CREATE DATABASE IF NOT EXISTS {database}")
    sess.query(f"USE {database}")
    results = []
    for statement in request["statements"]:
        try:
            output = sess.query(statement, "JSONEachRow")
            results.append({"ok": True, "output": str(output)})
        except Exception as error:  # chDB raises its own error type per failed query
            results.append({"ok": False, "error": str(error)})
    json.dump({"engine": chdb.engine_version, "results": results}, sys.stdout)


if __name__ == "__main__":
    main()
