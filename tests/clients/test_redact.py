"""Redaction of endpoint URLs and of free text."""

from __future__ import annotations

import pytest

from fundtrace.clients.redact import Scrubber, redact_url, split_secrets


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://user:pa%40ss@127.0.0.1:8332", "http://***@127.0.0.1:8332"),
        (
            "https://mainnet.infura.io/v3/9aa3d95b3bc440fa88ea12eaa4456161",
            "https://mainnet.infura.io/v3/***",
        ),
        (
            "https://eth-mainnet.g.alchemy.com/v2/abcDEF_ghi-jklmnop",
            "https://eth-mainnet.g.alchemy.com/v2/***",
        ),
        (
            "https://127.0.0.1:8443/v2/api?chainid=1&apikey=ABCDEF123",
            "https://127.0.0.1:8443/v2/api?chainid=1&apikey=***",
        ),
        (
            "https://mainnet.helius-rpc.com/?api-key=1234-5678",
            "https://mainnet.helius-rpc.com/?api-key=***",
        ),
        (
            "https://x.quiknode.pro/0123456789abcdef0123456789abcdef01234567/",
            "https://x.quiknode.pro/***/",
        ),
        ("https://rpc.example/?KEY=abc&Token=def", "https://rpc.example/?KEY=***&Token=***"),
        # Nothing secret: left alone, so the user can still recognise the endpoint.
        ("https://blockstream.info/api", "https://blockstream.info/api"),
        ("http://127.0.0.1:8545", "http://127.0.0.1:8545"),
        ("https://127.0.0.1:8899/rpc", "https://127.0.0.1:8899/rpc"),
    ],
)
def test_redact_url(url, expected):
    assert redact_url(url) == expected


def test_split_secrets_returns_the_removed_values():
    _, secrets = split_secrets("http://bob:hunter22@127.0.0.1:1/v2/abcDEF_ghi-jklmnop?apikey=K123")
    assert set(secrets) == {"bob", "hunter22", "abcDEF_ghi-jklmnop", "K123"}


def test_scrubber_removes_plain_and_percent_encoded_secrets():
    scrub = Scrubber(["p@ss/word", "KEY123456"])
    text = "GET /x?k=KEY123456 auth p@ss/word p%40ss%2Fword http://u:zz@127.0.0.1/ ?apikey=other"
    out = scrub(text)
    for leaked in ("KEY123456", "p@ss/word", "p%40ss%2Fword", "u:zz@", "other"):
        assert leaked not in out
    assert out.count("***") >= 4
