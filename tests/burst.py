"""A burst of clients at once: many simultaneous connections to a local server, one request each."""

from __future__ import annotations

import http.client
import threading


def simultaneous_requests(
    port: int, path: str, *, clients: int = 64, timeout: float = 2.0, headers: dict[str, str] | None = None
) -> list[int | str]:
    """Open `clients` connections at the same moment (threads behind a barrier), send one GET on
    each and return, per client, the status of its answer or the error it met instead: reset,
    refused, or no answer within `timeout`.

    On Linux a full listen queue neither resets nor refuses: it drops the SYN, and the client
    retries after 1 s, then 2 s more. The 2 s default catches a connection that needed the second
    retry, while a loaded machine answers 64 clients with a big enough backlog in about 0.2 s."""
    barrier = threading.Barrier(clients)
    outcomes: list[int | str] = ["did not run"] * clients

    def client(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        barrier.wait()
        try:
            connection.request("GET", path, headers=headers or {})
            response = connection.getresponse()
            response.read()
            outcomes[index] = response.status
        except OSError as exc:  # ConnectionResetError, ConnectionRefusedError, TimeoutError, ...
            outcomes[index] = f"{type(exc).__name__}: {exc}"
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(index,)) for index in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout + 30)
    return outcomes
