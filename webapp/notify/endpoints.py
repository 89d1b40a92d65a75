"""Which push endpoints Beatbook will talk to.

A subscription's endpoint is a URL the browser gives us and the job worker later POSTs to, from
inside the station's network. Left unchecked, anyone signed in could make the worker send requests
to `http://127.0.0.1:6379/…` or any other internal service. So an endpoint must be
`https` on the default port, its host on the allow-list of push services (`BEATBOOK_PUSH_HOSTS`),
and every address its name resolves to must be public — checked when the device subscribes, again
before every push (DNS can change), and a third time on the socket the push really goes out on
(`guarded_session`), so a name that re-resolves between the check and the connection, or a
redirect, cannot reach inside either.

`BEATBOOK_PUSH_ALLOW_INSECURE_LOCAL` is for the test suite and benchmarks only: it also accepts
`http` and loopback addresses (any port), for the local push service they run on 127.0.0.1, and
names under the reserved test domains (`.test`, `.example`, `.invalid`), which exist on no real
network. Private, link-local and other non-public addresses stay refused even then, and the
connection check still lets a push reach nothing but loopback or public addresses.

The government feed's webhook (webapp/govfeed/webhook.py) goes through the same checks with
`PushPolicy.for_webhooks`: any host and port the liaison names, as long as it is `https` and every
address is public (no allow-list: the receiving system is the local government's own).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from webapp.config import DEFAULT_PUSH_HOSTS

MAX_ENDPOINT_LENGTH = 2000

# Reasons an endpoint is refused (the view words them; the worker logs them).
NOT_A_URL = "not_a_url"
NOT_HTTPS = "not_https"
HOST_NOT_ALLOWED = "host_not_allowed"
PORT_NOT_ALLOWED = "port_not_allowed"
UNRESOLVABLE = "unresolvable"
NOT_PUBLIC = "not_public"

# Reasons that depend on DNS, which can change: at delivery these are retried, not final.
TRANSIENT = frozenset({UNRESOLVABLE, NOT_PUBLIC})

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Names reserved for testing (RFC 2606, RFC 6761): accepted, unresolved, in the test-only mode.
_TEST_DOMAINS = (".test", ".example", ".invalid")


class EndpointRefused(ValueError):
    """The endpoint is not one Beatbook sends pushes to; `reason` is one of the codes above."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclass(frozen=True)
class PushPolicy:
    hosts: tuple[str, ...]  # "name" matches that host only; "*.domain" any host under domain
    allow_insecure_local: bool = False  # tests and benchmarks only
    any_public_host: bool = False  # webhooks: no allow-list, any port; addresses still public only

    @classmethod
    def from_config(cls, config: Mapping) -> PushPolicy:
        return cls(hosts=parse_hosts(config.get("BEATBOOK_PUSH_HOSTS", DEFAULT_PUSH_HOSTS)),
                   allow_insecure_local=bool(config.get("BEATBOOK_PUSH_ALLOW_INSECURE_LOCAL", False)))

    @classmethod
    def for_webhooks(cls, config: Mapping) -> PushPolicy:
        return cls(hosts=(), any_public_host=True,
                   allow_insecure_local=bool(config.get("BEATBOOK_PUSH_ALLOW_INSECURE_LOCAL", False)))

    def host_allowed(self, host: str) -> bool:
        if self.any_public_host:
            return True
        host = host.rstrip(".").lower()
        for entry in self.hosts:
            if entry.startswith("*."):
                if host.endswith(entry[1:]) and len(host) > len(entry) - 1:
                    return True
            elif host == entry:
                return True
        return False

    def address_allowed(self, address: str) -> bool:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone (fe80::1%eth0)
        if self.allow_insecure_local and _unwrap(ip).is_loopback:
            return True
        return is_public(ip)


def parse_hosts(raw: str | Iterable[str]) -> tuple[str, ...]:
    items = raw.split(",") if isinstance(raw, str) else raw
    return tuple(item.strip().rstrip(".").lower() for item in items if item.strip())


def _unwrap(ip: ipaddress.IPv4Address | ipaddress.IPv6Address):
    """The IPv4 address inside an IPv6 one that carries it (mapped, NAT64, 6to4, Teredo), else `ip`."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip in _NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if ip.sixtofour is not None:
            return ip.sixtofour
        if ip.teredo is not None:
            return ip.teredo[1]
    return ip


def _plainly_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return ip.is_global and not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
                                 or ip.is_reserved or ip.is_unspecified)


def is_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """A globally routable unicast address: not private, loopback, link-local, multicast, reserved,
    unspecified or shared (CGNAT); an IPv4 address carried in IPv6 is judged by that IPv4 address
    (and a 6to4 or Teredo one by both)."""
    inner = _unwrap(ip)
    if inner is ip:
        return _plainly_public(ip)
    if isinstance(ip, ipaddress.IPv6Address) and (ip.ipv4_mapped is not None or ip in _NAT64):
        return _plainly_public(inner)
    return _plainly_public(ip) and _plainly_public(inner)


def resolve_host(host: str, port: int) -> list[str]:
    return [info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


# DNS is the one outside service here; tests stand in for it with their own resolver.
Resolver = Callable[[str, int], list[str]]


def check_endpoint(endpoint: str, policy: PushPolicy, *, resolve: bool = True,
                   resolver: Resolver | None = None) -> None:
    """Raise EndpointRefused unless Beatbook may send pushes to `endpoint`."""
    scheme, host, port = _parse(endpoint)
    if policy.allow_insecure_local and host.endswith(_TEST_DOMAINS):
        return  # a name that exists on no real network: nothing to resolve, nothing to reach
    if not (policy.allow_insecure_local and _is_loopback_name(host)):
        if scheme != "https":
            raise EndpointRefused(NOT_HTTPS)
        if not policy.host_allowed(host):
            raise EndpointRefused(HOST_NOT_ALLOWED, host)
        if port not in (None, 443) and not policy.any_public_host:
            raise EndpointRefused(PORT_NOT_ALLOWED, str(port))
    if resolve:
        _check_addresses(host, port or (443 if scheme == "https" else 80), policy, resolver or resolve_host)


def _parse(endpoint: str) -> tuple[str, str, int | None]:
    """The scheme, host and port of an absolute http(s) URL without user info; else NOT_A_URL."""
    if not endpoint or len(endpoint) > MAX_ENDPOINT_LENGTH or \
            any(c.isspace() or not c.isprintable() for c in endpoint):  # NUL and other controls too
        raise EndpointRefused(NOT_A_URL)
    try:
        parts = urlsplit(endpoint)
        port = parts.port
    except ValueError as error:
        raise EndpointRefused(NOT_A_URL, str(error)) from error
    host = (parts.hostname or "").rstrip(".").lower()
    if parts.scheme not in ("https", "http") or not host or "@" in parts.netloc:
        raise EndpointRefused(NOT_A_URL)
    return parts.scheme, host, port


def _check_addresses(host: str, port: int, policy: PushPolicy, resolver: Resolver) -> None:
    try:
        addresses = resolver(host, port)
    except (OSError, UnicodeError) as error:
        raise EndpointRefused(UNRESOLVABLE, host) from error
    if not addresses:
        raise EndpointRefused(UNRESOLVABLE, host)
    for address in addresses:
        if not policy.address_allowed(address):
            raise EndpointRefused(NOT_PUBLIC, f"{host} -> {address}")


def _is_loopback_name(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return _unwrap(ipaddress.ip_address(host)).is_loopback
    except ValueError:
        return False


# --- the socket the push goes out on ---------------------------------------------------------------


class UnsafeConnection(Exception):
    """The connection for a push reached an address that is not allowed (DNS changed after the
    check, or a redirect). Not an OSError on purpose: no retry layer may swallow it."""


def _checked(connection_class: type, policy: PushPolicy) -> type:
    class Checked(connection_class):
        def _new_conn(self):
            sock = super()._new_conn()
            peer = sock.getpeername()[0]
            if not policy.address_allowed(peer):
                sock.close()
                raise UnsafeConnection(f"{self.host} -> {peer}")
            return sock

    return Checked


class _GuardedAdapter(HTTPAdapter):
    def __init__(self, policy: PushPolicy):
        self._policy = policy
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        policy = self._policy

        class Pool(HTTPConnectionPool):
            ConnectionCls = _checked(HTTPConnection, policy)

        class SecurePool(HTTPSConnectionPool):
            ConnectionCls = _checked(HTTPSConnection, policy)

        self.poolmanager.pool_classes_by_scheme = {"http": Pool, "https": SecurePool}


def guarded_session(policy: PushPolicy) -> requests.Session:
    """A requests session whose every connection is checked against `policy` once connected; no
    proxies from the environment and no redirects (the peer must be the push service itself)."""
    session = requests.Session()
    session.trust_env = False  # a proxy from the environment would hide the real peer
    session.max_redirects = 0
    adapter = _GuardedAdapter(policy)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session
