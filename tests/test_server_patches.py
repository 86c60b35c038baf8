"""waitress's private parts that web/server_patches.py relies on are still there, and still of
the shape it uses them in: an upgrade that moves one fails here, by name, rather than quietly
sending its own errors without our headers or waiting for a vanished client for ever."""

from __future__ import annotations

import importlib
import inspect

import pytest

from searchapp.web.server_patches import PRIVATE, head_waitress_errors


def resolve(dotted: str):
    """The object `dotted` names: its longest importable prefix, then attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for part in parts[cut:]:
            found = getattr(found, part)  # AttributeError names what went missing
        return found
    raise ImportError(dotted)


@pytest.mark.parametrize("dotted", PRIVATE)
def test_every_private_name_the_server_patches_rely_on_exists(dotted):
    found = resolve(dotted)
    # What the patches do with it: replace or call a function, subclass a class, or set a
    # class attribute that holds a class.
    assert callable(found), f"{dotted} is {found!r}, which server_patches calls or subclasses"
    uses = {  # overridden: what ours relies on the original doing with these names
        "waitress.channel.HTTPChannel.received": ("self.request", "parser_class"),
        "waitress.channel.HTTPChannel._flush_outbufs_below_high_watermark": (
            "outbuf_lock", "total_outbufs_len", "_flush_some", "outbuf_high_watermark"),
    }
    if dotted in uses:
        source = inspect.getsource(found)
        assert all(name in source for name in uses[dotted]), (dotted, uses[dotted])
    if dotted == "waitress.server.BaseWSGIServer.channel_class":  # replaced by a subclass
        assert found is resolve("waitress.channel.HTTPChannel")
    elif dotted == "waitress.channel.HTTPChannel.error_task_class":
        assert issubclass(found, resolve("waitress.task.ErrorTask"))
    elif dotted == "waitress.task.ErrorTask":  # its execute writes `response_headers`
        assert issubclass(found, resolve("waitress.task.Task"))
        assert "response_headers" in inspect.getsource(found.execute)


def test_every_listener_of_a_server_on_several_addresses_gets_the_headed_channel():
    """`MultiSocketServer.map` is an instance attribute (so not in PRIVATE, which is checked
    on the classes): a server listening twice shows it still holds the listeners."""
    from waitress.server import MultiSocketServer, create_server

    server = create_server(lambda environ, start: [], listen="127.0.0.1:0 127.0.0.1:0")
    try:
        assert isinstance(server, MultiSocketServer)
        # The map holds the listeners and the trigger that wakes the loop.
        listeners = [d for d in server.map.values() if hasattr(d, "channel_class")]
        original = listeners[0].channel_class
        head_waitress_errors(server)
        patched = {listener.channel_class for listener in listeners}
        assert len(listeners) == 2 and len(patched) == 1 and patched != {original}
        channel = patched.pop()
        assert issubclass(channel, original)
        assert channel.error_task_class is not original.error_task_class
    finally:
        server.close()
