"""Addresses IANA marks not globally reachable are refused whatever the interpreter says (older
Pythons' ipaddress calls some of them global: CVE-2024-4032)."""
import pytest

from app.outbound_hooks.transport import address_problem


@pytest.mark.parametrize("address", [
    "192.0.0.192",      # 192.0.0.0/24 IETF protocol assignments (OCI's legacy metadata address)
    "192.0.0.8",        # 192.0.0.0/24
    "2002:7f00:1::1",   # 6to4 wrapping 127.0.0.1
    "2002:a9fe:a9fe::", # 6to4 wrapping 169.254.169.254
])
def test_non_public_address_is_refused(address):
    assert address_problem(address) is not None


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c",
                                     "2002:5db8:d70e::1"])  # the last: 6to4 wrapping a public address
def test_a_public_address_passes(address):
    assert address_problem(address) is None
