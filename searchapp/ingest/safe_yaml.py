"""Safe, bounded YAML loading: libyaml's safe loader when present, never one that builds objects."""

from __future__ import annotations

import yaml

try:  # libyaml parses several times faster; the pure loader is the same grammar.
    from yaml import CSafeLoader as SafeLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader  # type: ignore[assignment]


class TooLarge(ValueError):
    """The document expands (through aliases) past the node budget: an alias bomb or a runaway file."""

    def __init__(self, line: int | None, message: str):
        super().__init__(message)
        self.line = line


def compose(text: str, max_nodes: int) -> yaml.Node | None:
    """Parse `text` into a node graph, refusing it when aliases would expand it past `max_nodes`.

    Counting happens on the composed graph, where an alias is a shared reference, so a
    billion-laughs document is refused after reading a few hundred bytes and without
    ever being expanded in memory.
    """
    loader = SafeLoader(text)
    try:
        node = loader.get_single_node()
    finally:
        loader.dispose()
    # Without an alias (`*name`) nothing is shared, and a plain count will do; the walk
    # that counts shared parts once is for documents with aliases (and says where).
    if node is not None and ("*" in text or _count(node) > max_nodes):
        _check_size(node, max_nodes)
    return node


def _count(root: yaml.Node) -> int:
    count, stack = 0, [root]
    while stack:
        node = stack.pop()
        count += 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.append(key)
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return count


class BadValue(ValueError):
    """A scalar YAML reads as a value it cannot build (`2021-13-01`: a date with month 13)."""

    def __init__(self, line: int | None, message: str):
        super().__init__(message)
        self.line = line


def construct(node: yaml.Node) -> object:
    """Build plain Python values (dict, list, str, int, float, bool, datetime) from a node
    graph; a scalar that cannot be built raises BadValue with its line."""
    loader = SafeLoader("")
    try:
        return loader.construct_document(node)
    except (ValueError, TypeError, OverflowError) as exc:
        raise _bad_scalar(node, exc) from None
    finally:
        loader.dispose()


def _bad_scalar(root: yaml.Node, exc: Exception) -> Exception:
    """The scalar that would not build (and the key it is under), found by building each
    on its own."""
    loader = SafeLoader("")
    try:
        seen: set[int] = set()
        stack: list[tuple[yaml.Node, str | None]] = [(root, None)]
        while stack:
            node, key = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            if isinstance(node, yaml.ScalarNode):
                try:
                    loader.construct_object(node, deep=True)
                except (ValueError, TypeError, OverflowError) as found:
                    named = f"{key} " if key else ""
                    return BadValue(node.start_mark.line,
                                    f"{named}{node.value!r} cannot be read: {found}")
            elif isinstance(node, yaml.MappingNode):
                for k, v in reversed(node.value):
                    name = k.value if isinstance(k, yaml.ScalarNode) else key
                    stack.extend([(v, name), (k, key)])
            else:
                stack.extend((child, key) for child in reversed(_children(node)))
    finally:
        loader.dispose()
    return exc


def _check_size(root: yaml.Node, max_nodes: int) -> None:
    sizes: dict[int, int] = {}
    in_progress: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if key in sizes:
            continue
        children = _children(node)
        if children_done:
            in_progress.discard(key)
            size = 1 + sum(sizes[id(c)] for c in children)
            if size > max_nodes:
                raise TooLarge(node.start_mark.line,
                               f"YAML expands to more than {max_nodes} nodes "
                               "(an alias bomb?); refused")
            sizes[key] = size
            continue
        if key in in_progress:
            raise TooLarge(node.start_mark.line, "YAML alias refers to itself; refused")
        in_progress.add(key)
        stack.append((node, True))
        for child in children:
            if id(child) in in_progress:
                raise TooLarge(child.start_mark.line, "YAML alias refers to itself; refused")
            if id(child) not in sizes:
                stack.append((child, False))


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []
