"""The suite runs without network: pytest-socket lets sockets reach only the loopback address the
PostgreSQL test server listens on (``--allow-hosts`` in pyproject's addopts)."""

from __future__ import annotations

import socket

import pytest
from pytest_socket import SocketConnectBlockedError


def test_a_connection_to_any_other_address_is_refused_before_it_is_sent() -> None:
    # 127.0.0.2 is loopback too, so even a broken guard sends nothing off this machine.
    # pytest-socket also warns, naming the host and the allowed list.
    with (
        pytest.warns(UserWarning, match=r'"127\.0\.0\.2"'),
        pytest.raises(SocketConnectBlockedError),
    ):
        socket.create_connection(("127.0.0.2", 9), timeout=1)


def test_the_test_server_address_stays_reachable() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=1):
            pass
