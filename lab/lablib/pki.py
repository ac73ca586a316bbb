"""Certificates, keys and bearer tokens for the lab's API server, made with openssl."""

from __future__ import annotations

import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from . import LabUnavailable

APISERVER_SANS = (
    "IP:127.0.0.1,DNS:localhost,IP:10.0.0.1,DNS:kubernetes,DNS:kubernetes.default,"
    "DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
)
"""Names the serving certificate answers to: loopback for us, the in-cluster names
for controllers that build the `kubernetes` Service URL."""

EC_KEY = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1")
"""P-256 keys: generated in milliseconds, accepted by every Kubernetes component."""


@dataclass(frozen=True)
class Pki:
    """Paths of the files the API server and its clients need."""

    dir: Path

    ca_crt = property(lambda self: self.dir / "ca.crt")
    ca_key = property(lambda self: self.dir / "ca.key")
    serving_crt = property(lambda self: self.dir / "apiserver.crt")
    serving_key = property(lambda self: self.dir / "apiserver.key")
    sa_key = property(lambda self: self.dir / "sa.key")
    sa_pub = property(lambda self: self.dir / "sa.pub")
    kwok_crt = property(lambda self: self.dir / "kwok.crt")
    kwok_key = property(lambda self: self.dir / "kwok.key")
    tokens_csv = property(lambda self: self.dir / "tokens.csv")


@dataclass(frozen=True)
class Tokens:
    """Bearer tokens of the lab's two users."""

    admin: str
    readonly: str


def _openssl(*args: str, cwd: Path) -> None:
    result = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"openssl {args[0]} failed: {last}")


def _serving_cert(directory: Path, name: str, cn: str, sans: str) -> None:
    """``name``.crt/.key: a serving certificate for ``sans`` signed by the lab's CA."""
    _openssl("req", "-new", *EC_KEY, "-nodes", "-subj", f"/CN={cn}",
             "-keyout", f"{name}.key", "-out", f"{name}.csr", cwd=directory)
    (directory / f"{name}.ext").write_text(
        f"subjectAltName={sans}\n"
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\n"
        "authorityKeyIdentifier=keyid,issuer\n"
    )
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
             "-CAcreateserial", "-days", "365", "-extfile", f"{name}.ext",
             "-out", f"{name}.crt", cwd=directory)


def make_pki(directory: Path) -> Pki:
    """Create a CA, serving certificates (API server, kwok) and the service-account keys.

    kwok's certificate lets the API server verify the fake nodes' kubelet endpoint
    (pod logs) instead of trusting whatever answers on the port.
    """
    if shutil.which("openssl") is None:
        raise LabUnavailable("openssl is not installed; the lab needs it for its certificates")
    directory.mkdir(parents=True, exist_ok=True)
    pki = Pki(directory)
    _openssl("req", "-x509", *EC_KEY, "-nodes", "-days", "365", "-subj", "/CN=turnout-lab-ca",
             "-keyout", "ca.key", "-out", "ca.crt",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature", cwd=directory)
    _serving_cert(directory, "apiserver", "kube-apiserver", APISERVER_SANS)
    _serving_cert(directory, "kwok", "kwok", "IP:127.0.0.1")
    _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-out", "sa.key", cwd=directory)
    _openssl("pkey", "-in", "sa.key", "-pubout", "-out", "sa.pub", cwd=directory)
    return pki


def write_tokens(pki: Pki) -> Tokens:
    """Write the static token file: an admin (system:masters) and a read-only user."""
    tokens = Tokens(admin=secrets.token_hex(16), readonly=secrets.token_hex(16))
    pki.tokens_csv.write_text(
        f'{tokens.admin},lab-admin,lab-admin,"system:masters"\n'
        f'{tokens.readonly},lab-readonly,lab-readonly,"lab:readonly"\n'
    )
    pki.tokens_csv.chmod(0o600)
    return tokens
