"""A loopback TCP forwarder that tests can cut: drop every open connection,
and refuse (close at once) new ones while blocked. Used to break watches and
requests between a client and the real kube-apiserver (TLS passes through
untouched; the apiserver's certificate is valid for 127.0.0.1)."""

import socket
import threading


class TcpProxy:
    def __init__(self, target_host, target_port):
        self.target = (target_host, target_port)
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.blocked = False
        self.conns = []
        self.lock = threading.Lock()
        self.accepted = 0
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self._stop:
            try:
                c, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                if self.blocked:
                    c.close()
                    continue
                self.accepted += 1
            try:
                u = socket.create_connection(self.target, timeout=5)
                u.settimeout(None)
            except OSError:
                c.close()
                continue
            with self.lock:
                self.conns += [c, u]
            threading.Thread(target=self._pump, args=(c, u), daemon=True).start()
            threading.Thread(target=self._pump, args=(u, c), daemon=True).start()

    @staticmethod
    def _pump(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self, block=True):
        """Drop every open connection; while blocked, new ones are closed at once."""
        with self.lock:
            self.blocked = block
            conns, self.conns = self.conns, []
        for s in conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass

    def unblock(self):
        with self.lock:
            self.blocked = False

    def close(self):
        self._stop = True
        self.cut()
        self.listener.close()
