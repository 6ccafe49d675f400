"""Exit 0 when the test PostgreSQL server answers, 1 otherwise (used by ``make test``)."""

from __future__ import annotations

import os
import sys

import psycopg


def main() -> int:
    url = os.environ.get("BARNKOMPASS_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    url = url.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(url, connect_timeout=5) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as error:
        print(f"PostgreSQL check failed: {type(error).__name__}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
