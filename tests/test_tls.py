"""HTTPS: `mockjobs serve --tls` and `--certfile/--keyfile` under gunicorn, and the fixture's {"TLS": True}."""

from __future__ import annotations

import hashlib
import ssl
import subprocess
from pathlib import Path

import pytest
import requests

from mockjobs.tls import self_signed
from tests.servers import MOCKJOBS, Launcher, clean_env

pytest_plugins = ["pytester"]

JOB = "j522676d9-983a-48e2-a51c-5066966160f0"


def _fingerprint(certfile: str | Path) -> str:
    der = ssl.PEM_cert_to_DER_cert(Path(certfile).read_text())
    return hashlib.sha256(der).hexdigest().upper()


def test_the_certificate_covers_localhost_and_loopback(tmp_path: Path) -> None:
    from cryptography import x509

    cert = self_signed(tmp_path)
    parsed = x509.load_pem_x509_certificate(cert.certfile.read_bytes())
    names = parsed.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert [str(a) for a in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1", "::1"]
    assert cert.fingerprint.replace(":", "") == _fingerprint(cert.certfile)
    assert cert.keyfile.stat().st_mode & 0o077 == 0  # the key is private


@pytest.mark.slow
def test_serve_tls_prints_the_certificate_and_serves_https(launch: Launcher) -> None:
    srv = launch.serve("--tls", "--auth")
    assert srv.url.startswith("https://127.0.0.1:")
    printed = srv.wait_for(r"certificate: (\S+) \(SHA-256 ([0-9A-F:]+)\)")
    assert printed.group(1) == srv.verify and Path(printed.group(1)).is_file()
    assert printed.group(2).replace(":", "") == _fingerprint(printed.group(1))
    assert f"rest:      {srv.url}/arcgis/rest" in srv.output
    assert f"static job (add-mission): {srv.url}/arcgis/rest/jobs/{JOB}?f=pjson" in srv.output
    root = srv.get("/arcgis/rest/info", params={"f": "json"}).json()
    assert root["owningSystemUrl"] == srv.url + "/arcgis"
    assert root["authInfo"]["tokenServicesUrl"] == srv.url + "/arcgis/tokens/generateToken"
    token = srv.post("/arcgis/tokens/generateToken", data={"username": "admin", "password": "admin", "f": "json"})
    headers = {"X-Esri-Authorization": f"Bearer {token.json()['token']}"}
    assert srv.get(f"/arcgis/rest/jobs/{JOB}", params={"f": "json"}, headers=headers).json()["jobId"] == JOB
    with pytest.raises(requests.exceptions.SSLError):  # not trusted without the printed certificate
        srv.get("/arcgis/rest/info", verify=True)


@pytest.mark.slow
def test_serve_with_the_users_certificate(launch: Launcher, tmp_path: Path) -> None:
    cert = self_signed(tmp_path / "mine")
    srv = launch.serve("--certfile", str(cert.certfile), "--keyfile", str(cert.keyfile))
    assert srv.url.startswith("https://")
    assert f"certificate: {cert.certfile} (SHA-256 {cert.fingerprint})" in srv.output
    doc = requests.get(f"{srv.url}/arcgis/rest?f=json", verify=str(cert.certfile), timeout=10).json()
    assert doc["owningSystemUrl"].startswith("https://")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--certfile", "c.pem"], "--certfile and --keyfile go together"),
        (["--certfile", "nope.pem", "--keyfile", "k.pem"], "certfile nope.pem: no such file"),
        (
            ["--certfile", "a/mockjobs-cert.pem", "--keyfile", "b/mockjobs-key.pem"],
            "not the key of certfile a/mockjobs-cert.pem",
        ),
    ],
)
def test_bad_certificate_options_are_clear_errors(tmp_path: Path, args: list[str], message: str) -> None:
    self_signed(tmp_path / "a")
    self_signed(tmp_path / "b")  # another key
    out = subprocess.run(
        [MOCKJOBS, "serve", "--port", "0", *args],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert message in out.stderr
    assert "Traceback" not in out.stderr


def test_the_site_root_honours_the_request_scheme(make_app) -> None:
    client = make_app(AUTH=True).test_client()
    doc = client.get("/arcgis/rest/info?f=json", base_url="https://localhost:8443").json
    assert doc["owningSystemUrl"] == "https://localhost:8443/arcgis"
    assert doc["authInfo"]["tokenServicesUrl"] == "https://localhost:8443/arcgis/tokens/generateToken"


def test_the_fixture_serves_https_with_tls_true(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture(scope="session")
        def mockjobs_config():
            return {"TLS": True}
        """
    )
    pytester.makepyfile(
        """
        import requests

        def test_https(mockjobs):
            assert mockjobs.url.startswith("https://127.0.0.1:")
            job = mockjobs.start("add-mission")
            doc = requests.get(job.url, params={"f": "json"}, verify=mockjobs.cert_path, timeout=10).json()
            assert doc["status"] == "EXECUTING"
            root = requests.get(mockjobs.rest_url + "/info?f=json", verify=mockjobs.cert_path, timeout=10).json()
            assert root["owningSystemUrl"] == mockjobs.url + "/arcgis"

        def test_the_certificate_path_is_exposed(mockjobs):
            assert mockjobs.cert_path.endswith(".pem")
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
