"""The npm `oidc-provider` harness in tests/oidc_provider: start it, sign a learner in.

The provider is a real, independent OpenID implementation; the sign-in below is an ordinary
authorization-code flow with PKCE, driven through its development login and consent forms.
"""

from __future__ import annotations

import base64
import hashlib
import html
import os
import re
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import requests

HARNESS = Path(__file__).resolve().parent.parent / "oidc_provider"
CLIENT_ID = "ai-tutor-lms"
CLIENT_SECRET = "loopback-only-secret"
REDIRECT_URI = "http://127.0.0.1/complete/oidc/"
TENANT_ID = "6f1c3a52-3f0e-4d43-9a6b-0c1f7b2d9e11"


def missing_harness_reason() -> str | None:
    """Why the provider cannot run here, or None when it can."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not (HARNESS / "node_modules" / "oidc-provider").is_dir():
        return "run `npm ci --prefix tests/oidc_provider` first (node_modules is missing)"
    return None


@dataclass
class LoopbackOpenIdProvider:
    discovery_url: str

    def sign_in(self, login: str) -> str:
        """Sign `login` in through the provider's forms; return the ID token it issues."""
        configuration = requests.get(self.discovery_url, timeout=10).json()
        session = requests.Session()
        verifier = secrets.token_urlsafe(48)
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        state = secrets.token_urlsafe(16)
        query = {
            "client_id": CLIENT_ID,
            "response_type": "code",
            "scope": "openid profile email",
            "redirect_uri": REDIRECT_URI,
            "state": state,
            "nonce": secrets.token_urlsafe(16),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        response = session.get(
            f"{configuration['authorization_endpoint']}?{urlencode(query)}",
            allow_redirects=False,
            timeout=10,
        )

        for _ in range(10):
            location = urljoin(response.url, response.headers.get("Location", ""))
            if location.startswith(REDIRECT_URI):
                break
            if response.is_redirect:
                response = session.get(location, allow_redirects=False, timeout=10)
                continue
            response = self._submit_form(session, response, login)
        else:
            raise AssertionError("the sign-in never came back to the redirect URI")

        returned = parse_qs(urlsplit(location).query)
        assert returned["state"] == [state], returned
        tokens = requests.post(
            configuration["token_endpoint"],
            data={
                "grant_type": "authorization_code",
                "code": returned["code"][0],
                "redirect_uri": REDIRECT_URI,
                "code_verifier": verifier,
            },
            auth=(CLIENT_ID, CLIENT_SECRET),
            timeout=10,
        )
        assert tokens.status_code == 200, tokens.text
        return str(tokens.json()["id_token"])

    @staticmethod
    def _submit_form(
        session: requests.Session, page: requests.Response, login: str
    ) -> requests.Response:
        form = re.search(r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', page.text, re.S)
        assert form, f"no form on the provider's page (HTTP {page.status_code})"
        fields = dict(
            re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(2))
        )
        if 'name="login"' in form.group(2):
            fields.update({"login": login, "password": "any-password"})
        action = urljoin(page.url, html.unescape(form.group(1)))
        return session.post(action, data=fields, allow_redirects=False, timeout=10)


@contextmanager
def running_provider(port: int) -> Iterator[LoopbackOpenIdProvider]:
    """Start the harness's server on `port` and wait until it is ready."""
    server = subprocess.Popen(
        ["node", "server.mjs"],
        cwd=HARNESS,
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PORT": str(port),
            "TENANT_ID": TENANT_ID,
            "CLIENT_ID": CLIENT_ID,
            "CLIENT_SECRET": CLIENT_SECRET,
            "REDIRECT_URI": REDIRECT_URI,
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        deadline = time.monotonic() + 30
        line = server.stdout.readline()
        while not line.startswith("ready ") and time.monotonic() < deadline:
            if server.poll() is not None:
                raise RuntimeError("the oidc-provider harness exited")
            line = server.stdout.readline()
        assert line.startswith("ready "), "the oidc-provider harness did not start"
        yield LoopbackOpenIdProvider(discovery_url=line.split(" ", 1)[1].strip())
    finally:
        server.terminate()
        server.wait(timeout=10)
