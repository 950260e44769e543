"""What the stand-ins (sts_front.py, iam_front.py, pod_identity_agent.py) share to run: --listen taken
only as 127.0.0.1:PORT, logs to --log-file or stderr, a threaded HTTP server until SIGTERM or SIGINT,
and the "<name> listening on http://..." line that hack/local-cluster and the tests wait for."""

import logging
import signal
import sys
import threading
from http.server import ThreadingHTTPServer


def listen_address(ap, listen):
    """(host, port) of --listen, or the parser's error."""
    host, _, port = listen.rpartition(":")
    if host != "127.0.0.1" or not port.isdigit():
        ap.error("--listen must be 127.0.0.1:PORT")
    return host, int(port)


def setup_logging(log_file):
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s",
                        **({"filename": log_file} if log_file else {"stream": sys.stderr}))
    logging.getLogger("botocore").setLevel(logging.WARNING)


def serve(name, handler, host, port, log, detail):
    """Serve handler on host:port until SIGTERM/SIGINT; 0."""
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    thread = threading.Thread(target=server.serve_forever, name="serve", daemon=True)
    thread.start()
    print(f"{name} listening on http://{host}:{server.server_address[1]}", flush=True)
    log.info("listening on %s:%d, %s", host, server.server_address[1], detail)
    while not stop.wait(1):
        pass
    server.shutdown()
    server.server_close()
    log.info("stopped")
    return 0
