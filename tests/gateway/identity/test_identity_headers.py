"""Parsing forwarded-certificate headers and trusted proxy networks."""

from __future__ import annotations

import pytest

from gateway.identity.proxy import HeaderFormatError, TrustedProxies, parse_escaped_pem, parse_xfcc
from gateway.settings import Settings


def test_trusted_proxies_match_cidrs_and_ipv4_mapped_addresses() -> None:
    proxies = TrustedProxies.parse(["127.0.0.1/32", "10.0.0.0/8", "::1"])
    assert proxies.trusts("127.0.0.1")
    assert proxies.trusts("10.20.30.40")
    assert proxies.trusts("::ffff:10.1.2.3")
    assert proxies.trusts("::1")
    assert not proxies.trusts("127.0.0.2")
    assert not proxies.trusts("192.168.1.1")
    assert not proxies.trusts(None)
    assert not proxies.trusts("/run/gateway.sock")


def test_no_trusted_proxies_trusts_nobody() -> None:
    assert not TrustedProxies.parse([]).trusts("127.0.0.1")


@pytest.mark.parametrize("bad", ["10.0.0.1/8", "localhost", "300.1.1.1"])
def test_bad_trusted_proxy_entry_is_a_configuration_error(bad: str) -> None:
    with pytest.raises(ValueError, match="DATAADGANG_TRUSTED_PROXIES"):
        TrustedProxies.parse([bad])


def test_settings_read_identity_environment() -> None:
    settings = Settings.from_env(
        {
            "DATAADGANG_TRUSTED_PROXIES": "127.0.0.1/32, 10.0.0.0/8",
            "DATAADGANG_IDENTITY_MODE": "proxy",
            "DATAADGANG_CLIENT_CERT_HEADER": "x-forwarded-client-cert",
            "DATAADGANG_IDENTITY_CHECK_INTERVAL_SECONDS": "0.25",
        }
    )
    assert settings.trusted_proxies == ("127.0.0.1/32", "10.0.0.0/8")
    assert settings.identity_mode == "proxy"
    assert settings.client_cert_header == "x-forwarded-client-cert"
    assert settings.identity_check_interval_seconds == 0.25


def test_escaped_pem_is_unescaped_and_keeps_plus_signs() -> None:
    assert parse_escaped_pem(b"-----BEGIN%20X-----%0Aab+c/d=%0A") == b"-----BEGIN X-----\nab+c/d=\n"


@pytest.mark.parametrize("value", [b"", b"   ", "kø".encode()])
def test_empty_or_non_ascii_escaped_pem_is_malformed(value: bytes) -> None:
    with pytest.raises(HeaderFormatError):
        parse_escaped_pem(value)


def test_xfcc_quoted_values_may_hold_separators() -> None:
    element = parse_xfcc(b'By=spiffe://x;Hash=ABCDEF;Subject="CN=a,O=b;c";Cert="PEM%0A";URI=urn:a')
    assert element.pem == b"PEM\n"
    assert element.sha256 == "abcdef"


def test_xfcc_with_several_elements_is_refused() -> None:
    with pytest.raises(HeaderFormatError, match="2 elements"):
        parse_xfcc(b'Cert="A",Cert="B"')


@pytest.mark.parametrize(
    "value",
    [b"By=x;Hash=aa", b'Cert="unterminated', b"Cert", b'Cert="a";Cert="b"', b""],
)
def test_broken_xfcc_is_refused(value: bytes) -> None:
    with pytest.raises(HeaderFormatError):
        parse_xfcc(value)
