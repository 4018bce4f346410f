"""A real SMTP server for the mail tests (aiosmtpd, installed by `make test`).

It records every message it accepts as `<n>.eml` in `--dir` (with the
envelope's recipients in `<n>.rcpt`), and can answer like a troubled server:
`--defer N` refuses the first N messages with a 451 (try again later),
`--reject` refuses every message with a 550. With `--cert` and `--key` it
offers STARTTLS and requires it before any mail command. It listens on a
free port of 127.0.0.1, prints `ready <port>` once it does, and runs until
it is killed.
"""

import argparse
import pathlib
import socket
import ssl
import sys
import threading

from aiosmtpd.controller import Controller


class Recorder:
    def __init__(self, folder: pathlib.Path, defer: int, reject: bool):
        self.folder = folder
        self.defer = defer
        self.reject = reject
        self.lock = threading.Lock()
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.reject:
                return "550 5.1.1 <%s>: Recipient address rejected" % envelope.rcpt_tos[0]
            if self.defer > 0:
                self.defer -= 1
                return "451 4.3.0 Mailbox busy, try again later"
            self.count += 1
            n = self.count
        (self.folder / ("%d.rcpt" % n)).write_text("\n".join(envelope.rcpt_tos))
        (self.folder / ("%d.eml" % n)).write_bytes(envelope.original_content)
        return "250 2.0.0 OK"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", type=pathlib.Path, required=True)
    parser.add_argument("--defer", type=int, default=0)
    parser.add_argument("--reject", action="store_true")
    parser.add_argument("--cert")
    parser.add_argument("--key")
    args = parser.parse_args()

    tls = None
    if args.cert:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(args.cert, args.key)
    recorder = Recorder(args.dir, args.defer, args.reject)
    # aiosmtpd needs a port number to check its own start, so a free one is
    # found first; another process may take it in between, hence the retries.
    for attempt in range(5):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        controller = Controller(
            recorder,
            hostname="127.0.0.1",
            port=port,
            server_hostname="localhost",
            tls_context=tls,
            require_starttls=tls is not None,
        )
        try:
            controller.start()
            break
        except OSError:
            if attempt == 4:
                raise
    print("ready %d" % port, flush=True)
    try:
        threading.Event().wait()
    finally:
        controller.stop()


if __name__ == "__main__":
    sys.exit(main())
