"""Run the real app in its own process for the live tests: ``python -m tests.api.live_server DATA_DIR``.

Prints the port it listens on, then serves (werkzeug, threaded) until killed. The test reads
this process's peak RSS from /proc to show uploads stream in constant memory.
"""

from __future__ import annotations

import sys
from pathlib import Path

from werkzeug.serving import make_server

from luutru.config import Settings
from luutru.web.app import create_app


def main() -> None:
    settings = Settings(data_dir=Path(sys.argv[1]))
    server = make_server("127.0.0.1", 0, create_app(settings), threaded=True)
    print(server.server_port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
