"""The part of ClickHouse's HTTP interface that Sextant's ClickHouse store uses, served over
chDB (a current ClickHouse engine as a Python package), so the store's tests also run against a
current release, not only Debian's 18.16. Used by scripts/with-chdb.

Usage: chdb_http.py PORT DATA_DIR

Requests are POSTs (GET answers "Ok.", as ClickHouse's ping does): the statement is the body,
after the `query` parameter when there is one (inserts), gzip-decoded when sent so. The
`database` and `max_execution_time` parameters apply; other settings (`readonly`) do not. One
statement runs at a time. Errors answer 500 with ClickHouse's own message, as a server does.
"""

import gzip
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from chdb import session

SESSION = session.Session(sys.argv[2])
ONE_AT_A_TIME = threading.Lock()
NAMED_FORMAT = "FORMAT TabSeparatedWithNamesAndTypes"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.reply(200, b"Ok.\n")

    def do_POST(self):
        params = {k: v[-1] for k, v in parse_qs(urlparse(self.path).query).items()}
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        sql = body.decode()
        if "query" in params:
            sql = params["query"] + "\n" + sql
        # chDB wants the output format apart; the statement's own FORMAT clause still wins.
        fmt = NAMED_FORMAT.split()[1] if NAMED_FORMAT in sql else "TabSeparated"
        try:
            with ONE_AT_A_TIME:
                SESSION.query("USE " + params.get("database", "default"))
                limit = int(params.get("max_execution_time", "0"))
                SESSION.query(f"SET max_execution_time = {limit}")
                result = SESSION.query(sql, fmt)
            self.reply(200, result.bytes())
        except Exception as error:  # chDB raises ClickHouse's errors as plain exceptions
            self.reply(500, str(error).encode())


ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
