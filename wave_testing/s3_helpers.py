"""A real S3 API on loopback (moto's server in its own process) and a proxy in front of it that breaks requests on
cue, for the object-store tests and the store bench."""

from __future__ import annotations

import http.client
import http.server
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

ACCESS_KEY = "wave-test-key"
SECRET_KEY = "wave-test-secret"

_SERVER = """
import json, sys
import moto.settings
auth = sys.argv[1] == "auth"
if auth:  # the first three calls make a user with a key; every later call is checked against IAM
    moto.settings.INITIAL_NO_AUTH_ACTION_COUNT = 3
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
host, port = server.get_host_and_port()
if auth:
    import boto3
    iam = boto3.client("iam", endpoint_url=f"http://{host}:{port}", region_name="us-east-1",
                       aws_access_key_id="setup", aws_secret_access_key="setup")
    iam.create_user(UserName="wave")
    key = iam.create_access_key(UserName="wave")["AccessKey"]
    iam.put_user_policy(UserName="wave", PolicyName="store", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
    print(port, key["AccessKeyId"], key["SecretAccessKey"], flush=True)
else:
    print(port, flush=True)
sys.stdin.read()  # runs until the parent closes our stdin (or dies)
"""


class MotoServer:
    """moto's S3 server on 127.0.0.1 in a child process. With ``auth``, requests are signed-checked against a user
    it creates, so wrong credentials are refused as S3 refuses them."""

    def __init__(self, auth: bool = False) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", _SERVER, "auth" if auth else "open"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        fields = self.proc.stdout.readline().split()
        if not fields:
            self.proc.kill()
            raise RuntimeError("moto server did not start")
        self.port = int(fields[0])
        self.access_key, self.secret_key = (fields[1], fields[2]) if auth else (ACCESS_KEY, SECRET_KEY)
        self.endpoint = f"http://127.0.0.1:{self.port}"

    def client(self, **kwargs):
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id=kwargs.get("access_key", self.access_key),
                            aws_secret_access_key=kwargs.get("secret_key", self.secret_key))

    def make_bucket(self, name: str) -> str:
        self.client().create_bucket(Bucket=name)
        return name

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def aws_env(server: MotoServer, tmp_dir) -> dict[str, str]:
    """Credentials as the usual AWS environment variables; the host's own ~/.aws files are kept out."""
    return {"AWS_ACCESS_KEY_ID": server.access_key, "AWS_SECRET_ACCESS_KEY": server.secret_key,
            "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": str(tmp_dir / "aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_dir / "aws-credentials"), "AWS_EC2_METADATA_DISABLED": "true"}


Rule = Callable[[str, str], "str | None"]


class FaultyProxy:
    """An HTTP proxy to the S3 server. ``rule(method, path)`` picks what happens to each request: None forwards
    it; "503" answers S3's SlowDown; "hang" reads part of the body, sets ``hung`` and never answers."""

    def __init__(self, target_port: int, rule: Rule) -> None:
        self.rule = rule
        self.seen: list[tuple[str, str, int]] = []
        self.hung = threading.Event()
        self._release = threading.Event()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def _any(self) -> None:
                action = proxy.rule(self.command, self.path)
                length = int(self.headers.get("Content-Length") or 0)
                if action == "hang":
                    self.rfile.read(min(length, 64 * 1024))
                    proxy.seen.append((self.command, self.path, 0))
                    proxy.hung.set()
                    proxy._release.wait()
                    self.close_connection = True
                    return
                body = self.rfile.read(length) if length else b""
                if action == "503":
                    proxy.seen.append((self.command, self.path, 503))
                    answer = (b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>SlowDown</Code>"
                              b"<Message>Please reduce your request rate.</Message></Error>")
                    self.send_response(503)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                    return
                upstream = http.client.HTTPConnection("127.0.0.1", target_port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection",)}
                upstream.request(self.command, self.path, body=body, headers=headers)
                reply = upstream.getresponse()
                data = reply.read()
                proxy.seen.append((self.command, self.path, reply.status))
                self.send_response(reply.status)
                for name, value in reply.getheaders():
                    if name.lower() not in ("connection", "transfer-encoding", "content-length", "server", "date"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                upstream.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _any

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def faulty_proxy(target_port: int, rule: Rule) -> Iterator[FaultyProxy]:
    proxy = FaultyProxy(target_port, rule)
    try:
        yield proxy
    finally:
        proxy.stop()


def fail_first(count: int, method: str) -> Rule:
    """A rule answering 503 to the first ``count`` requests of ``method`` (to object keys), then forwarding."""
    left = [count]
    lock = threading.Lock()

    def rule(request_method: str, path: str) -> str | None:
        with lock:
            if request_method == method and path.count("/") >= 2 and left[0] > 0:
                left[0] -= 1
                return "503"
        return None

    return rule
